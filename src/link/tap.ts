// The Linux TUN/TAP driver (Node on Linux only): a Port over a kernel TAP device (Ethernet
// frames, medium 'ethernet') or TUN device (bare IP packets, medium 'ip'), so a synack Stack can
// talk to the Linux kernel and anything behind it. Opening needs ioctl(TUNSETIFF), which Node
// cannot do, so a small optional N-API addon (native/tun.c) does it and also reads the device:
// a libuv uv_poll_t drains the non-blocking fd on each readable event and calls back once per
// frame (no thread per packet, no fs.read on a blocking fd). Each sent frame is one write(2):
// the device takes each write as exactly one frame, so frames are never joined.
//
// The addon is loaded lazily, on the first `TapPort.open`, so importing this file costs nothing
// where it was not built (macOS, browsers, machines without a compiler).
//
// Drive it with the RealtimeDriver: every received frame is handed to `onFrame` with the
// driver's `now()`, then the driver is kicked so the stack's answers and timers run.
// Read first: Linux Documentation/networking/tuntap.rst; src/link/link.ts (the Port contract).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Instant } from '../time/instant.js';
import type { Rng } from '../util/rng.js';
import type { Medium, Port } from './link.js';

/** The addon's functions (native/tun.c). */
interface TunAddon {
  open(name: string, tap: boolean, netns: string | undefined, up: boolean): { fd: number; name: string; mtu: number; ifindex: number };
  write(fd: number, frame: Uint8Array): number;
  startReader(fd: number, cb: (frame: Uint8Array | null, errno: number) => void): unknown;
  stopReader(handle: unknown): void;
  setRef(handle: unknown, on: boolean): void;
  close(fd: number): void;
}

/** What a TapPort needs from its driver: the time, and a nudge after input (RealtimeDriver has both). */
export interface TapDriver {
  /** The current time as the stack sees it. */
  now(): Instant;
  /** Called after received frames were handed on, so due work runs soon (RealtimeDriver.kick). */
  kick(): void;
}

/** How to open a device. */
export interface TapOptions {
  /** Device name, at most 15 bytes; a `%d` pattern (the default `tap%d` / `tun%d`) lets the kernel number it. An existing persistent device of that name is attached to. */
  name?: string;
  /** 'tap' (Ethernet frames, medium 'ethernet'; default) or 'tun' (bare IP packets, medium 'ip'). */
  mode?: 'tap' | 'tun';
  /** Create or open the device inside this network namespace: a name made by `ip netns add` (under /run/netns) or a path such as /proc/PID/ns/net. The fd keeps working from ours. */
  netns?: string;
  /** Set the link up (IFF_UP) once opened; default false (the caller configures it with `ip`). */
  up?: boolean;
  /** The IP MTU the stack uses; default the device's MTU when opened. */
  mtu?: number;
  /** The driver that gives time and runs the stack (a RealtimeDriver). */
  driver: TapDriver;
}

/** Counters of one TapPort. */
export interface TapStats {
  /** Frames and bytes read from the device. */
  rxFrames: number;
  rxBytes: number;
  /** Frames and bytes the device accepted. */
  txFrames: number;
  txBytes: number;
  /** Frames the device refused, by error code (e.g. EIO when the link is down). */
  txErrors: Record<string, number>;
}

/** An error opening or using a TUN/TAP device; `code` is the errno name (EACCES, EPERM, ENOENT, EBUSY, ...) or ENOTBUILT / ENOTSUP. */
export class TapError extends Error {
  /** The errno name, or ENOTBUILT (the addon is missing) / ENOTSUP (not Linux). */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'TapError';
    this.code = code;
  }
}

/** Where the addon is built (node-gyp's output, relative to this file in src/ and in dist/). */
const ADDON_URL = new URL('../../native/build/Release/synack_tun.node', import.meta.url);

let addon: TunAddon | undefined;

/** Loads the addon from `path` (the built one by default); throws a TapError that says how to build it. */
function loadAddon(path: string = fileURLToPath(ADDON_URL)): TunAddon {
  if (addon !== undefined && path === fileURLToPath(ADDON_URL)) return addon;
  if (process.platform !== 'linux') throw new TapError(`TAP/TUN support is Linux only (this is ${process.platform})`, 'ENOTSUP');
  if (!existsSync(path)) throw new TapError('TAP support is not built: run `npm run build:native` (needs python3, make, g++)', 'ENOTBUILT');
  const require = createRequire(import.meta.url);
  let loaded: TunAddon;
  try {
    loaded = require(path) as TunAddon;
  } catch (e) {
    throw new TapError(`TAP support is built but cannot be loaded (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): run \`npm run build:native\` again`, 'ENOTBUILT');
  }
  if (path === fileURLToPath(ADDON_URL)) addon = loaded;
  return loaded;
}

/**
 * Why TAP cannot be used here (addon missing, not Linux), or undefined when the addon loads.
 * It does not check privileges: opening a device says what is missing.
 */
export function tapUnavailable(addonPath?: string): string | undefined {
  try {
    loadAddon(addonPath);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The path `ip netns add NAME` creates, or the argument itself when it already is a path. */
export function netnsPath(netns: string): string {
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

/**
 * The one-line message for a failed open, saying what is needed. Exported for tests.
 * `syscall` is the step that failed, as the addon reports it.
 */
export function describeOpenError(code: string, syscall: string, name: string, mode: 'tap' | 'tun', netns: string | undefined): string {
  const what = `cannot open ${mode.toUpperCase()} device ${name}`;
  if (syscall === 'open netns' || syscall === 'setns') {
    if (code === 'ENOENT') return `${what}: no network namespace ${netns ?? ''} (create it with: ip netns add ${netns ?? 'NAME'})`;
    if (code === 'EPERM' || code === 'EACCES') return `${what}: cannot enter network namespace ${netns ?? ''}: operation not permitted (needs CAP_SYS_ADMIN: run as root)`;
  }
  if (syscall === 'ioctl(SIOCSIFFLAGS)' && (code === 'EPERM' || code === 'EACCES')) {
    return `${what}: setting the link up needs CAP_NET_ADMIN (open it without 'up' and run as root: ip link set ${name} up)`;
  }
  const precreate = `ip tuntap add dev ${name.includes('%') ? 'NAME' : name} mode ${mode} user $USER`;
  if (code === 'EACCES' && syscall.startsWith('open')) {
    // The device node itself is closed to us (mode 0600 on some systems): no capability helps.
    return `${what}: permission denied on /dev/net/tun (run as root, or make it accessible to you (most systems ship it mode 0666) and then run under unshare -rn or create the device with: ${precreate})`;
  }
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return `${what}: operation not permitted (needs CAP_NET_ADMIN: run as root, under unshare -rn, or create the device with: ${precreate})`;
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
      return `${what}: no /dev/net/tun (load the tun module with: modprobe tun; in a container, pass the device: --device /dev/net/tun)`;
    case 'EBUSY':
      return `${what}: device or resource busy (another process has it open; close it or pick another name)`;
    case 'EINVAL':
      return `${what}: invalid argument (a device of that name exists but is not a ${mode.toUpperCase()} device, or its flags differ)`;
    default:
      return `${what}: ${syscall} failed with ${code}`;
  }
}

function errorCode(e: unknown): { code: string; syscall: string } {
  if (typeof e === 'object' && e !== null) {
    const o = e as { code?: unknown; syscall?: unknown };
    return { code: typeof o.code === 'string' ? o.code : 'EUNKNOWN', syscall: typeof o.syscall === 'string' ? o.syscall : 'open' };
  }
  return { code: 'EUNKNOWN', syscall: 'open' };
}

/** A Port over a Linux TUN/TAP device. Frames arrive through `onFrame`; `send` writes one frame. */
export class TapPort implements Port {
  /** 'ethernet' for TAP, 'ip' for TUN. */
  readonly medium: Medium;
  /** The IP MTU the stack uses. */
  readonly mtu: number;
  /** The device's name as the kernel gave it (e.g. tap0). */
  readonly name: string;
  /** The device's ifindex in its namespace. */
  readonly ifindex: number;
  /** The device's file descriptor (-1 once closed). */
  fd: number;
  /** Set by the stack when it attaches. */
  onFrame: ((frame: Uint8Array, now: Instant) => void) | undefined = undefined;
  /** Called once if reading fails (the device was deleted, ...); the port is closed by then. */
  onError: ((err: TapError) => void) | undefined = undefined;
  /** Counters. */
  readonly stats: TapStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txErrors: {} };
  private reader: unknown;

  private constructor(private readonly lib: TunAddon, dev: { fd: number; name: string; mtu: number; ifindex: number }, mode: 'tap' | 'tun', mtu: number | undefined, private readonly driver: TapDriver) {
    this.medium = mode === 'tap' ? 'ethernet' : 'ip';
    this.fd = dev.fd;
    this.name = dev.name;
    this.ifindex = dev.ifindex;
    this.mtu = mtu ?? dev.mtu;
    this.reader = lib.startReader(dev.fd, (frame, errno) => this.received(frame, errno));
  }

  /**
   * Opens (creating if needed) a TAP or TUN device and starts reading it. Throws a TapError with a
   * one-line message saying what is needed (CAP_NET_ADMIN, the addon, /dev/net/tun, ...).
   */
  static open(options: TapOptions): TapPort {
    const mode = options.mode ?? 'tap';
    if (mode !== 'tap' && mode !== 'tun') throw new TypeError(`TAP mode must be 'tap' or 'tun', got ${String(mode)}`);
    const name = options.name ?? `${mode}%d`;
    // IFNAMSIZ is 16 with the terminating NUL (linux/if.h).
    if (new TextEncoder().encode(name).length > 15 || name.length === 0 || /[/\s:]/.test(name)) {
      throw new TypeError(`TAP device name ${JSON.stringify(name)} is invalid: 1-15 bytes, no '/', ':' or spaces`);
    }
    if (options.mtu !== undefined && (!Number.isInteger(options.mtu) || options.mtu < 68 || options.mtu > 65535)) {
      throw new RangeError(`TAP MTU must be an integer from 68 to 65535, got ${options.mtu}`);
    }
    const lib = loadAddon();
    let dev: { fd: number; name: string; mtu: number; ifindex: number };
    try {
      dev = lib.open(name, mode === 'tap', options.netns === undefined ? undefined : netnsPath(options.netns), options.up === true);
    } catch (e) {
      const { code, syscall } = errorCode(e);
      throw new TapError(describeOpenError(code, syscall, name, mode, options.netns), code);
    }
    return new TapPort(lib, dev, mode, options.mtu, options.driver);
  }

  /** Writes one frame to the device (one write(2)). Never throws: a refused frame is counted, like a lost one. */
  send(frame: Uint8Array, _now: Instant): void {
    if (this.fd < 0) {
      this.countTxError('EBADF');
      return;
    }
    const n = this.lib.write(this.fd, frame);
    if (n < 0) {
      // EIO: the link is down; EAGAIN/ENOBUFS: the kernel queue is full. TCP retransmits either way.
      this.countTxError(errnoName(-n));
      return;
    }
    this.stats.txFrames++;
    this.stats.txBytes += n;
  }

  /** Lets the process exit while the device is open (like `socket.unref()`). */
  unref(): this {
    if (this.reader !== undefined) this.lib.setRef(this.reader, false);
    return this;
  }

  /** Undoes `unref`. */
  ref(): this {
    if (this.reader !== undefined) this.lib.setRef(this.reader, true);
    return this;
  }

  /** Whether the port has been closed. */
  get closed(): boolean {
    return this.fd < 0;
  }

  /** Stops reading and closes the fd; a non-persistent device disappears with it. Idempotent. */
  close(): void {
    if (this.reader !== undefined) {
      this.lib.stopReader(this.reader);
      this.reader = undefined;
    }
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      this.lib.close(fd);
    }
  }

  private received(frame: Uint8Array | null, errno: number): void {
    if (frame === null) {
      // The addon stopped reading (the device was deleted, or the fd broke).
      this.reader = undefined;
      const code = errnoName(errno);
      this.close();
      this.onError?.(new TapError(`reading TAP device ${this.name} failed with ${code}`, code));
      return;
    }
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    this.onFrame?.(frame, this.driver.now());
    this.driver.kick();
  }

  private countTxError(code: string): void {
    this.stats.txErrors[code] = (this.stats.txErrors[code] ?? 0) + 1;
  }
}

/** Linux errno numbers a TAP device returns, by name (x86-64 / generic values). */
const ERRNO: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 14: 'EFAULT', 22: 'EINVAL', 77: 'EBADFD', 90: 'EMSGSIZE', 100: 'ENETDOWN', 105: 'ENOBUFS' };

function errnoName(n: number): string {
  return ERRNO[n] ?? `errno ${n}`;
}

/**
 * A cryptographic Rng for real-time drivers (RFC 6528 ISNs and RFC 6056 ports must not be
 * predictable off the simulator): 32-bit words from crypto.getRandomValues, fetched in blocks.
 */
export class CryptoRng implements Rng {
  private readonly buf = new Uint32Array(256);
  private at = this.buf.length;
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    if (this.at === this.buf.length) {
      globalThis.crypto.getRandomValues(this.buf);
      this.at = 0;
    }
    return this.buf[this.at++]!;
  }
}
