// The `%{ ... }%` blocks of packetdrill scripts are Python run against tcp_info snapshots. The
// runner does not run Python: it evaluates the one form scripts mostly use, `assert EXPR [OP EXPR]
// [, message]`, where EXPR combines tcp_info fields, packetdrill's constants (TCP_CA_Loss,
// TCPI_OPT_SACK, ...) and numbers with `| & + - * // ( )`. Any other line is reported as
// unsupported rather than skipped.
import { fail, unsupported } from './errors.js';
import type { TcpInfo } from './tcp-info.js';

/** Names packetdrill's Python helpers define for tcp_info values. */
const CONSTANTS: Readonly<Record<string, number>> = {
  TCP_CA_Open: 0, TCP_CA_Disorder: 1, TCP_CA_CWR: 2, TCP_CA_Recovery: 3, TCP_CA_Loss: 4,
  TCP_ESTABLISHED: 1, TCP_SYN_SENT: 2, TCP_SYN_RECV: 3, TCP_FIN_WAIT1: 4, TCP_FIN_WAIT2: 5, TCP_TIME_WAIT: 6,
  TCP_CLOSE: 7, TCP_CLOSE_WAIT: 8, TCP_LAST_ACK: 9, TCP_LISTEN: 10, TCP_CLOSING: 11,
  TCPI_OPT_TIMESTAMPS: 1, TCPI_OPT_SACK: 2, TCPI_OPT_WSCALE: 4, TCPI_OPT_ECN: 8,
};

const BINARY: Readonly<Record<string, { prec: number; f: (a: number, b: number) => number }>> = {
  '|': { prec: 1, f: (a, b) => a | b },
  '&': { prec: 2, f: (a, b) => a & b },
  '+': { prec: 3, f: (a, b) => a + b },
  '-': { prec: 3, f: (a, b) => a - b },
  '*': { prec: 4, f: (a, b) => a * b },
  '//': { prec: 4, f: (a, b) => Math.floor(a / b) },
};

const COMPARE: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '==': (a, b) => a === b, '!=': (a, b) => a !== b, '<': (a, b) => a < b,
  '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
};

/** Checks that every line of a code block is one the runner evaluates (before any connection is needed). */
export function checkCode(code: string, firstLine: number): void {
  code.split('\n').forEach((raw, i) => {
    const text = stripComment(raw).trim();
    if (text === '') return;
    const m = /^assert\s+(.*?)(?:\s*,\s*[^,]*)?$/.exec(text);
    if (m === null) throw unsupported(firstLine + i, `code line '${text}' (only 'assert <expression>' lines are evaluated)`);
    tokenize(m[1]!, firstLine + i, text);
  });
}

/** Checks every line of a code block against `info`; throws ScriptError (fail or unsupported) at the first problem. */
export function evaluateCode(code: string, firstLine: number, info: TcpInfo): void {
  code.split('\n').forEach((raw, i) => {
    const line = firstLine + i;
    const text = stripComment(raw).trim();
    if (text === '') return;
    const m = /^assert\s+(.*?)(?:\s*,\s*[^,]*)?$/.exec(text);
    if (m === null) throw unsupported(line, `code line '${text}' (only 'assert <expression>' lines are evaluated)`);
    const toks = tokenize(m[1]!, line, text);
    const p = { i: 0 };
    const shown: string[] = [];
    let ok = comparison(toks, p, info, line, shown);
    for (;;) {
      const t = toks[p.i];
      if (t !== 'and' && t !== 'or') break;
      p.i++;
      const next = comparison(toks, p, info, line, shown);
      ok = t === 'and' ? ok && next : ok || next;
    }
    if (p.i !== toks.length) throw unsupported(line, `code line '${text}' (an expression the runner does not evaluate)`);
    if (!ok) throw fail(line, `error executing code: AssertionError: ${text} (${shown.join('; ')})`);
  });
}

/** `EXPR [OP EXPR]`: a comparison, or an expression taken as true when non-zero (Python truthiness). */
function comparison(toks: string[], p: { i: number }, info: TcpInfo, line: number, shown: string[]): boolean {
  const start = p.i;
  const lhs = expr(toks, p, 0, info, line);
  const op = toks[p.i];
  const cmp = op === undefined ? undefined : COMPARE[op];
  if (cmp === undefined) {
    shown.push(`${toks.slice(start, p.i).join(' ')} is ${lhs}`);
    return lhs !== 0;
  }
  p.i++;
  const rhsStart = p.i;
  const rhs = expr(toks, p, 0, info, line);
  shown.push(`${toks.slice(start, rhsStart - 1).join(' ')} is ${lhs}, ${toks.slice(rhsStart, p.i).join(' ')} is ${rhs}`);
  return cmp(lhs, rhs);
}

function stripComment(s: string): string {
  const k = s.indexOf('#');
  return k < 0 ? s : s.slice(0, k);
}

function tokenize(s: string, line: number, text: string): string[] {
  const out: string[] = [];
  const re = /\s*(0x[0-9a-fA-F]+|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|\/\/|==|!=|<=|>=|[<>|&+\-*()])/y;
  let pos = 0;
  while (pos < s.length) {
    if (/^\s*$/.test(s.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m === null) throw unsupported(line, `code line '${text}' (cannot read '${s.slice(pos).trim()}')`);
    out.push(m[1]!);
    pos = re.lastIndex;
  }
  return out;
}

function expr(toks: string[], p: { i: number }, minPrec: number, info: TcpInfo, line: number): number {
  let lhs = primary(toks, p, info, line);
  for (;;) {
    const op = toks[p.i];
    const b = op === undefined ? undefined : BINARY[op];
    if (b === undefined || b.prec < minPrec) return lhs;
    p.i++;
    const rhs = expr(toks, p, b.prec + 1, info, line);
    lhs = b.f(lhs, rhs);
  }
}

function primary(toks: string[], p: { i: number }, info: TcpInfo, line: number): number {
  const t = toks[p.i++];
  if (t === undefined) throw unsupported(line, 'a code expression that ends early');
  if (t === '(') {
    const v = expr(toks, p, 0, info, line);
    if (toks[p.i++] !== ')') throw unsupported(line, "a code expression without its ')'");
    return v;
  }
  if (t === '-') return -primary(toks, p, info, line);
  if (/^0x/.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^\d/.test(t)) return Number(t);
  const c = CONSTANTS[t];
  if (c !== undefined) return c;
  const v = info[t];
  if (v === undefined) throw unsupported(line, `tcp_info field or name '${t}' (synack reports: ${Object.keys(info).join(', ')})`);
  return v;
}
