// The browser bundle's entry (`npm run build:web` -> web/dist/synack.js, an ES module): the
// sans-IO core (Stack and everything under it), the simulator and in-memory links, the real-time
// driver, and the web-streams sockets API. Nothing here may import a Node built-in: esbuild's
// browser platform refuses them, and web/build.ts checks the bundle's inputs as well.
export { Stack, type StackOptions, type InterfaceOptions } from '../src/stack.js';
export { IpAddr } from '../src/wire/ip-addr.js';
export { type Instant, type Duration, micros, millis, seconds } from '../src/time/instant.js';
export type { Rng } from '../src/util/rng.js';
export { SimRng } from '../src/sim/rng.js';
export { Simulation } from '../src/sim/driver.js';
export { Scenario } from '../src/sim/scenario.js';
export { PointToPoint, Switch } from '../src/link/memory.js';
export { impair } from '../src/link/impair.js';
export { RealtimeDriver } from '../src/link/realtime.js';
export { SocketLayer, TcpSocket, Poller, Ready } from '../src/api/socket.js';
export { EventLoop, defaultLoop, runSimulation } from '../src/api/host.js';
export { createSockets, type StreamSocket, type StreamListener, type SocketOptions, type SocketInfo } from '../src/api/streams.js';
export { isIP, isIPv4, isIPv6 } from '../src/api/common.js';

/** An `Rng` over the browser's CSPRNG (crypto.getRandomValues), for stacks in real time. */
export function cryptoRng(): { nextU32(): number } {
  const buf = new Uint32Array(64);
  let i = buf.length;
  return {
    nextU32() {
      if (i === buf.length) {
        crypto.getRandomValues(buf);
        i = 0;
      }
      return buf[i++]!;
    },
  };
}
