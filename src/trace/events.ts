// Structured trace events. The core (tcp, ip) emits them through an optional `Tracer`; tools
// (diagrams, plots, the CLI) consume them. Type-only, so the core may import it.
import type { Instant } from '../time/instant.js';
import type { TcpState } from '../tcp/state.js';

/** Identifies a connection in traces: the stack's name plus local and remote endpoints. */
export interface ConnRef {
  /** The stack-local connection id. */
  id: number;
  local: string;
  remote: string;
}

/** One trace event. */
export type TraceEvent =
  | { kind: 'tcp-state'; at: Instant; stack: string; conn: ConnRef; from: TcpState; to: TcpState; why: string }
  | { kind: 'tcp-drop'; at: Instant; stack: string; reason: string; conn?: ConnRef }
  | { kind: 'tcp-timer'; at: Instant; stack: string; conn: ConnRef; timer: string; action: 'fired' }
  | { kind: 'tcp-retransmit'; at: Instant; stack: string; conn: ConnRef; seq: number; len: number; why: string }
  | { kind: 'tcp-cwnd'; at: Instant; stack: string; conn: ConnRef; cwnd: number; ssthresh: number; flight: number; srttUs: number | undefined; state: string }
  | { kind: 'tcp-error'; at: Instant; stack: string; conn: ConnRef; code: string }
  | { kind: 'app'; at: Instant; stack: string; conn?: ConnRef; call: string; detail?: string };

/** Receives trace events; must not throw or call back into the stack. */
export type Tracer = (ev: TraceEvent) => void;
