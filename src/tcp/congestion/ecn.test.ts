import { describe, expect, test } from 'vitest';
import { seq } from '../seq.js';
import { TcpFlag } from '../../wire/tcp.js';
import {
  DEFAULT_ECN_MODE, EcnCodepoint, EcnReceiver, EcnSender, ecnNegotiatedActive, ecnNegotiatedPassive,
  isEcnSetupSyn, isEcnSetupSynAck, synAckEcnFlags, synEcnFlags,
} from './ecn.js';

const { ECE, CWR, SYN, ACK } = TcpFlag;

describe('ECN negotiation (RFC 3168 §6.1.1, Linux tcp_ecn)', () => {
  test('the default is tcp_ecn = 2: accept when asked, never ask', () => {
    expect(DEFAULT_ECN_MODE).toBe(2);
    expect(synEcnFlags(2)).toBe(0);
    expect(synAckEcnFlags(2, SYN | ECE | CWR)).toBe(ECE);
    expect(ecnNegotiatedPassive(2, SYN | ECE | CWR)).toBe(true);
  });

  test('mode 1 asks with ECE+CWR on the SYN and is on when the SYN-ACK carries ECE without CWR', () => {
    expect(synEcnFlags(1)).toBe(ECE | CWR);
    expect(ecnNegotiatedActive(1, SYN | ACK | ECE)).toBe(true);
    expect(ecnNegotiatedActive(1, SYN | ACK | ECE | CWR)).toBe(false); // not an ECN-setup SYN-ACK
    expect(ecnNegotiatedActive(1, SYN | ACK)).toBe(false);
    expect(ecnNegotiatedActive(2, SYN | ACK | ECE)).toBe(false); // we never asked
  });

  test('mode 0 neither asks nor accepts; a SYN with only one of the flags is not an ECN-setup SYN', () => {
    expect(synAckEcnFlags(0, SYN | ECE | CWR)).toBe(0);
    expect(ecnNegotiatedPassive(0, SYN | ECE | CWR)).toBe(false);
    expect(isEcnSetupSyn(SYN | ECE)).toBe(false);
    expect(synAckEcnFlags(1, SYN | ECE)).toBe(0);
    expect(isEcnSetupSynAck(SYN | ACK | ECE)).toBe(true);
  });
});

describe('ECN sender (RFC 3168 §6.1.2, §6.1.4-6.1.6)', () => {
  test('ECT(0) only on new data; never on SYN, pure ACKs, retransmissions, window probes or RSTs', () => {
    const s = new EcnSender(true);
    expect(s.codepoint('new-data')).toBe(EcnCodepoint.ECT0);
    for (const k of ['syn', 'pure-ack', 'retransmission', 'window-probe', 'rst'] as const) expect(s.codepoint(k)).toBe(EcnCodepoint.NOT_ECT);
    expect(new EcnSender(false).codepoint('new-data')).toBe(EcnCodepoint.NOT_ECT);
  });

  test('ECE causes one reduction per window of data, and CWR goes on the next new data segment only', () => {
    const s = new EcnSender(true);
    expect(s.onAck(true, seq(1000), seq(11000))).toBe(true);
    expect(s.flags('retransmission')).toBe(0);
    expect(s.flags('new-data')).toBe(CWR);
    expect(s.flags('new-data')).toBe(0);
    // More ECEs for the same window are ignored ...
    expect(s.onAck(true, seq(5000), seq(12000))).toBe(false);
    expect(s.onAck(true, seq(10999), seq(13000))).toBe(false);
    // ... until everything outstanding at the reduction is acknowledged.
    expect(s.onAck(true, seq(11000), seq(14000))).toBe(true);
  });

  test('a loss reduction also owes CWR and counts as this window\'s reduction', () => {
    const s = new EcnSender(true);
    s.onReduction(seq(5000));
    expect(s.onAck(true, seq(2000), seq(6000))).toBe(false);
    expect(s.flags('new-data')).toBe(CWR);
  });

  test('without ECN negotiated nothing happens', () => {
    const s = new EcnSender(false);
    expect(s.onAck(true, seq(0), seq(10))).toBe(false);
    s.onReduction(seq(10));
    expect(s.flags('new-data')).toBe(0);
  });
});

describe('ECN receiver (RFC 3168 §6.1.3)', () => {
  test('a CE mark sets ECE on every ACK until a data segment with CWR arrives', () => {
    const r = new EcnReceiver(true);
    expect(r.ackFlags()).toBe(0);
    expect(r.onSegment(EcnCodepoint.CE, ACK, true)).toBe(true);
    expect(r.ackFlags()).toBe(ECE);
    r.onSegment(EcnCodepoint.ECT0, ACK, true);
    expect(r.ackFlags()).toBe(ECE);
    r.onSegment(EcnCodepoint.ECT0, ACK | CWR, true);
    expect(r.ackFlags()).toBe(0);
  });

  test('CWR and CE in the same segment: the new mark is echoed', () => {
    const r = new EcnReceiver(true);
    r.onSegment(EcnCodepoint.CE, ACK, true);
    r.onSegment(EcnCodepoint.CE, ACK | CWR, true);
    expect(r.ackFlags()).toBe(ECE);
  });

  test('without ECN negotiated CE marks are not echoed', () => {
    const r = new EcnReceiver(false);
    expect(r.onSegment(EcnCodepoint.CE, ACK, true)).toBe(false);
    expect(r.ackFlags()).toBe(0);
  });
});
