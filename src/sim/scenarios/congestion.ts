// Congestion-control stories: a bulk transfer through a bottleneck, showing slow start, a loss
// and congestion avoidance, with the congestion window plotted from the sender's 'tcp-cwnd'
// trace events. Read RFC 5681 §3.1 (slow start, congestion avoidance), RFC 6928 (IW10), RFC 6675
// and RFC 6937 (SACK recovery with PRR); docs/congestion.md says how the stack does them.
import type { ScenarioOptions, ScenarioResult } from './common.js';
import { connectPair, infoOf, newScenario } from './common.js';
import { millis } from '../../time/instant.js';
import { plotSeries, type PlotPoint } from '../../trace/plot.js';
import { INFINITE_SSTHRESH } from '../../tcp/congestion/cc.js';

/** How long the slow-start story transfers (virtual time) and how much of it the diagram draws. */
const RUN_MS = 2000;
const DIAGRAM_MS = 90;

/**
 * Slow start and congestion avoidance: the client sends as fast as it can for 2 s through a
 * 10 Mbit/s bottleneck with a 16-frame queue and a 20 ms RTT, with NewReno (the classic sawtooth;
 * Linux's default CUBIC grows along a cubic curve instead). cwnd starts at 10 segments and doubles
 * every round trip until the queue overflows; SACK recovery with PRR brings it down to ssthresh
 * (half the flight); then it grows by one segment per round trip until the next loss. The
 * diagram shows only the first round trips; the plot (`figure`) covers the whole run.
 */
export function slowStart(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({
    seed: 11, delay: millis(10), tcp: { sndBuf: 1 << 20, rcvBuf: 1 << 20 }, clientTcp: { congestion: 'newreno' },
    clientImpair: { bandwidth: 10_000_000, queueFrames: 16 },
  }, opts);
  const { client, server } = connectPair(s, 5001);
  const start = s.now;
  s.note(s.client.name, 'send() as fast as the window allows');
  const chunk = new Uint8Array(64 * 1024);
  const buf = new Uint8Array(256 * 1024);
  let got = 0;
  s.runUntil(() => {
    for (let n = client.send(chunk); typeof n === 'number' && n > 0; n = client.send(chunk));
    for (let n = server.recv(buf); typeof n === 'number' && n > 0; n = server.recv(buf)) got += n;
    return s.now - start >= millis(RUN_MS);
  }, RUN_MS + 1000);
  const tcb = client.connection;
  const mss = tcb?.mss ?? 1448;
  const cwnd: PlotPoint[] = [];
  const ssthresh: PlotPoint[] = [];
  let firstLossMs: number | undefined;
  let peak = 0;
  for (const e of s.trace) {
    if (e.kind !== 'tcp-cwnd' || e.stack !== s.client.name || e.at < start) continue;
    const x = (e.at - start) / 1000;
    cwnd.push({ x, y: e.cwnd / mss });
    if (e.ssthresh < INFINITE_SSTHRESH) ssthresh.push({ x, y: e.ssthresh / mss });
    if (firstLossMs === undefined && e.state !== 'open' && e.state !== 'disorder') firstLossMs = x;
    if (firstLossMs === undefined) peak = Math.max(peak, e.cwnd / mss);
  }
  const c = s.client.stack.tcp.counters;
  const info = infoOf(s, client);
  const figure = plotSeries([
    { name: 'cwnd', mark: '*', points: cwnd },
    { name: 'ssthresh', mark: '.', points: ssthresh },
  ], { width: 72, height: 14, xLabel: 'ms', yLabel: `segments of ${mss} bytes (client's 'tcp-cwnd' trace events)` });
  return {
    scenario: s,
    caption: `the first ${DIAGRAM_MS} ms of a ${RUN_MS / 1000} s bulk transfer (10 Mbit/s bottleneck, 16-frame queue, 20 ms RTT); the plot covers all of it`,
    // The diagram draws the first round trips only: a 2 s bulk transfer is thousands of frames.
    view: { collapse: 4, until: start + millis(DIAGRAM_MS) },
    figure,
    facts: {
      goodputMbit: Math.round((got * 8) / RUN_MS / 10) / 100,
      peakCwndInSlowStart: Math.round(peak),
      firstLossAtMs: firstLossMs === undefined ? NaN : Math.round(firstLossMs),
      TCPSackRecovery: c.TCPSackRecovery,
      RetransSegs: c.RetransSegs,
      TCPTimeouts: c.TCPTimeouts,
      finalCwnd: Math.round((tcb?.cwnd ?? 0) / mss),
      finalSsthresh: Math.round((tcb?.ssthresh ?? 0) / mss),
    },
    ...(info !== undefined ? { info } : {}),
  };
}
