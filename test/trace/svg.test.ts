// The SVG diagram (src/trace/svg.ts): a well-formed document with the same content as the text
// diagram (hosts, flags, states, notes), escaped text, slanted arrows and lost frames drawn as X.
import { describe, expect, test } from 'vitest';
import { handshake } from '../../src/sim/scenarios/basic.js';
import { lostSyn } from '../../src/sim/scenarios/loss.js';
import { spoofedRst } from '../../src/sim/scenarios/attack.js';
import { xmlEscape } from '../../src/trace/svg.js';

/** A small XML well-formedness check: one root, balanced and properly nested tags, quoted attributes, no stray '<' or '&'. */
function wellFormed(xml: string): string | undefined {
  const stack: string[] = [];
  let roots = 0;
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
  let last = 0;
  for (let m = token.exec(xml); m !== null; m = token.exec(xml)) {
    const between = xml.slice(last, m.index);
    if (/[<]/.test(between)) return `stray '<' before offset ${m.index}`;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(between)) return `bad entity before offset ${m.index}`;
    last = m.index + m[0].length;
    if (m[2] === undefined) continue;
    const [, close, name, , selfClose] = m;
    if (close === '/') {
      if (stack.pop() !== name) return `mismatched </${name}>`;
    } else if (selfClose !== '/') {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  if (/[<]/.test(xml.slice(last))) return 'stray \'<\' at the end';
  if (stack.length > 0) return `unclosed <${stack.join('>, <')}>`;
  return roots === 1 ? undefined : `${roots} root elements`;
}

describe('SVG diagram', () => {
  test('the checker itself rejects broken XML', () => {
    expect(wellFormed('<svg><g></svg>')).toBeDefined();
    expect(wellFormed('<svg><text>a < b</text></svg>')).toBeDefined();
    expect(wellFormed('<svg><text>a & b</text></svg>')).toBeDefined();
    expect(wellFormed('<svg x=1></svg>')).toBeDefined();
    expect(wellFormed('<svg><text>a &lt; b</text><line x1="0"/></svg>')).toBeUndefined();
  });

  test('a handshake is a well-formed SVG document with hosts, flags, options, states and notes', () => {
    const svg = handshake().scenario.svg({ title: 'handshake' });
    expect(wellFormed(svg)).toBeUndefined();
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const label of ['client', 'server', 'SYN seq=0 win=64240', 'SYN+ACK seq=0 ack=1', 'ESTABLISHED', 'SYN-RECEIVED', 'LISTEN', 'send(18 bytes)', 'handshake']) {
      expect(svg).toContain(label);
    }
    expect(svg).toContain('&lt;mss 1460,sackOK,TS,wscale 7&gt;');
    expect(svg).not.toContain('<mss');
  });

  test('delivered arrows slant down from the send time to the arrival time; lost ones end in an X', () => {
    const svg = lostSyn().scenario.svg();
    expect(wellFormed(svg)).toBeUndefined();
    const lines = [...svg.matchAll(/<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)" stroke="(#[0-9a-f]+)"/g)]
      .map((m) => ({ x1: +m[1]!, y1: +m[2]!, x2: +m[3]!, y2: +m[4]!, colour: m[5]! }))
      .filter((l) => l.x1 !== l.x2); // not the lifelines
    const lost = lines.filter((l) => l.colour === '#d73a49');
    const delivered = lines.filter((l) => l.colour === '#1f6feb');
    expect(lost).toHaveLength(1);
    expect(delivered.length).toBe(3);
    for (const l of delivered) expect(l.y2).toBeGreaterThan(l.y1);
    expect(svg).toContain('(lost: filter)');
    expect(svg).toMatch(/<path d="M[\d.-]+,[\d.-]+ l10,10 M[\d.-]+,[\d.-]+ l10,-10" stroke="#d73a49"/);
  });

  test('three hosts and elided runs stay well-formed', () => {
    const r = spoofedRst();
    const svg = r.scenario.svg(r.view);
    expect(wellFormed(svg)).toBeUndefined();
    expect(svg).toContain('attacker');
    expect(svg).toMatch(/⋮ \d+ more RST/);
  });

  test('xmlEscape escapes the five XML specials', () => {
    expect(xmlEscape(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });
});
