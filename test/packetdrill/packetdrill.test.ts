// Runs every packetdrill script in this directory against synack (src/packetdrill), in virtual
// time. Scripts that need a mechanism the runner does not drive yet are listed in PENDING and
// must report "unsupported" (exit 2), so the list stays honest: when one starts to run, this test
// says so. The second half checks that the runner fails the way packetdrill does: a wrong field,
// a wrong time, a missing or extra packet, a wrong system-call result, an unsupported construct.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { runPacketdrill, type PacketdrillResult } from '../../src/packetdrill/index.js';
import { commandEffect } from '../../src/packetdrill/sysctl.js';
import { fastOpenCookie } from '../../src/tcp/fastopen.js';
import { IsnGenerator } from '../../src/tcp/isn.js';
import { IpAddr } from '../../src/wire/ip-addr.js';

const DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(DIR, '..', '..');
const SCRIPTS = readdirSync(DIR).filter((f) => f.endsWith('.pkt')).sort();
const read = (name: string): string => readFileSync(join(DIR, name), 'utf8');

/**
 * Scripts waiting for a mechanism (docs/packetdrill.md, "Pending"), with what their message names.
 * None today: the last ones (SYN cookies, Fast Open, TCP_DEFER_ACCEPT) run now. A script named
 * pending-*.pkt must be listed here, and must then report "unsupported".
 */
const PENDING = new Map<string, string>();

function run(text: string, path = 'inline.pkt', extra: Parameters<typeof runPacketdrill>[1] = {}): PacketdrillResult {
  return runPacketdrill(text, { path, ...extra });
}

/** A script with `from` replaced by `to` (exactly once). */
function edit(name: string, from: string, to: string): string {
  const text = read(name);
  expect(text.split(from).length - 1, `${name} contains ${JSON.stringify(from)} once`).toBe(1);
  return text.replace(from, to);
}

describe('packetdrill scripts (test/packetdrill/*.pkt)', () => {
  test('the directory holds the scripts', () => {
    expect(SCRIPTS.length).toBeGreaterThanOrEqual(40);
  });

  test.each(SCRIPTS)('%s', (name) => {
    const r = run(read(name), name);
    const want = PENDING.get(name);
    if (want !== undefined) {
      expect(r.status, r.message).toBe('unsupported');
      expect(r.exitCode).toBe(2);
      expect(r.message).toContain('pending');
      expect(r.message).toContain(want);
    } else {
      expect(r.message ?? 'pass').toBe('pass');
      expect(r.exitCode).toBe(0);
    }
  });

  test('every pending script is listed in docs/packetdrill.md', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'packetdrill.md'), 'utf8');
    for (const name of PENDING.keys()) expect(doc).toContain(name);
    for (const name of SCRIPTS.filter((s) => s.startsWith('pending-'))) expect(PENDING.has(name), name).toBe(true);
  });
});

describe('failures are reported like packetdrill reports them', () => {
  test('a field that differs: file:line, the field, expected vs actual, both packets dumped (exit 1)', () => {
    const r = run(edit('handshake-passive.pkt', '> S. 0:0(0) ack 1 win 65160', '> S. 0:0(0) ack 1 win 65535'), 'handshake-passive.pkt');
    expect(r.status).toBe('fail');
    expect(r.exitCode).toBe(1);
    expect(r.line).toBe(10);
    expect(r.message).toContain('handshake-passive.pkt:10: error handling packet: live packet field tcp_window: expected: 65535 (0xffff) vs actual: 65160 (0xfe88)');
    expect(r.message).toMatch(/script packet: +0\.000000 S\. 0:0\(0\) ack 1 win 65535 <mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 7>/);
    expect(r.message).toMatch(/actual packet: +0\.000000 S\. 0:0\(0\) ack 1 win 65160 <mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 7>/);
  });

  test('sequence and acknowledgment numbers are checked in the script\'s relative space', () => {
    const r = run(edit('close-active.pkt', '+0 > F. 1:1(0) ack 1\n', '+0 > F. 1:1(0) ack 2\n'));
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain('live packet field tcp_ack_seq: expected: 2 (0x2) vs actual: 1 (0x1)');
    const s = run(edit('fast-retransmit.pkt', '+0 > . 1:1461(1460) ack 1', '+0 > . 1461:2921(1460) ack 1'));
    expect(s.message).toContain('live packet field tcp_seq: expected: 1461');
  });

  test('options are compared kind by kind in order, values included', () => {
    const order = run(edit('handshake-active.pkt', '<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>', '<mss 1460,nop,wscale 7,sackOK,TS val 100 ecr 0>'));
    expect(order.message).toContain('bad outbound TCP options');
    const value = run(edit('mss.pkt', '<mss 1100,nop,wscale 7>', '<mss 1460,nop,wscale 7>'));
    expect(value.message).toContain('bad value outbound TCP option 2');
    const sack = run(edit('sack-blocks.pkt', '<nop,nop,sack 3001:4001 1001:2001>', '<nop,nop,sack 1001:2001 3001:4001>'));
    expect(sack.message).toContain('bad value outbound TCP option 5');
    const none = run(edit('mss-default.pkt', '+0 > . 1:537(536) ack 1', '+0 > . 1:537(536) ack 1 <nop,nop,TS val 1 ecr 0>'));
    expect(none.message).toContain('bad outbound TCP options');
  });

  test('timing: a packet sent at another time than the script says, within the tolerance rules', () => {
    const early = run(edit('rto-backoff.pkt', '+.6 > P. 1:1001(1000) ack 1', '+.7 > P. 1:1001(1000) ack 1'));
    expect(early.exitCode).toBe(1);
    expect(early.message).toMatch(/timing error: expected outbound packet at 1\.100000 sec but happened at 1\.000000 sec; tolerance 0\.087500 sec/);
    // 12.5% of the 0.6 s gap (75 ms) forgives a 50 ms difference; the fixed 4 ms would not.
    expect(run(edit('rto-backoff.pkt', '+.6 > P. 1:1001(1000) ack 1', '+.65 > P. 1:1001(1000) ack 1')).exitCode).toBe(0);
    expect(run(edit('rto-backoff.pkt', '+.6 > P. 1:1001(1000) ack 1', '+.65 > P. 1:1001(1000) ack 1'), 'x', { options: { tolerance_percent: '0' } }).exitCode).toBe(1);
    const late = run(edit('zero-window.pkt', '+.3 > . 1000:1000(0) ack 1', '+.2 > . 1000:1000(0) ack 1'));
    // The latest time allowed is 0.4 s plus 12.5% of the 0.2 s gap.
    expect(late.message).toContain('timing error: expected outbound packet at 0.400000 sec but no packet was sent by 0.425000 sec');
  });

  test('a packet the stack sends that the script does not expect is caught by the next outbound line', () => {
    const r = run(edit('delayed-ack.pkt', '+0 < P. 1:101(100) ack 1 win 514\n+0 > . 1:1(0) ack 101\n', '+0 < P. 1:101(100) ack 1 win 514\n'));
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain('live packet field tcp_ack_seq: expected: 201 (0xc9) vs actual: 101 (0x65)');
  });

  test('segments are joined to match one scripted packet, and a short total is reported', () => {
    expect(run(read('mss.pkt')).exitCode).toBe(0); // 1000 + 1000 + 500 bytes joined into one line
    const strict = run(read('mss.pkt'), 'mss.pkt', { options: { strict_segments: undefined } });
    expect(strict.message).toContain('live packet payload: expected 2500 bytes vs actual 1000 bytes');
  });

  test('system calls: the result and errno are checked, with out-parameters', () => {
    const result = run(edit('blocking-read.pkt', '+0...0.000 read(4, ..., 1000) = 1000\n+0...0.000', '+0...0.000 read(4, ..., 1000) = 999\n+0...0.000'));
    expect(result.message).toContain('runtime error in read call: Expected result 999 but got 1000');
    const errno = run(edit('rst-established.pkt', '= -1 ECONNRESET (Connection reset by peer)', '= -1 ETIMEDOUT'));
    expect(errno.message).toContain('Expected errno 110 (Connection timed out) but got 104 (Connection reset by peer)');
    const out = run(edit('mss.pkt', 'getsockopt(4, SOL_TCP, TCP_MAXSEG, [1000], [4]) = 0', 'getsockopt(4, SOL_TCP, TCP_MAXSEG, [1460], [4]) = 0'));
    expect(out.message).toContain('Bad getsockopt optval: expected: 1460 actual: 1000');
    const revents = run(edit('poll.pkt', 'revents=POLLOUT}], 1, 0) = 1', 'revents=POLLIN}], 1, 0) = 1'));
    expect(revents.message).toContain('Bad poll revents for fd 4: expected: POLLIN actual: POLLOUT');
  });

  test('blocking calls return in virtual time and their return time is checked', () => {
    const r = run(edit('blocking-connect.pkt', '+.1...0.200 connect', '+.1...0.150 connect'));
    expect(r.message).toMatch(/timing error: expected system call return at 0\.150000 sec but happened at 0\.200000 sec/);
    const forever = run(edit('blocking-accept.pkt', '+0...0.200 accept(3, ..., ...) = 4\n', '+0 accept(3, ..., ...) = 4\n'));
    expect(forever.message).toContain('the call blocks and nothing can wake it');
  });

  test('TCP_INFO assertions fail with the values they saw', () => {
    const r = run(edit('tcp-info.pkt', 'assert tcpi_snd_cwnd == 10', 'assert tcpi_snd_cwnd == 4'));
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain('AssertionError: assert tcpi_snd_cwnd == 4 (tcpi_snd_cwnd is 10, 4 is 4)');
    const field = run(edit('tcp-info.pkt', 'assert tcpi_snd_cwnd == 10', 'assert tcpi_sacked == 0'));
    expect(field.exitCode).toBe(2);
    expect(field.message).toContain("unsupported: tcp_info field or name 'tcpi_sacked'");
  });

  test('--verbose prints every event and every packet', () => {
    const lines: string[] = [];
    const r = run(read('close-passive.pkt'), 'close-passive.pkt', { verbose: true, log: (s) => lines.push(s) });
    expect(r.exitCode).toBe(0);
    expect(lines.filter((l) => / line \d+: /.test(l)).length).toBe(17);
    expect(lines.some((l) => l.includes('inbound injected packet: F. 1:1(0) ack 1 win 514'))).toBe(true);
    expect(lines.some((l) => l.includes('outbound sniffed packet: R 2:2(0) win 0'))).toBe(true);
    expect(lines.some((l) => l.includes('read syscall returned 0'))).toBe(true);
  });
});

describe('header options and definitions', () => {
  const passive = (synAckMss: number): string => [
    '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', '+0 bind(3, ..., ...) = 0', '+0 listen(3, 1) = 0',
    '+0 < S 0:0(0) win 65535 <mss PEER_MSS>', `+0 > S. 0:0(0) ack 1 <mss ${synAckMss}>`,
  ].join('\n');

  test('--mtu sets the link MTU, and so the MSS we announce', () => {
    expect(run(`--mtu=1280\n${passive(1240)}`, 'x', { defines: { PEER_MSS: '1000' } }).exitCode).toBe(0);
    expect(run(passive(1460), 'x', { defines: { PEER_MSS: '1000' }, options: { mtu: '9000' } }).message).toContain('bad value outbound TCP option 2');
  });

  test('-D definitions replace words; an undefined one is a syntax error where a number is needed', () => {
    expect(run(passive(1460), 'x', { defines: { PEER_MSS: '1000' } }).exitCode).toBe(0);
    const r = run(passive(1460));
    expect(r.exitCode).toBe(2);
    expect(r.message).toContain("parse error at 'PEER_MSS'");
  });

  test('--local_ip and --remote_ip choose the addresses; the command line overrides the script', () => {
    const text = `--local_ip=10.1.2.3\n--remote_ip=10.9.9.9\n${passive(1460)}`;
    expect(run(text, 'x', { defines: { PEER_MSS: '1000' } }).exitCode).toBe(0);
    const v6 = run(text, 'x', { defines: { PEER_MSS: '1000' }, options: { ip_version: 'ipv6' } });
    expect(v6.exitCode).toBe(2);
    expect(v6.message).toContain('must be IPv6 addresses');
  });
});

describe('scripts that cannot run say so (exit 2), never pass', () => {
  const HEAD = '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n';
  test.each([
    ['a syntax error', `${HEAD}+0 bind(3, ..., ...) = 0 )`, 'syntax', 'parse error'],
    ['a packet with no window', `${HEAD}+0 listen(3, 1) = 0\n+0 < S 0:0(0)`, 'syntax', 'window must be specified for inbound packets'],
    ['options not a multiple of 4 bytes', `${HEAD}+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 1 <mss 1460,nop>`, 'syntax', 'not padded correctly'],
    ['inconsistent start:end(len)', `${HEAD}+0 listen(3, 1) = 0\n+0 < S 0:5(0) win 1`, 'syntax', 'inconsistent TCP sequence numbers'],
    ['a first event not at time 0', `1 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3`, 'syntax', 'first event should be at time 0'],
    ['a shell command', `${HEAD}+0 \`ip link set dev tun0 mtu 1280\``, 'unsupported', 'shell command'],
    ['a sysctl synack does not have', `${HEAD}+0 \`sysctl -q net.ipv4.tcp_congestion_control=cubic\``, 'unsupported', 'tcp_congestion_control=cubic'],
    ['an unknown sysctl', `\`sysctl -q net.ipv4.tcp_frobnicate=1\`\n${HEAD}`, 'unsupported', 'not known to synack'],
    ['a UDP packet', `${HEAD}+0 < udp (100)`, 'unsupported', 'UDP packets'],
    ['an unknown system call', `${HEAD}+0 frobnicate(3) = 0`, 'unsupported', "unknown system call 'frobnicate'"],
    ['an option synack lacks', `${HEAD}+0 setsockopt(3, SOL_SOCKET, SO_REUSEPORT, [1], 4) = 0`, 'unsupported', 'SO_REUSEPORT is not implemented'],
    ['Python the runner does not evaluate', `${HEAD}+0 %{ print(tcpi_rtt) }%`, 'unsupported', "code line 'print(tcpi_rtt)'"],
    ['ipv4-mapped-ipv6', `--ip_version=ipv4-mapped-ipv6\n${HEAD}`, 'unsupported', 'IPv4-mapped'],
  ])('%s', (_what, text, status, fragment) => {
    const r = run(text);
    expect(r.status, r.message).toBe(status);
    expect(r.exitCode).toBe(2);
    expect(r.message).toContain(fragment);
  });

  test('sysctl lines synack has are applied; defaults.sh settings it cannot emulate are noted', () => {
    // tcp_timestamps=0: the SYN-ACK carries no timestamps, so its window counts 1460-byte units.
    const ts = run(`\`sysctl -q net.ipv4.tcp_timestamps=0\`\n${read('handshake-passive.pkt')}`);
    expect(ts.message).toContain('live packet field tcp_window: expected: 65160 (0xfe88) vs actual: 64240 (0xfaf0)');
    expect(ts.message).toContain('actual packet:  0.000000 S. 0:0(0) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 7>');
    // defaults.sh: tcp_rmem max 15 MiB gives window scale 8, and the settings synack lacks are
    // notes. (The SYN-ACK's window is not checked: Linux shows 65535 with that buffer, synack 65160;
    // docs/packetdrill.md lists the difference.)
    const d = run(edit('handshake-passive.pkt', '<mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 7>', '<mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 8>')
      .replace(' win 65160', '').replace('0 socket', '`../common/defaults.sh`\n0 socket'));
    expect(d.message ?? 'pass').toBe('pass');
    expect(d.notes.some((n) => n.includes('tcp_congestion_control=cubic'))).toBe(true);
  });
});

describe('server defences and TIME-WAIT settings drive the stack (the scripts fail without them)', () => {
  test('Fast Open cookies for a key are Linux\'s: the values google/packetdrill\'s server scripts expect', () => {
    const isn = new IsnGenerator({ nextU32: () => 7 });
    const cookie = (key: string, client: string, server: string): string => {
      const k = commandEffect(`sysctl -q net.ipv4.tcp_fastopen_key=${key}`).patch.fastOpenKey;
      return Buffer.from(fastOpenCookie(isn, IpAddr.from(client), IpAddr.from(server), k)).toString('hex');
    };
    // fastopen/server/opt34/simple1.pkt, sockopt-fastopen-key.pkt and basic-rw.pkt (defaults.sh's key).
    expect(cookie('a0bf63f7-ed803d81-cd641d30-cebc4a90', '10.248.0.2', '192.168.0.2')).toBe('00abaaabe8e954c2');
    expect(cookie('00000000-00000000-00000000-00000000', '10.248.0.2', '192.168.0.2')).toBe('93b7aa4f550f8a1a');
    expect(cookie('a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4', '192.0.2.1', '192.168.0.1')).toBe('3021b9d889017eeb');
    // Without a key the cookie comes from the stack's secret instead.
    expect(Buffer.from(fastOpenCookie(isn, IpAddr.from('192.0.2.1'), IpAddr.from('192.168.0.1'))).toString('hex')).not.toBe('3021b9d889017eeb');
  });

  test('tcp_fastopen_key makes the cookies Linux\'s: a wrong cookie in the script, or no key, fails on option 34', () => {
    const synAck = '> 8080>40001 S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 7,FO 3021b9d889017eeb,nop,nop>';
    const wrong = run(edit('fastopen-server.pkt', synAck, synAck.replace('3021b9d889017eeb', '3021b9d889017eec')));
    expect(wrong.exitCode).toBe(1);
    expect(wrong.message).toContain('bad value outbound TCP option 34');
    const noKey = run(edit('fastopen-server.pkt', ' net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4', ''));
    expect(noKey.exitCode).toBe(1);
    expect(noKey.message).toContain('bad value outbound TCP option 34');
  });

  test('without TCP_FASTOPEN on the listener a cookie request gets no cookie', () => {
    const r = run(edit('fastopen-server.pkt', '+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [16], 4) = 0\n+0 getsockopt(3, SOL_TCP, TCP_FASTOPEN, [16], [4]) = 0\n', ''));
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain('bad outbound TCP options');
  });

  test('tcp_syncookies: with 0 the SYN gets an ordinary SYN-ACK, with its options', () => {
    const r = run(edit('syncookies.pkt', 'tcp_syncookies=2', 'tcp_syncookies=0'));
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain('bad outbound TCP options');
  });

  test('TCP_DEFER_ACCEPT: without it the bare ACK completes the handshake and accept() returns', () => {
    const r = run(edit('defer-accept.pkt', '+0 setsockopt(3, SOL_TCP, TCP_DEFER_ACCEPT, [5], 4) = 0\n+0 getsockopt(3, SOL_TCP, TCP_DEFER_ACCEPT, [7], [4]) = 0\n', ''));
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain('runtime error in accept call: Expected result -1 but got 4');
  });

  test('tcp_max_tw_buckets: with the default, TIME-WAIT acknowledges the retransmitted FIN instead of a reset', () => {
    const r = run(edit('timewait-max-buckets.pkt', '`sysctl -q net.ipv4.tcp_max_tw_buckets=0`\n', ''));
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain('live packet field tcp_rst: expected: 1 (0x1) vs actual: 0 (0x0)');
  });

  test.each([
    ['tcp_syncookies=3', '`sysctl -q net.ipv4.tcp_syncookies=3`', 'value 3 is not 0, 1 or 2'],
    ['a malformed Fast Open key', '`sysctl -q net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2`', 'is not four hex words'],
    ['a backup Fast Open key', '`sysctl -q net.ipv4.tcp_fastopen_key=1-2-3-4,5-6-7-8`', 'synack keeps one Fast Open key'],
    ['TCP_FASTOPEN_KEY on a socket', '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN_KEY, [0], 16) = 0', 'set it with sysctl net.ipv4.tcp_fastopen_key'],
    ['MSG_FASTOPEN with send()', '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 send(3, ..., 10, MSG_FASTOPEN) = 10', 'MSG_FASTOPEN with send()'],
  ])('%s is reported unsupported', (_what, text, fragment) => {
    const r = run(text.startsWith('`') ? `${text}\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3` : text);
    expect(r.status, r.message).toBe('unsupported');
    expect(r.message).toContain(fragment);
  });

  test('upstream spellings: set_sysctls.py with /proc/sys paths and backslash-continued sysctl lines', () => {
    const text = edit('fastopen-server.pkt',
      '`sysctl -q net.ipv4.tcp_fastopen=0x3 net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4`',
      '`../common/set_sysctls.py /proc/sys/net/ipv4/tcp_fastopen=0x3 \\\n  /proc/sys/net/ipv4/tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4`');
    const r = run(text);
    expect(r.message ?? 'pass').toBe('pass');
  });
});

describe('the synack packetdrill command', () => {
  test('runs scripts and exits 0 when all pass, 1 when one fails, 2 when one is unsupported', () => {
    const cli = (args: string[]): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'packetdrill', ...args], { cwd: ROOT, encoding: 'utf8' });
    // Virtual time is exact: these pass with no tolerance at all.
    const ok = cli(['--tolerance_usecs', '0', '--tolerance_percent', '0', join(DIR, 'close-passive.pkt'), join(DIR, 'blocking-read.pkt')]);
    expect(ok.status, String(ok.stderr)).toBe(0);
    expect(String(ok.stdout)).toContain('pass');
    const tmp = mkdtempSync(join(tmpdir(), 'synack-pd-'));
    try {
      const unsup = join(tmp, 'unsupported.pkt');
      writeFileSync(unsup, '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_REUSEPORT, [1], 4) = 0\n');
      const unsupRun = cli([unsup]);
      expect(unsupRun.status).toBe(2);
      expect(String(unsupRun.stderr)).toContain('unsupported.pkt:2: unsupported');
      const wrong = join(tmp, 'wrong.pkt');
      const text = read('close-passive.pkt');
      writeFileSync(wrong, text.replace('+0 > R 2:2(0)', '+0 > R 3:3(0)'));
      const line = text.split('\n').indexOf('+0 > R 2:2(0)') + 1;
      const failed = cli([unsup, wrong]);
      expect(failed.status).toBe(1);
      expect(String(failed.stderr)).toContain(`wrong.pkt:${line}: error handling packet: live packet field tcp_seq: expected: 3 (0x3) vs actual: 2 (0x2)`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
