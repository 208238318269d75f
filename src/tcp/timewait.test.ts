// Tests for the TIME-WAIT record table's storage: finding records by 4-tuple (IPv4 and IPv6),
// expiry in deadline order through its own queue (restarts move a record to the tail; deadlines
// set out of order still fire exactly), and growing and shrinking without losing a record.
// The protocol behaviour of TIME-WAIT is tested in test/tcp/timewait.test.ts and
// test/defences/timewait.test.ts.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { TimeWaitTable, type TimeWaitInit } from './timewait.js';
import { IpAddr } from '../wire/ip-addr.js';
import type { Instant } from '../time/instant.js';
import type { Seq } from './seq.js';

const LOCAL4 = IpAddr.from('10.0.0.1');
const LOCAL6 = IpAddr.from('fd00::1');

/** A record for peer number `i` (IPv4 or IPv6), expiring at `deadline`. */
function rec(i: number, deadline: number, v6 = false): TimeWaitInit {
  return {
    id: i, local: v6 ? LOCAL6 : LOCAL4, localPort: 80,
    remote: v6 ? IpAddr.v6(0xfd000000, 0, i >>> 16, i & 0xffff) : IpAddr.v4((0xc6120000 + i) >>> 0), remotePort: 1024 + (i % 60000),
    sndNxt: (i * 7) as Seq, rcvNxt: ((i * 13) | 0) as Seq, rcvWnd: 1000 + i, rcvWscale: i % 15, maxSndWnd: 2000 + i, tsOk: i % 2 === 0,
    tsRecent: i, tsRecentAt: (i * 10) as Instant, tsOffset: i * 3, deadline: deadline as Instant,
  };
}

function findRec(t: TimeWaitTable, r: TimeWaitInit): number {
  return t.find(r.local, r.localPort, r.remote, r.remotePort);
}

/** Expires everything due at `upTo`, deleting each record; returns the ids in firing order. */
function expireIds(t: TimeWaitTable, upTo: number): number[] {
  const ids: number[] = [];
  t.expire(upTo as Instant, (s) => {
    ids.push(t.id(s));
    t.remove(s);
  });
  return ids;
}

describe('TimeWaitTable', () => {
  test('keeps every field of IPv4 and IPv6 records and finds them by exact 4-tuple and family', () => {
    const t = new TimeWaitTable();
    const a = rec(1, 100);
    const b = rec(2, 100, true);
    const sa = t.add(a);
    const sb = t.add(b);
    expect(t.size).toBe(2);
    for (const [s, r] of [[sa, a], [sb, b]] as const) {
      expect(findRec(t, r)).toBe(s);
      expect(t.info(s)).toEqual({
        id: r.id, local: r.local, localPort: r.localPort, remote: r.remote, remotePort: r.remotePort, sndNxt: r.sndNxt, rcvNxt: r.rcvNxt,
        tsOk: r.tsOk, tsRecent: r.tsRecent, tsRecentAt: r.tsRecentAt, deadline: r.deadline,
      });
      expect([t.rcvWnd(s), t.rcvWscale(s), t.maxSndWnd(s), t.tsOffset(s)]).toEqual([r.rcvWnd, r.rcvWscale, r.maxSndWnd, r.tsOffset]);
    }
    // The same last words in the other family, another port, another peer: not found.
    expect(t.find(IpAddr.v6(0, 0, 0xffff, LOCAL4.w3), 80, IpAddr.v6(0, 0, 0xffff, a.remote.w3), a.remotePort)).toBe(-1);
    expect(t.find(LOCAL4, 81, a.remote, a.remotePort)).toBe(-1);
    expect(t.find(LOCAL6, 80, IpAddr.v6(0xfd000001, 0, 0, 2), b.remotePort)).toBe(-1);
    t.remove(sa);
    expect(findRec(t, a)).toBe(-1);
    expect(findRec(t, b)).toBe(sb);
    expect([...t.slots()]).toEqual([sb]);
  });

  test('records expire in deadline order; a restarted record moves to the tail, its old place goes stale', () => {
    const t = new TimeWaitTable();
    const slots = [0, 1, 2, 3].map((i) => t.add(rec(i, 100 + i)));
    expect(t.nextDeadline()).toBe(100);
    t.restart(slots[0]!, 200 as Instant); // a retransmitted FIN restarts the first record's timer
    expect(t.nextDeadline()).toBe(101);
    expect(expireIds(t, 99)).toEqual([]);
    expect(expireIds(t, 102)).toEqual([1, 2]);
    t.remove(slots[3]!); // deleted early (an RST, a reopening SYN)
    expect(t.nextDeadline()).toBe(200);
    expect(expireIds(t, 199)).toEqual([]);
    expect(expireIds(t, 200)).toEqual([0]);
    expect(t.nextDeadline()).toBeUndefined();
  });

  test('a deadline earlier than the last one queued (2*MSL lowered) still fires exactly on time', () => {
    const t = new TimeWaitTable();
    t.add(rec(1, 60_000));
    t.add(rec(2, 10_000)); // MSL lowered from 30 s to 5 s
    const s3 = t.add(rec(3, 30_000));
    expect(t.nextDeadline()).toBe(10_000);
    expect(expireIds(t, 9_999)).toEqual([]);
    expect(expireIds(t, 10_000)).toEqual([2]);
    expect(t.nextDeadline()).toBe(30_000);
    t.restart(s3, 70_000 as Instant); // back in order: queued again, its early entry goes stale
    expect(expireIds(t, 30_000)).toEqual([]);
    expect(expireIds(t, 60_000)).toEqual([1]);
    expect(expireIds(t, 70_000)).toEqual([3]);
  });

  test('grows, shrinks when mostly empty, and keeps every record findable and its expiry order across both', () => {
    const t = new TimeWaitTable();
    const N = 5000;
    const recs = Array.from({ length: N }, (_, i) => rec(i, 1000 + i, i % 5 === 0));
    for (const r of recs) t.add(r);
    const full = t.byteSize;
    // Delete most records out of order, leaving every tenth, then let the next expiry shrink the table.
    for (let i = 0; i < N; i++) if (i % 10 !== 0) t.remove(findRec(t, recs[i]!));
    expect(expireIds(t, 999)).toEqual([]);
    expect(t.byteSize).toBeLessThan(full / 4);
    for (let i = 0; i < N; i += 10) expect(t.id(findRec(t, recs[i]!))).toBe(i);
    expect(expireIds(t, 1000 + N)).toEqual(Array.from({ length: N / 10 }, (_, k) => k * 10));
    expect(t.size).toBe(0);
    expect(t.byteSize).toBeLessThan(6000); // its minimum: 64 slots
  });

  test('a record restarted over and over does not grow the queue without bound', () => {
    const t = new TimeWaitTable();
    const s = t.add(rec(1, 100));
    t.add(rec(2, 100));
    for (let i = 0; i < 100_000; i++) t.restart(s, (200 + i) as Instant);
    expect(t.byteSize).toBeLessThan(6000); // its minimum: 64 slots
    expect(expireIds(t, 100)).toEqual([2]);
    expect(expireIds(t, 100_199)).toEqual([1]);
  });

  test('against a model: any mix of adds, restarts, deletions and expiries fires each record once, at its deadline, in order', () => {
    type Op =
      | { kind: 'add'; v6: boolean; ttl: number }
      | { kind: 'restart'; pick: number; ttl: number }
      | { kind: 'remove'; pick: number }
      | { kind: 'advance'; by: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), v6: fc.boolean(), ttl: fc.constantFrom(50, 50, 50, 20, 80) }),
      fc.record({ kind: fc.constant('restart' as const), pick: fc.nat(), ttl: fc.constantFrom(50, 50, 20) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const t = new TimeWaitTable();
        // The model: id -> [deadline, order the deadline was set in].
        const model = new Map<number, [number, number]>();
        const recs = new Map<number, TimeWaitInit>();
        let now = 0;
        let nextId = 0;
        let order = 0;
        const expireTo = (upTo: number): void => {
          const due = [...model].filter(([, [d]]) => d <= upTo);
          const fired = expireIds(t, upTo);
          // Every due record fired once; those set in deadline order fired in (deadline, order).
          expect([...fired].sort((a, b) => a - b)).toEqual(due.map(([id]) => id).sort((a, b) => a - b));
          for (const id of fired) model.delete(id);
        };
        for (const o of ops) {
          const ids = [...model.keys()];
          switch (o.kind) {
            case 'add': {
              const r = rec(nextId, now + o.ttl, o.v6);
              t.add(r);
              recs.set(nextId, r);
              model.set(nextId++, [now + o.ttl, order++]);
              break;
            }
            case 'restart': {
              if (ids.length === 0) break;
              const id = ids[o.pick % ids.length]!;
              t.restart(findRec(t, recs.get(id)!), (now + o.ttl) as Instant);
              model.set(id, [now + o.ttl, order++]);
              break;
            }
            case 'remove': {
              if (ids.length === 0) break;
              const id = ids[o.pick % ids.length]!;
              t.remove(findRec(t, recs.get(id)!));
              model.delete(id);
              break;
            }
            case 'advance':
              now += o.by;
              expireTo(now);
              break;
          }
          expect(t.size).toBe(model.size);
          const earliest = Math.min(...[...model.values()].map(([d]) => d));
          const next = t.nextDeadline();
          if (model.size === 0) expect(next).toBeUndefined();
          else expect(next).toBeLessThanOrEqual(earliest); // never late; early only after deletions
          for (const [id] of model) expect(t.id(findRec(t, recs.get(id)!))).toBe(id);
        }
        // With every deadline set in order (one TTL), expiry follows (deadline, order) exactly.
        expireTo(Infinity);
        expect(t.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  test('with one 2*MSL, expiry follows the order deadlines were set in, exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean(), fc.nat()), { maxLength: 300 }), (steps) => {
        const t = new TimeWaitTable();
        const recs: TimeWaitInit[] = [];
        const deadlines = new Map<number, [number, number]>();
        let now = 0;
        let order = 0;
        for (const [dt, restart, pick] of steps) {
          now += dt;
          if (restart && deadlines.size > 0) {
            const ids = [...deadlines.keys()];
            const id = ids[pick % ids.length]!;
            t.restart(findRec(t, recs[id]!), (now + 100) as Instant);
            deadlines.set(id, [now + 100, order++]);
          } else {
            const r = rec(recs.length, now + 100, pick % 3 === 0);
            recs.push(r);
            t.add(r);
            deadlines.set(r.id, [now + 100, order++]);
          }
        }
        const want = [...deadlines].sort(([, a], [, b]) => a[0] - b[0] || a[1] - b[1]).map(([id]) => id);
        expect(expireIds(t, Infinity)).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });
});
