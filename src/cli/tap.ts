// `synack tap`: run a synack host on a Linux TAP (or TUN) device, with a tiny HTTP/1.0 server on
// it, so the kernel side (curl, ping, a browser) can talk to it. Also the building blocks the
// interop tests and the TAP benchmark share: `openTapHost` (Stack + RealtimeDriver + TapPort,
// wired together) and `HttpResponder` (HTTP/1.0 over the low-level socket API; a later API layer
// adds node:http). Node on Linux only; see src/link/tap.ts for the device and its addon.
// What the command prints is a `TapEvent` (listening, a socket table, stopped) formatted by
// `formatTapEvent`: as text, or with `--json` as one JSON object per line (issue 9).
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { Stack } from '../stack.js';
import { RealtimeDriver } from '../link/realtime.js';
import { CryptoRng, TapPort, type TapOptions } from '../link/tap.js';
import type { Medium, Pollable, Port } from '../link/link.js';
import { Poller, Ready, SocketLayer, type TcpSocket } from '../api/socket.js';
import type { TcpConfig } from '../tcp/config.js';
import { assertNever } from '../util/result.js';
import { formatSocketTable, socketTable, type SocketRow } from '../trace/stats.js';

/** How to build a host on a TAP/TUN device. */
export interface TapHostOptions {
  /** Device options (name, mode, netns, up, mtu); the driver is made here. */
  device?: Omit<TapOptions, 'driver'>;
  /** IPv4 addresses as `a.b.c.d/len`. */
  ipv4?: string | readonly string[];
  /** IPv6 addresses as `addr/len`. */
  ipv6?: string | readonly string[];
  /** The MAC on a TAP device (default: a random locally administered one). */
  mac?: string;
  /** Default routes through these gateways (IPv4 and/or IPv6). */
  gateways?: readonly string[];
  /** TCP settings. */
  tcp?: Partial<TcpConfig>;
  /** A label for traces and errors. */
  name?: string;
  /**
   * Wraps the device's port before the stack attaches (capture, impairment); return the port
   * to attach and any Pollables (impairers) the driver must poll.
   */
  wrap?: (port: Port, driver: RealtimeDriver) => { port: Port; pollables?: readonly Pollable[] };
}

/** A running host on a TAP/TUN device: its stack, driver, device and socket layer. */
export interface TapHost {
  readonly stack: Stack;
  readonly driver: RealtimeDriver;
  readonly tap: TapPort;
  readonly sockets: SocketLayer;
  readonly ifindex: number;
  /** Stops the driver and closes the device. */
  close(): void;
}

/** Opens the device, builds a Stack on it and starts a RealtimeDriver; throws a TapError with a one-line reason. */
export function openTapHost(o: TapHostOptions = {}): TapHost {
  const driver = new RealtimeDriver();
  const tap = TapPort.open({ ...o.device, driver });
  try {
    const stack = new Stack({ rng: new CryptoRng(), name: o.name ?? 'synack', clock: () => driver.now(), ...(o.tcp !== undefined ? { tcp: o.tcp } : {}) });
    const wrapped: { port: Port; pollables?: readonly Pollable[] } = o.wrap?.(tap, driver) ?? { port: tap };
    const ifindex = stack.addInterface({
      port: wrapped.port, name: tap.name,
      ...(o.ipv4 !== undefined ? { ipv4: o.ipv4 } : {}),
      ...(o.ipv6 !== undefined ? { ipv6: o.ipv6 } : {}),
      ...(o.mac !== undefined ? { mac: o.mac } : {}),
    });
    for (const gw of o.gateways ?? []) stack.addRoute(gw.includes(':') ? 'default6' : 'default', gw);
    driver.add(stack);
    for (const p of wrapped.pollables ?? []) driver.add(p);
    driver.start();
    return {
      stack, driver, tap, ifindex, sockets: new SocketLayer(stack.tcp),
      close(): void {
        driver.stop();
        tap.close();
      },
    };
  } catch (e) {
    tap.close();
    throw e;
  }
}

/** An HTTP response: status, content type and body. */
export interface HttpResponse {
  status: number;
  type?: string;
  body: Uint8Array;
}

/** Decides the response for a request line. */
export type HttpHandler = (method: string, path: string) => HttpResponse;

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed' };
const MAX_REQUEST = 8192;

interface HttpConn {
  sock: TcpSocket;
  req: Uint8Array;
  reqLen: number;
  out: Uint8Array | undefined;
  sent: number;
}

/**
 * A minimal HTTP/1.0 server (RFC 1945) over the low-level socket API: reads one request up to
 * the blank line, answers with Content-Length, then closes (the server closes first, so it holds
 * TIME-WAIT, as HTTP/1.0 servers do). Level-triggered through a Poller; socket calls happen
 * from a microtask after the stack's callback returns, never inside it, and the driver is kicked
 * afterwards so queued output leaves.
 */
export class HttpResponder {
  private readonly poller = new Poller<HttpConn | undefined>();
  private scheduled = false;
  /** Requests answered. */
  served = 0;

  /** Serves on `listener` (already listening). */
  constructor(private readonly listener: TcpSocket, private readonly handler: HttpHandler, private readonly kick: () => void) {
    this.poller.onWake = () => this.schedule();
    this.poller.add(listener, Ready.ACCEPT, undefined);
  }

  /** Stops accepting and closes the listener (connections in progress finish on their own). */
  close(): void {
    this.poller.delete(this.listener);
    this.listener.close();
    this.kick();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.dispatch();
      this.kick();
    });
  }

  private dispatch(): void {
    for (const ev of this.poller.wait()) {
      if (ev.data === undefined) {
        for (;;) {
          const s = this.listener.accept();
          if (typeof s === 'string') break;
          this.poller.add(s, Ready.READABLE, { sock: s, req: new Uint8Array(MAX_REQUEST), reqLen: 0, out: undefined, sent: 0 });
        }
      } else {
        this.step(ev.data, ev.events);
      }
    }
  }

  private finish(c: HttpConn): void {
    this.poller.delete(c.sock);
    // Drain anything the client sent after its request: closing with unread data would reset.
    const scratch = new Uint8Array(4096);
    while (c.sock.readableLength > 0) c.sock.recv(scratch);
    c.sock.close();
  }

  private step(c: HttpConn, events: number): void {
    if (events & Ready.ERROR) {
      c.sock.takeError();
      this.poller.delete(c.sock);
      c.sock.abort();
      return;
    }
    if (c.out === undefined) {
      for (;;) {
        if (c.reqLen === c.req.length) {
          this.respond(c, { status: 400, body: new TextEncoder().encode('request too large\n') });
          break;
        }
        const n = c.sock.recv(c.req.subarray(c.reqLen));
        if (n === 'EAGAIN') return;
        if (typeof n === 'string' || n === 0) {
          this.finish(c); // the client went away (or closed before a full request)
          return;
        }
        c.reqLen += n;
        const text = new TextDecoder('latin1').decode(c.req.subarray(0, c.reqLen));
        if (!text.includes('\r\n\r\n') && !text.includes('\n\n')) continue;
        const [method = '', path = ''] = (text.split(/\r?\n/, 1)[0] ?? '').split(' ');
        let res: HttpResponse;
        if (method !== 'GET' && method !== 'HEAD') res = { status: 405, body: new TextEncoder().encode('only GET and HEAD\n') };
        else if (!path.startsWith('/')) res = { status: 400, body: new TextEncoder().encode('bad request line\n') };
        else res = this.handler(method, path);
        this.respond(c, method === 'HEAD' ? { ...res, body: new Uint8Array(0) } : res, res.body.length);
        break;
      }
    }
    const out = c.out!;
    while (c.sent < out.length) {
      const n = c.sock.send(out.subarray(c.sent));
      if (n === 'EAGAIN') return;
      if (typeof n === 'string') {
        this.poller.delete(c.sock);
        c.sock.abort();
        return;
      }
      c.sent += n;
    }
    this.served++;
    this.finish(c);
  }

  private respond(c: HttpConn, res: HttpResponse, length = res.body.length): void {
    const head = new TextEncoder().encode(
      `HTTP/1.0 ${res.status} ${REASONS[res.status] ?? 'Unknown'}\r\nServer: synack\r\nContent-Type: ${res.type ?? 'application/octet-stream'}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`,
    );
    const out = new Uint8Array(head.length + res.body.length);
    out.set(head, 0);
    out.set(res.body, head.length);
    c.out = out;
    this.poller.modify(c.sock, Ready.WRITABLE);
  }
}

/** N bytes of the demo's fixed pattern (byte i is the top byte of i * 2654435761, Knuth's multiplicative hash). */
export function demoBytes(n: number): Uint8Array {
  const body = new Uint8Array(n);
  for (let i = 0; i < n; i++) body[i] = Math.imul(i, 2654435761) >>> 24;
  return body;
}

/** The demo's pages: `/` describes the host, `/bytes/N` sends N bytes of a fixed pattern (for curl | sha256sum). */
export function demoHandler(host: TapHost): HttpHandler {
  let expected: string | undefined;
  return (_method, path) => {
    const m = /^\/bytes\/(\d{1,9})$/.exec(path);
    if (m !== null) return { status: 200, body: demoBytes(Number(m[1])) };
    if (path !== '/') return { status: 404, type: 'text/plain', body: new TextEncoder().encode('not found\n') };
    const ifc = host.stack.interface(host.ifindex);
    const addrs = [...(ifc?.ipv4 ?? []), ...(ifc?.ipv6 ?? [])].map((a) => `${a.addr.toString()}/${a.prefixLen}`).join(' ');
    const c = host.stack.tcp.counters;
    const text = `Hello from synack, a TCP/IP stack in TypeScript, on ${host.tap.name} (${host.tap.medium}, MTU ${host.tap.mtu}).\n` +
      `addresses: ${addrs}\nTCP: ${c.PassiveOpens} passive opens, ${c.InSegs} segments in, ${c.OutSegs} out, ${c.RetransSegs} retransmitted\n` +
      `Try: curl -s http://ADDRESS:PORT/bytes/1000000 | sha256sum   (expect ${(expected ??= createHash('sha256').update(demoBytes(1_000_000)).digest('hex'))})\n`;
    return { status: 200, type: 'text/plain; charset=utf-8', body: new TextEncoder().encode(text) };
  };
}

/** Something `synack tap` reports: the host is up, its socket table (`--stats`), or it stopped. */
export type TapEvent =
  | { type: 'listening'; device: string; medium: Medium; mtu: number; mac: string | null; addresses: string[]; port: number; url: string }
  | { type: 'sockets'; table: SocketRow[] }
  | { type: 'stopped'; served: number; tcp: { inSegs: number; outSegs: number; retransSegs: number }; frames: { rx: number; tx: number } };

/** Formats an event: with `json`, one line of JSON (no newline inside); otherwise the text the command prints. */
export function formatTapEvent(ev: TapEvent, json: boolean): string {
  if (json) return JSON.stringify(ev);
  switch (ev.type) {
    case 'listening':
      return `synack on ${ev.device} (${ev.medium}, MTU ${ev.mtu}${ev.mac !== null ? `, MAC ${ev.mac}` : ''}): ${ev.addresses.join(', ')}\n` +
        `HTTP/1.0 on port ${ev.port}: curl ${ev.url}   (Ctrl-C to stop)`;
    case 'sockets':
      return formatSocketTable(ev.table);
    case 'stopped':
      return `\nserved ${ev.served} requests; TCP segments in ${ev.tcp.inSegs}, out ${ev.tcp.outSegs}, retransmitted ${ev.tcp.retransSegs}; frames in ${ev.frames.rx}, out ${ev.frames.tx}`;
    default:
      return assertNever(ev, 'tap event');
  }
}

/** `synack tap`'s options as commander hands them over. */
export interface TapCliOptions {
  name: string; mode: string; netns?: string; up?: boolean; ipv4: string[]; ipv6?: string[]; gateway?: string[]; mac?: string; http: string;
  json?: boolean; stats?: string;
}

/** Checked settings of `synack tap`: the HTTP port, the device mode, JSON lines or text, the socket-table interval. */
export interface TapSettings {
  port: number;
  mode: 'tap' | 'tun';
  json: boolean;
  /** Milliseconds between socket tables (`--stats <seconds>`), or undefined for none. */
  statsMs: number | undefined;
}

/** Validates the command line's values; throws RangeError/TypeError naming the bad option. */
export function tapSettings(opts: TapCliOptions): TapSettings {
  const port = Number(opts.http);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`--http must be a port from 1 to 65535, got ${opts.http}`);
  if (opts.mode !== 'tap' && opts.mode !== 'tun') throw new TypeError(`--mode must be 'tap' or 'tun', got ${opts.mode}`);
  let statsMs: number | undefined;
  if (opts.stats !== undefined) {
    const s = Number(opts.stats);
    if (!Number.isFinite(s) || s < 0.1 || s > 86_400) throw new RangeError(`--stats must be seconds from 0.1 to 86400, got ${opts.stats}`);
    statsMs = Math.round(s * 1000);
  }
  return { port, mode: opts.mode, json: opts.json === true, statsMs };
}

/** Registers `synack tap` on the program. */
export function registerTap(program: Command): void {
  program
    .command('tap')
    .description('run a synack host with an HTTP/1.0 server on a Linux TAP/TUN device (Linux, needs CAP_NET_ADMIN or a device owned by you)')
    .option('--name <dev>', 'device name (created if missing, attached if it exists)', 'synack0')
    .option('--mode <mode>', "'tap' (Ethernet) or 'tun' (IP)", 'tap')
    .option('--netns <ns>', 'create/open the device in this network namespace (ip netns add NS)')
    .option('--up', 'set the link up (otherwise: ip link set DEV up)')
    .option('--ipv4 <cidr...>', "synack's IPv4 address(es)", ['10.77.0.2/24'])
    .option('--ipv6 <cidr...>', "synack's IPv6 address(es)")
    .option('--gateway <addr...>', 'default route(s) via these gateways')
    .option('--mac <mac>', 'MAC address on a TAP device (default: random, locally administered)')
    .option('--http <port>', 'TCP port of the HTTP server', '8080')
    .option('--stats <seconds>', 'print the socket table (like ss -tan) every this many seconds')
    .option('--json', 'machine-readable output: one JSON object per line ({"type":"listening"|"sockets"|"stopped",...})')
    .action((opts: TapCliOptions) => {
      const { port, mode, json, statsMs } = tapSettings(opts);
      const emit = (ev: TapEvent): void => console.log(formatTapEvent(ev, json));
      const host = openTapHost({
        device: { name: opts.name, mode, ...(opts.netns !== undefined ? { netns: opts.netns } : {}), up: opts.up === true },
        ipv4: opts.ipv4, ...(opts.ipv6 !== undefined ? { ipv6: opts.ipv6 } : {}), ...(opts.mac !== undefined ? { mac: opts.mac } : {}),
        ...(opts.gateway !== undefined ? { gateways: opts.gateway } : {}),
      });
      const listeners: TcpSocket[] = [];
      const families: (4 | 6)[] = opts.ipv6 !== undefined ? [4, 6] : [4];
      const responders = families.map((family) => {
        const l = host.sockets.socket(family);
        const e = l.bind(family === 4 ? '0.0.0.0' : '::', port) ?? l.listen();
        if (e !== undefined) throw new Error(`listen ${e}: port ${port}`);
        listeners.push(l);
        return new HttpResponder(l, demoHandler(host), () => host.driver.kick());
      });
      const ifc = host.stack.interface(host.ifindex);
      const addrs = [...(ifc?.ipv4 ?? []), ...(ifc?.ipv6 ?? [])].map((a) => a.addr.toString());
      emit({
        type: 'listening', device: host.tap.name, medium: host.tap.medium, mtu: host.tap.mtu, mac: ifc?.mac?.toString() ?? null,
        addresses: addrs, port, url: `http://${opts.ipv4[0]?.split('/')[0] ?? ''}:${port}/`,
      });
      const ticker = statsMs !== undefined ? setInterval(() => emit({ type: 'sockets', table: socketTable(host.stack.tcp) }), statsMs) : undefined;
      const stop = (): void => {
        if (ticker !== undefined) clearInterval(ticker);
        for (const r of responders) r.close();
        const c = host.stack.tcp.counters;
        emit({
          type: 'stopped', served: responders.reduce((n, r) => n + r.served, 0),
          tcp: { inSegs: c.InSegs, outSegs: c.OutSegs, retransSegs: c.RetransSegs }, frames: { rx: host.tap.stats.rxFrames, tx: host.tap.stats.txFrames },
        });
        host.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
