// Scenario files (src/sim/script.ts): validation errors name the path and the value; each worked
// example in examples/ runs to the outcome it describes (bytes delivered, states reached); steps
// trigger on time and on socket events; failures (unexpected errors, steps that never ran, unmet
// expectations) are reported, not hidden.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ScriptError, loadModuleExport, loadScript, parseBandwidth, parseDuration, parseRate, parseScript } from '../../src/sim/script.js';
import slowReader from '../../examples/slow-reader.js';

const example = (name: string): unknown => JSON.parse(readFileSync(`examples/${name}`, 'utf8'));

/** A minimal valid file with `patch` applied on top. */
const base = (patch: Record<string, unknown> = {}): Record<string, unknown> => ({
  hosts: [{ name: 'client' }, { name: 'server' }],
  links: [{ between: ['client', 'server'], delay: '10ms' }],
  steps: [
    { at: '0s', host: 'server', listen: { port: 80, as: 'srv', serve: 'echo' } },
    { at: '0s', host: 'client', connect: { to: 'server', port: 80, as: 'c1' } },
  ],
  ...patch,
});

const errorOf = (spec: unknown): string => {
  try {
    loadScript(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ScriptError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('units', () => {
  test('durations, rates and bandwidths in human units', () => {
    expect(parseDuration('10ms', 'p')).toBe(10_000);
    expect(parseDuration('1.5s', 'p')).toBe(1_500_000);
    expect(parseDuration('250us', 'p')).toBe(250);
    expect(parseDuration('2min', 'p')).toBe(120_000_000);
    expect(parseRate('1%', 'p')).toBeCloseTo(0.01);
    expect(parseRate(0.25, 'p')).toBe(0.25);
    expect(parseBandwidth('10Mbit', 'p')).toBe(10e6);
    expect(parseBandwidth('512kbit', 'p')).toBe(512e3);
    expect(() => parseDuration(10, 'links[0].delay')).toThrow('links[0].delay: expected a duration like "10ms", "1.5s" or "250us", got 10');
    expect(() => parseRate('150%', 'x')).toThrow('got "150%"');
    expect(() => parseBandwidth('fast', 'x')).toThrow('x: expected a bandwidth');
  });
});

describe('validation: the path and the value', () => {
  test.each([
    [{ hosts: [{ name: 'a' }] }, 'hosts: expected a list of two or more hosts, got [{"name":"a"}]'],
    [{ hosts: [{ name: 'a' }, { name: 'a' }] }, 'hosts[1].name: host "a" is defined twice'],
    [{ hosts: [{ name: 'a', ipv4: '10.0.0.1' }, { name: 'b' }] }, 'hosts[0].ipv4: expected an address with a prefix length like "10.0.0.1/24", got "10.0.0.1"'],
    [{ hosts: [{ name: 'a', tcp: { synRetries: 'six' } }, { name: 'b' }] }, 'hosts[0].tcp.synRetries: expected a non-negative number, got "six"'],
    [{ hosts: [{ name: 'a', tcp: { msl: 30 } }, { name: 'b' }] }, 'hosts[0].tcp.msl: expected a duration'],
    [{ hosts: [{ name: 'a', tcp: { nagle: true } }, { name: 'b' }] }, 'hosts[0].tcp.nagle: unknown field'],
    [{ links: [{ between: ['client', 'nobody'] }] }, 'links[0].between[1]: no host named "nobody" (hosts: client, server)'],
    [{ links: [{ between: ['client', 'server'], loss: '200%' }] }, 'links[0].loss: expected a rate like "1%" or a number in [0, 1], got "200%"'],
    [{ links: [{ between: ['client', 'server'], impair: { bandwidth: 'fast' } }] }, 'links[0].impair.bandwidth: expected a bandwidth'],
    [{ links: [{ between: ['client', 'server'], mtu: 20 }] }, 'links[0].mtu: expected an integer in [68, 65535], got 20'],
    [{ steps: [{ at: '0s', host: 'server' }] }, 'steps[0]: a step needs exactly one action'],
    [{ steps: [{ host: 'server', listen: { port: 80 } }] }, 'steps[0]: a step needs either "at" (a time) or "after" (an event), got neither'],
    [{ steps: [{ at: '0s', host: 'server', listen: { port: 70000 } }] }, 'steps[0].listen.port: expected an integer in [1, 65535], got 70000'],
    [{ steps: [{ at: '0s', host: 'client', connect: { to: 'mars', port: 80, as: 'c' } }] }, 'steps[0].connect.to: "mars" is neither a host'],
    [{ steps: [{ after: 'c9.connected', close: 'c9' }] }, 'steps[0].after: no earlier step names a socket "c9"'],
    [{ steps: [{ at: '0s', host: 'client', connect: { to: 'server', port: 80, as: 'c' } }, { after: 'c.arrived', close: 'c' }] }, "steps[1].after: unknown event 'arrived'"],
    [{ steps: [{ at: '0s', host: 'server', listen: { port: 80, serve: 'mirror' } }] }, 'steps[0].listen.serve: expected "echo", "sink" or {"respond"'],
    [{ steps: [{ at: '0s', host: 'client', connect: { to: 'server', port: 80, as: 'c', options: { nodelay: true } } }] }, 'steps[0].connect.options.nodelay: unknown field'],
    [{ until: 60 }, 'until: expected a duration'],
    [{ colour: 'red' }, '(file).colour: unknown field'],
  ])('%j', (patch, message) => {
    expect(errorOf(base(patch as Record<string, unknown>))).toContain(message);
  });

  test('a host on no link is reported before the run', () => {
    const run = loadScript(base({ hosts: [{ name: 'client' }, { name: 'server' }, { name: 'idle' }] }));
    expect(() => run.run()).toThrow('links: host(s) on no link: idle');
  });

  test('JSON syntax errors are ScriptErrors too', () => {
    expect(() => parseScript('{ "hosts": [ }')).toThrow(/^\(file\): not valid JSON/);
  });
});

describe('the worked examples', () => {
  test('http-lossy: 300 bytes up, 20000 down through 3% loss each way, everything closed', () => {
    for (const seed of [4, 6]) {
      const run = loadScript(example('http-lossy.json'), { seed });
      const o = run.run();
      expect(o.failures).toEqual([]);
      const c1 = o.sockets.find((s) => s.name === 'c1')!;
      const srv = o.sockets.find((s) => s.name === 'http#1')!;
      expect([c1.sent, c1.received, c1.eof, c1.state]).toEqual([300, 20000, true, 'CLOSED']);
      expect([srv.received, srv.sent, srv.state]).toEqual([300, 20000, 'CLOSED']);
      if (seed === 6) {
        // This seed loses frames: the diagram shows them and the stack retransmitted.
        expect(run.wire.filter((w) => w.lost !== undefined).length).toBeGreaterThan(0);
        expect(run.diagram()).toContain('(retransmission)');
      }
    }
  });

  test('half-close: the client shuts down writing, still receives the echo, both end CLOSED', () => {
    const run = loadScript(example('half-close.json'));
    const o = run.run();
    expect(o.failures).toEqual([]);
    const ev = o.events.map((e) => `${e.socket}.${e.event}`);
    // The server sees the client's end of stream before it answers; the client reads after its FIN.
    expect(ev.indexOf('s.eof')).toBeLessThan(ev.indexOf('s.sent'));
    expect(ev.indexOf('s.sent')).toBeLessThan(ev.indexOf('c.eof'));
    const d = run.diagram();
    expect(d).toContain('FIN-WAIT-2');
    expect(d).toContain('CLOSE-WAIT');
    expect(d).toContain('c: shutdown(SHUT_WR)');
  });

  test('syn-flood: 1500 spoofed SYNs, cookies sent, three clients on a switch all served', () => {
    const run = loadScript(example('syn-flood.json'));
    const o = run.run();
    expect(o.failures).toEqual([]);
    expect(o.sockets.find((s) => s.name === 'attacker')!.count).toBe(1500);
    for (const n of ['a', 'b', 'c']) expect(o.sockets.find((s) => s.name === n)!.received, n).toBe(1000);
    const server = o.hosts.find((h) => h.name === 'server')!;
    expect(server.counters['TcpExtSyncookiesSent']).toBeGreaterThan(0);
    const d = run.diagram();
    expect(d).toContain('1497 more spoofed SYNs (not drawn)');
    expect(d.split('\n')[0]).toMatch(/attacker\s+server\s+alice\s+bob\s+carol/);
  });

  test('slow-reader (a module): zero window, the server reads all 50000 bytes', () => {
    const run = loadModuleExport(slowReader);
    const o = run.run();
    expect(o.failures).toEqual([]);
    expect(run.diagram()).toMatch(/win=0\b/);
  });
});

describe('failures are reported', () => {
  test('an unexpected connect error fails the run; an expected one does not', () => {
    const refused = (expectErr?: string) => loadScript({
      hosts: [{ name: 'client' }, { name: 'server' }],
      links: [{ between: ['client', 'server'] }],
      steps: [{ at: '0s', host: 'client', connect: { to: 'server', port: 81, as: 'c', ...(expectErr !== undefined ? { expect: expectErr } : {}) } }],
    }).run();
    const bad = refused();
    expect(bad.ok).toBe(false);
    expect(bad.failures.join('\n')).toContain('c on client: ECONNREFUSED');
    expect(refused('ECONNREFUSED').ok).toBe(true);
    expect(refused('ETIMEDOUT').failures.join('\n')).toContain('(expected ETIMEDOUT)');
  });

  test('a step whose event never happens, and an unmet expectation, are failures', () => {
    const o = loadScript(base({
      steps: [
        { at: '0s', host: 'server', listen: { port: 80, as: 'srv', serve: 'echo' } },
        { at: '0s', host: 'client', connect: { to: 'server', port: 80, as: 'c1' } },
        { after: 'c1.eof', close: 'c1' },
      ],
      until: '5s',
      expect: { c1: { received: 10 } },
    })).run();
    expect(o.ok).toBe(false);
    expect(o.failures).toEqual([
      'steps[2] (close) never ran: c1.eof never happened',
      'expect.c1.received: expected 10, got 0',
    ]);
  });

  test('echo over a switch of three hosts, with delayed triggers; same seed, same frames', () => {
    const spec = {
      seed: 3,
      hosts: [{ name: 'a' }, { name: 'b' }, { name: 'srv' }],
      links: [{ between: ['a', 'b', 'srv'], delay: '2ms', impair: { loss: '2%' } }],
      steps: [
        { at: '0s', host: 'srv', listen: { port: 7, as: 'echo', serve: 'echo' } },
        { at: '0s', host: 'a', connect: { to: 'srv', port: 7, as: 'ca' } },
        { after: 'ca.connected', delay: '50ms', host: 'b', connect: { to: '10.0.0.3', port: 7, as: 'cb' } },
        { after: 'ca.connected', send: { socket: 'ca', bytes: '8KiB' } },
        { after: 'cb.connected', send: { socket: 'cb', data: 'hello' } },
        { after: 'ca.received:8192', close: 'ca' },
        { after: 'cb.received:5', close: 'cb' },
      ],
      expect: { ca: { received: 8192 }, cb: { received: 5 }, 'echo#2': { sent: 5 } },
    };
    const r1 = loadScript(spec);
    const o = r1.run();
    expect(o.failures).toEqual([]);
    const cb = o.events.find((e) => e.socket === 'cb' && e.event === 'connected')!;
    const ca = o.events.find((e) => e.socket === 'ca' && e.event === 'connected')!;
    expect(cb.at - ca.at).toBeGreaterThanOrEqual(50_000);
    const r2 = loadScript(spec);
    r2.run();
    expect(r2.wire.map((w) => w.frame)).toEqual(r1.wire.map((w) => w.frame));
  });
});

test('the README\'s scenario file is valid and runs as it says', () => {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('```json\n{\n  "seed": 6');
  expect(start).toBeGreaterThan(0);
  const text = readme.slice(start + 8, readme.indexOf('```', start + 8));
  const o = parseScript(text).run();
  expect(o.failures).toEqual([]);
  expect(o.sockets.find((s) => s.name === 'c1')!.received).toBe(20000);
});
