import { expect, test } from 'vitest';
import { Scenario } from '../src/sim/scenario.js';

test('handshake, transfer and close over real stacks with ARP', () => {
  const s = new Scenario({ seed: 3 });
  const srv = s.server.sockets.socket();
  expect(srv.bind('0.0.0.0', 80)).toBeUndefined();
  expect(srv.listen()).toBeUndefined();
  const cli = s.client.sockets.socket();
  expect(cli.connect(s.server.addr, 80)).toBe('EINPROGRESS');
  let accepted: ReturnType<typeof srv.accept> = 'EAGAIN' as ReturnType<typeof srv.accept>;
  expect(s.runUntil(() => (accepted = srv.accept()) !== 'EAGAIN')).toBe(true);
  const child = accepted;
  if (typeof child === 'string') throw new Error(child);
  cli.send(new TextEncoder().encode('hello'));
  cli.close();
  const buf = new Uint8Array(100);
  let got = '';
  expect(s.runUntil(() => {
    const n = child.recv(buf);
    if (typeof n === 'number' && n > 0) got += new TextDecoder().decode(buf.subarray(0, n));
    return n === 0;
  })).toBe(true);
  child.close();
  s.advance(200);
  expect(got).toBe('hello');
  expect(s.diagram()).toContain('TIME-WAIT');
});
