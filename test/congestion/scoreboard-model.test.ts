// Model test of the SACK scoreboard: an octet-by-octet transcription of RFC 6675 §4's IsLost(),
// SetPipe() and NextSeg() rules (1)-(3), run side by side with the scoreboard under random
// transmissions, cumulative ACKs and SACK blocks. The model is deliberately naive: it walks
// every octet, as the RFC's text does.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import type { Instant } from '../../src/time/instant.js';
import { type Seq, seq, seqAdd, seqDiff } from '../../src/tcp/seq.js';
import { Scoreboard, type SackRange } from '../../src/tcp/recovery/scoreboard.js';

const MSS = 100;
const DUP_THRESH = 3;
const T = 0 as Instant;

interface ModelSeg { start: number; end: number; sacked: boolean }

class Model {
  segs: ModelSeg[] = [];
  una = 0;
  nxt = 0;
  highRxt = 0; // one past the highest retransmitted octet (RFC HighRxt + 1)

  sackedAbove(o: number): { segs: number; bytes: number } {
    let segs = 0;
    let bytes = 0;
    for (const s of this.segs) if (s.sacked && s.start > o) { segs++; bytes += s.end - s.start; }
    return { segs, bytes };
  }
  isSacked(o: number): boolean {
    return this.segs.some((s) => s.sacked && s.start <= o && o < s.end);
  }
  // RFC 6675 §4 IsLost(SeqNum).
  isLost(o: number): boolean {
    const a = this.sackedAbove(o);
    return a.segs >= DUP_THRESH || a.bytes > (DUP_THRESH - 1) * MSS;
  }
  // RFC 6675 §4 SetPipe(), octet by octet.
  setPipe(): number {
    let pipe = 0;
    for (let o = this.una; o < this.nxt; o++) {
      if (this.isSacked(o)) continue;
      if (!this.isLost(o)) pipe++; // (a)
      if (o < this.highRxt) pipe++; // (b) S1 <= HighRxt
    }
    return pipe;
  }
  highestSacked(): number | undefined {
    let h: number | undefined;
    for (const s of this.segs) if (s.sacked) h = s.end;
    return h;
  }
  // RFC 6675 §4 NextSeg() rules (1)-(3): the starting octet and the rule.
  nextSeg(unsent: number): { rule: number; start: number } | undefined {
    const hs = this.highestSacked();
    if (hs !== undefined) {
      for (let o = Math.max(this.una, this.highRxt); o < hs; o++) {
        if (!this.isSacked(o) && this.isLost(o)) return { rule: 1, start: o };
      }
    }
    if (unsent > 0) return { rule: 2, start: this.nxt };
    if (hs !== undefined) {
      for (let o = Math.max(this.una, this.highRxt); o < hs; o++) if (!this.isSacked(o)) return { rule: 3, start: o };
    }
    return undefined;
  }
}

type Op =
  | { kind: 'send'; len: number }
  | { kind: 'ack'; advance: number; sack: number[] }
  | { kind: 'next'; unsent: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), len: fc.integer({ min: 1, max: MSS }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ack' as const), advance: fc.constantFrom(0, 0, 0, 0, 1, 2), sack: fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('next' as const), unsent: fc.constantFrom(0, 0, 0, 50) }) },
);

describe('scoreboard against an octet-level model of RFC 6675 §4', () => {
  test('pipe = SetPipe(), NextSeg() agrees, byte counts agree, under random ACK/SACK/retransmission histories', () => {
    const rules = [0, 0, 0, 0];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.array(opArb, { minLength: 20, maxLength: 80 }), (base0, ops) => {
        const base = seq(base0);
        const at = (o: number): Seq => seqAdd(base, o);
        const sb = new Scoreboard(base, MSS);
        const m = new Model();
        for (const op of ops) {
          switch (op.kind) {
            case 'send':
              sb.onTransmit(at(m.nxt), op.len, T);
              m.segs.push({ start: m.nxt, end: m.nxt + op.len, sacked: false });
              m.nxt += op.len;
              break;
            case 'ack': {
              // Cumulative ACK at a segment boundary `advance` segments on; SACK whole segments by index.
              const live = m.segs;
              const ackSeg = live[Math.min(op.advance, live.length) - 1];
              const ack = op.advance === 0 || ackSeg === undefined ? m.una : ackSeg.end;
              const blocks: SackRange[] = [];
              for (const i of op.sack) {
                const s = live[i];
                if (s !== undefined && s.start >= ack) blocks.push({ start: at(s.start), end: at(s.end) });
              }
              let delivered = 0;
              for (const s of live) if (!s.sacked && s.end <= ack) delivered += s.end - s.start;
              for (const blk of blocks) {
                for (const s of live) {
                  if (!s.sacked && s.start >= seqDiff(blk.start, base) && s.end <= seqDiff(blk.end, base)) {
                    s.sacked = true;
                    delivered += s.end - s.start;
                  }
                }
              }
              m.segs = live.filter((s) => s.end > ack);
              m.una = ack;
              m.highRxt = Math.max(m.highRxt, ack);
              const u = sb.onAck(at(ack), blocks);
              expect(u.delivered).toBe(delivered);
              break;
            }
            case 'next': {
              sb.markLostByDupThresh();
              const want = m.nextSeg(op.unsent);
              const got = sb.nextSeg(op.unsent, { rescue: false });
              expect(got === undefined ? undefined : { rule: got.rule, start: seqDiff(got.start, base) }).toEqual(want);
              if (got !== undefined && want !== undefined) {
                rules[got.rule - 1] = (rules[got.rule - 1] ?? 0) + 1;
                sb.onTransmit(got.start, got.len, T, got.rule);
                if (got.rule === 2) {
                  m.segs.push({ start: m.nxt, end: m.nxt + got.len, sacked: false });
                  m.nxt += got.len;
                } else {
                  m.highRxt = Math.max(m.highRxt, want.start + got.len);
                }
              }
              break;
            }
          }
          sb.markLostByDupThresh();
          expect(sb.pipe()).toBe(m.setPipe());
          expect(sb.flight).toBe(m.nxt - m.una);
          expect(sb.sackedBytes).toBe(m.segs.filter((s) => s.sacked).reduce((n, s) => n + s.end - s.start, 0));
          // The entries tile [SND.UNA, SND.NXT) without gaps.
          let edge = sb.highAck;
          for (const s of sb.segments()) {
            expect(s.start).toBe(edge);
            edge = s.end;
          }
          expect(edge).toBe(sb.highData);
        }
      }),
      { numRuns: 300 },
    );
    // The histories reach every rule (the comparison is not vacuous).
    expect(rules.slice(0, 3).every((n) => n > 10)).toBe(true);
  });
});
