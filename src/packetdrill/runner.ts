// The packetdrill runner: plays a parsed script against one synack Stack in virtual time. The
// stack has one interface on a fake IP link whose other end is the script: inbound packets (`<`)
// are built as whole IPv4/IPv6 datagrams and handed to the stack; what the stack transmits is
// captured, sorted by connection (4-tuple), joined when consecutive segments of one flow make up
// one scripted packet, mapped into the script's sequence and timestamp space, and compared field
// by field. The runner owns the clock: it jumps from event to event and through the stack's own
// deadlines, so timing is exact, while packetdrill's tolerance rules (--tolerance_usecs, 4 ms by
// default, or 12.5% of the gap to the previous event) are kept for scripts written against Linux.
// Semantics follow google/packetdrill's run.c (event times), run_packet.c (mapping, verification)
// and run_system_call.c (blocking calls); see docs/packetdrill.md for the subset and deviations.
import { IpAddr } from '../wire/ip-addr.js';
import { TcpFlag } from '../wire/tcp.js';
import type { Instant } from '../time/instant.js';
import type { Port } from '../link/link.js';
import { Stack } from '../stack.js';
import type { Rng } from '../util/rng.js';
import { SocketLayer, type TcpSocket } from '../api/socket.js';
import type { TcpConfig } from '../tcp/config.js';
import type { Tcb } from '../tcp/tcb.js';
import type { TcpState } from '../tcp/state.js';
import type { IcmpPacketSpec, PacketEvent, Script, ScriptEvent, SyscallEvent, TcpPacketSpec, TimeSpec } from './ast.js';
import { ScriptError, fail, syntaxError, unsupported } from './errors.js';
import {
  type LivePacket, type RawOption, type TcpFields, OptionKind, buildIcmpDatagram, buildTcpDatagram, encodeOptions,
  flagBits, mapSackOption, parseLive, secs, tcpText, timestampOf, withTimestamp,
} from './packet.js';
import { type FdEntry, type StartedCall, type SyscallHost, intOf, startSyscall } from './syscalls.js';
import { errnoName, ERRNO_BY_NAME, strerror } from './symbols.js';
import { UnsupportedCommand, commandEffect } from './sysctl.js';
import { tcpInfo } from './tcp-info.js';
import { checkCode, evaluateCode } from './code.js';
import { type ProfileName, profileConfig } from './linux.js';

/** Settings of a run: packetdrill's command-line options (the script's own `--x=y` lines apply first). */
export interface RunnerConfig {
  toleranceUsecs: number;
  tolerancePercent: number;
  ipVersion: 4 | 6;
  mtu: number;
  localIp: string;
  remoteIp: string;
  bindPort: number;
  connectPort: number;
  /** Outbound TS val is checked only when this is non-zero (packetdrill's --tcp_ts_tick_usecs, default 0). */
  tsTickUsecs: number;
  /** Inbound TS ecr values not seen as an outbound TS val are interpolated (--tcp_ts_ecr_scaled). */
  tsEcrScaled: boolean;
  /** Do not join consecutive outbound segments (--strict_segments). */
  strictSegments: boolean;
  profile: ProfileName;
  seed: number;
}

/** packetdrill's defaults (config.c), with synack's addresses for the fake link. */
export function defaultRunnerConfig(): RunnerConfig {
  return {
    toleranceUsecs: 4000, tolerancePercent: 12.5, ipVersion: 4, mtu: 1500,
    localIp: '', remoteIp: '', bindPort: 8080, connectPort: 8080,
    tsTickUsecs: 0, tsEcrScaled: false, strictSegments: false, profile: 'linux', seed: 1,
  };
}

/** How the runner reports progress (every event with --verbose) and notes. */
export interface RunnerIo {
  verbose: boolean;
  log: (line: string) => void;
}

/** One connection as the script sees it: its 4-tuple and the ISNs that map script numbers to live ones. */
interface Flow {
  readonly id: number;
  readonly local: IpAddr;
  readonly localPort: number;
  readonly remote: IpAddr;
  readonly remotePort: number;
  /** packetdrill's socket states (socket.h), as far as sequence mapping needs them. */
  state: 'passive-syn-received' | 'passive-synack-sent' | 'passive-acked' | 'active-connecting' | 'active-syn-sent' | 'active-syn-acked';
  scriptLocalIsn: number;
  liveLocalIsn: number;
  /** The peer's ISN: the script's and the live one are the same (the script is the peer). */
  remoteIsn: number;
  /** Captured segments not yet matched by an outbound line. */
  readonly queue: LivePacket[];
  /** Outbound TS val: script value -> live value, and the first pair (the rebasing origin). */
  readonly tsMap: Map<number, number>;
  tsBase: { script: number; live: number } | undefined;
  /** Extension: a SYN arrived for this established flow (maybe a new incarnation from TIME-WAIT). */
  pendingSyn: number | undefined;
  /** The socket the script holds for this connection (connect() or accept()), for TCP_INFO. */
  sock: TcpSocket | undefined;
}

/** A blocking call (`T...END call()`) running beside later events, as packetdrill's syscall thread runs it. */
interface PendingCall {
  readonly ev: SyscallEvent;
  readonly call: StartedCall;
  readonly startUs: number;
  readonly timeUs: number;
  readonly endUs: number;
  readonly wakeAt: number | undefined;
}

/** Event times after packetdrill's adjust_relative_event_times. */
interface Timed {
  readonly timeUs: number;
  readonly endUs: number | undefined;
}

const EPHEMERAL_BASE = 48000;
const BLOCK_FOREVER_US = 3600 * 1_000_000;

/** Runs a parsed script; throws ScriptError when it does not pass. Returns notes (settings not emulated). */
export class Runner implements SyscallHost {
  readonly family: 4 | 6;
  readonly localIp: IpAddr;
  readonly remoteIp: IpAddr;
  readonly bindPort: number;
  readonly connectPort: number;
  readonly notes: string[] = [];
  sockets!: SocketLayer;

  private stack: Stack | undefined;
  private ifindex = 0;
  private readonly tcpConfig: TcpConfig;
  private now = 0;
  private readonly fds = new Map<number, FdEntry>();
  private readonly flows: Flow[] = [];
  private current: Flow | undefined;
  private sutListening = false;
  private sutFd: number | undefined;
  private listenPort: number;
  private nextEphemeral = EPHEMERAL_BASE;
  private lastEvent: { ev: ScriptEvent; timeUs: number } | undefined;
  private pending: PendingCall | undefined;
  /** Segments that belong to no flow the script knows (not compared, as in packetdrill). */
  readonly strays: LivePacket[] = [];

  constructor(private readonly script: Script, private readonly cfg: RunnerConfig, private readonly io: RunnerIo) {
    this.family = cfg.ipVersion;
    this.localIp = IpAddr.from(cfg.localIp !== '' ? cfg.localIp : this.family === 4 ? '192.168.0.1' : 'fd3d:fa7b:d17d::1');
    this.remoteIp = IpAddr.from(cfg.remoteIp !== '' ? cfg.remoteIp : this.family === 4 ? '192.0.2.1' : '2001:db8::1');
    if (this.localIp.family !== this.family || this.remoteIp.family !== this.family) {
      throw syntaxError(0, `--local_ip/--remote_ip must be IPv${this.family} addresses for --ip_version=ipv${this.family}`);
    }
    this.bindPort = cfg.bindPort;
    this.connectPort = cfg.connectPort;
    this.listenPort = cfg.bindPort;
    this.tcpConfig = profileConfig(cfg.profile);
  }

  // ---------------------------------------------------------------------------------------
  // The run

  /** Plays every event; throws ScriptError at the first difference. */
  run(): void {
    const s = this.script;
    if (s.initCommand !== undefined) this.applyCommand(s.initCommand.command, s.initCommand.line, true);
    this.createStack();
    for (let i = 0; i < s.events.length; i++) {
      const ev = s.events[i]!;
      if (i === 0 && !((ev.time.kind === 'absolute' || ev.time.kind === 'relative') && ev.time.us === 0)) {
        throw syntaxError(ev.line, 'first event should be at time 0');
      }
      if (this.lastEvent !== undefined && ev.time.kind === 'absolute' && this.lastEvent.ev.time.kind === 'absolute' && ev.time.us < this.lastEvent.timeUs) {
        throw syntaxError(ev.line, `time goes backward in script from ${this.lastEvent.timeUs} usec to ${ev.time.us} usec`);
      }
      const timed = this.adjust(ev);
      if (this.io.verbose) this.io.log(`${secs(this.now)} line ${ev.line}: ${describe(ev)}`);
      switch (ev.type) {
        case 'packet':
          if (ev.direction === 'inbound') this.inbound(ev, timed);
          else this.outbound(ev, timed);
          break;
        case 'syscall':
          this.syscall(ev, timed);
          break;
        case 'command':
          this.advanceTo(timed.timeUs);
          this.checkStart(ev, timed, 'command');
          this.applyCommand(ev.command, ev.line, false);
          break;
        case 'code':
          this.advanceTo(timed.timeUs);
          this.checkStart(ev, timed, 'data collection for code');
          this.code(ev.code, ev.line);
          break;
      }
      this.lastEvent = { ev, timeUs: timed.timeUs };
    }
    // run_system_call.c (syscalls_free): wait up to a second for a blocking call still running.
    if (this.pending !== undefined) {
      const p = this.pending;
      this.advanceUntil(this.now + 1_000_000, () => this.pending === undefined);
      if (this.pending !== undefined) throw fail(p.ev.line, 'runtime error: exiting while a blocking system call is in progress');
    }
    if (s.cleanupCommand !== undefined) this.applyCommand(s.cleanupCommand.command, s.cleanupCommand.line, false);
    if (this.io.verbose) {
      for (const f of this.flows) for (const p of f.queue) this.io.log(`unchecked outbound packet: ${secs(p.at)} ${tcpText(this.toScript(f, p.tcp!))}`);
    }
  }

  /** packetdrill's adjust_relative_event_times: relative times count from now, except between two inbound packets. */
  private adjust(ev: ScriptEvent): Timed {
    const t: TimeSpec = ev.time;
    const endOf = (offset: number): number | undefined => (ev.type === 'syscall' && ev.endUs !== undefined ? ev.endUs + offset : undefined);
    switch (t.kind) {
      case 'absolute':
        return { timeUs: t.us, endUs: ev.type === 'syscall' ? ev.endUs : undefined };
      case 'absolute-range':
        return { timeUs: t.us, endUs: t.endUs };
      case 'any':
      case 'relative':
      case 'relative-range': {
        const last = this.lastEvent;
        const anchored = last !== undefined && isInbound(last.ev) && isInbound(ev);
        const offset = anchored ? last.timeUs : this.now;
        if (t.kind === 'any') return { timeUs: offset, endUs: undefined };
        if (t.kind === 'relative-range') return { timeUs: t.us + offset, endUs: t.endUs + offset };
        return { timeUs: t.us + offset, endUs: endOf(offset) };
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // The stack and its clock

  private createStack(): void {
    const stack = new Stack({ rng: seededRng(this.cfg.seed), name: 'synack', tcp: this.tcpConfig, clock: () => this.now as Instant });
    const port: Port = {
      medium: 'ip',
      mtu: this.cfg.mtu,
      send: (frame, now) => this.capture(frame, now),
      onFrame: undefined,
    };
    const prefix = this.family === 4 ? 24 : 64;
    this.ifindex = stack.addInterface({
      port, name: 'tun0',
      ...(this.family === 4 ? { ipv4: `${this.localIp.toString()}/${prefix}` } : { ipv6: `${this.localIp.toString()}/${prefix}` }),
    });
    stack.addRoute(this.family === 4 ? 'default' : 'default6', undefined, this.ifindex);
    this.stack = stack;
    this.sockets = new SocketLayer(stack.tcp);
  }

  private get s(): Stack {
    return this.stack!;
  }

  /** The next instant something is due: the stack, or a pending call's timeout. */
  private nextDue(): number | undefined {
    const a = this.s.pollAt();
    const b = this.pending?.wakeAt;
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  /** Runs the stack's deadlines up to `t` (and a pending call's), then sets the clock to `t`. */
  private advanceTo(t: number): void {
    this.advanceUntil(t, undefined);
    if (t > this.now) {
      this.now = t;
      this.s.poll(this.now as Instant);
      this.afterStep();
    }
  }

  /** Steps through due work until `stop()` holds or the next due instant is after `limit`. Leaves the clock at the last step. */
  private advanceUntil(limit: number, stop: (() => boolean) | undefined): void {
    for (let guard = 0; ; guard++) {
      if (stop?.()) return;
      const at = this.nextDue();
      if (at === undefined || at > limit) return;
      if (guard > 10_000_000) throw fail(this.lastEvent?.ev.line ?? 0, 'runtime error: the stack never went idle (livelock)');
      this.now = Math.max(this.now, at);
      this.s.poll(this.now as Instant);
      this.afterStep();
    }
  }

  /** After anything happened: a blocking call running beside the script may now finish. */
  private afterStep(): void {
    const p = this.pending;
    if (p === undefined) return;
    const r = p.call.attempt(this.now);
    if (r === 'block') return;
    this.pending = undefined;
    // The syscall thread checks the return time against END with the call's start as the reference for the dynamic tolerance.
    this.verifyTime(p.ev.line, p.ev.time.kind, p.endUs, undefined, this.now, p.timeUs, 'system call return');
    this.checkResult(p.ev, r);
  }

  // ---------------------------------------------------------------------------------------
  // Capture: what the stack transmits

  private capture(frame: Uint8Array, at: number): void {
    const p = parseLive(frame, at);
    if (p === undefined || p.tcp === undefined) {
      if (this.io.verbose) this.io.log(`${secs(at)} outbound non-TCP datagram ignored`);
      return;
    }
    const t = p.tcp;
    // The newest flow with this 4-tuple: a connect() that took over a TIME-WAIT 4-tuple
    // (tcp_tw_reuse) starts a new flow beside the old one.
    let f: Flow | undefined;
    for (let i = this.flows.length - 1; i >= 0 && f === undefined; i--) {
      const x = this.flows[i]!;
      if (x.localPort === t.srcPort && x.remotePort === t.dstPort && x.local.equals(p.src) && x.remote.equals(p.dst)) f = x;
    }
    if (f === undefined) {
      this.strays.push(p);
      if (this.io.verbose) this.io.log(`${secs(at)} outbound packet for no scripted connection: ${tcpText(t)}`);
      return;
    }
    f.queue.push(p);
    if (this.io.verbose) this.io.log(`${secs(at)} outbound sniffed packet: ${tcpText(this.toScript(f, t))}`);
  }

  // ---------------------------------------------------------------------------------------
  // Sequence-number mapping (packetdrill's socket.h)

  private localToLive(f: Flow, v: number, isSyn: boolean): number {
    return (v + (isSyn ? f.liveLocalIsn - f.scriptLocalIsn : f.liveLocalIsn)) >>> 0;
  }
  private remoteToLive(f: Flow, v: number, isSyn: boolean): number {
    return (v + (isSyn ? 0 : f.remoteIsn)) >>> 0;
  }

  /** A live segment in the script's number space (seq, ack, SACK blocks; TS val is rebased separately). */
  private toScript(f: Flow, t: TcpFields): TcpFields {
    const isSyn = (t.flags & TcpFlag.SYN) !== 0;
    const localOff = isSyn ? f.liveLocalIsn - f.scriptLocalIsn : f.liveLocalIsn;
    const remoteOff = isSyn ? 0 : f.remoteIsn;
    return {
      ...t,
      seq: (t.seq - localOff) >>> 0,
      ack: t.flags & TcpFlag.ACK ? (t.ack - remoteOff) >>> 0 : t.ack,
      options: t.options.map((o) => (o.kind === OptionKind.SACK ? mapSackOption(o, (n) => n - remoteOff) : o)),
    };
  }

  private newFlow(remotePort: number, localPort: number, state: Flow['state'], remoteIsn: number): Flow {
    const f: Flow = {
      id: this.flows.length + 1, local: this.localIp, localPort, remote: this.remoteIp, remotePort, state,
      scriptLocalIsn: 0, liveLocalIsn: 0, remoteIsn, queue: [], tsMap: new Map(), tsBase: undefined, pendingSyn: undefined, sock: undefined,
    };
    this.flows.push(f);
    return f;
  }

  // ---------------------------------------------------------------------------------------
  // Inbound packets

  private inbound(ev: PacketEvent, timed: Timed): void {
    // Blocking calls in progress do not stop inbound packets (packetdrill's main thread injects them).
    this.advanceTo(timed.timeUs);
    this.checkStart(ev, timed, 'inbound packet');
    const spec = ev.packet;
    if (spec.proto === 'icmp') {
      this.inboundIcmp(ev, spec);
      return;
    }
    const flags = flagBits(spec.flags);
    const isSyn = (flags & TcpFlag.SYN) !== 0;
    const f = this.flowForInbound(ev, spec, flags);
    // run_packet.c do_inbound_script_packet: the handshake's progress as the script tells it.
    if (f.state === 'passive-synack-sent' && flags & TcpFlag.ACK) f.state = 'passive-acked';
    else if (f.state === 'active-syn-sent' && isSyn && flags & TcpFlag.ACK) {
      f.state = 'active-syn-acked';
      f.remoteIsn = spec.seq;
    } else if ((f.state === 'passive-acked' || f.state === 'active-syn-acked') && isSyn && !(flags & TcpFlag.ACK)) {
      f.pendingSyn = spec.seq;
    }
    const options: RawOption[] = [];
    for (const o of encodeOptions(spec.options ?? [])) {
      if (o.kind === OptionKind.SACK) {
        options.push(mapSackOption(o, (n) => this.localToLive(f, n, isSyn)));
      } else if (o.kind === OptionKind.TS && flags & TcpFlag.ACK) {
        const ts = timestampOf(o);
        options.push(withTimestamp(ts.val, this.inboundEcr(ev.line, f, ts.ecr)));
      } else {
        options.push(o);
      }
    }
    const live: TcpFields = {
      srcPort: f.remotePort, dstPort: f.localPort,
      seq: this.remoteToLive(f, spec.seq, isSyn),
      ack: flags & TcpFlag.ACK ? this.localToLive(f, spec.ack, isSyn) : spec.ack,
      flags, window: spec.win ?? 0, urg: spec.urg, options, payloadLen: spec.len,
    };
    if (this.io.verbose) this.io.log(`${secs(this.now)} inbound injected packet: ${tcpText({ ...live, seq: spec.seq, ack: spec.ack, options: encodeOptions(spec.options ?? []) })}`);
    this.s.ingress(this.ifindex, buildTcpDatagram({ src: f.remote, dst: f.local }, live), this.now as Instant);
    this.afterStep();
  }

  /** run_packet.c find_or_create_socket_for_script_packet, with explicit ports selecting their own flow. */
  private flowForInbound(ev: PacketEvent, spec: TcpPacketSpec, flags: number): Flow {
    const synOnly = (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    if (spec.ports !== undefined) {
      const { src, dst } = spec.ports;
      const found = this.flows.find((x) => x.remotePort === src && x.localPort === dst);
      if (found !== undefined) return found;
      const f = this.newFlow(src, dst, 'passive-syn-received', spec.seq);
      if (synOnly) this.current = f;
      return f;
    }
    if (synOnly && (this.current === undefined || this.sutListening)) {
      // handle_listen_for_script_packet: a SYN to the listening socket under test makes a new child.
      const f = this.newFlow(this.nextEphemeral++, this.listenPort, 'passive-syn-received', spec.seq);
      this.current = f;
      this.sutListening = false;
      return f;
    }
    if (this.current === undefined) throw fail(ev.line, 'error handling packet: no matching socket for script packet');
    return this.current;
  }

  /** run_packet.c map_inbound_packet: an inbound TS ecr names one of our TS vals in script space. */
  private inboundEcr(line: number, f: Flow, scriptEcr: number): number {
    const live = f.tsMap.get(scriptEcr);
    if (live !== undefined) return live;
    if (this.cfg.tsEcrScaled && f.tsBase !== undefined) return (scriptEcr - f.tsBase.script + f.tsBase.live) >>> 0;
    throw fail(line, `error handling packet: unable to infer live TS ecr for script TS ecr ${scriptEcr};  no matching or preceding outbound TS val`);
  }

  private inboundIcmp(ev: PacketEvent, spec: IcmpPacketSpec): void {
    const f = this.current;
    if (f === undefined) throw fail(ev.line, 'error handling packet: no matching socket for script packet');
    const { type, code } = icmpTypeCode(this.family, spec, ev.line);
    const frame = buildIcmpDatagram(
      { src: f.remote, dst: f.local }, type, code, spec.mtu,
      { src: f.local, dst: f.remote },
      { srcPort: f.localPort, dstPort: f.remotePort, seq: this.localToLive(f, spec.echoed.seq, false), payloadLen: spec.echoed.len },
    );
    if (this.io.verbose) this.io.log(`${secs(this.now)} inbound injected ICMP ${spec.type}${spec.code !== undefined ? ` ${spec.code}` : ''}`);
    this.s.ingress(this.ifindex, frame, this.now as Instant);
    this.afterStep();
  }

  // ---------------------------------------------------------------------------------------
  // Outbound packets

  private outbound(ev: PacketEvent, timed: Timed): void {
    const spec = ev.packet;
    if (spec.proto === 'icmp') throw unsupported(ev.line, 'outbound ICMP packets');
    const flags = flagBits(spec.flags);
    let f: Flow | undefined;
    if (spec.ports !== undefined) {
      const { src, dst } = spec.ports;
      f = this.flows.find((x) => x.localPort === src && x.remotePort === dst);
    } else {
      f = this.current;
    }
    if (f === undefined) throw fail(ev.line, 'error handling packet: no matching socket for script packet');
    const isSyn = (flags & TcpFlag.SYN) !== 0;
    if (f.state === 'active-connecting' && isSyn && !(flags & TcpFlag.ACK)) {
      f.state = 'active-syn-sent';
      f.scriptLocalIsn = spec.seq;
    }
    if (isSyn && flags & TcpFlag.ACK && f.pendingSyn !== undefined) {
      // Extension: the SYN that arrived for an established 4-tuple opened a new incarnation (from
      // TIME-WAIT, RFC 6191): the script expects its SYN-ACK, so the ISNs are learned again.
      f.remoteIsn = f.pendingSyn;
      f.state = 'passive-syn-received';
    }
    f.pendingSyn = undefined;
    const learnPassiveIsn = f.state === 'passive-syn-received' && isSyn && (flags & TcpFlag.ACK) !== 0;
    if (learnPassiveIsn) f.scriptLocalIsn = spec.seq;

    // Wait for the next segment of this flow: no later than the latest time the script allows.
    const tol = this.tolerance(timed.timeUs);
    const latest = ev.time.kind === 'any' ? this.now + BLOCK_FOREVER_US : (timed.endUs ?? timed.timeUs) + tol;
    const scriptText = `${secs(timed.timeUs)} ${scriptTcpText(spec)}`;
    const take = (): LivePacket => {
      this.advanceUntil(latest, () => f.queue.length > 0);
      const p = f.queue.shift();
      if (p === undefined) {
        throw fail(ev.line, `error handling packet: timing error: expected outbound packet at ${secs(timed.timeUs)} sec but no packet was sent by ${secs(latest)} sec\nscript packet:  ${scriptText}`);
      }
      return p;
    };
    const first = take();
    const firstTcp = first.tcp!;
    if (learnPassiveIsn) {
      f.state = 'passive-synack-sent';
      f.liveLocalIsn = firstTcp.seq;
    }
    if (f.state === 'active-syn-sent' && firstTcp.flags & TcpFlag.SYN && !(firstTcp.flags & TcpFlag.ACK)) f.liveLocalIsn = firstTcp.seq;
    const fragments: LivePacket[] = [first];
    let total = firstTcp.payloadLen;
    while (total < spec.len && !this.cfg.strictSegments) {
      const prev = fragments[fragments.length - 1]!.tcp!;
      const next = take();
      const why = fragmentMismatch(prev, next.tcp!, total + next.tcp!.payloadLen < spec.len);
      if (why !== undefined) throw this.packetError(ev, `aggregate candidate ${why}`, scriptText, next, f);
      fragments.push(next);
      total += next.tcp!.payloadLen;
    }
    const live = aggregate(fragments);
    if (total !== spec.len) throw this.packetError(ev, `live packet payload: expected ${spec.len} bytes vs actual ${total} bytes`, scriptText, live, f);
    this.verifyOutbound(ev, timed, spec, live, f, scriptText);
  }

  private verifyOutbound(ev: PacketEvent, timed: Timed, spec: TcpPacketSpec, live: LivePacket, f: Flow, scriptText: string): void {
    if (live.checksumError !== undefined) throw this.packetError(ev, live.checksumError, scriptText, live, f);
    const actual = this.toScript(f, live.tcp!);
    // map_outbound_live_packet: remember the script -> live TS val mapping and rebase the live TS val.
    const scriptTs = spec.options?.find((o) => o.kind === 'ts');
    const actualTsIdx = actual.options.findIndex((o) => o.kind === OptionKind.TS && o.length === 10);
    if (scriptTs !== undefined && scriptTs.kind === 'ts' && actualTsIdx >= 0) {
      const ts = timestampOf(actual.options[actualTsIdx]!);
      f.tsMap.set(scriptTs.val, ts.val);
      f.tsBase ??= { script: scriptTs.val, live: ts.val };
      actual.options[actualTsIdx] = withTimestamp(f.tsBase.script + (ts.val - f.tsBase.live), ts.ecr);
    }
    const expFlags = flagBits(spec.flags);
    const checks: [string, number, number][] = [
      ['tcp_fin', expFlags & TcpFlag.FIN ? 1 : 0, actual.flags & TcpFlag.FIN ? 1 : 0],
      ['tcp_syn', expFlags & TcpFlag.SYN ? 1 : 0, actual.flags & TcpFlag.SYN ? 1 : 0],
      ['tcp_rst', expFlags & TcpFlag.RST ? 1 : 0, actual.flags & TcpFlag.RST ? 1 : 0],
      ['tcp_psh', expFlags & TcpFlag.PSH ? 1 : 0, actual.flags & TcpFlag.PSH ? 1 : 0],
      ['tcp_ack', expFlags & TcpFlag.ACK ? 1 : 0, actual.flags & TcpFlag.ACK ? 1 : 0],
      ['tcp_urg', expFlags & TcpFlag.URG ? 1 : 0, actual.flags & TcpFlag.URG ? 1 : 0],
      ['tcp_ece', expFlags & TcpFlag.ECE ? 1 : 0, actual.flags & TcpFlag.ECE ? 1 : 0],
      ['tcp_cwr', expFlags & TcpFlag.CWR ? 1 : 0, actual.flags & TcpFlag.CWR ? 1 : 0],
      ['tcp_seq', spec.seq >>> 0, actual.seq >>> 0],
      ['tcp_ack_seq', spec.ack >>> 0, actual.ack >>> 0],
    ];
    if (spec.win !== undefined) checks.push(['tcp_window', spec.win, actual.window]);
    checks.push(['tcp_urg_ptr', spec.urg, actual.urg]);
    for (const [name, want, got] of checks) {
      if (want !== got) throw this.packetError(ev, `live packet field ${name}: expected: ${want} (0x${want.toString(16)}) vs actual: ${got} (0x${got.toString(16)})`, scriptText, live, f, actual);
    }
    if (spec.options !== undefined) {
      const why = this.optionsMismatch(encodeOptions(spec.options), actual.options);
      if (why !== undefined) throw this.packetError(ev, why, scriptText, live, f, actual);
    }
    // Payload bytes are zeros on both sides (what the application wrote) and are not compared.
    // Timing: verify_time against the event's time (a window, or * for any time).
    this.verifyTime(ev.line, ev.time.kind, timed.timeUs, timed.endUs, live.at, this.lastEvent?.timeUs, 'outbound packet', () =>
      `\nscript packet:  ${scriptText}\nactual packet:  ${secs(live.at)} ${tcpText(actual)}`);
  }

  /** run_packet.c verify_outbound_live_tcp_options: the same kinds in the same order, equal values (TS val within tolerance when checked). */
  private optionsMismatch(want: RawOption[], got: RawOption[]): string | undefined {
    if (want.length !== got.length) return 'bad outbound TCP options';
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      const g = got[i]!;
      if (w.kind !== g.kind) return 'bad outbound TCP options';
      if (w.kind === OptionKind.NOP || w.kind === OptionKind.EOL) continue;
      if (w.kind === OptionKind.TS) {
        if (this.cfg.tsTickUsecs > 0 && g.length === 10) {
          const dv = Math.abs((timestampOf(g).val - timestampOf(w).val) | 0);
          if (dv * this.cfg.tsTickUsecs > this.cfg.toleranceUsecs) return `bad outbound TCP timestamp value, tolerance ${this.cfg.toleranceUsecs}`;
        }
        continue;
      }
      if (w.length !== g.length) return `bad lengths for outbound TCP option ${w.kind}`;
      for (let k = 0; k < w.data.length; k++) if (w.data[k] !== g.data[k]) return `bad value outbound TCP option ${w.kind}`;
    }
    return undefined;
  }

  private packetError(ev: PacketEvent, message: string, scriptText: string, live: LivePacket, f: Flow, actual?: TcpFields): ScriptError {
    const a = actual ?? this.toScript(f, live.tcp!);
    return fail(ev.line, `error handling packet: ${message}\nscript packet:  ${scriptText}\nactual packet:  ${secs(live.at)} ${tcpText(a)}`);
  }

  // ---------------------------------------------------------------------------------------
  // Timing (run.c verify_time)

  private tolerance(timeUs: number): number {
    let tol = this.cfg.toleranceUsecs;
    const last = this.lastEvent;
    if (last !== undefined) {
      const dynamic = (this.cfg.tolerancePercent / 100) * (timeUs - last.timeUs);
      if (dynamic > tol) tol = dynamic;
    }
    return tol;
  }

  private verifyTime(line: number, kind: TimeSpec['kind'], scriptUs: number, scriptEndUs: number | undefined, actualUs: number, lastEventUs: number | undefined, what: string, detail: () => string = () => ''): void {
    if (kind === 'any') return;
    const prefix = what === 'outbound packet' ? 'error handling packet: ' : '';
    let tol = this.cfg.toleranceUsecs;
    if (lastEventUs !== undefined) {
      const dynamic = (this.cfg.tolerancePercent / 100) * (scriptUs - lastEventUs);
      if (dynamic > tol) tol = dynamic;
    }
    if ((kind === 'absolute-range' || kind === 'relative-range') && scriptEndUs !== undefined) {
      if (actualUs < scriptUs - tol || actualUs > scriptEndUs + tol) {
        throw fail(line, `${prefix}timing error: expected ${what} in time range ${secs(scriptUs)}~${secs(scriptEndUs)} sec but happened at ${secs(actualUs)} sec${detail()}`);
      }
      return;
    }
    if (actualUs < scriptUs - tol || actualUs > scriptUs + tol) {
      throw fail(line, `${prefix}timing error: expected ${what} at ${secs(scriptUs)} sec but happened at ${secs(actualUs)} sec; tolerance ${secs(tol)} sec${detail()}`);
    }
  }

  /** wait_for_event + check_event_time: the event starts at its time, unless something earlier made us late. */
  private checkStart(ev: ScriptEvent, timed: Timed, what: string): void {
    this.verifyTime(ev.line, ev.time.kind, timed.timeUs, undefined, this.now, this.lastEvent?.timeUs, what);
  }

  // ---------------------------------------------------------------------------------------
  // System calls

  private syscall(ev: SyscallEvent, timed: Timed): void {
    const blocking = ev.endUs !== undefined;
    if (this.pending !== undefined) {
      // run_system_call.c await_idle_thread: wait (up to a second) for the call already running.
      const p = this.pending;
      this.advanceUntil(this.now + 1_000_000, () => this.pending === undefined);
      if (this.pending !== undefined && blocking) {
        throw fail(ev.line, `runtime error in ${ev.name} call: blocking system call while another blocking system call is already in progress (line ${p.ev.line})`);
      }
    }
    this.advanceTo(timed.timeUs);
    this.checkStart(ev, timed, 'system call start');
    const call = startSyscall(this, ev);
    const r = call.attempt(this.now);
    if (r !== 'block') {
      if (blocking) this.verifyTime(ev.line, ev.time.kind, timed.endUs!, undefined, this.now, timed.timeUs, 'system call return');
      this.checkResult(ev, r);
      return;
    }
    if (blocking) {
      this.pending = { ev, call, startUs: this.now, timeUs: timed.timeUs, endUs: timed.endUs!, wakeAt: call.timeoutUs === undefined ? undefined : this.now + call.timeoutUs };
      return;
    }
    // A call the script does not expect to block, on a blocking socket: packetdrill's main thread
    // would sit in it, so virtual time runs until it returns.
    const deadline = this.now + BLOCK_FOREVER_US;
    const wakeAt = call.timeoutUs === undefined ? undefined : this.now + call.timeoutUs;
    for (;;) {
      let at = this.nextDue();
      if (wakeAt !== undefined && (at === undefined || wakeAt < at)) at = wakeAt;
      if (at === undefined) throw fail(ev.line, `runtime error in ${ev.name} call: the call blocks and nothing can wake it (mark it blocking with T...END, or make the socket non-blocking)`);
      if (at > deadline) throw fail(ev.line, `runtime error in ${ev.name} call: still blocked after ${secs(BLOCK_FOREVER_US)} sec`);
      this.now = Math.max(this.now, at);
      this.s.poll(this.now as Instant);
      this.afterStep();
      const again = call.attempt(this.now);
      if (again !== 'block') {
        this.checkResult(ev, again);
        return;
      }
    }
  }

  /** run_system_call.c end_syscall: the result, errno, and out-parameters as the script expects. */
  private checkResult(ev: SyscallEvent, r: { ret: number; errno: number; check?: (() => string | undefined) | undefined }): void {
    const pre = `runtime error in ${ev.name} call: `;
    if (this.io.verbose) this.io.log(`${secs(this.now)} ${ev.name} syscall returned ${r.ret}${r.ret < 0 ? ` ${errnoName(r.errno)}` : ''}`);
    const res = ev.result;
    if (res.kind !== 'ellipsis') {
      const want = intOf(res, ev.line, 'the result');
      const fdCall = ev.name === 'socket' || ev.name === 'accept' || ev.name === 'accept4';
      const matches = fdCall && want >= 0 ? r.ret >= 0 : r.ret === want;
      if (!matches) {
        if (r.ret < 0) throw fail(ev.line, `${pre}Expected result ${want} but got ${r.ret} with errno ${r.errno} (${strerror(r.errno)})`);
        throw fail(ev.line, `${pre}Expected result ${want} but got ${r.ret}`);
      }
      if (want < 0 && ev.errno !== undefined) {
        const wantErrno = ERRNO_BY_NAME[ev.errno];
        if (wantErrno === undefined) throw unsupported(ev.line, `errno name ${ev.errno}`);
        if (wantErrno !== r.errno) throw fail(ev.line, `${pre}Expected errno ${wantErrno} (${strerror(wantErrno)}) but got ${r.errno} (${strerror(r.errno)})`);
      }
    }
    const why = r.check?.();
    if (why !== undefined) throw fail(ev.line, `${pre}${why}`);
  }

  // SyscallHost

  /** The descriptor `n`. */
  fd(n: number): FdEntry | undefined {
    return this.fds.get(n);
  }
  /** Binds script descriptor `n` to `e`. */
  setFd(n: number, e: FdEntry): void {
    this.fds.set(n, e);
  }
  /** Forgets descriptor `n`. */
  closeFd(n: number): void {
    this.fds.delete(n);
  }
  /** socket(): the new socket is the socket under test (packetdrill's syscall_socket). */
  onSocket(fd: number): void {
    this.current = undefined;
    this.sutFd = fd;
    this.sutListening = false;
  }
  /** listen(): SYNs now make new children. */
  onListen(fd: number, port: number): void {
    this.listenPort = port;
    if (fd === this.sutFd) {
      this.sutListening = true;
      this.current = undefined;
    }
  }
  /** connect(): the connection's 4-tuple is known at once; its ISN comes with the first SYN. */
  onConnect(fd: number, sock: TcpSocket): void {
    const f = this.newFlow(sock.remotePort ?? this.connectPort, sock.localPort ?? 0, 'active-connecting', 0);
    f.sock = sock;
    this.current = f;
    this.sutFd = fd;
    this.sutListening = false;
  }

  /** accept(): remember which socket holds the flow (for TCP_INFO). */
  onAccept(_fd: number, sock: TcpSocket): void {
    const f = this.flows.find((x) => x.localPort === sock.localPort && x.remotePort === sock.remotePort && sock.remoteAddress !== undefined && x.remote.equals(sock.remoteAddress));
    if (f !== undefined) f.sock = sock;
  }

  // ---------------------------------------------------------------------------------------
  // Commands and code blocks

  private applyCommand(command: string, line: number, beforeStack: boolean): void {
    let effect;
    try {
      effect = commandEffect(command);
    } catch (e) {
      if (e instanceof UnsupportedCommand) throw unsupported(line, e.message);
      throw e;
    }
    for (const n of effect.notes) {
      this.notes.push(`line ${line}: ${n}`);
      this.io.log(`note: line ${line}: ${n}`);
    }
    if (!beforeStack && effect.patch.portRange !== undefined) throw unsupported(line, 'changing ip_local_port_range after the first event');
    Object.assign(beforeStack ? this.tcpConfig : this.s.tcp.config, effect.patch);
    if (effect.flushMetrics && !beforeStack) this.s.tcp.fastOpenCache.clear();
  }

  /** The connection under test, for TCP_INFO: the socket the script holds for it, else the connection table. */
  private sutTcb(line: number): { tcb: Tcb; state: TcpState } {
    const f = this.current;
    const held = f?.sock?.connection;
    if (f?.sock !== undefined && held !== undefined) return { tcb: held, state: f.sock.state };
    const tcb = f === undefined ? undefined : this.s.tcp.lookup(f.local, f.localPort, f.remote, f.remotePort);
    if (tcb === undefined) throw fail(line, 'error executing code: no connection under test to read TCP_INFO from');
    return { tcb, state: tcb.state };
  }

  /** `%{ assert ... }%` lines, evaluated at the event's time against the connection's tcp_info. */
  private code(code: string, line: number): void {
    checkCode(code, line);
    const sut = this.sutTcb(line);
    evaluateCode(code, line, tcpInfo(sut.tcb, sut.state));
  }
}

// -----------------------------------------------------------------------------------------

/** A small deterministic generator (splitmix32) for the stack's ISN secret, ports and MACs: runs replay exactly from `--seed`. */
function seededRng(seed: number): Rng {
  let x = seed >>> 0;
  return {
    nextU32(): number {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    },
  };
}

function isInbound(ev: ScriptEvent): boolean {
  return ev.type === 'packet' && ev.direction === 'inbound';
}

function describe(ev: ScriptEvent): string {
  switch (ev.type) {
    case 'packet':
      return `${ev.direction === 'inbound' ? '<' : '>'} ${ev.packet.proto === 'tcp' ? scriptTcpText(ev.packet) : `icmp ${ev.packet.type}`}`;
    case 'syscall':
      return `${ev.name}(...)${ev.endUs !== undefined ? ' (blocking)' : ''}`;
    case 'command':
      return `\`${ev.command.split('\n')[0]!}\``;
    case 'code':
      return '%{ ... }%';
  }
}

/** A script TCP line as packetdrill prints it. */
function scriptTcpText(spec: TcpPacketSpec): string {
  const f: TcpFields = {
    srcPort: 0, dstPort: 0, seq: spec.seq, ack: spec.ack, flags: flagBits(spec.flags), window: spec.win ?? 0,
    urg: spec.urg, options: spec.options === undefined ? [] : encodeOptions(spec.options), payloadLen: spec.len,
  };
  return tcpText(f, spec.win !== undefined, spec.options !== undefined);
}

/**
 * run_packet.c verify_packet_fragments: a segment can be joined to the previous one when its
 * header matches (same flags but FIN/PSH/CWR, contiguous sequence, same ACK, window, options
 * length) and, unless it is the last one, it is as long as the previous one.
 */
function fragmentMismatch(prev: TcpFields, cur: TcpFields, notLast: boolean): string | undefined {
  const loose = TcpFlag.FIN | TcpFlag.PSH | TcpFlag.CWR;
  if ((prev.flags & ~loose) !== (cur.flags & ~loose)) return 'packet flags differ';
  if (((prev.seq + prev.payloadLen) >>> 0) !== cur.seq >>> 0) return `tcp_seq: expected: ${(prev.seq + prev.payloadLen) >>> 0} vs actual: ${cur.seq >>> 0}`;
  if (prev.ack >>> 0 !== cur.ack >>> 0) return `tcp_ack_seq: expected: ${prev.ack >>> 0} vs actual: ${cur.ack >>> 0}`;
  if (prev.window !== cur.window) return `tcp_window: expected: ${prev.window} vs actual: ${cur.window}`;
  let a = 0;
  let b = 0;
  for (const o of prev.options) a += o.length;
  for (const o of cur.options) b += o.length;
  if (a !== b) return 'tcp_data_offset differs';
  if (notLast && cur.payloadLen !== prev.payloadLen) return `fragment payload: expected ${prev.payloadLen} bytes vs actual ${cur.payloadLen} bytes`;
  return undefined;
}

/** Joins segments into one: the first's header, PSH/CWR from any, FIN from the last, the total payload. */
function aggregate(ps: LivePacket[]): LivePacket {
  const first = ps[0]!;
  if (ps.length === 1) return first;
  const last = ps[ps.length - 1]!;
  let flags = first.tcp!.flags & ~(TcpFlag.FIN | TcpFlag.PSH | TcpFlag.CWR);
  let len = 0;
  let checksumError: string | undefined;
  for (const p of ps) {
    flags |= p.tcp!.flags & (TcpFlag.PSH | TcpFlag.CWR);
    len += p.tcp!.payloadLen;
    checksumError ??= p.checksumError;
  }
  flags |= last.tcp!.flags & TcpFlag.FIN;
  return { ...first, tcp: { ...first.tcp!, flags, payloadLen: len }, checksumError };
}

const ICMP4_TYPES: Readonly<Record<string, number>> = { unreachable: 3, time_exceeded: 11, parameter_problem: 12 };
const ICMP4_UNREACH: Readonly<Record<string, number>> = {
  net_unreachable: 0, host_unreachable: 1, protocol_unreachable: 2, port_unreachable: 3, frag_needed: 4,
  source_route_failed: 5, net_unknown: 6, host_unknown: 7, source_host_isolated: 8, net_prohibited: 9,
  host_prohibited: 10, net_unreachable_for_tos: 11, host_unreachable_for_tos: 12, packet_filtered: 13,
  precedence_violation: 14, precedence_cutoff: 15,
};
const ICMP6_TYPES: Readonly<Record<string, number>> = { unreachable: 1, packet_too_big: 2, time_exceeded: 3, parameter_problem: 4 };
const ICMP6_CODES: Readonly<Record<number, Readonly<Record<string, number>>>> = {
  1: { net_unreachable: 0, no_route: 0, admin_prohibited: 1, not_neighbour: 2, address_unreachable: 3, port_unreachable: 4 },
  3: { exceeded_hop_limit: 0, exceeded_frag_time: 1 },
  4: { header_field: 0, unknown_next_header: 1, unknown_option: 2 },
};

/** icmp_packet.c parse_icmp_type_and_code, for the error types TCP reacts to. */
function icmpTypeCode(family: 4 | 6, spec: IcmpPacketSpec, line: number): { type: number; code: number } {
  const numbered = (s: string, prefix: string): number | undefined => (s.startsWith(prefix) && /^\d+$/.test(s.slice(prefix.length)) ? Number(s.slice(prefix.length)) : undefined);
  const types = family === 4 ? ICMP4_TYPES : ICMP6_TYPES;
  const type = types[spec.type] ?? numbered(spec.type, 'type_');
  if (type === undefined || !Object.values(types).includes(type)) throw unsupported(line, `ICMP type ${spec.type} (supported: ${Object.keys(types).join(', ')})`);
  let code = 0;
  if (spec.code !== undefined) {
    const table = family === 4 ? (type === 3 ? ICMP4_UNREACH : {}) : ICMP6_CODES[type] ?? {};
    const c = table[spec.code] ?? numbered(spec.code, 'code_');
    if (c === undefined) throw syntaxError(line, `semantic error: bad ICMP code ${spec.code}`);
    code = c;
  }
  if (spec.mtu >= 0 && !((family === 4 && type === 3 && code === 4) || (family === 6 && type === 2))) {
    throw syntaxError(line, `semantic error: ${family === 4 ? 'ICMPv4 MTU is only valid for unreachable-frag_needed' : 'ICMPv6 MTU is only valid for packet_too_big-0'}`);
  }
  return { type, code };
}
