// Golden files pin the text diagrams of the classic exchanges (issue 9): the handshake, the
// four-way close, simultaneous open and the three lost-third-ACK cases, exactly as `synack tour`
// prints them on a terminal without colour. A change to TCP's behaviour on the wire, or to the
// renderer, shows up here as a diff to read.
//
// To regenerate after an intended change: UPDATE_GOLDEN=1 npx vitest run test/golden
// then review the diff of test/golden/*.txt before committing it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { findScenario } from '../../src/sim/scenarios/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const update = process.env['UPDATE_GOLDEN'] === '1';

const GOLDEN = ['handshake', 'four-way-close', 'simultaneous-open', 'lost-ack-idle', 'lost-ack-client-data', 'lost-ack-server-first'];

describe('golden diagrams', () => {
  for (const id of GOLDEN) {
    test(`${id}.txt`, () => {
      const entry = findScenario(id);
      if (entry === undefined) throw new Error(`no scenario ${id}`);
      const r = entry.run();
      const text = `${r.scenario.diagram(r.view ?? {})}\n`;
      const path = join(here, `${id}.txt`);
      if (update || !existsSync(path)) {
        if (!update) throw new Error(`${path} is missing: run UPDATE_GOLDEN=1 npx vitest run test/golden`);
        writeFileSync(path, text);
      }
      expect(text).toBe(readFileSync(path, 'utf8'));
      expect(text.includes('\u001b[')).toBe(false); // plain text, no colour codes
    });
  }
});
