// Transcripts of keep-alives (RFC 1122 §4.2.3.6, RFC 9293 §3.8.4) with Linux's TCP_KEEPIDLE,
// TCP_KEEPINTVL and TCP_KEEPCNT, and of urgent data (RFC 9293 §3.8.5, RFC 6093): the pointer is
// parsed and the data acknowledged and delivered in line, never out of band.
import { describe, expect, test } from 'vitest';
import { Ready } from '../../src/api/socket.js';
import { bytes, drain, established, out, sendUrgent } from './helpers.js';

describe('keep-alive (RFC 1122 §4.2.3.6; RFC 9293 §3.8.4)', () => {
  test('off by default; SO_KEEPALIVE uses Linux\'s defaults: 7200 s idle, 75 s between probes, 9 probes (MUST-24, MUST-28)', () => {
    const c = established();
    expect(c.s.getOption('keepAlive')).toBe(false);
    expect([c.s.getOption('keepIdle'), c.s.getOption('keepInterval'), c.s.getOption('keepCount')]).toEqual([7200, 75, 9]);
    expect(c.advance(10 * 3600 * 1000)).toEqual([]);
  });

  test('probes carry SEG.SEQ = SND.NXT-1 and no data; after TCP_KEEPCNT unanswered probes the connection fails with ETIMEDOUT (RFC 1122 §4.2.3.6; Linux tcp_keepalive_timer)', () => {
    const c = established({ setup: (s) => { s.setOption('keepIdle', 60); s.setOption('keepInterval', 10); s.setOption('keepCount', 3); s.setOption('keepAlive', true); } });
    const probe = out('ACK', c.u(0), c.p(1));
    expect(c.advanceTimed(89_999)).toEqual([`60000ms ${probe}`, `70000ms ${probe}`, `80000ms ${probe}`]);
    expect(c.h.ip.sent.at(-1)!.seg.payload.length).toBe(0);
    c.advance(1);
    expect(c.state).toBe('CLOSED');
    expect(c.s.readiness() & Ready.ERROR).toBe(Ready.ERROR);
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });

  test('an answer restarts the idle time; traffic from the peer postpones the first probe (RFC 9293 §3.8.4 MUST-26)', () => {
    const c = established({ setup: (s) => { s.setOption('keepIdle', 60); s.setOption('keepInterval', 10); s.setOption('keepCount', 3); s.setOption('keepAlive', true); } });
    c.advance(50_000);
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: 1 });
    expect(c.advanceTimed(59_999)).toEqual([]);
    expect(c.advanceTimed(1)).toEqual([`110000ms ${out('ACK', c.u(0), c.p(2))}`]);
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(1) })).toEqual([]);
    expect(c.advanceTimed(59_999)).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('no probe while data is unacknowledged: the retransmission timer watches the peer then (Linux tcp_keepalive_timer)', () => {
    const c = established({ setup: (s) => { s.setOption('keepIdle', 1); s.setOption('keepInterval', 1); s.setOption('keepCount', 2); s.setOption('keepAlive', true); } });
    c.s.send(bytes(10));
    c.flush();
    const sent = c.advance(5000);
    expect(sent.every((x) => x === out('PSH+ACK', c.u(1), c.p(1), 10))).toBe(true);
    expect(c.state).toBe('ESTABLISHED');
  });
});

describe('urgent data (RFC 9293 §3.8.5; RFC 6093)', () => {
  test('a segment with URG is acknowledged and its bytes delivered in line, in order, like any other (no out-of-band byte; RFC 6093 §5)', () => {
    const c = established();
    expect(sendUrgent(c, c.p(1), c.u(1), bytes(10), 10)).toEqual([out('ACK', c.u(1), c.p(11))]);
    c.send({ flags: 'PSH+ACK', seq: c.p(11), ack: c.u(1), data: bytes(5, 10) });
    expect(drain(c.s).data).toEqual([...bytes(15)]);
  });

  test('an urgent pointer beyond the data, or zero, changes nothing about the byte stream (RFC 9293 §3.8.5 MUST-31: the pointer may point past the segment)', () => {
    const c = established();
    sendUrgent(c, c.p(1), c.u(1), bytes(4), 5000);
    sendUrgent(c, c.p(5), c.u(1), bytes(4, 4), 0);
    expect(drain(c.s).data).toEqual([...bytes(8)]);
  });
});
