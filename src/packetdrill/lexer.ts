// The packetdrill lexer: script text to tokens, following google/packetdrill's lexer.l (longest
// match wins; on a tie the earlier rule). Keywords (`ack`, `win`, `mss`, ...) come out as words
// and the parser gives them meaning by position. User definitions (`-D NAME=value`,
// `--define=NAME=value`) replace a word by its value as packetdrill's `word()` does: "..." makes
// a string, `...` a command, anything else a word (or a number when it looks like one).

/** A token with the line it starts on. */
export type Token =
  | { readonly t: 'int'; readonly value: number; readonly text: string; readonly line: number }
  | { readonly t: 'hex'; readonly value: number; readonly text: string; readonly line: number }
  | { readonly t: 'float'; readonly value: number; readonly text: string; readonly line: number }
  | { readonly t: 'word'; readonly text: string; readonly line: number }
  | { readonly t: 'string'; readonly text: string; readonly line: number }
  | { readonly t: 'backquoted'; readonly text: string; readonly line: number }
  | { readonly t: 'code'; readonly text: string; readonly line: number }
  | { readonly t: 'option'; readonly name: string; readonly value: string | undefined; readonly text: string; readonly line: number }
  | { readonly t: 'ipv4'; readonly text: string; readonly line: number }
  | { readonly t: 'ellipsis'; readonly text: '...'; readonly line: number }
  | { readonly t: 'punct'; readonly text: string; readonly line: number }
  | { readonly t: 'error'; readonly text: string; readonly line: number }
  | { readonly t: 'eof'; readonly text: ''; readonly line: number };

// Rules in lexer.l's order, each anchored at the current position (sticky).
const RULES: readonly (readonly [Token['t'] | 'skip', RegExp])[] = [
  ['ellipsis', /\.\.\./y],
  ['option', /--[a-zA-Z0-9_]+/y],
  ['float', /-?[0-9]*\.[0-9]+/y],
  ['int', /-?[0-9]+/y],
  ['hex', /0x[0-9a-fA-F]+/y],
  ['word', /[a-zA-Z0-9_]+/y],
  ['string', /"(?:\\.|[^"])*"/y],
  ['backquoted', /`(?:\\.|[^`])*`/y],
  ['skip', /[ \t\r\n]+/y],
  ['skip', /\/\/[^\n]*(?:\n|$)/y],
  ['skip', /\/\*(?:[^*]|\*(?!\/))*\*\//y],
  ['code', /%\{(?:[^}]|\}(?!%))*\}%/y],
  ['ipv4', /[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/y],
];

/** Turns script text into tokens on demand. */
export class Lexer {
  private pos = 0;
  private line = 1;

  /** `defines` maps user symbols to their values; it may grow while lexing (in-script `--define`). */
  constructor(private readonly src: string, readonly defines: Map<string, string>) {}

  /** The next token (eof at the end; an 'error' token for a character no rule takes). */
  next(): Token {
    for (;;) {
      if (this.pos >= this.src.length) return { t: 'eof', text: '', line: this.line };
      let best: { kind: Token['t'] | 'skip'; text: string } | undefined;
      for (const [kind, re] of RULES) {
        re.lastIndex = this.pos;
        const m = re.exec(this.src);
        if (m !== null && m[0].length > 0 && (best === undefined || m[0].length > best.text.length)) best = { kind, text: m[0] };
      }
      const line = this.line;
      if (best === undefined) {
        // lexer.l: `[^ \t\n]  return (int) yytext[0];`
        const ch = this.src[this.pos]!;
        this.pos++;
        if (ch === '\n') this.line++;
        return { t: 'punct', text: ch, line };
      }
      this.pos += best.text.length;
      this.line += countNewlines(best.text);
      if (best.kind === 'skip') continue;
      return this.make(best.kind, best.text, line);
    }
  }

  private make(kind: Token['t'], text: string, line: number): Token {
    switch (kind) {
      case 'int':
        return { t: 'int', value: Number(text), text, line };
      case 'hex':
        return { t: 'hex', value: Number.parseInt(text.slice(2), 16), text, line };
      case 'float':
        return { t: 'float', value: Number(text), text, line };
      case 'word':
        return this.word(text, line);
      case 'string':
        return { t: 'string', text: unescape(text.slice(1, -1)), line };
      case 'backquoted':
        return { t: 'backquoted', text: text.slice(1, -1), line };
      case 'code':
        return { t: 'code', text: text.slice(2, -2).trim(), line };
      case 'ipv4':
        return { t: 'ipv4', text, line };
      case 'ellipsis':
        return { t: 'ellipsis', text: '...', line };
      case 'option':
        return this.option(text.slice(2), line);
      case 'punct':
      case 'error':
      case 'eof':
        return { t: 'error', text, line };
    }
  }

  /** `--name` or `--name=value`: the value is taken raw up to whitespace (or a quoted string). */
  private option(name: string, line: number): Token {
    if (this.src[this.pos] !== '=') return { t: 'option', name, value: undefined, text: `--${name}`, line };
    this.pos++;
    let value: string;
    if (this.src[this.pos] === '"') {
      const end = this.src.indexOf('"', this.pos + 1);
      const stop = end < 0 ? this.src.length : end + 1;
      value = this.src.slice(this.pos + 1, end < 0 ? this.src.length : end);
      this.pos = stop;
    } else {
      const m = /[^\s]*/y;
      m.lastIndex = this.pos;
      value = m.exec(this.src)![0];
      this.pos += value.length;
    }
    return { t: 'option', name, value, text: `--${name}=${value}`, line };
  }

  /** A word, or the value a user definition gives it. */
  private word(text: string, line: number): Token {
    const v = this.defines.get(text);
    if (v === undefined) return { t: 'word', text, line };
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) return { t: 'string', text: v.slice(1, -1), line };
    if (v.startsWith('`') && v.endsWith('`') && v.length >= 2) return { t: 'backquoted', text: v.slice(1, -1), line };
    if (/^-?[0-9]+$/.test(v)) return { t: 'int', value: Number(v), text: v, line };
    if (/^0x[0-9a-fA-F]+$/.test(v)) return { t: 'hex', value: Number.parseInt(v.slice(2), 16), text: v, line };
    if (/^-?[0-9]*\.[0-9]+$/.test(v)) return { t: 'float', value: Number(v), text: v, line };
    return { t: 'word', text: v, line };
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}
