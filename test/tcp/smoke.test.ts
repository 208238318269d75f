import { describe, expect, test } from 'vitest';
import { Pair, LOCAL, REMOTE } from '../util/tcp-harness.js';

describe('two TCP layers', () => {
  test('handshake, data both ways, close', () => {
    const p = new Pair(10_000);
    const server = p.b.sockets.socket();
    expect(server.bind(REMOTE, 80)).toBeUndefined();
    expect(server.listen(5)).toBeUndefined();
    const client = p.a.sockets.socket();
    expect(client.connect(REMOTE, 80)).toBe('EINPROGRESS');
    p.advance(100);
    expect(client.state).toBe('ESTABLISHED');
    const child = server.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(child.state).toBe('ESTABLISHED');
    const msg = new Uint8Array(100_000).map((_, i) => i & 255);
    let off = 0;
    const got: number[] = [];
    const buf = new Uint8Array(65536);
    p.run(10_000_000, () => {
      if (off < msg.length) {
        const n = client.send(msg.subarray(off));
        if (typeof n === 'number') off += n;
        if (off === msg.length) client.shutdown('write');
      }
      for (;;) {
        const n = child.recv(buf);
        if (typeof n !== 'number' || n === 0) break;
        for (let i = 0; i < n; i++) got.push(buf[i]!);
      }
      return got.length === msg.length && child.state === 'CLOSE-WAIT';
    });
    expect(got.length).toBe(msg.length);
    expect(Buffer.from(got).equals(Buffer.from(msg))).toBe(true);
    expect(child.recv(buf)).toBe(0);
    child.close();
    p.advance(1000);
    expect(client.state).toBe('TIME-WAIT');
    p.advance(61_000);
    expect(client.state).toBe('CLOSED');
    console.log(p.log.slice(0, 8).map((l) => `${l.at} ${l.dir} ${l.summary}`).join('\n'));
    void LOCAL;
  });
});
