// The packetdrill parser: tokens to a `Script`, by recursive descent over the grammar of
// google/packetdrill's parser.y (script: options, init command, events, cleanup command; an
// event: time then a packet, a system call, a command or a code block). Constructs outside the
// subset synack runs (UDP, GRE/MPLS encapsulation, explicit IP headers, TOS/ECN/TTL checks, fuzz
// blocks, msghdr/cmsg expressions, AccECN flags) raise "unsupported" (exit code 2) at their line
// rather than being skipped, so no script can pass while ignoring part of itself.
import type { Expr, IcmpPacketSpec, PacketEvent, Script, ScriptEvent, ScriptOption, TcpOptionSpec, TcpPacketSpec, TimeSpec } from './ast.js';
import { type Token, Lexer } from './lexer.js';
import { syntaxError, unsupported } from './errors.js';

/** Parses a whole script. Throws ScriptError ('syntax' or 'unsupported') with the line. */
export function parseScript(text: string, defines: ReadonlyMap<string, string> = new Map()): Script {
  return new Parser(text, new Map(defines)).script();
}

const U16 = 0xffff;
const U32 = 0xffffffff;

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;
  private ahead: Token | undefined;

  constructor(text: string, defines: Map<string, string>) {
    this.lexer = new Lexer(text, defines);
    this.tok = this.lexer.next();
  }

  // ---- token helpers ----

  private advance(): Token {
    const t = this.tok;
    if (this.ahead !== undefined) {
      this.tok = this.ahead;
      this.ahead = undefined;
    } else {
      this.tok = this.lexer.next();
    }
    return t;
  }

  private peek2(): Token {
    this.ahead ??= this.lexer.next();
    return this.ahead;
  }

  /** The current token, read through a call so TypeScript does not keep narrowings across advance(). */
  private cur(): Token {
    return this.tok;
  }

  private isPunct(ch: string, t: Token = this.tok): boolean {
    return t.t === 'punct' && t.text === ch;
  }

  private isWord(w: string, t: Token = this.tok): boolean {
    return t.t === 'word' && t.text === w;
  }

  private expectPunct(ch: string, what: string): void {
    if (!this.isPunct(ch)) throw this.error(`expected '${ch}' ${what}`);
    this.advance();
  }

  private expectWord(w: string, what: string): void {
    if (!this.isWord(w)) throw this.error(`expected '${w}' ${what}`);
    this.advance();
  }

  private error(message: string): Error {
    const t = this.tok;
    const at = t.t === 'eof' ? 'end of file' : t.t === 'option' ? `--${t.name}` : t.text;
    return syntaxError(t.line, `parse error at '${at}': ${message}`);
  }

  private integer(what: string, max = Number.MAX_SAFE_INTEGER): number {
    const t = this.tok;
    if (t.t !== 'int' && t.t !== 'hex') throw this.error(`expected an integer for ${what}`);
    if (t.value < 0 || t.value > max) throw syntaxError(t.line, `semantic error: ${what} out of range: ${t.text}`);
    this.advance();
    return t.value;
  }

  // ---- script ----

  script(): Script {
    const options: ScriptOption[] = [];
    while (this.tok.t === 'option') {
      const t = this.tok;
      this.advance();
      options.push({ name: t.name, value: t.value, line: t.line });
      if ((t.name === 'define' || t.name === 'D') && t.value !== undefined) {
        const eq = t.value.indexOf('=');
        if (eq > 0) this.lexer.defines.set(t.value.slice(0, eq), t.value.slice(eq + 1));
      }
    }
    let initCommand: Script['initCommand'];
    if (this.tok.t === 'backquoted') {
      const t = this.advance();
      initCommand = { command: t.text, line: t.line };
    }
    const events: ScriptEvent[] = [];
    let cleanupCommand: Script['cleanupCommand'];
    while (this.cur().t !== 'eof') {
      if (this.cur().t === 'backquoted') {
        const t = this.advance();
        cleanupCommand = { command: t.text, line: t.line };
        if (this.cur().t !== 'eof') throw this.error('a command without a time can only come first or last');
        break;
      }
      events.push(this.event());
    }
    if (events.length === 0) throw syntaxError(this.tok.line, 'parse error: the script has no events');
    return { options, initCommand, events, cleanupCommand };
  }

  private event(): ScriptEvent {
    const line = this.tok.line;
    const time = this.eventTime();
    const t = this.tok;
    let ev: ScriptEvent;
    if (this.isPunct('<') || this.isPunct('>')) {
      ev = this.packet(line, time);
    } else if (t.t === 'backquoted') {
      this.advance();
      ev = { type: 'command', line, time, command: t.text };
    } else if (t.t === 'code') {
      this.advance();
      ev = { type: 'code', line, time, code: t.text };
    } else if (t.t === 'ellipsis' || t.t === 'word') {
      ev = this.syscall(line, time);
    } else {
      throw this.error('expected a packet, a system call, a command or a code block');
    }
    // parser.y: "event time <star> can only be used with outbound packets", and the same for ranges.
    const outbound = ev.type === 'packet' && ev.direction === 'outbound';
    if (time.kind === 'any' && !outbound) throw syntaxError(line, 'semantic error: event time <star> can only be used with outbound packets');
    if ((time.kind === 'absolute-range' || time.kind === 'relative-range') && !outbound) {
      throw syntaxError(line, 'semantic error: event time range can only be used with outbound packets');
    }
    return ev;
  }

  private eventTime(): TimeSpec {
    if (this.isPunct('*')) {
      this.advance();
      return { kind: 'any' };
    }
    if (this.isPunct('+')) {
      this.advance();
      const us = this.time();
      if (this.isPunct('~')) {
        this.advance();
        this.expectPunct('+', "after '~' in a relative time range");
        const endUs = this.time();
        if (endUs < us) throw syntaxError(this.tok.line, 'semantic error: time range is backwards');
        return { kind: 'relative-range', us, endUs };
      }
      return { kind: 'relative', us };
    }
    const us = this.time();
    if (this.isPunct('~')) {
      this.advance();
      const endUs = this.time();
      if (endUs < us) throw syntaxError(this.tok.line, 'semantic error: time range is backwards');
      return { kind: 'absolute-range', us, endUs };
    }
    return { kind: 'absolute', us };
  }

  /** Seconds as FLOAT or INTEGER, to microseconds (parser.y `time`). */
  private time(): number {
    const t = this.tok;
    if (t.t !== 'float' && t.t !== 'int') throw this.error('expected a time');
    if (t.value < 0) throw syntaxError(t.line, 'semantic error: negative time');
    this.advance();
    return Math.round(t.value * 1e6);
  }

  // ---- packets ----

  private packet(line: number, time: TimeSpec): PacketEvent {
    const direction = this.isPunct('<') ? 'inbound' : 'outbound';
    this.advance();
    if (this.isPunct('(') || this.isPunct('[')) throw unsupported(this.tok.line, 'IP header fields in packets (tos, ECN codepoints, flow label, ttl)');
    if (this.isWord('ipv4') || this.isWord('ipv6') || this.isWord('gre') || this.isWord('GREv0') || this.isWord('mpls')) {
      throw unsupported(this.tok.line, `encapsulated or explicit-address packets ('${this.tok.text}')`);
    }
    if (this.isWord('udp')) throw unsupported(this.tok.line, 'UDP packets (the runner drives TCP only)');
    if (this.isWord('icmp')) return { type: 'packet', line, time, direction, packet: this.icmp() };
    let ports: TcpPacketSpec['ports'];
    if (this.tok.t === 'int' && this.isPunct('>', this.peek2())) {
      const src = this.integer('src port', U16);
      this.advance();
      const dst = this.integer('dst port', U16);
      ports = { src, dst };
    }
    const flags = this.flags();
    const { seq, len } = this.seqRange();
    let ack = 0;
    if (this.isWord('ack')) {
      this.advance();
      ack = this.integer('TCP ack sequence number', U32);
    }
    let win: number | undefined;
    if (this.isWord('win')) {
      this.advance();
      win = this.integer('TCP window value', U16);
    }
    let urg = 0;
    if (this.isWord('urg')) {
      this.advance();
      urg = this.integer('urg_ptr value', U16);
    }
    let options: TcpOptionSpec[] | undefined = [];
    if (this.isPunct('<')) {
      this.advance();
      if (this.tok.t === 'ellipsis') {
        this.advance();
        options = undefined;
      } else {
        options = this.tcpOptions();
      }
      this.expectPunct('>', 'to end the TCP options');
    }
    if (this.isPunct('{')) throw unsupported(this.tok.line, 'packet fuzzing blocks');
    // tcp_packet.c: "window must be specified for inbound packets"; parser.y: "<...> for TCP
    // options can only be used with outbound packets".
    if (direction === 'inbound' && win === undefined) throw syntaxError(line, 'semantic error: window must be specified for inbound packets');
    if (direction === 'inbound' && options === undefined) throw syntaxError(line, 'semantic error: <...> for TCP options can only be used with outbound packets');
    if (options !== undefined) {
      const bytes = optionsLength(options);
      if (bytes % 4 !== 0) {
        throw syntaxError(line, `semantic error: TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: ${bytes % 4} excess bytes`);
      }
      if (bytes > 40) throw syntaxError(line, 'semantic error: TCP option list too long');
    }
    return { type: 'packet', line, time, direction, packet: { proto: 'tcp', flags, ports, seq, len, ack, win, urg, options } };
  }

  /** parser.y `flags`: WORD ['.'] | '.' | '-'. Valid characters: `.FSRPEWU` (AccECN digits and `A` are unsupported). */
  private flags(): string {
    let s: string;
    if (this.isPunct('.')) {
      this.advance();
      s = '.';
    } else if (this.isPunct('-')) {
      this.advance();
      s = '';
    } else if (this.tok.t === 'word') {
      s = this.advance().text;
      if (this.isPunct('.')) {
        this.advance();
        s += '.';
      }
    } else if (this.tok.t === 'float') {
      throw unsupported(this.tok.line, 'AccECN ACE flags');
    } else {
      throw this.error('expected TCP flags');
    }
    for (const c of s) {
      if (c === 'A' || (c >= '0' && c <= '7')) throw unsupported(this.tok.line, `AccECN flag '${c}'`);
      if (!'.FSRPEWU'.includes(c)) throw syntaxError(this.tok.line, `semantic error: Invalid TCP flag: '${c}'`);
    }
    return s;
  }

  /** `start:end(len)` with end = start + len. */
  private seqRange(): { seq: number; len: number } {
    const line = this.tok.line;
    const seq = this.integer('TCP start sequence number', U32);
    this.expectPunct(':', 'in start:end(length)');
    const end = this.integer('TCP end sequence number', U32);
    this.expectPunct('(', 'in start:end(length)');
    const len = this.integer('TCP payload size', U16);
    this.expectPunct(')', 'in start:end(length)');
    if (end !== seq + len) throw syntaxError(line, 'semantic error: inconsistent TCP sequence numbers and payload size');
    return { seq, len };
  }

  private tcpOptions(): TcpOptionSpec[] {
    const out: TcpOptionSpec[] = [];
    for (;;) {
      out.push(this.tcpOption());
      if (!this.isPunct(',')) return out;
      this.advance();
    }
  }

  private tcpOption(): TcpOptionSpec {
    const t = this.tok;
    if (t.t !== 'word') throw this.error('expected a TCP option');
    this.advance();
    switch (t.text) {
      case 'nop':
        return { kind: 'nop' };
      case 'eol':
        return { kind: 'eol' };
      case 'mss':
        return { kind: 'mss', value: this.integer('mss value', U16) };
      case 'wscale':
        return { kind: 'wscale', value: this.integer('window scale shift count', 0xff) };
      case 'sackOK':
        return { kind: 'sackOK' };
      case 'sack': {
        const blocks: [number, number][] = [];
        do {
          const l = this.integer('TCP SACK left sequence number', U32);
          this.expectPunct(':', 'in a SACK block');
          const r = this.integer('TCP SACK right sequence number', U32);
          blocks.push([l, r]);
        } while (this.tok.t === 'int' && this.isPunct(':', this.peek2()));
        if (blocks.length > 4) throw syntaxError(t.line, 'semantic error: TCP option list too long');
        return { kind: 'sack', blocks };
      }
      case 'TS': {
        this.expectWord('val', "in 'TS val V ecr E'");
        const val = this.integer('ts val', U32);
        this.expectWord('ecr', "in 'TS val V ecr E'");
        const ecr = this.integer('ecr val', U32);
        return { kind: 'ts', val, ecr };
      }
      case 'FO':
      case 'FOEXP': {
        const experimental = t.text === 'FOEXP';
        let hex = '';
        if (this.tok.t === 'word' || this.tok.t === 'int') hex = this.advance().text;
        if (hex.length % 2 !== 0) throw syntaxError(t.line, 'semantic error: TCP fast open cookie has an odd number of digits');
        if (!/^[0-9a-fA-F]*$/.test(hex)) throw syntaxError(t.line, `semantic error: TCP fast open cookie '${hex}' is not a valid hex string`);
        const cookie = new Uint8Array(hex.length / 2);
        for (let i = 0; i < cookie.length; i++) cookie[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
        if (cookie.length > (experimental ? 36 : 38)) throw syntaxError(t.line, 'semantic error: TCP fast open cookie too long');
        return { kind: 'fo', cookie, experimental };
      }
      case 'md5':
        throw unsupported(t.line, 'the TCP MD5 signature option (RFC 2385)');
      default:
        throw syntaxError(t.line, `parse error at '${t.text}': unknown TCP option`);
    }
  }

  /** `icmp TYPE [CODE] [mtu N] [start:end(len)]` quoting one of our TCP segments. */
  private icmp(): IcmpPacketSpec {
    this.advance();
    const tt = this.tok;
    if (tt.t !== 'word') throw this.error('expected an ICMP type');
    this.advance();
    let code: string | undefined;
    if (this.tok.t === 'word' && this.tok.text !== 'mtu' && this.tok.text !== 'id') code = this.advance().text;
    let mtu = -1;
    if (this.isWord('mtu')) {
      this.advance();
      mtu = this.integer('ICMP MTU', U32);
    }
    if (this.isWord('id')) throw unsupported(this.tok.line, 'ICMP echo ids');
    let echoed = { seq: 0, len: 0 };
    if (this.isPunct('[')) {
      this.advance();
      if (this.isWord('udp') || this.isWord('raw')) throw unsupported(this.tok.line, `ICMP quoting a ${this.tok.text} packet`);
      echoed = this.seqRange();
      this.expectPunct(']', 'after the quoted segment');
    }
    return { proto: 'icmp', type: tt.text, code, mtu, echoed };
  }

  // ---- system calls ----

  private syscall(line: number, time: TimeSpec): ScriptEvent {
    let endUs: number | undefined;
    if (this.tok.t === 'ellipsis') {
      this.advance();
      endUs = this.time();
    }
    const nameTok = this.tok;
    if (nameTok.t !== 'word') throw this.error('expected a system call name');
    this.advance();
    this.expectPunct('(', `after '${nameTok.text}'`);
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.expression());
        if (!this.isPunct(',')) break;
        this.advance();
      }
    }
    this.expectPunct(')', 'to end the arguments');
    this.expectPunct('=', 'before the expected result');
    const result = this.expression();
    let errno: string | undefined;
    if (this.tok.t === 'word') {
      errno = this.advance().text;
      if (this.isPunct('(')) this.note();
    } else if (this.isPunct('(')) {
      this.note();
    }
    return { type: 'syscall', line, time, name: nameTok.text, args, result, errno, endUs };
  }

  /** A parenthesised note after the result, `(Operation now in progress)`: skipped. */
  private note(): void {
    this.advance();
    while (!this.isPunct(')')) {
      if (this.tok.t === 'eof') throw this.error("expected ')' to end the note");
      this.advance();
    }
    this.advance();
  }

  private expression(): Expr {
    let e = this.primary();
    while (this.isPunct('|')) {
      this.advance();
      e = { kind: 'or', lhs: e, rhs: this.primary() };
    }
    return e;
  }

  private primary(): Expr {
    const t = this.tok;
    switch (t.t) {
      case 'ellipsis':
        this.advance();
        return { kind: 'ellipsis' };
      case 'int':
      case 'hex':
        this.advance();
        return { kind: 'int', value: t.value, text: t.text };
      case 'string': {
        this.advance();
        let value = t.text;
        while (this.tok.t === 'string') value += this.advance().text;
        if (this.tok.t === 'ellipsis') this.advance(); // "abc"... : a prefix
        return { kind: 'string', value };
      }
      case 'word': {
        this.advance();
        if (t.text === 'inet_addr' || t.text === 'inet6_addr') {
          this.expectPunct('(', `after ${t.text}`);
          const s = this.tok;
          if (s.t !== 'string') throw this.error('expected an address string');
          this.advance();
          this.expectPunct(')', `after ${t.text}("...")`);
          return { kind: 'inet-addr', addr: s.text };
        }
        if (this.isPunct('=')) {
          this.advance();
          return { kind: 'assign', name: t.text, value: this.expression() };
        }
        return { kind: 'word', name: t.text };
      }
      case 'punct':
        if (t.text === '[') return this.list();
        if (t.text === '{') return this.braced();
        throw this.error('expected an expression');
      case 'float':
      case 'backquoted':
      case 'code':
      case 'option':
      case 'ipv4':
      case 'error':
      case 'eof':
        throw this.error('expected an expression');
    }
  }

  private list(): Expr {
    this.advance();
    const items: Expr[] = [];
    if (!this.isPunct(']')) {
      for (;;) {
        items.push(this.expression());
        if (!this.isPunct(',')) break;
        this.advance();
      }
    }
    this.expectPunct(']', 'to end the list');
    return { kind: 'list', items };
  }

  /** `{sa_family=..., sin_port=htons(N), sin_addr=inet_addr("...")}`, `{fd=..., events=...}`, `{onoff=.., linger=..}`, `{..., N}`, or `{ list }`. */
  private braced(): Expr {
    const line = this.tok.line;
    this.advance();
    const first = this.tok;
    if (first.t === 'ellipsis') {
      this.advance();
      this.expectPunct(',', 'in an iovec {..., len}');
      const len = this.integer('iovec length');
      this.expectPunct('}', 'to end the iovec');
      return { kind: 'iovec', len };
    }
    if (first.t === 'word') {
      switch (first.text) {
        case 'sa_family':
          return this.sockaddr();
        case 'fd':
          return this.pollfd();
        case 'onoff':
          return this.linger();
        case 'msg_name':
        case 'cmsg_level':
        case 'scm_sec':
        case 'ee_errno':
        case 'events':
          throw unsupported(line, `the '{${first.text}=...}' structure`);
        default:
          break;
      }
    }
    const items: Expr[] = [];
    if (!this.isPunct('}')) {
      for (;;) {
        items.push(this.expression());
        if (!this.isPunct(',')) break;
        this.advance();
      }
    }
    this.expectPunct('}', 'to end the structure');
    return { kind: 'struct', items };
  }

  private fieldName(name: string): void {
    this.expectWord(name, 'in the structure');
    this.expectPunct('=', `after ${name}`);
  }

  private sockaddr(): Expr {
    this.fieldName('sa_family');
    const fam = this.tok;
    if (fam.t !== 'word') throw this.error('expected AF_INET or AF_INET6');
    this.advance();
    this.expectPunct(',', 'after sa_family');
    const portField = this.tok.t === 'word' && this.tok.text === 'sin6_port' ? 'sin6_port' : 'sin_port';
    this.fieldName(portField);
    this.expectWord('htons', 'in the port');
    this.expectPunct('(', 'after htons');
    const port = this.integer('port', U16);
    this.expectPunct(')', 'after htons(port');
    this.expectPunct(',', 'after the port');
    const addrField = this.tok.t === 'word' && this.tok.text === 'sin6_addr' ? 'sin6_addr' : 'sin_addr';
    this.fieldName(addrField);
    const fn = this.tok;
    if (fn.t !== 'word' || (fn.text !== 'inet_addr' && fn.text !== 'inet_pton')) throw this.error('expected inet_addr("...")');
    this.advance();
    this.expectPunct('(', 'after inet_addr');
    const s = this.tok;
    if (s.t !== 'string') throw this.error('expected an address string');
    this.advance();
    this.expectPunct(')', 'after the address');
    this.expectPunct('}', 'to end the sockaddr');
    return { kind: 'sockaddr', family: fam.text, port, addr: s.text };
  }

  private pollfd(): Expr {
    this.fieldName('fd');
    const fd = this.expression();
    this.expectPunct(',', 'after fd');
    this.fieldName('events');
    const events = this.expression();
    let revents: Expr = { kind: 'int', value: 0, text: '0' };
    if (this.isPunct(',')) {
      this.advance();
      this.fieldName('revents');
      revents = this.expression();
    }
    this.expectPunct('}', 'to end the pollfd');
    return { kind: 'pollfd', fd, events, revents };
  }

  private linger(): Expr {
    this.fieldName('onoff');
    const onoff = this.integer('l_onoff');
    this.expectPunct(',', 'after onoff');
    this.fieldName('linger');
    const linger = this.integer('l_linger');
    this.expectPunct('}', 'to end the linger structure');
    return { kind: 'linger', onoff, linger };
  }
}

/** Bytes the options take in the header, as written (no padding added: packetdrill checks it). */
export function optionsLength(options: readonly TcpOptionSpec[]): number {
  let n = 0;
  for (const o of options) n += optionLength(o);
  return n;
}

/** Bytes of one option on the wire. */
export function optionLength(o: TcpOptionSpec): number {
  switch (o.kind) {
    case 'nop':
    case 'eol':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackOK':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'ts':
      return 10;
    case 'fo':
      return (o.experimental ? 4 : 2) + o.cookie.length;
  }
}
