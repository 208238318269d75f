// Data-transfer stories on two simulated hosts (src/sim/scenario.ts): a zero-window stall that
// recovers although the window update that should end it is lost (RFC 9293 §3.8.6.1: the persist
// timer, MUST-36), and keep-alive finding a dead peer (RFC 1122 §4.2.3.6). Each prints its
// sequence diagram when it fails.
import { describe, expect, test } from 'vitest';
import { millis } from '../../src/time/instant.js';
import { createHash } from 'node:crypto';
import { Scenario } from '../../src/sim/scenario.js';
import { connectPair, framesWhere, hasData, isPureAck, secs, waitFor } from '../../src/sim/scenarios/common.js';
import type { TcpSocket } from '../../src/api/socket.js';
import { keepaliveDeadPeer, KEEPALIVE } from '../../src/sim/scenarios/timers.js';
import { decodeFrame } from '../../src/trace/decode.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { SimRng } from '../../src/sim/rng.js';

/** Runs `body`; on failure adds the scenario's diagram to the error. */
function withDiagram(s: Scenario, body: () => void): void {
  try {
    body();
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${s.diagram().split('\n').slice(-80).join('\n')}`);
  }
}

describe('a zero-window stall recovers after its window update is lost (RFC 9293 §3.8.6.1)', () => {
  test('the reader resumes, the update it sends is lost, and the next persist probe draws the open window: the transfer completes exactly', () => {
    // The server's application stops reading; once it reads again, the first window update it
    // sends (a pure ACK with a window above zero after the zero window) is lost on the wire.
    let loseUpdate = false;
    let lostAt: number | undefined;
    const s = new Scenario({
      seed: 11,
      delay: millis(5),
      serverTcp: { rcvBuf: 8 * 1024, moderateRcvBuf: false },
      serverImpair: {
        filter: (frame, now) => {
          if (!loseUpdate) return 'pass';
          const d = decodeFrame(frame, 'ethernet');
          if (d.kind !== 'tcp' || d.seg.payload.length > 0 || d.seg.flags !== TcpFlag.ACK || d.seg.window === 0) return 'pass';
          loseUpdate = false;
          lostAt = now;
          return 'drop';
        },
      },
    });
    const { client, server } = connectPair(s);
    const data = new SimRng(11).bytes(64 * 1024);
    let sent = 0;
    const r = new HashReader(server);
    withDiagram(s, () => {
      // Fill the pipe: 16 KiB of send buffer and 8 KiB of receive buffer, then a zero window.
      const n0 = client.send(data);
      if (typeof n0 === 'number') sent += n0;
      s.advance(2_500 - s.now / 1000); // to 2.5 s: between two persist probes
      const zeroAt = framesWhere(s, s.server.name, (seg) => seg.window === 0 && isPureAck(seg))[0]?.sentAt;
      expect(zeroAt).toBeDefined();
      const probesBefore = framesWhere(s, s.client.name, isPureAck).filter((f) => f.sentAt > zeroAt!).length;
      expect(probesBefore).toBeGreaterThan(0);
      // The reader resumes, and its window update is lost.
      loseUpdate = true;
      r.drain();
      waitFor(s, () => lostAt !== undefined, 'the lost window update', 10_000);
      // Nothing moves until the client's next probe; then everything does.
      waitFor(s, () => {
        const n = sent < data.length ? client.send(data.subarray(sent)) : 0;
        if (typeof n === 'number') sent += n;
        if (sent === data.length && client.state === 'ESTABLISHED') client.shutdown('write');
        r.drain();
        return r.eof;
      }, 'the rest of the transfer', 120_000);
      const resumed = framesWhere(s, s.client.name, hasData).find((f) => f.sentAt > lostAt!);
      const probeAfter = framesWhere(s, s.client.name, isPureAck).find((f) => f.sentAt > lostAt!);
      expect(probeAfter).toBeDefined();
      expect(resumed).toBeDefined();
      expect(resumed!.sentAt).toBeGreaterThanOrEqual(probeAfter!.sentAt); // the probe, not luck, restarted it
      expect(resumed!.sentAt - probeAfter!.sentAt).toBeLessThan(20_000); // one round trip after the probe
      const lost = s.wire.find((w) => w.from === s.server.name && w.lost === 'filter');
      expect(lost).toBeDefined();
      expect(r.bytes).toBe(data.length);
      expect(r.hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      expect(s.client.stack.tcp.counters.TCPAbortOnTimeout).toBe(0);
      // The facts a reader of the diagram wants.
      expect(secs(lostAt)).toBeGreaterThan(2);
    });
  });
});

/** Reads everything available from a socket into a SHA-256. */
class HashReader {
  bytes = 0;
  eof = false;
  readonly hash = createHash('sha256');
  private readonly buf = new Uint8Array(65536);
  constructor(private readonly sock: TcpSocket) {}
  drain(): void {
    for (;;) {
      const n = this.sock.recv(this.buf);
      if (typeof n !== 'number') return;
      if (n === 0) {
        this.eof = true;
        return;
      }
      this.bytes += n;
      this.hash.update(this.buf.subarray(0, n));
    }
  }
}

describe('keep-alive detects a dead peer (RFC 1122 §4.2.3.6; RFC 9293 §3.8.4)', () => {
  test('the peer\'s cable is pulled: probes go out after TCP_KEEPIDLE and every TCP_KEEPINTVL, and after TCP_KEEPCNT the connection fails with ETIMEDOUT', () => {
    const res = keepaliveDeadPeer();
    const s = res.scenario;
    withDiagram(s, () => {
      const f = res.facts;
      expect(f['error']).toBe('ETIMEDOUT');
      expect(f['probesSent']).toBe(KEEPALIVE.count);
      expect(f['secondsAfterLastHeard']).toBeCloseTo(KEEPALIVE.idle + KEEPALIVE.count * KEEPALIVE.interval, 1);
      // Every probe is SEG.SEQ = SND.NXT - 1 with no data, and none reached the server.
      const probes = framesWhere(s, s.client.name, isPureAck).filter((w) => w.lost !== undefined && (w.seg.flags & TcpFlag.RST) === 0);
      expect(probes.length).toBe(KEEPALIVE.count);
      const sndNxt = framesWhere(s, s.client.name, hasData).at(-1)!;
      for (const p of probes) expect(p.seg.seq).toBe((sndNxt.seg.seq + sndNxt.seg.payload.length - 1) >>> 0);
      expect(s.server.stack.tcp.counters.TCPKeepAliveProbes).toBe(0);
    });
  });

  test('a live but silent peer answers every probe and the connection stays up (RFC 9293 §3.8.4 MUST-29)', () => {
    const s = new Scenario({ seed: 12, delay: millis(10) });
    const { client, server } = connectPair(s);
    client.setOption('keepIdle', 10);
    client.setOption('keepInterval', 2);
    client.setOption('keepCount', 3);
    client.setOption('keepAlive', true);
    s.advance(300_000);
    withDiagram(s, () => {
      expect(client.state).toBe('ESTABLISHED');
      expect(server.state).toBe('ESTABLISHED');
      expect(s.client.stack.tcp.counters.TCPKeepAliveProbes).toBeGreaterThanOrEqual(25);
    });
  });
});
