// Scenarios: hosts (Stacks) joined by simulated links with impairments, run in virtual time,
// recording every frame on the wire (with losses) and every TCP state change, so that a run can
// be asserted on, drawn as a sequence diagram and saved as a pcap. Tests, the tour and `synack
// demo` are built on this.
import { Stack } from '../stack.js';
import { SimRng } from './rng.js';
import { Simulation, type RunOptions, type RunResult } from './driver.js';
import { PointToPoint } from '../link/memory.js';
import { impair, type ImpairEvent, type ImpairOptions, type ImpairedPort } from '../link/impair.js';
import { capture, type CaptureSink } from '../link/capture.js';
import type { Port, Medium } from '../link/link.js';
import { IpAddr } from '../wire/ip-addr.js';
import { type Duration, type Instant, millis } from '../time/instant.js';
import type { TcpConfig } from '../tcp/config.js';
import type { TraceEvent } from '../trace/events.js';
import { SocketLayer } from '../api/socket.js';
import { renderSvg, type SvgOptions } from '../trace/svg.js';
import { connKey, renderDiagram, type DiagramOptions, type NoteRecord, type StateRecord, type WireRecord } from '../trace/diagram.js';

/** One end of a scenario: a stack, its sockets, its address. */
export interface Host {
  readonly name: string;
  readonly stack: Stack;
  readonly sockets: SocketLayer;
  readonly addr: IpAddr;
  readonly addr6: IpAddr;
  /** The impairer on what this host sends. */
  readonly egress: ImpairedPort;
  /** The stack's interface on the link (for injecting frames with `stack.ingress`). */
  readonly ifindex: number;
}

/** How to build a two-host scenario. */
export interface TwoHostOptions {
  seed?: number;
  /** One-way propagation delay of the link (default 10 ms). */
  delay?: Duration;
  /** IP MTU of the link (default 1500). */
  mtu?: number;
  /** IP MTU of the client's or the server's interface, when it differs from the link's (MSS negotiation). */
  clientMtu?: number;
  serverMtu?: number;
  medium?: Medium;
  /** Impairments on what the client sends, and on what the server sends. */
  clientImpair?: ImpairOptions;
  serverImpair?: ImpairOptions;
  /** TCP configuration for both, or each. */
  tcp?: Partial<TcpConfig>;
  clientTcp?: Partial<TcpConfig>;
  serverTcp?: Partial<TcpConfig>;
  /** Host names (default client / server). */
  names?: [string, string];
  /** Records every frame at the client's end of the wire. */
  capture?: CaptureSink;
  /**
   * Keep a copy of every frame in `wire` for diagrams (default true). Benchmarks turn it off: the
   * copy and the record per frame cost more than a stack's own work per segment.
   */
  recordWire?: boolean;
  /**
   * Records every frame the client host sends or receives, as tcpdump on the client would see
   * them: frames its own impairer then loses are included (they were sent), frames lost on the
   * way to it are not.
   */
  hostCapture?: CaptureSink;
  /** Extra trace consumer. */
  onTrace?: (ev: TraceEvent) => void;
  /** Told about everything the impairers do (drops, duplicates, reordering, corruption), with the sending host's name. */
  onImpair?: (ev: ImpairEvent, host: string) => void;
}

/** A client and a server on one point-to-point link. */
export class Scenario {
  readonly sim: Simulation;
  readonly rng: SimRng;
  readonly client: Host;
  readonly server: Host;
  readonly link: PointToPoint;
  /** Every frame sent, in order, with where it was lost. */
  readonly wire: WireRecord[] = [];
  /** Every TCP state change of either host. */
  readonly states: StateRecord[] = [];
  /** What the applications did, for the diagram (see `note`). */
  readonly notes: NoteRecord[] = [];
  /** Every trace event of either host. */
  readonly trace: TraceEvent[] = [];
  readonly medium: Medium;
  /** Whether `wire` keeps a copy of every frame (TwoHostOptions.recordWire). */
  readonly recordWire: boolean;

  constructor(opts: TwoHostOptions = {}) {
    this.rng = new SimRng(opts.seed ?? 1);
    this.sim = new Simulation();
    this.medium = opts.medium ?? 'ethernet';
    this.recordWire = opts.recordWire ?? true;
    this.link = new PointToPoint({ delay: opts.delay ?? millis(10), mtu: opts.mtu ?? 1500, medium: this.medium });
    const [cn, sn] = opts.names ?? ['client', 'server'];
    const ends: [Port, Port] = opts.capture !== undefined
      ? [capture(this.link.a, opts.capture, { name: cn }), this.link.b]
      : [this.link.a, this.link.b];
    this.sim.add(this.link, 'link');
    const mk = (name: string, peer: string, port: Port, octet: number, imp: ImpairOptions | undefined, tcp: Partial<TcpConfig>, mtu: number | undefined): Host => {
      const egress = impair(port, { ...imp, onEvent: (ev) => {
        imp?.onEvent?.(ev);
        this.onImpair(ev.frame, ev.kind, ev.reason, ev.direction, imp);
        opts.onImpair?.(ev, name);
      } }, this.rng.fork(`impair-${name}`));
      const stack = new Stack({
        rng: this.rng.fork(name), name, tcp, clock: () => this.sim.now,
        tracer: (ev) => this.onTrace(ev, opts.onTrace),
      });
      // IPv6 needs a 1280-byte link MTU (RFC 8200 §5): on smaller links (576 for RFC 9293's
      // default-MSS cases) the hosts speak IPv4 only.
      const v6 = (mtu ?? port.mtu) >= 1280 ? `fd00::${octet}/64` : [];
      // A bare-IP link (medium 'ip', like TUN) has no MAC.
      const l2 = port.medium === 'ethernet' ? { mac: `02:00:00:00:00:0${octet}`, linkLocal: port.mtu >= 1280 } : {};
      // The recorder sits between the stack and its impairer, so a frame is recorded when the
      // stack sends it (even one the impairer then loses or delays) and when it reaches the peer.
      let hostPort = this.recorder(egress, name, peer, mtu);
      if (octet === 1 && opts.hostCapture !== undefined) hostPort = capture(hostPort, opts.hostCapture, { name: cn });
      const ifindex = stack.addInterface({ port: hostPort, ipv4: `10.0.0.${octet}/24`, ipv6: v6, ...l2 });
      this.sim.add(egress, `impair-${name}`).add(stack, name);
      return { name, stack, sockets: new SocketLayer(stack.tcp), addr: IpAddr.from(`10.0.0.${octet}`), addr6: IpAddr.from(`fd00::${octet}`), egress, ifindex };
    };
    this.client = mk(cn, sn, ends[0], 1, opts.clientImpair, { ...opts.tcp, ...opts.clientTcp }, opts.clientMtu);
    this.server = mk(sn, cn, ends[1], 2, opts.serverImpair, { ...opts.tcp, ...opts.serverTcp }, opts.serverMtu);
  }

  private readonly byFrame = new WeakMap<Uint8Array, WireRecord>();
  /** Counts recorded frames, states and notes, so the diagram orders events of one instant as they happened. */
  private recorded = 0;

  /**
   * Wraps a host's port so every frame the host sends is recorded when it is sent (before
   * impairment) and its arrival noted when it reaches the other host. `mtu` overrides the MTU
   * the host's interface sees.
   */
  private recorder(inner: Port, from: string, to: string, mtu: number | undefined): Port {
    const wire = this.wire;
    const byFrame = this.byFrame;
    const medium = this.medium;
    const order = (): number => this.recorded++;
    const record = this.recordWire;
    const outer: Port = {
      medium: inner.medium,
      get mtu() { return mtu ?? inner.mtu; },
      send(frame: Uint8Array, now: Instant): void {
        if (!record) {
          inner.send(frame, now);
          return;
        }
        const rec: WireRecord = { sentAt: now, from, to, frame: frame.slice(), medium, order: order() };
        wire.push(rec);
        byFrame.set(frame, rec);
        inner.send(frame, now);
      },
      onFrame: undefined,
    };
    inner.onFrame = (f, now) => {
      if (!record) {
        outer.onFrame?.(f, now);
        return;
      }
      const rec = byFrame.get(f);
      if (rec !== undefined && rec.arrivedAt === undefined) rec.arrivedAt = now;
      outer.onFrame?.(f, now);
    };
    return outer;
  }

  private onImpair(frame: Uint8Array, kind: string, reason: string, direction: string, _imp: ImpairOptions | undefined): void {
    // A corrupted frame is discarded by the receiver's checksum check: on the diagram it is lost.
    if ((kind !== 'drop' && kind !== 'corrupt') || direction !== 'egress') return;
    const rec = this.byFrame.get(frame);
    if (rec !== undefined) rec.lost = kind === 'corrupt' ? 'corrupted' : reason;
  }

  private onTrace(ev: TraceEvent, extra: ((ev: TraceEvent) => void) | undefined): void {
    this.trace.push(ev);
    if (ev.kind === 'tcp-state') this.states.push({ at: ev.at, host: ev.stack, state: ev.to, conn: connKey(ev.conn.local, ev.conn.remote), order: this.recorded++ });
    extra?.(ev);
  }

  /** Records what an application did, drawn beside the host's column: `s.note('server', 'close()')`. */
  note(host: string, text: string): void {
    this.notes.push({ at: this.sim.now, host, text, order: this.recorded++ });
  }

  /**
   * Delivers `frame` to `host` as if it had arrived on its link now, and records it as sent by
   * `from`: an off-path or forged sender that is not one of the two hosts (it gets its own
   * column on the diagram).
   */
  inject(from: string, host: Host, frame: Uint8Array): void {
    this.wire.push({ sentAt: this.now, arrivedAt: this.now, from, to: host.name, frame: frame.slice(), medium: this.medium, order: this.recorded++ });
    host.stack.ingress(host.ifindex, frame, this.now);
  }

  /** Records a state for a socket the TCP layer does not trace, such as a listener entering LISTEN. */
  markState(host: string, state: string): void {
    this.states.push({ at: this.sim.now, host, state, order: this.recorded++ });
  }

  /** Virtual now. */
  get now(): Instant {
    return this.sim.now;
  }
  /** Runs the simulation (see Simulation.run). */
  run(opts: RunOptions = {}): RunResult {
    return this.sim.run(opts);
  }
  /** Runs for `ms` milliseconds of virtual time. */
  advance(ms: number): RunResult {
    return this.sim.advance(millis(ms));
  }
  /** Runs until `cond` holds or `maxMs` of virtual time pass; returns whether it held. */
  runUntil(cond: () => boolean, maxMs = 600_000): boolean {
    const r = this.sim.run({ until: cond, maxDuration: millis(maxMs) });
    return r.reason === 'until' || cond();
  }
  /** The sequence diagram of everything so far, as SVG (src/trace/svg.ts). */
  svg(opts: SvgOptions = {}): string {
    return renderSvg(this.wire, this.states, { hosts: [this.client.name, this.server.name], notes: this.notes, ...opts });
  }

  /** The sequence diagram of everything so far. */
  diagram(opts: DiagramOptions = {}): string {
    return renderDiagram(this.wire, this.states, { hosts: [this.client.name, this.server.name], notes: this.notes, ...opts });
  }
}
