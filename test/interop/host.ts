// The synack side of an interop test: a Stack in this Node process on a TAP/TUN device opened
// inside the test's namespace (the addon setns()es there just for TUNSETIFF, so the device lives
// in the namespace while its fd serves us), driven by the RealtimeDriver, with promise helpers
// over the low-level socket API. Waits are event-driven (socket readiness) with a 10 ms re-check
// and a deadline; nothing sleeps for a fixed time.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { openTapHost, type TapHost, type TapHostOptions } from '../../src/cli/tap.js';
import { Ready, type TcpSocket } from '../../src/api/socket.js';
import { impair, type ImpairOptions, type ImpairedPort } from '../../src/link/impair.js';
import { capture, PcapWriter } from '../../src/link/capture.js';
import type { Pollable, Port } from '../../src/link/link.js';
import { CryptoRng } from '../../src/link/tap.js';
import { Netns } from './netns.js';

/** How to start the synack side. */
export interface SynackOptions extends Omit<TapHostOptions, 'device' | 'wrap'> {
  /** The test's namespace: the device is created there. */
  ns: Netns;
  /** Device name (default tap0 / tun0). */
  dev?: string;
  /** 'tap' (default) or 'tun'. */
  mode?: 'tap' | 'tun';
  /** netem-like impairments applied on synack's side of the device (see impair.ts). */
  impair?: ImpairOptions;
  /** Record every frame as it crosses the device (the wire side of any impairment) as pcap. */
  capture?: boolean;
}

type Waiter = { check: () => boolean; resolve: () => void };

/** A synack host on a TAP/TUN device in a test namespace. */
export class Synack {
  readonly host: TapHost;
  readonly pcap: PcapWriter | undefined;
  readonly impairer: ImpairedPort | undefined;
  private readonly waiters = new Set<Waiter>();
  private scheduled = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly wakeFn = (): void => this.wake();

  private constructor(o: SynackOptions) {
    let pcap: PcapWriter | undefined;
    let impairer: ImpairedPort | undefined;
    this.host = openTapHost({
      ...o,
      device: { name: o.dev ?? (o.mode === 'tun' ? 'tun0' : 'tap0'), mode: o.mode ?? 'tap', netns: o.ns.name },
      wrap: (port) => {
        let p: Port = port;
        const pollables: Pollable[] = [];
        if (o.capture === true) {
          pcap = new PcapWriter();
          p = capture(p, pcap, { name: 'synack' });
        }
        if (o.impair !== undefined) {
          impairer = impair(p, o.impair, new CryptoRng());
          pollables.push(impairer);
          p = impairer;
        }
        return { port: p, pollables };
      },
    });
    this.pcap = pcap;
    this.impairer = impairer;
  }

  /** Opens the device in `o.ns` and starts the stack. */
  static open(o: SynackOptions): Synack {
    return new Synack(o);
  }

  /** Stops the driver and closes the device (before its namespace is deleted). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.host.close();
  }

  /** Runs the stack soon (after socket calls made outside its callbacks). */
  kick(): void {
    this.host.driver.kick();
  }

  private wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      for (const w of [...this.waiters]) {
        if (w.check()) {
          this.waiters.delete(w);
          w.resolve();
        }
      }
      if (this.waiters.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    });
  }

  /** Resolves when `cond` holds (checked on every socket event and every 10 ms); rejects after `timeoutMs`. */
  until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`synack: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const w: Waiter = { check: cond, resolve: () => { clearTimeout(timeout); resolve(); } };
      this.waiters.add(w);
      this.timer ??= setInterval(this.wakeFn, 10);
    });
  }

  /** A new socket whose readiness changes wake our waiters. */
  socket(family: 4 | 6): TcpSocket {
    const s = this.host.sockets.socket(family);
    s.onReady = this.wakeFn;
    return s;
  }

  /** Connects; resolves with the established socket or rejects with the socket error (e.g. ECONNREFUSED). */
  async connect(addr: string, port: number, timeoutMs = 30_000): Promise<TcpSocket> {
    const s = this.socket(addr.includes(':') ? 6 : 4);
    const e = s.connect(addr, port);
    if (e !== 'EINPROGRESS') throw new Error(`connect ${e} ${addr}:${port}`);
    this.kick();
    await this.until(`connect to ${addr}:${port}`, () => s.state !== 'SYN-SENT', timeoutMs);
    if (s.state === 'CLOSED') throw new Error(`connect ${s.takeError() ?? 'closed'} ${addr}:${port}`);
    return s;
  }

  /** A listening socket on `port` (all addresses of the family). */
  listen(port: number, family: 4 | 6): TcpSocket {
    const s = this.socket(family);
    const e = s.bind(family === 4 ? '0.0.0.0' : '::', port) ?? s.listen();
    if (e !== undefined) throw new Error(`listen ${e} port ${port}`);
    return s;
  }

  /** The next connection on `listener`. */
  async accept(listener: TcpSocket, timeoutMs = 30_000): Promise<TcpSocket> {
    await this.until('a connection to accept', () => listener.readiness() !== 0, timeoutMs);
    const s = listener.accept();
    if (typeof s === 'string') throw new Error(`accept ${s}`);
    s.onReady = this.wakeFn;
    return s;
  }

  /** Sends all of `data`, waiting for buffer space; rejects on a socket error. */
  async writeAll(s: TcpSocket, data: Uint8Array, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let off = 0;
    while (off < data.length) {
      const n = s.send(data.subarray(off));
      if (typeof n === 'number') {
        off += n;
        this.kick();
        continue;
      }
      if (n !== 'EAGAIN') throw new Error(`send ${n} after ${off} of ${data.length} bytes`);
      await this.until(`send buffer space (${off}/${data.length} sent)`, () => (s.readiness() & (Ready.WRITABLE | Ready.ERROR | Ready.HANGUP)) !== 0, Math.max(1, deadline - Date.now()));
    }
  }

  /** Reads to end of stream; returns the byte count and SHA-256 (and the bytes when `keep`). */
  async readAll(s: TcpSocket, timeoutMs = 60_000, keep = false): Promise<{ bytes: number; sha256: string; data: Uint8Array | undefined }> {
    const deadline = Date.now() + timeoutMs;
    const h = createHash('sha256');
    const buf = new Uint8Array(1 << 16);
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for (;;) {
      const n = s.recv(buf);
      if (n === 0) break;
      if (typeof n === 'number') {
        h.update(buf.subarray(0, n));
        if (keep) chunks.push(buf.slice(0, n));
        bytes += n;
        continue;
      }
      if (n !== 'EAGAIN') throw new Error(`recv ${n} after ${bytes} bytes`);
      await this.until(`data or end of stream (${bytes} bytes so far)`, () => (s.readiness() & (Ready.READABLE | Ready.ERROR | Ready.HANGUP)) !== 0, Math.max(1, deadline - Date.now()));
    }
    let data: Uint8Array | undefined;
    if (keep) {
      data = new Uint8Array(bytes);
      let at = 0;
      for (const c of chunks) {
        data.set(c, at);
        at += c.length;
      }
    }
    return { bytes, sha256: h.digest('hex'), data };
  }

  /** Writes the capture (if any) to `path`. */
  async savePcap(path: string): Promise<void> {
    if (this.pcap === undefined) throw new Error('no capture: open with capture: true');
    await writeFile(path, this.pcap.bytes());
  }
}

/** SHA-256 of bytes, hex. */
export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The usual addresses: the kernel's and synack's ends of the TAP link, by family. */
export const ADDR = {
  4: { kernel: '10.77.0.1', synack: '10.77.0.2' },
  6: { kernel: 'fd77::1', synack: 'fd77::2' },
} as const;

/** A test's world: its namespace, with the kernel's end of a TAP link configured, and synack on the other end. */
export class Env {
  private constructor(readonly ns: Netns, readonly synack: Synack, readonly dev: string) {}

  /**
   * Creates a namespace, opens the device there with synack on it (10.77.0.2/24, fd77::2/64),
   * and configures the kernel's end (10.77.0.1/24, fd77::1/64, up). TUN links are point-to-point.
   */
  static async start(o: Partial<SynackOptions> = {}): Promise<Env> {
    const ns = await Netns.create();
    let synack: Synack | undefined;
    try {
      const tun = o.mode === 'tun';
      synack = Synack.open({ ipv4: `${ADDR[4].synack}/24`, ipv6: `${ADDR[6].synack}/64`, ...o, ns });
      const dev = synack.host.tap.name;
      if (tun) {
        await ns.ip('addr', 'add', ADDR[4].kernel, 'peer', ADDR[4].synack, 'dev', dev);
        await ns.ip('-6', 'addr', 'add', `${ADDR[6].kernel}/64`, 'dev', dev, 'nodad');
      } else {
        await ns.ip('addr', 'add', `${ADDR[4].kernel}/24`, 'dev', dev);
        await ns.ip('-6', 'addr', 'add', `${ADDR[6].kernel}/64`, 'dev', dev, 'nodad');
      }
      await ns.ip('link', 'set', dev, 'up');
      return new Env(ns, synack, dev);
    } catch (e) {
      synack?.close();
      await ns.destroy();
      throw e;
    }
  }

  /** Closes synack's device, then deletes the namespace (and everything in it). */
  async teardown(): Promise<void> {
    this.synack.close();
    await this.ns.destroy();
  }
}

/** For `afterEach`: tears down every Env a test started, even when the test failed. */
export class Envs {
  private readonly all: Env[] = [];
  /** Starts an Env that `teardown` will remove. */
  async start(o: Partial<SynackOptions> = {}): Promise<Env> {
    const e = await Env.start(o);
    this.all.push(e);
    return e;
  }
  /** Tears down everything started since the last call. */
  async teardown(): Promise<void> {
    const list = this.all.splice(0);
    for (const e of list) await e.teardown();
  }
}
