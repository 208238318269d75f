// Interop: synack's TCP against the Linux kernel's over a TAP device, IPv4 and IPv6 — handshake,
// 10 MB each way with SHA-256 compared, half-close both ways, close from either side with the
// TIME-WAIT holder checked on the kernel side (`ss -tan`), and RST on a closed port both ways.
// RFC 9293 §3.5 (handshake), §3.6 (closing: "the side that closes first ... enters TIME-WAIT"),
// §3.10.7.1 (a segment to a closed port gets a RST). The kernel side is test/interop/peer.py.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { ADDR, Envs, sha256, type Env } from './host.js';
import { interopSkipReason } from './netns.js';

const SKIP = interopSkipReason();
const PEER = fileURLToPath(new URL('./peer.py', import.meta.url));
const BIG = 10 * 1024 * 1024;
const SMALL = 64 * 1024;

/** The kernel's sockets for one 4-tuple, seen from the kernel (`local` is the kernel's end). */
async function kernelStates(env: Env, local: string, peer: string): Promise<string[]> {
  return (await env.ns.sockets()).filter((s) => s.local === local && s.peer === peer).map((s) => s.state);
}

/** `addr:port` as ss and peer.py print it. */
const ep = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

describe.skipIf(SKIP !== undefined)(`interop: TCP with Linux over TAP${SKIP !== undefined ? ` (skipped: ${SKIP})` : ''}`, () => {
  const envs = new Envs();
  afterEach(() => envs.teardown());

  for (const family of [4, 6] as const) {
    const K = ADDR[family].kernel;
    const S = ADDR[family].synack;

    test(`IPv${family}: synack client -> Linux server: 10 MB each way; synack half-closes first, keeps reading, and holds TIME-WAIT`, async () => {
      const env = await envs.start();
      const peer = env.ns.spawn('python3', PEER, 'server', K, '5001', 'recv', `send:${BIG}`, 'close');
      await peer.event('listening');
      const s = await env.synack.connect(K, 5001);
      expect(s.state).toBe('ESTABLISHED');
      const data = randomBytes(BIG);
      await env.synack.writeAll(s, data);
      expect(s.shutdown('write')).toBeUndefined();
      env.synack.kick();
      const got = await env.synack.readAll(s); // the kernel sends its 10 MB after seeing our FIN
      const done = await peer.event('done');
      expect(done['received']).toBe(BIG);
      expect(done['recv_sha256']).toBe(sha256(data));
      expect(got.bytes).toBe(BIG);
      expect(got.sha256).toBe(done['sent_sha256']);
      // We sent the first FIN, so we hold TIME-WAIT; the kernel went LAST-ACK -> CLOSED.
      await env.synack.until('TIME-WAIT at synack', () => s.state === 'TIME-WAIT');
      const kernelEnd = ep(K, 5001);
      const ourEnd = ep(S, s.localPort!);
      expect(done['local']).toBe(kernelEnd);
      expect(done['peer']).toBe(ourEnd);
      await env.ns.until('the kernel socket to close', async () => (await kernelStates(env, kernelEnd, ourEnd)).length === 0);
      s.close();
    });

    test(`IPv${family}: Linux client -> synack server: 10 MB each way; Linux half-closes first, synack answers in CLOSE-WAIT, the kernel holds TIME-WAIT`, async () => {
      const env = await envs.start();
      const l = env.synack.listen(5002, family);
      const peer = env.ns.spawn('python3', PEER, 'client', S, '5002', `send:${BIG}`, 'shutdown', 'recv', 'close');
      const s = await env.synack.accept(l);
      const got = await env.synack.readAll(s);
      expect(s.state).toBe('CLOSE-WAIT');
      const data = randomBytes(BIG);
      await env.synack.writeAll(s, data);
      s.close();
      env.synack.kick();
      const done = await peer.event('done');
      expect(got.bytes).toBe(BIG);
      expect(got.sha256).toBe(done['sent_sha256']);
      expect(done['received']).toBe(BIG);
      expect(done['recv_sha256']).toBe(sha256(data));
      const kernelEnd = String(done['local']);
      const ourEnd = ep(S, 5002);
      expect(done['peer']).toBe(ourEnd);
      await env.ns.until('TIME-WAIT in the kernel', async () => (await kernelStates(env, kernelEnd, ourEnd)).includes('TIME-WAIT'));
      await env.synack.until('synack to close', () => s.connection === undefined || s.connection.state === 'CLOSED');
      expect(s.connection?.state ?? 'CLOSED').toBe('CLOSED');
      l.close();
    });

    test(`IPv${family}: synack client -> Linux server; Linux closes first, synack sends after the FIN, the kernel holds TIME-WAIT`, async () => {
      const env = await envs.start();
      const peer = env.ns.spawn('python3', PEER, 'server', K, '5003', `send:${SMALL}`, 'shutdown', 'recv', 'close');
      await peer.event('listening');
      const s = await env.synack.connect(K, 5003);
      const got = await env.synack.readAll(s);
      expect(s.state).toBe('CLOSE-WAIT');
      const data = randomBytes(SMALL);
      await env.synack.writeAll(s, data);
      s.close();
      env.synack.kick();
      const done = await peer.event('done');
      expect(got.sha256).toBe(done['sent_sha256']);
      expect(done['recv_sha256']).toBe(sha256(data));
      const kernelEnd = ep(K, 5003);
      const ourEnd = ep(S, s.localPort!);
      await env.ns.until('TIME-WAIT in the kernel', async () => (await kernelStates(env, kernelEnd, ourEnd)).includes('TIME-WAIT'));
      await env.synack.until('synack to close', () => s.connection?.state === 'CLOSED');
    });

    test(`IPv${family}: Linux client -> synack server; synack closes first and holds TIME-WAIT, the kernel sends after our FIN`, async () => {
      const env = await envs.start();
      const l = env.synack.listen(5004, family);
      const peer = env.ns.spawn('python3', PEER, 'client', S, '5004', 'recv', `send:${SMALL}`, 'close');
      const s = await env.synack.accept(l);
      const data = randomBytes(SMALL);
      await env.synack.writeAll(s, data);
      s.shutdown('write');
      env.synack.kick();
      const got = await env.synack.readAll(s);
      const done = await peer.event('done');
      expect(done['recv_sha256']).toBe(sha256(data));
      expect(got.sha256).toBe(done['sent_sha256']);
      await env.synack.until('TIME-WAIT at synack', () => s.state === 'TIME-WAIT');
      const kernelEnd = String(done['local']);
      const ourEnd = ep(S, 5004);
      await env.ns.until('the kernel socket to close', async () => (await kernelStates(env, kernelEnd, ourEnd)).length === 0);
      s.close();
      l.close();
    });

    test(`IPv${family}: RST on a closed port, both ways (connect ECONNREFUSED each side)`, async () => {
      const env = await envs.start();
      await expect(env.synack.connect(K, 5999)).rejects.toThrow(/ECONNREFUSED/);
      const peer = env.ns.spawn('python3', PEER, 'client', S, '5999');
      const ev = await peer.event('error');
      expect(ev['error']).toBe('ECONNREFUSED');
      expect(env.synack.host.stack.tcp.counters.OutRsts).toBeGreaterThanOrEqual(1);
    });
  }
});
