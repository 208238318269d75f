// Per-connection statistics in the spirit of Linux's `struct tcp_info` (what `ss -ti` prints,
// include/uapi/linux/tcp.h) and a socket table like `ss -tan` for a whole TCP layer. Read-only
// views over the TCB and the listeners; nothing here changes a connection. Field names follow
// Linux's where one exists; RFC 4898 (TCP Extended Statistics MIB) defines most of them.
import type { Instant } from '../time/instant.js';
import type { TcpState } from '../tcp/state.js';
import type { Tcb } from '../tcp/tcb.js';
import type { TcpLayer } from '../tcp/tcp.js';
import type { IpAddr } from '../wire/ip-addr.js';

/** One connection's statistics, as Linux's tcp_info reports them (times in milliseconds). */
export interface TcpInfo {
  state: TcpState;
  /** `10.0.0.1:40000`, `[fd00::1]:40000`. */
  local: string;
  remote: string;
  /** Window scale shifts (ours for receiving, the peer's for sending); undefined when not negotiated. */
  rcvWscale: number | undefined;
  sndWscale: number | undefined;
  /** Options negotiated in the handshake. */
  timestamps: boolean;
  sack: boolean;
  /** Retransmission timeout, smoothed RTT and its variation (RFC 6298), in ms; rtt/rttvar undefined before the first sample. */
  rto: number;
  rtt: number | undefined;
  rttvar: number | undefined;
  /** Effective send MSS (payload per segment) and the MSS we announced. */
  mss: number;
  advmss: number;
  /** Congestion window and slow-start threshold in segments, as Linux reports them; ssthresh undefined while "infinite". */
  cwnd: number;
  ssthresh: number | undefined;
  /** Congestion window in bytes (what the TCB keeps). */
  cwndBytes: number;
  /** The peer's receive window (SND.WND) and the window we last offered, in bytes. */
  sndWnd: number;
  rcvWnd: number;
  /** Sequence space the peer acknowledged, SYN and FIN included (tcpi_bytes_acked). */
  bytesAcked: number;
  /** Data bytes received in order (tcpi_bytes_received). */
  bytesReceived: number;
  segsOut: number;
  segsIn: number;
  /** Segments sent but not yet acknowledged (tcpi_unacked), from the bytes in flight. */
  unacked: number;
  /** Consecutive retransmission timeouts of the current head (tcpi_retransmits). */
  retransmits: number;
  /** Retransmitted segments over the connection's life (tcpi_total_retrans). */
  totalRetrans: number;
  /**
   * Segments presumed lost (tcpi_lost): without a SACK scoreboard this follows Linux's NewReno
   * accounting: everything in flight after a retransmission timeout, the head during fast recovery.
   */
  lost: number;
  /** Segments the peer SACKed (tcpi_sacked): always 0 until sender-side SACK recovery exists. */
  sacked: number;
  /** The latest delivery-rate sample in bytes per second (tcpi_delivery_rate); 0 before one. */
  deliveryRate: number;
  /** Milliseconds since a segment last arrived (tcpi_last_data_recv / last_ack_recv, merged). */
  lastRecv: number;
  /** Bytes the application has not read (Recv-Q) and bytes queued but not acknowledged (Send-Q). */
  recvQ: number;
  sendQ: number;
}

const ms = (us: number): number => Math.round(us) / 1000;

/** A snapshot of one connection's statistics at `now`. */
export function tcpInfo(tcb: Tcb, now: Instant): TcpInfo {
  const mss = Math.max(1, tcb.mss);
  const flight = Math.max(0, tcb.flight);
  const srtt = tcb.rtt.srtt;
  let lost = 0;
  if (tcb.cc !== undefined) lost = Math.ceil(tcb.cc.sb.lostBytes / mss); // the scoreboard's lost marks (Linux lost_out)
  else if (tcb.retransmits > 0 && flight > 0 && isDataState(tcb.state)) lost = Math.ceil(flight / mss);
  return {
    state: tcb.state,
    local: endpoint(tcb.local, tcb.localPort),
    remote: endpoint(tcb.remote, tcb.remotePort),
    rcvWscale: tcb.wsOk ? tcb.rcvWscale : undefined,
    sndWscale: tcb.wsOk ? tcb.sndWscale : undefined,
    timestamps: tcb.tsOk,
    sack: tcb.sackOk,
    rto: ms(tcb.rtt.rto),
    rtt: srtt === undefined ? undefined : ms(srtt),
    rttvar: srtt === undefined ? undefined : ms(tcb.rtt.rttvar),
    mss: tcb.mss,
    advmss: tcb.advMss,
    cwnd: Math.max(1, Math.floor(tcb.cwnd / mss)),
    ssthresh: tcb.ssthresh >= 0x7fffffff ? undefined : Math.floor(tcb.ssthresh / mss),
    cwndBytes: tcb.cwnd,
    sndWnd: tcb.sndWnd,
    rcvWnd: Math.max(0, (tcb.rcvAdv - tcb.rcvNxt) | 0),
    bytesAcked: tcb.bytesAcked,
    bytesReceived: tcb.bytesReceived,
    segsOut: tcb.segsOut,
    segsIn: tcb.segsIn,
    unacked: Math.ceil(flight / mss),
    retransmits: tcb.retransmits,
    totalRetrans: tcb.totalRetrans,
    lost,
    sacked: 0,
    deliveryRate: tcb.deliveryRate,
    lastRecv: ms(Math.max(0, now - tcb.lastRecvAt)),
    recvQ: tcb.rcvBuf.length,
    sendQ: tcb.sndBuf.length,
  };
}

function isDataState(s: TcpState): boolean {
  return s === 'ESTABLISHED' || s === 'FIN-WAIT-1' || s === 'CLOSE-WAIT' || s === 'CLOSING' || s === 'LAST-ACK';
}

/** `ss`'s way of writing an endpoint: IPv6 in brackets. */
function endpoint(addr: IpAddr, port: number | '*'): string {
  const a = addr.toString();
  return addr.family === 6 ? `[${a}]:${port}` : `${a}:${port}`;
}

/** A rate in bits per second as `ss` prints it: `1.2Mbps`. */
export function formatRate(bytesPerSecond: number): string {
  const bps = bytesPerSecond * 8;
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(1)}Gbps`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)}Mbps`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)}Kbps`;
  return `${Math.round(bps)}bps`;
}

/** The statistics as one line in `ss -ti`'s vocabulary: `wscale:7,7 rto:204 rtt:20/10 mss:1448 cwnd:10 ...`. */
export function formatTcpInfo(i: TcpInfo): string {
  const parts: string[] = [];
  if (i.sack) parts.push('sack');
  if (i.timestamps) parts.push('ts');
  if (i.sndWscale !== undefined && i.rcvWscale !== undefined) parts.push(`wscale:${i.sndWscale},${i.rcvWscale}`);
  parts.push(`rto:${i.rto}`);
  if (i.rtt !== undefined) parts.push(`rtt:${i.rtt}/${i.rttvar ?? 0}`);
  parts.push(`mss:${i.mss}`, `advmss:${i.advmss}`, `cwnd:${i.cwnd}`);
  if (i.ssthresh !== undefined) parts.push(`ssthresh:${i.ssthresh}`);
  parts.push(`bytes_acked:${i.bytesAcked}`, `bytes_received:${i.bytesReceived}`, `segs_out:${i.segsOut}`, `segs_in:${i.segsIn}`);
  parts.push(`snd_wnd:${i.sndWnd}`, `rcv_wnd:${i.rcvWnd}`);
  if (i.deliveryRate > 0) parts.push(`delivery_rate ${formatRate(i.deliveryRate)}`);
  if (i.unacked > 0) parts.push(`unacked:${i.unacked}`);
  if (i.retransmits > 0) parts.push(`retransmits:${i.retransmits}`);
  parts.push(`retrans:${i.totalRetrans}`, `lost:${i.lost}`, `sacked:${i.sacked}`, `lastrcv:${i.lastRecv}`);
  return parts.join(' ');
}

/** One line of the socket table. */
export interface SocketRow {
  /** `ss`'s state names: LISTEN, SYN-SENT, SYN-RECV, ESTAB, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT. */
  state: string;
  /** Listeners: the accept queue's length; connections: bytes not yet read. */
  recvQ: number;
  /** Listeners: the backlog; connections: bytes not yet acknowledged (sent or not). */
  sendQ: number;
  local: string;
  peer: string;
  /** Listeners: half-open children in the SYN queue (not in `ss -tan`; `ss` shows them as SYN-RECV rows, which we also list). */
  synQueue?: number;
}

/** `ss`'s spelling of an RFC 9293 state. */
export function ssState(s: TcpState): string {
  switch (s) {
    case 'ESTABLISHED': return 'ESTAB';
    case 'SYN-RECEIVED': return 'SYN-RECV';
    case 'CLOSED': return 'UNCONN';
    case 'LISTEN':
    case 'SYN-SENT':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      return s;
  }
}

/** Every listener, connection and TIME-WAIT record of a TCP layer, like `ss -tan`: listeners first, then by local and peer address. */
export function socketTable(tcp: TcpLayer): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const l of tcp.allListeners()) {
    rows.push({
      state: 'LISTEN', recvQ: l.acceptQueue.length, sendQ: l.backlog,
      local: endpoint(l.local, l.port), peer: l.local.family === 6 ? '[::]:*' : '0.0.0.0:*',
      synQueue: l.synQueue.size,
    });
  }
  const conns: SocketRow[] = [];
  for (const t of tcp.connections()) {
    conns.push({ state: ssState(t.state), recvQ: t.rcvBuf.length, sendQ: t.sndBuf.length, local: endpoint(t.local, t.localPort), peer: endpoint(t.remote, t.remotePort) });
  }
  // Connections in TIME-WAIT live on as compact records (src/tcp/timewait.ts), not TCBs.
  const tw = tcp.timeWait;
  for (const slot of tw.slots()) {
    conns.push({ state: 'TIME-WAIT', recvQ: 0, sendQ: 0, local: endpoint(tw.local(slot), tw.localPort(slot)), peer: endpoint(tw.remote(slot), tw.remotePort(slot)) });
  }
  conns.sort((a, b) => cmp(a.local, b.local) || cmp(a.peer, b.peer));
  return [...rows, ...conns];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Formats a socket table with `ss -tan`'s columns. */
export function formatSocketTable(rows: readonly SocketRow[]): string {
  const head = ['State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port'];
  const body = rows.map((r) => [r.state, String(r.recvQ), String(r.sendQ), r.local, r.peer]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}
