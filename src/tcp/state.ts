// The eleven connection states of RFC 9293 §3.3.2, spelled as the RFC spells them.

/** A TCP connection state (RFC 9293 §3.3.2). */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/** Every state, in the RFC's order. */
export const TCP_STATES: readonly TcpState[] = [
  'CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2',
  'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT',
];

/** RFC 9293 §3.3.2: the states after the handshake in which both sequence spaces are known. */
export function isSynchronized(s: TcpState): boolean {
  return s !== 'CLOSED' && s !== 'LISTEN' && s !== 'SYN-SENT' && s !== 'SYN-RECEIVED';
}

/** States in which received text is still delivered to the user (RFC 9293 §3.10.7.4, seventh step). */
export function acceptsText(s: TcpState): boolean {
  return s === 'ESTABLISHED' || s === 'FIN-WAIT-1' || s === 'FIN-WAIT-2';
}

/** States in which we have sent (or queued) our FIN: the send side is closed. */
export function sendClosed(s: TcpState): boolean {
  return s === 'FIN-WAIT-1' || s === 'FIN-WAIT-2' || s === 'CLOSING' || s === 'LAST-ACK' || s === 'TIME-WAIT';
}

/** States in which the peer's FIN has been received: no more text will arrive. */
export function receiveClosed(s: TcpState): boolean {
  return s === 'CLOSE-WAIT' || s === 'CLOSING' || s === 'LAST-ACK' || s === 'TIME-WAIT';
}
