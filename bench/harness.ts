// The benchmark harness: two synack stacks in one process joined by an in-memory
// PointToPoint link, driven by the virtual-time Simulation, with nothing else in the path (no
// Scenario recorder, capture or impairer: those copy or inspect every frame). The benches time
// the wall clock around `drive`, which interleaves the application's work with simulation rounds.
//
// The setup is the fastest honest one: zero propagation delay, checksum offload on the two
// interfaces (the link is in-process and known clean, as Linux loopback skips L4 checksums),
// large buffers where a case asks for them. Everything the stacks do is the ordinary code path.
import { Stack } from '../src/stack.js';
import { SimRng } from '../src/sim/rng.js';
import { Simulation } from '../src/sim/driver.js';
import { PointToPoint } from '../src/link/memory.js';
import { SocketLayer, type TcpSocket } from '../src/api/socket.js';
import { IpAddr } from '../src/wire/ip-addr.js';
import type { TcpConfig } from '../src/tcp/config.js';
import type { Duration, Instant } from '../src/time/instant.js';

/** How to build a pair of stacks. */
export interface PairOptions {
  /** IP MTU of the link (default 1500). */
  mtu?: number;
  /** Checksum offload on both interfaces (default true: an in-process link, like Linux loopback). */
  offload?: boolean;
  /** TCP settings for both stacks, and for each. */
  tcp?: Partial<TcpConfig>;
  clientTcp?: Partial<TcpConfig>;
  serverTcp?: Partial<TcpConfig>;
  /** One-way delay in microseconds (default 0). */
  delay?: number;
  seed?: number;
}

/** Raised when the stacks stop making progress before the application is done. */
export class Stalled extends Error {}

/** Two stacks (client 10.0.0.1, server 10.0.0.2) on one in-memory link, in one Simulation. */
export class Pair {
  readonly sim: Simulation;
  readonly link: PointToPoint;
  readonly client: Stack;
  readonly server: Stack;
  readonly clientSockets: SocketLayer;
  readonly serverSockets: SocketLayer;
  readonly clientAddr = IpAddr.from('10.0.0.1');
  readonly serverAddr = IpAddr.from('10.0.0.2');

  constructor(o: PairOptions = {}) {
    const rng = new SimRng(o.seed ?? 1);
    // Zero delay keeps virtual time still while data moves: every exchange happens at one
    // instant, so the livelock guard must allow as many rounds as the transfer takes.
    this.sim = new Simulation({ maxRoundsPerInstant: Number.MAX_SAFE_INTEGER });
    this.link = new PointToPoint({ mtu: o.mtu ?? 1500, delay: (o.delay ?? 0) as Duration });
    const clock = (): Instant => this.sim.now;
    this.client = new Stack({ rng: rng.fork('client'), name: 'client', clock, tcp: { ...o.tcp, ...o.clientTcp } });
    this.server = new Stack({ rng: rng.fork('server'), name: 'server', clock, tcp: { ...o.tcp, ...o.serverTcp } });
    const offload = o.offload ?? true;
    this.client.addInterface({ port: this.link.a, ipv4: '10.0.0.1/24', mac: '02:00:00:00:00:01', linkLocal: false, checksumOffload: offload });
    this.server.addInterface({ port: this.link.b, ipv4: '10.0.0.2/24', mac: '02:00:00:00:00:02', linkLocal: false, checksumOffload: offload });
    this.sim.add(this.link, 'link').add(this.client, 'client').add(this.server, 'server');
    this.clientSockets = new SocketLayer(this.client.tcp);
    this.serverSockets = new SocketLayer(this.server.tcp);
  }

  /** A listening socket on the server. */
  listen(port: number, backlog = 4096): TcpSocket {
    const l = this.serverSockets.socket();
    const e = l.bind('0.0.0.0', port) ?? l.listen(backlog);
    if (e !== undefined) throw new Error(`listen on ${port}: ${e}`);
    return l;
  }

  /**
   * Runs simulation rounds, calling `app` before each; stops when `app` returns true. Throws
   * `Stalled` when nothing in the simulation is pending and the application is not done, or
   * when `maxVirtualUs` of virtual time pass.
   */
  drive(app: () => boolean, what: string, maxVirtualUs = 3_600e6): void {
    const r = this.sim.run({ until: app, maxDuration: maxVirtualUs as Duration });
    if (r.reason !== 'until' && !app()) throw new Stalled(`${what}: stalled (${r.reason} at t=${r.now} us after ${r.steps} rounds)`);
  }

  /** Opens one connection and accepts it; both ends ESTABLISHED. */
  connect(listener: TcpSocket, port: number): { client: TcpSocket; server: TcpSocket } {
    const c = this.clientSockets.socket();
    const e = c.connect(this.serverAddr, port);
    if (e !== 'EINPROGRESS') throw new Error(`connect: ${e}`);
    let s: TcpSocket | undefined;
    this.drive(() => {
      if (s === undefined) {
        const a = listener.accept();
        if (typeof a !== 'string') s = a;
      }
      return s !== undefined && c.state === 'ESTABLISHED';
    }, 'connect');
    return { client: c, server: s! };
  }
}
