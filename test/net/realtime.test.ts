// The net and streams APIs in real time: two stacks on an in-memory link driven by the
// RealtimeDriver (one timer for the earliest deadline; the APIs kick it after each call). Nothing
// here asserts on timing: only that the programs complete and the bytes are right.
import { expect, test } from 'vitest';
import { Stack } from '../../src/stack.js';
import { SimRng } from '../../src/sim/rng.js';
import { PointToPoint } from '../../src/link/memory.js';
import { RealtimeDriver } from '../../src/link/realtime.js';
import { createNet } from '../../src/api/net.js';
import { createSockets } from '../../src/api/streams.js';

function realtimePair() {
  const driver = new RealtimeDriver();
  const rng = new SimRng(21);
  const link = new PointToPoint();
  const mk = (name: string, octet: number, port: PointToPoint['a']): Stack => {
    const s = new Stack({ rng: rng.fork(name), name, clock: () => driver.now() });
    s.addInterface({ port, ipv4: `10.0.0.${octet}/24`, mac: `02:00:00:00:00:0${octet}` });
    return s;
  };
  const client = mk('client', 1, link.a);
  const server = mk('server', 2, link.b);
  driver.add(link).add(client).add(server);
  driver.start();
  return { driver, client, server };
}

test('net: an echo with a socket timeout, in real time under the RealtimeDriver', async () => {
  const { driver, client, server } = realtimePair();
  const snet = createNet(server, { driver });
  const cnet = createNet(client, { driver });
  const srv = snet.createServer((s) => {
    s.setTimeout(20, () => s.end('idle'));
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((resolve) => srv.listen(7, '10.0.0.2', resolve));
  const events: string[] = [];
  const got = await new Promise<string>((resolve, reject) => {
    let text = '';
    const c = cnet.connect(7, '10.0.0.2', () => c.write('ping'));
    c.setEncoding('utf8');
    c.on('data', (d: string) => (text += d));
    c.on('end', () => events.push('end'));
    c.on('error', reject);
    c.on('close', () => resolve(text));
  });
  srv.close();
  driver.stop();
  expect(got).toBe('pingidle');
  expect(events).toEqual(['end']);
});

test('streams: connect and listen in real time under the RealtimeDriver', async () => {
  const { driver, client, server } = realtimePair();
  const listener = createSockets(server, { driver }).listen({ port: 9 });
  void (async () => {
    for await (const s of listener) await s.readable.pipeTo(s.writable);
  })();
  const s = createSockets(client, { driver }).connect('10.0.0.2:9');
  const w = s.writable.getWriter();
  await w.write(new TextEncoder().encode('real time'));
  await w.close();
  let text = '';
  for await (const chunk of s.readable as unknown as AsyncIterable<Uint8Array>) text += new TextDecoder().decode(chunk);
  await s.closed;
  await listener.close();
  driver.stop();
  expect(text).toBe('real time');
});
