// Transcripts of the zero window (RFC 9293 §3.8.6.1): persist probes with exponential backoff,
// recovery when the window update that reopens the window is lost, the limits on a peer that
// stops answering, and a window that shrinks to zero under data in flight. The harness RTT is 0,
// so the RTO is the 200 ms minimum.
import { describe, expect, test } from 'vitest';
import { bytes, established, out } from './helpers.js';

describe('zero-window probing (RFC 9293 §3.8.6.1)', () => {
  test('probes <SEQ=SND.UNA-1> start after one RTO and back off exponentially (MUST-36, SHLD-29, SHLD-30; Linux tcp_probe_timer)', () => {
    const c = established();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 });
    c.s.send(bytes(100));
    expect(c.flush()).toEqual([]);
    const probe = out('ACK', c.u(0), c.p(1));
    expect(c.advanceTimed(6300)).toEqual([200, 600, 1400, 3000, 6200].map((t) => `${t}ms ${probe}`));
  });

  test('the window update is lost: the next probe draws an ACK with the open window and the data flows; the connection never stalls', () => {
    const c = established();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 });
    c.s.send(bytes(300));
    c.flush();
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('ACK', c.u(0), c.p(1))}`]);
    // The peer read and sent a window update, which the network lost; we learn nothing. The next
    // probe (at 600 ms) is answered with the window the peer has now.
    expect(c.advanceTimed(400)).toEqual([`600ms ${out('ACK', c.u(0), c.p(1))}`]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 4000 })).toEqual([out('PSH+ACK', c.u(1), c.p(1), 300)]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(301), window: 4000 })).toEqual([]);
    expect(c.advance(10_000)).toEqual([]); // no more probes
  });

  test('a peer that stops answering probes is given up on after tcp_retries2 (15) unanswered probes, with ETIMEDOUT (Linux tcp_probe_timer)', () => {
    const c = established();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 });
    c.s.send(bytes(10));
    c.flush();
    c.advance(2_000_000);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ETIMEDOUT');
    expect(c.h.ip.sent.filter((s) => s.seg.seq === c.u(0) && s.seg.flags === 0x10).length).toBe(15);
  });

  test('TCP_USER_TIMEOUT bounds the time unanswered probes may take (RFC 5482; Linux tcp_probe_timer)', () => {
    const c = established({ setup: (s) => s.setOption('userTimeout', 5000) });
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 });
    c.s.send(bytes(10));
    c.flush();
    // Probes at 0.2, 0.6, 1.4, 3.0 s; the next one would make 6.2 s of unanswered probing (> 5 s).
    expect(c.advanceTimed(6200).length).toBe(4);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });

  test('the window shrinks to zero with data in flight: the retransmission timeout sends the segment at SND.UNA anyway, as a window probe, and the connection survives (Linux __tcp_retransmit_skb; RFC 9293 §3.8.6 MUST-34)', () => {
    const c = established({ setup: (s) => s.setOption('noDelay', true) });
    c.s.send(bytes(1000));
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(1), 536), out('PSH+ACK', c.u(537), c.p(1), 464)]);
    // The peer takes the first segment and closes its window: the second is now outside it.
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(537), window: 0 })).toEqual([]);
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('PSH+ACK', c.u(537), c.p(1), 464)}`]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(537), window: 0 })).toEqual([]);
    expect(c.advanceTimed(400)).toEqual([`600ms ${out('PSH+ACK', c.u(537), c.p(1), 464)}`]);
    // Answered each time, it is not a dead peer: many backoffs later the connection is still up.
    for (let i = 0; i < 20; i++) {
      c.advance(120_000);
      c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(537), window: 0 });
    }
    expect(c.state).toBe('ESTABLISHED');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1001), window: 4000 })).toEqual([]);
    expect(c.tcb!.flight).toBe(0);
  });

  test('a shrunk window whose peer has gone silent times out once nothing was heard for TCP_RTO_MAX (Linux tcp_retransmit_timer)', () => {
    const c = established({ setup: (s) => s.setOption('noDelay', true) });
    c.s.send(bytes(1000));
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(537), window: 0 });
    c.advance(119_000);
    expect(c.state).toBe('ESTABLISHED');
    c.advance(200_000);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });
});
