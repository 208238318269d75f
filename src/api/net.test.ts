// createNet behaviours the differential suite (test/net) cannot reach over 127.0.0.1, because
// they need a network that loses packets or time that would take minutes: connect and keep-alive
// timeouts, and timer precision, all in virtual time. Errors are checked against Node's formats.
import { describe, expect, test } from 'vitest';
import type { Socket } from 'node:net';
import { Scenario } from '../sim/scenario.js';
import { millis } from '../time/instant.js';
import { runSimulation } from './host.js';
import { createNet, SynackSocket } from './net.js';

/** An Ethernet frame carrying IPv4 TCP. */
const isTcp = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x00 && f[23] === 6;

/** A scenario whose server can go silent with `cut()`: every TCP segment it sends is dropped (ARP still answers). */
function world() {
  let cut = false;
  const sc = new Scenario({ seed: 8, delay: millis(5), serverImpair: { filter: (f) => (cut && isTcp(f) ? 'drop' : 'pass') } });
  return { sc, cut: () => (cut = true), client: createNet(sc.client.stack), server: createNet(sc.server.stack) };
}

/** Runs until the socket has closed; returns what it saw, with virtual times in ms. */
async function untilClosed(sc: Scenario, s: Socket): Promise<string[]> {
  const seen: string[] = [];
  const at = (): string => `@${sc.now / 1000}`;
  s.on('error', (e: Error & { code?: string; errno?: number; syscall?: string }) => seen.push(`error ${e.message} ${e.code} ${e.errno} ${e.syscall} ${at()}`));
  s.on('timeout', () => seen.push(`timeout ${at()}`));
  s.on('close', (h) => seen.push(`close ${h} ${at()}`));
  await runSimulation(sc.sim, { until: () => s.destroyed && seen.some((x) => x.startsWith('close')), maxDuration: millis(10 * 60_000) });
  return seen;
}

describe('createNet in virtual time', () => {
  test('connect to a host that never answers: ETIMEDOUT after the SYN retries (1+2+...+64 s = 127 s, tcp_syn_retries 6)', async () => {
    const w = world();
    w.cut();
    const c = w.client.connect(80, '10.0.0.2');
    const seen = await untilClosed(w.sc, c);
    expect(seen).toEqual([
      'error connect ETIMEDOUT 10.0.0.2:80 ETIMEDOUT -110 connect @127000',
      'close true @127000',
    ]);
  });

  test('keep-alive finds a dead peer: read ETIMEDOUT after the idle time plus 10 probes 1 s apart (libuv\'s TCP_KEEPINTVL/KEEPCNT)', async () => {
    const w = world();
    const srv = w.server.createServer(() => undefined);
    srv.listen(80, '10.0.0.2');
    const c = w.client.connect(80, '10.0.0.2');
    let connectedAt = -1;
    c.on('connect', () => {
      connectedAt = w.sc.now / 1000;
      c.setKeepAlive(true, 5000);
      w.cut();
    });
    const seen = await untilClosed(w.sc, c);
    expect(connectedAt).toBeGreaterThan(0);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^error read ETIMEDOUT ETIMEDOUT -110 read @/);
    // Idle 5 s, then 10 unanswered probes 1 s apart (the reset follows the last one).
    const when = Number(seen[0]!.split('@')[1]);
    expect(when - connectedAt).toBeGreaterThanOrEqual(15_000);
    expect(when - connectedAt).toBeLessThan(16_000);
  });

  test('setTimeout fires after exactly the idle time, in virtual milliseconds, and again after activity', async () => {
    const w = world();
    const srv = w.server.createServer((s) => s.resume());
    srv.listen(80, '10.0.0.2');
    const c = w.client.connect(80, '10.0.0.2');
    const times: number[] = [];
    c.on('connect', () => c.setTimeout(250));
    c.on('timeout', () => {
      times.push(w.sc.now / 1000);
      if (times.length === 1) c.write('activity');
      else c.destroy();
    });
    await untilClosed(w.sc, c);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBe(250);
  });

  test('names resolve through the hosts option and are announced with lookup', async () => {
    const w = world();
    const client = createNet(w.sc.client.stack, { hosts: { 'server.test': ['10.0.0.2'] } });
    const srv = w.server.createServer((s) => s.end('named'));
    srv.listen(80, '10.0.0.2');
    const c = client.connect(80, 'server.test');
    const lookups: string[] = [];
    c.on('lookup', (e: Error | null, addr: string, family: number, host: string) => lookups.push(`${String(e)} ${addr} ${family} ${host}`));
    let text = '';
    c.on('data', (d: Buffer) => (text += d.toString()));
    const seen = await untilClosed(w.sc, c);
    expect(lookups).toEqual(['null 10.0.0.2 4 server.test']);
    expect(text).toBe('named');
    expect(seen.at(-1)).toMatch(/^close false/);
    const unknown = client.connect(80, 'nowhere.test');
    expect((await untilClosed(w.sc, unknown))[0]).toMatch(/^error getaddrinfo ENOTFOUND nowhere.test ENOTFOUND -3008 getaddrinfo/);
  });

  test('sockets belong to the module that made them: the bare class refuses to be constructed', () => {
    expect(() => new SynackSocket()).toThrow(/createNet\(stack\)/);
    const w = world();
    expect(new w.client.Socket()).toBeInstanceOf(SynackSocket);
  });
});
