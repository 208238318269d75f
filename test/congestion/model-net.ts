// A small packet-level model used to exercise the CongestionController end to end before it is
// wired into the stack: one sender driven exactly as output.ts / input.ts / the timers will drive
// it (docs/congestion.md, "Phase 2"), one receiver that ACKs every segment with SACK and D-SACK
// blocks (RFC 2018, RFC 2883) and timestamps, and a path with a fixed delay, an optional
// bottleneck rate, per-segment loss, extra delay (reordering) and CE marking, all in virtual
// microseconds. Test code only: it checks the controller's decisions, not the stack.
import type { Duration, Instant } from '../../src/time/instant.js';
import { millis } from '../../src/time/instant.js';
import { type Seq, seq, seqAdd, seqDiff, seqGt, seqLt } from '../../src/tcp/seq.js';
import { RttEstimator } from '../../src/tcp/rtt.js';
import type { CongestionAlgorithm } from '../../src/tcp/congestion/cc.js';
import { CongestionController } from '../../src/tcp/recovery/controller.js';
import type { SackRange } from '../../src/tcp/recovery/scoreboard.js';
import { EcnCodepoint } from '../../src/tcp/congestion/ecn.js';

/** How one transmission is treated by the path. */
export interface PathVerdict { drop?: boolean; extraDelay?: Duration; ce?: boolean }

/** The model's set-up. */
export interface ModelOptions {
  algorithm?: CongestionAlgorithm;
  sack?: boolean;
  rack?: boolean;
  frto?: boolean;
  ecn?: boolean;
  bytes: number;
  mss?: number;
  /** One-way delay. */
  delay?: Duration;
  /** Bottleneck rate in bytes per second for data (undefined: none). */
  rate?: number;
  /** Decides the fate of the n-th data transmission (0-based), which covers [start, start+len). */
  path?: (n: number, start: number, len: number, now: Instant) => PathVerdict;
  /** Extra delay added to ACKs sent at `now` (a delay spike), if any. */
  ackDelay?: (now: Instant) => Duration;
  /** Give up after this much virtual time. */
  limit?: Duration;
}

/** What a run produced. */
export interface ModelResult {
  done: boolean;
  at: Instant;
  rtos: number;
  probes: number;
  recoveries: number;
  undos: number;
  retransmits: number;
  cwndTrace: number[];
  finalCwnd: number;
  states: string[];
  ctl: CongestionController;
}

type Ev =
  | { at: number; n: number; kind: 'data'; start: number; len: number; tsval: number; ce: boolean }
  | { at: number; n: number; kind: 'ack'; ack: number; sack: SackRange[]; tsecr: number; ece: boolean };

/** Runs one transfer of `bytes` and reports what the controller did. */
export function runModel(o: ModelOptions): ModelResult {
  const mss = o.mss ?? 1000;
  const delay = o.delay ?? millis(20);
  const limit = o.limit ?? millis(120_000);
  const iss = seq(0xfffff000); // wraps during the transfer
  const base = seqAdd(iss, 1);
  const off = (s: Seq): number => seqDiff(s, base);
  const rtt = new RttEstimator();
  const ctl = new CongestionController({
    algorithm: o.algorithm ?? 'newreno', mss, initialCwnd: 10, sndUna: base, sack: o.sack ?? true, rack: o.rack ?? true,
    frto: o.frto ?? true, ecn: o.ecn ?? false, slowStartAfterIdle: true, rtt, now: 0 as Instant,
  });
  const events: Ev[] = [];
  let counter = 0;
  const push = (e: Ev): void => {
    events.push(e);
    events.sort((a, b) => a.at - b.at || a.n - b.n);
  };
  let now = 0;
  let rtxAt: number | undefined;
  let txCount = 0;
  let linkFree = 0;
  let retransmits = 0;
  const cwndTrace: number[] = [];
  const states: string[] = [];
  // Receiver state.
  let rcvNxt = 0;
  let ooo: [number, number][] = [];
  let recent: number[] = []; // starts of ooo blocks, most recent first
  let eceLatched = false;

  const sndUna = (): number => off(ctl.sb.highAck);
  const sndNxt = (): number => off(ctl.sb.highData);

  function output(): void {
    ctl.beforeTransmit(now as Instant);
    for (;;) {
      const unsent = Math.max(0, o.bytes - sndNxt());
      const quota = ctl.sendQuota();
      const next = ctl.nextSegment(unsent);
      if (next === undefined) break;
      if (quota < next.len) break;
      transmit(next.start, next.len, next.rule);
    }
  }

  function transmit(start: Seq, len: number, rule?: 1 | 2 | 3 | 4, probe = false): void {
    const s = off(start);
    const retrans = s < sndNxt();
    if (retrans) retransmits++;
    const kind = retrans ? 'retransmission' : 'new-data';
    const ecn = ctl.ecnFor(kind);
    ctl.onTransmit(now as Instant, start, len, rule === undefined ? { probe, tsval: Math.floor(now / 1000) } : { rule, probe, tsval: Math.floor(now / 1000) });
    if (rtxAt === undefined) rtxAt = now + rtt.rto;
    const v = o.path?.(txCount++, s, len, now as Instant) ?? {};
    const serial = o.rate === undefined ? 0 : Math.round((len / o.rate) * 1e6);
    linkFree = Math.max(linkFree, now) + serial;
    if (v.drop === true) return;
    push({ at: linkFree + delay + (v.extraDelay ?? 0), n: counter++, kind: 'data', start: s, len, tsval: Math.floor(now / 1000), ce: v.ce === true && ecn.codepoint === EcnCodepoint.ECT0 });
  }

  function receive(e: Extract<Ev, { kind: 'data' }>): void {
    const end = e.start + e.len;
    let dsack: SackRange | undefined;
    if (end <= rcvNxt || ooo.some(([a, b]) => a <= e.start && end <= b)) dsack = { start: seqAdd(base, e.start), end: seqAdd(base, end) };
    if (e.ce) eceLatched = true;
    if (e.start <= rcvNxt && end > rcvNxt) {
      rcvNxt = end;
      ooo.sort((a, b) => a[0] - b[0]);
      while (ooo.length > 0 && ooo[0] !== undefined && ooo[0][0] <= rcvNxt) {
        rcvNxt = Math.max(rcvNxt, ooo[0][1]);
        ooo.shift();
      }
    } else if (e.start > rcvNxt && dsack === undefined) {
      ooo.push([e.start, end]);
      ooo.sort((a, b) => a[0] - b[0]);
      const merged: [number, number][] = [];
      for (const r of ooo) {
        const last = merged[merged.length - 1];
        if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
        else merged.push([r[0], r[1]]);
      }
      ooo = merged;
      const holder = ooo.find(([a, b]) => a <= e.start && e.start < b);
      if (holder !== undefined) recent = [holder[0], ...recent.filter((x) => x !== holder[0])];
    }
    recent = recent.filter((x) => ooo.some(([a]) => a === x) || ooo.some(([a, b]) => a <= x && x < b));
    const blocks: SackRange[] = [];
    if (dsack !== undefined) blocks.push(dsack);
    for (const x of recent) {
      const r = ooo.find(([a, b]) => a <= x && x < b);
      if (r !== undefined && !blocks.some((b) => b.start === seqAdd(base, r[0])) && blocks.length < 3) blocks.push({ start: seqAdd(base, r[0]), end: seqAdd(base, r[1]) });
    }
    for (const r of ooo) if (blocks.length < 3 && !blocks.some((b) => b.start === seqAdd(base, r[0]))) blocks.push({ start: seqAdd(base, r[0]), end: seqAdd(base, r[1]) });
    // Model simplification: CWR is not carried back, so the echo stops after one ACK.
    const ece = eceLatched;
    eceLatched = false;
    push({ at: now + delay + (o.ackDelay?.(now as Instant) ?? 0), n: counter++, kind: 'ack', ack: rcvNxt, sack: o.sack === false ? [] : blocks, tsecr: e.tsval, ece });
  }

  function ackArrives(e: Extract<Ev, { kind: 'ack' }>): void {
    const ack = seqAdd(base, e.ack);
    if (seqGt(ack, ctl.sb.highData) || seqLt(ack, ctl.sb.highAck)) return;
    const dupAck = ack === ctl.sb.highAck && ctl.sb.flight > 0;
    const sample = Math.max(1, Math.floor(now / 1000) - e.tsecr) * 1000;
    rtt.sample(sample as Duration);
    const advanced = seqGt(ack, ctl.sb.highAck);
    const res = ctl.onAck(now as Instant, {
      ack, sack: e.sack, dupAck, ece: e.ece, tsecr: e.tsecr, echoedAt: (e.tsecr * 1000) as Instant, rttSample: sample as Duration,
      cwndLimited: true, canSendNew: sndNxt() < o.bytes,
    });
    if (advanced) rtt.resetBackoff();
    if (ctl.sb.flight === 0) rtxAt = undefined;
    else if (advanced || res.restartRto) rtxAt = now + rtt.rto;
    output();
  }

  output();
  let guard = 0;
  while (sndUna() < o.bytes && now < limit && guard++ < 2_000_000) {
    const nextEv = events[0]?.at;
    const ctlAt = ctl.deadline();
    const cands = [nextEv, rtxAt, ctlAt].filter((x): x is number => x !== undefined);
    if (cands.length === 0) break;
    now = Math.max(now, Math.min(...cands));
    if (rtxAt !== undefined && rtxAt <= now) {
      rtxAt = undefined;
      ctl.onRetransmitTimeout(now as Instant);
      rtt.backoff();
      output();
      if (rtxAt === undefined && ctl.sb.flight > 0) rtxAt = now + rtt.rto;
    } else if (ctlAt !== undefined && ctlAt <= now) {
      const act = ctl.onTimer(now as Instant, Math.max(0, o.bytes - sndNxt()));
      if (act.kind === 'probe') {
        const p = act.probe;
        if (p.kind === 'new-data') transmit(ctl.sb.highData, p.len, undefined, true);
        else if (p.kind === 'retransmit') transmit(p.start, p.len, undefined, true);
        rtxAt = now + rtt.rto; // RFC 8985 §7.3: rearm the RTO after the probe
      } else {
        output();
      }
    } else {
      const e = events.shift();
      if (e === undefined) break;
      if (e.kind === 'data') receive(e);
      else ackArrives(e);
    }
    cwndTrace.push(ctl.cc.cwnd);
    if (states[states.length - 1] !== ctl.state) states.push(ctl.state);
  }
  return {
    done: sndUna() >= o.bytes, at: now as Instant, rtos: ctl.rtoCount, probes: ctl.probes, recoveries: ctl.recoveries, undos: ctl.undos,
    retransmits, cwndTrace, finalCwnd: ctl.cc.cwnd, states, ctl,
  };
}
