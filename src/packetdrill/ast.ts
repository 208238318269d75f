// The parsed form of a packetdrill script: header options, events (packets, system calls,
// shell commands, TCP_INFO code blocks) with their times, and the expressions system calls take.
// The grammar is google/packetdrill's (parser.y, lexer.l), restricted to what TCP scripts use;
// see docs/packetdrill.md for the subset. Read first: the packetdrill paper (USENIX ATC 2013),
// section 3 ("Script language").

/**
 * When an event happens (packetdrill's event_time): absolute seconds, relative to the previous
 * event (`+0.1`), `*` (any time; outbound packets only), or a window (`a~b`, `+a~+b`; outbound
 * packets only). Values are microseconds.
 */
export type TimeSpec =
  | { readonly kind: 'absolute'; readonly us: number }
  | { readonly kind: 'relative'; readonly us: number }
  | { readonly kind: 'any' }
  | { readonly kind: 'absolute-range'; readonly us: number; readonly endUs: number }
  | { readonly kind: 'relative-range'; readonly us: number; readonly endUs: number };

/** One TCP option as written in a script, in the order written (`<mss 1460,nop,wscale 7>`). */
export type TcpOptionSpec =
  | { readonly kind: 'nop' }
  | { readonly kind: 'eol' }
  | { readonly kind: 'mss'; readonly value: number }
  | { readonly kind: 'wscale'; readonly value: number }
  | { readonly kind: 'sackOK' }
  | { readonly kind: 'sack'; readonly blocks: readonly (readonly [number, number])[] }
  | { readonly kind: 'ts'; readonly val: number; readonly ecr: number }
  | { readonly kind: 'fo'; readonly cookie: Uint8Array; readonly experimental: boolean };

/** A TCP packet line: `< S. 0:0(0) ack 1 win 65535 <mss 1460>`. */
export interface TcpPacketSpec {
  readonly proto: 'tcp';
  /** The flag characters as written (`S.`, `P.`, `F.`, `R`, `-` is stored as ''). */
  readonly flags: string;
  /** Explicit ports (`< 40000>8080 S ...`), or undefined for the socket under test's. */
  readonly ports: { readonly src: number; readonly dst: number } | undefined;
  /** Start sequence number (absolute in SYNs, relative to the ISN otherwise). */
  readonly seq: number;
  /** Payload bytes (zeros). */
  readonly len: number;
  /** The ACK field (relative), 0 when not given. */
  readonly ack: number;
  /** The window field; undefined for outbound lines that do not check it. */
  readonly win: number | undefined;
  /** The urgent pointer (0 when not given). */
  readonly urg: number;
  /** The options in order; undefined for `<...>` (options not checked). */
  readonly options: readonly TcpOptionSpec[] | undefined;
}

/** What an ICMP error quotes: a TCP segment of ours (`[1:1461(1460)]`). */
export interface IcmpEchoedTcp {
  readonly seq: number;
  readonly len: number;
}

/** An ICMP packet line: `< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]`. */
export interface IcmpPacketSpec {
  readonly proto: 'icmp';
  readonly type: string;
  readonly code: string | undefined;
  /** `mtu N` (frag_needed / packet_too_big), -1 when absent. */
  readonly mtu: number;
  readonly echoed: IcmpEchoedTcp;
}

/** A packet event. */
export interface PacketEvent {
  readonly type: 'packet';
  readonly line: number;
  readonly time: TimeSpec;
  readonly direction: 'inbound' | 'outbound';
  readonly packet: TcpPacketSpec | IcmpPacketSpec;
}

/** An expression in a system call (packetdrill's expression grammar). */
export type Expr =
  | { readonly kind: 'ellipsis' }
  | { readonly kind: 'int'; readonly value: number; readonly text: string }
  | { readonly kind: 'word'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'list'; readonly items: readonly Expr[] }
  | { readonly kind: 'or'; readonly lhs: Expr; readonly rhs: Expr }
  | { readonly kind: 'assign'; readonly name: string; readonly value: Expr }
  | { readonly kind: 'sockaddr'; readonly family: string; readonly port: number; readonly addr: string }
  | { readonly kind: 'pollfd'; readonly fd: Expr; readonly events: Expr; readonly revents: Expr }
  | { readonly kind: 'linger'; readonly onoff: number; readonly linger: number }
  | { readonly kind: 'iovec'; readonly len: number }
  | { readonly kind: 'struct'; readonly items: readonly Expr[] }
  | { readonly kind: 'inet-addr'; readonly addr: string };

/** A system call event: `+0 read(4, ..., 1000) = 1000`, possibly blocking (`0...0.2 accept(...)`). */
export interface SyscallEvent {
  readonly type: 'syscall';
  readonly line: number;
  readonly time: TimeSpec;
  readonly name: string;
  readonly args: readonly Expr[];
  readonly result: Expr;
  /** The expected errno name when the result is -1. */
  readonly errno: string | undefined;
  /** End time of a blocking call (`T...END`), microseconds; undefined for non-blocking calls. */
  readonly endUs: number | undefined;
}

/** A backquoted shell command (never run: sysctl lines are mapped onto the stack's settings). */
export interface CommandEvent {
  readonly type: 'command';
  readonly line: number;
  readonly time: TimeSpec;
  readonly command: string;
}

/** A `%{ ... }%` code block (TCP_INFO assertions). */
export interface CodeEvent {
  readonly type: 'code';
  readonly line: number;
  readonly time: TimeSpec;
  readonly code: string;
}

/** Any event of a script. */
export type ScriptEvent = PacketEvent | SyscallEvent | CommandEvent | CodeEvent;

/** A `--name=value` header option. */
export interface ScriptOption {
  readonly name: string;
  readonly value: string | undefined;
  readonly line: number;
}

/** A parsed script. */
export interface Script {
  readonly options: readonly ScriptOption[];
  /** A backquoted command before the first event (packetdrill's init command). */
  readonly initCommand: { readonly command: string; readonly line: number } | undefined;
  readonly events: readonly ScriptEvent[];
  /** A backquoted command after the last event (run at the end, pass or fail). */
  readonly cleanupCommand: { readonly command: string; readonly line: number } | undefined;
}
