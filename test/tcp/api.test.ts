// The low-level socket API and the Poller over the TCP core (RFC 9293 §3.9.1 user/TCP interface,
// with POSIX/Linux error codes): non-blocking results, readiness bits, and epoll-style waiting.
import { describe, expect, test } from 'vitest';
import { Harness, LOCAL, REMOTE } from '../util/tcp-harness.js';
import { Poller, Ready } from '../../src/api/socket.js';
import { CLIENT_PORT, SERVER_PORT, bytes, closeWait, drain, established, listening, out, synSent } from './fixtures.js';

describe('non-blocking calls and their errors (RFC 9293 §3.9.1; POSIX/Linux errno)', () => {
  test('connect() returns EINPROGRESS, then EALREADY while SYN-SENT, then EISCONN once ESTABLISHED (RFC 9293 §3.10.1; Linux inet_stream_connect)', () => {
    const c = synSent();
    expect(c.s.connect(REMOTE, SERVER_PORT)).toBe('EALREADY');
    c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) });
    expect(c.s.connect(REMOTE, SERVER_PORT)).toBe('EISCONN');
  });

  test('send(), recv() and shutdown() on a socket that is not connected fail with ENOTCONN (RFC 9293 §3.10.2, §3.10.3)', () => {
    const h = new Harness();
    const s = h.sockets.socket();
    expect(s.send(bytes(1))).toBe('ENOTCONN');
    expect(s.recv(new Uint8Array(1))).toBe('ENOTCONN');
    expect(s.shutdown('write')).toBe('ENOTCONN');
    expect(s.bind(LOCAL, 8080)).toBeUndefined();
    expect(s.listen(1)).toBeUndefined();
    expect(s.send(bytes(1))).toBe('ENOTCONN');
    expect(s.recv(new Uint8Array(1))).toBe('ENOTCONN');
  });

  test('recv() returns EAGAIN with nothing buffered, the bytes when data arrived, and 0 at the peer\'s FIN (RFC 9293 §3.10.3)', () => {
    const c = established();
    const buf = new Uint8Array(100);
    expect(c.s.recv(buf)).toBe('EAGAIN');
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(7) });
    expect(c.s.recv(buf)).toBe(7);
    expect(Array.from(buf.subarray(0, 7))).toEqual(Array.from(bytes(7)));
    expect(c.s.recv(buf)).toBe('EAGAIN');
    c.send({ flags: 'FIN+ACK', seq: c.p(8), ack: c.u(1) });
    expect(c.s.recv(buf)).toBe(0);
    expect(c.s.recv(buf)).toBe(0);
  });

  test('recv() into a small buffer returns what fits and keeps the rest (RFC 9293 §3.10.3)', () => {
    const c = established();
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(10) });
    const buf = new Uint8Array(4);
    expect(c.s.recv(buf)).toBe(4);
    expect(c.s.readableLength).toBe(6);
    expect(drain(c.s).data).toEqual(Array.from(bytes(6, 4)));
  });

  test('send() takes what fits in the send buffer and then returns EAGAIN until acknowledgments free space (RFC 9293 §3.10.2)', () => {
    const c = established({ cfg: { sndBuf: 2000 } });
    expect(c.s.send(bytes(3000))).toBe(2000);
    expect(c.s.send(bytes(1))).toBe('EAGAIN');
    expect(c.s.readiness() & Ready.WRITABLE).toBe(0);
    // MSS 536 (no MSS option from the peer): three full segments and the 392-byte tail: Nagle
    // with Minshall's refinement, as Linux (tcp_minshall_check), holds a runt only while an
    // earlier short segment is unacknowledged, and none is (RFC 9293 §3.7.4).
    expect(c.flush()).toEqual([
      out('ACK', c.u(1), c.p(1), 536), out('ACK', c.u(537), c.p(1), 536), out('ACK', c.u(1073), c.p(1), 536),
      out('PSH+ACK', c.u(1609), c.p(1), 392),
    ]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1609) })).toEqual([]);
    expect(c.s.readiness() & Ready.WRITABLE).toBe(Ready.WRITABLE);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2001) });
    expect(c.s.readiness() & Ready.WRITABLE).toBe(Ready.WRITABLE);
    expect(c.s.send(bytes(10))).toBe(10);
  });

  test('send() after shutdown(write) fails with EPIPE and the socket reports writable, as Linux\'s tcp_poll does (RFC 9293 §3.10.4)', () => {
    const c = established();
    expect(c.s.shutdown('write')).toBeUndefined();
    expect(c.s.send(bytes(1))).toBe('EPIPE');
    expect(c.s.readiness() & Ready.WRITABLE).toBe(Ready.WRITABLE);
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(1))]);
  });

  test('calls on a closed socket fail with EBADF (POSIX close)', () => {
    const c = established();
    c.s.close();
    expect(c.s.send(bytes(1))).toBe('EBADF');
    expect(c.s.recv(new Uint8Array(1))).toBe('EBADF');
    expect(c.s.shutdown('both')).toBe('EBADF');
    expect(c.s.phase).toBe('closed');
  });

  test('accept() on a socket that is not listening and listen() on a connected one fail with EINVAL (POSIX)', () => {
    const c = established();
    expect(c.s.accept()).toBe('EINVAL');
    expect(c.s.listen(5)).toBe('EINVAL');
    const h = new Harness();
    const s = h.sockets.socket();
    expect(s.bind(LOCAL, 1000)).toBeUndefined();
    expect(s.bind(LOCAL, 1001)).toBe('EINVAL');
    expect(s.listen(1)).toBeUndefined();
    expect(s.connect(REMOTE, 80)).toBe('EINVAL');
    expect(s.accept()).toBe('EAGAIN');
  });

  test('connect() to port 0 or out of range fails with EINVAL (RFC 9293 §3.10.1)', () => {
    const h = new Harness();
    expect(h.sockets.socket().connect(REMOTE, 0)).toBe('EINVAL');
    expect(h.sockets.socket().connect(REMOTE, 70000)).toBe('EINVAL');
    expect(h.sockets.socket().connect('not an address', 80)).toBe('EINVAL');
  });

  test('socket options: Linux defaults, and values out of range fail with EINVAL (RFC 9293 §3.8.4 MUST-27; Linux tcp(7))', () => {
    const h = new Harness();
    const s = h.sockets.socket();
    expect(s.getOption('keepAlive')).toBe(false);
    expect(s.getOption('keepIdle')).toBe(7200);
    expect(s.getOption('keepInterval')).toBe(75);
    expect(s.getOption('keepCount')).toBe(9);
    expect(s.getOption('synCount')).toBe(6);
    expect(s.getOption('linger2')).toBe(60);
    expect(s.getOption('noDelay')).toBe(false);
    expect(s.setOption('keepIdle', 0)).toBe('EINVAL');
    expect(s.setOption('keepCount', 128)).toBe('EINVAL');
    expect(s.setOption('synCount', 0)).toBe('EINVAL');
    expect(s.setOption('maxSegment', 50)).toBe('EINVAL');
    expect(s.setOption('keepIdle', 30)).toBeUndefined();
    expect(s.getOption('keepIdle')).toBe(30);
  });

  test('TCP_NODELAY disables Nagle: a second small write goes out before the first is acknowledged (RFC 9293 §3.7.4 MUST-17)', () => {
    const nagle = established();
    nagle.s.send(bytes(10));
    expect(nagle.flush()).toEqual([out('PSH+ACK', nagle.u(1), nagle.p(1), 10)]);
    nagle.s.send(bytes(10));
    expect(nagle.flush()).toEqual([]);
    const nd = established({ setup: (s) => s.setOption('noDelay', true) });
    nd.s.send(bytes(10));
    expect(nd.flush()).toEqual([out('PSH+ACK', nd.u(1), nd.p(1), 10)]);
    nd.s.send(bytes(10));
    expect(nd.flush()).toEqual([out('PSH+ACK', nd.u(11), nd.p(1), 10)]);
  });
});

describe('readiness (epoll semantics, as Linux tcp_poll reports them)', () => {
  test('SYN-SENT reports nothing; ESTABLISHED is writable; data makes it readable until drained (Linux tcp_poll)', () => {
    const c = synSent();
    expect(c.s.readiness()).toBe(0);
    c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) });
    expect(c.s.readiness()).toBe(Ready.WRITABLE);
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: 3 });
    expect(c.s.readiness()).toBe(Ready.WRITABLE | Ready.READABLE);
    drain(c.s);
    expect(c.s.readiness()).toBe(Ready.WRITABLE);
  });

  test('the peer\'s FIN makes the socket readable with RDHUP (EOF); after our close it hangs up (Linux tcp_poll)', () => {
    const c = closeWait();
    expect(c.s.readiness()).toBe(Ready.READABLE | Ready.RDHUP | Ready.WRITABLE);
    c.s.shutdown('write');
    c.flush();
    expect(c.state).toBe('LAST-ACK');
    expect(c.s.readiness() & Ready.HANGUP).toBe(Ready.HANGUP);
  });

  test('a reset makes the socket readable and writable with ERROR and HANGUP until the error is read (RFC 9293 §3.10.7.4; Linux tcp_poll)', () => {
    const c = established();
    c.send({ flags: 'RST', seq: c.p(1) });
    const r = c.s.readiness();
    expect(r & (Ready.ERROR | Ready.READABLE | Ready.WRITABLE | Ready.HANGUP)).toBe(Ready.ERROR | Ready.READABLE | Ready.WRITABLE | Ready.HANGUP);
    expect(c.s.takeError()).toBe('ECONNRESET');
    expect(c.s.readiness() & Ready.ERROR).toBe(0);
  });
});

describe('Poller (epoll-style, level-triggered)', () => {
  test('a listener is reported ready (ACCEPT) when a connection waits in its accept queue, and not after accept() (Linux inet_csk_listen_poll)', () => {
    const { h, listener } = listening();
    const p = new Poller<string>();
    let wakes = 0;
    p.onWake = () => wakes++;
    p.add(listener, Ready.READABLE | Ready.ACCEPT, 'listener');
    expect(p.wait()).toEqual([]);
    h.peerSends({ flags: 'SYN', seq: 100, srcPort: CLIENT_PORT, dstPort: SERVER_PORT });
    const iss = h.takeSent()[0]!.seg.seq;
    expect(p.wait()).toEqual([]); // a half-open child is not ready
    h.peerSends({ flags: 'ACK', seq: 101, ack: (iss + 1) >>> 0, srcPort: CLIENT_PORT, dstPort: SERVER_PORT });
    expect(wakes).toBeGreaterThan(0);
    const ev = p.wait();
    expect(ev.map((e) => [e.data, e.events])).toEqual([['listener', Ready.ACCEPT | Ready.READABLE]]);
    expect(p.wait()).toHaveLength(1); // level-triggered: still ready
    expect(typeof listener.accept()).not.toBe('string');
    expect(p.wait()).toEqual([]);
  });

  test('a connecting socket becomes writable when the handshake completes; a refused one reports ERROR and HANGUP even if not asked (Linux tcp_poll)', () => {
    const ok = synSent();
    const p = new Poller<number>();
    p.add(ok.s, Ready.WRITABLE, 1);
    expect(p.wait()).toEqual([]);
    ok.send({ flags: 'SYN+ACK', seq: ok.p(0), ack: ok.u(1) });
    expect(p.wait().map((e) => [e.data, e.events])).toEqual([[1, Ready.WRITABLE]]);

    const refused = synSent();
    const q = new Poller<number>();
    q.add(refused.s, Ready.READABLE, 2);
    refused.send({ flags: 'RST+ACK', seq: 0, ack: refused.u(1) });
    const ev = q.wait();
    expect(ev).toHaveLength(1);
    expect(ev[0]!.events & (Ready.ERROR | Ready.HANGUP | Ready.READABLE)).toBe(Ready.ERROR | Ready.HANGUP | Ready.READABLE);
    expect(refused.s.takeError()).toBe('ECONNREFUSED');
  });

  test('readable data is reported until it is read, and modify() and delete() change what is reported (epoll EPOLL_CTL_MOD / EPOLL_CTL_DEL)', () => {
    const c = established();
    const p = new Poller<string>();
    p.add(c.s, Ready.READABLE, 'c');
    expect(p.wait()).toEqual([]);
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: 5 });
    expect(p.wait().map((e) => e.events)).toEqual([Ready.READABLE]);
    expect(p.wait().map((e) => e.events)).toEqual([Ready.READABLE]);
    p.modify(c.s, Ready.READABLE | Ready.WRITABLE);
    expect(p.wait().map((e) => e.events)).toEqual([Ready.READABLE | Ready.WRITABLE]);
    drain(c.s);
    expect(p.wait().map((e) => e.events)).toEqual([Ready.WRITABLE]);
    p.delete(c.s);
    expect(p.size).toBe(0);
    c.send({ flags: 'PSH+ACK', seq: c.p(6), ack: c.u(1), data: 5 });
    expect(p.wait()).toEqual([]);
  });

  test('a send buffer that drains wakes a writer waiting for WRITABLE (RFC 9293 §3.10.2)', () => {
    const c = established({ cfg: { sndBuf: 1000 } });
    const p = new Poller<string>();
    expect(c.s.send(bytes(1000))).toBe(1000);
    // A full segment and the tail (Nagle with Minshall's refinement, as Linux: no short segment is unacknowledged).
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(1), 536), out('PSH+ACK', c.u(537), c.p(1), 464)]);
    p.add(c.s, Ready.WRITABLE, 'w');
    expect(p.wait()).toEqual([]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(537) })).toEqual([]);
    expect(p.wait().map((e) => e.events)).toEqual([Ready.WRITABLE]);
  });
});
