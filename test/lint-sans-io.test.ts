// The sans-IO rule is enforced by ESLint: this test feeds forbidden code to the real
// configuration as if it lived in the core, and checks it is rejected (and allowed elsewhere).
import { describe, expect, test } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('the sans-IO lint rule', () => {
  const forbidden: [string, string][] = [
    ['Date.now()', 'export const t = Date.now();\n'],
    ['performance.now()', 'export const t = performance.now();\n'],
    ['setTimeout', 'setTimeout(() => undefined, 1);\n'],
    ['setInterval', 'setInterval(() => undefined, 1);\n'],
    ['Math.random()', 'export const r = Math.random();\n'],
    ['Buffer', 'export const b = Buffer.alloc(1);\n'],
    ['process', 'export const e = process.env;\n'],
    ['node:crypto', "import { randomBytes } from 'node:crypto';\nexport const r = randomBytes(1);\n"],
    ['fs', "import { readFileSync } from 'fs';\nexport const f = readFileSync;\n"],
    ['an upward import', "import { Simulation } from '../sim/driver.js';\nexport const s = Simulation;\n"],
  ];
  for (const dir of ['src/tcp', 'src/wire', 'src/ip', 'src/time']) {
    for (const [what, code] of forbidden) {
      test(`${dir} rejects ${what}`, async () => {
        const ids = await ruleIds(code, `${dir}/probe.ts`);
        expect(ids.some((id) => /no-restricted/.test(id))).toBe(true);
      });
    }
  }
  test('the same Date.now() is allowed outside the core (src/link)', async () => {
    expect(await ruleIds('export const t = Date.now();\n', 'src/link/probe.ts')).toEqual([]);
  });
  test('type-only imports of the link contract are allowed in the core', async () => {
    expect(await ruleIds("import type { Port } from '../link/link.js';\nexport type P = Port;\n", 'src/ip/probe.ts')).toEqual([]);
  });
});
