// Stack-wide TCP counters as Linux's nstat names them (RFC 4022 / RFC 1213 TCP MIB as `Tcp*`,
// Linux's extensions as `TcpExt*`), readable as one plain object.
import { describe, expect, test } from 'vitest';
import { Pair, REMOTE } from '../util/tcp-harness.js';
import { established, out } from '../tcp/fixtures.js';

describe('nstat() (Linux /proc/net/snmp and netstat)', () => {
  test('every counter the issue names is there, under its nstat name, with the drops by reason', () => {
    const c = established();
    c.send({ flags: 'RST', seq: c.p(5) }); // in window, not at RCV.NXT: a challenge ACK (RFC 5961 §3.2)
    const n = c.h.tcp.counters.nstat();
    const mib = ['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs', 'RetransSegs', 'InErrs', 'OutRsts'];
    const ext = ['SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed', 'ListenOverflows', 'ListenDrops', 'TCPTimeWaitOverflow',
      'TCPFastOpenActive', 'TCPFastOpenPassive', 'TCPFastOpenPassiveFail', 'TCPFastOpenCookieReqd', 'TCPChallengeACK', 'TCPDeferAcceptDrop', 'TW', 'TWRecycled'];
    for (const k of mib) expect(typeof n[`Tcp${k}`], k).toBe('number');
    for (const k of ext) expect(typeof n[`TcpExt${k}`], k).toBe('number');
    expect([n['TcpActiveOpens'], n['TcpCurrEstab'], n['TcpExtTCPChallengeACK'], n['TcpInSegs'], n['TcpOutSegs']]).toEqual([1, 1, 1, 2, 3]);
    expect(n['TcpDrop:rst-challenged']).toBe(1);
    // A snapshot: later events do not change it.
    c.send({ flags: 'RST', seq: c.p(1) });
    expect(n['TcpCurrEstab']).toBe(1);
    expect(c.h.tcp.counters.nstat()['TcpCurrEstab']).toBe(0);
  });

  test('EstabResets counts every direct ESTABLISHED or CLOSE-WAIT -> CLOSED: a reset received, an abort, but not a normal close (Linux tcp_set_state)', () => {
    const a = established();
    a.send({ flags: 'RST', seq: a.p(1) });
    expect(a.h.tcp.counters.EstabResets).toBe(1);
    const b = established();
    b.s.abort();
    expect(b.flush()).toEqual([out('RST+ACK', b.u(1), b.p(1))]);
    expect(b.h.tcp.counters.EstabResets).toBe(1);
    const p = new Pair(1000);
    const srv = p.b.sockets.socket();
    srv.bind(REMOTE, 80);
    srv.listen(4);
    const cl = p.a.sockets.socket();
    cl.connect(REMOTE, 80);
    p.advance(10);
    const child = srv.accept();
    if (typeof child === 'string') throw new Error(child);
    cl.close();
    p.advance(10);
    child.close();
    p.advance(10);
    expect([p.a.tcp.counters.EstabResets, p.b.tcp.counters.EstabResets]).toEqual([0, 0]);
    expect([p.a.tcp.counters.ActiveOpens, p.b.tcp.counters.PassiveOpens, p.a.tcp.counters.CurrEstab, p.b.tcp.counters.CurrEstab]).toEqual([1, 1, 0, 0]);
  });
});
