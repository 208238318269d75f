// The README's application-API examples run as written: each ```ts block of the "Application
// APIs" section is written to .tmp/ with its imports pointed at this checkout, and imported.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const start = readme.indexOf('## Application APIs');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the README has a net, a streams and an http/fetch example', () => {
  expect(start).toBeGreaterThan(0);
  expect(blocks).toHaveLength(3);
});

/** What each example must have done by the time its last line returns (appended to its code). */
const checks = [
  "if (!c.destroyed) throw new Error('the echo did not finish');",
  "if (reply !== 'hello') throw new Error(`reply ${JSON.stringify(reply)}`);",
  "if (body !== 'hello from /synack') throw new Error(`body ${JSON.stringify(body)}`);",
];

blocks.forEach((code, i) => {
  test(`README example ${i + 1} runs and does what it says`, async () => {
    const dir = join(root, '.tmp', 'readme-examples');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `example${i + 1}.ts`);
    const src = `${code.replace(/from '\.\/src\//g, "from '../../src/")}\n${checks[i] ?? ''}\n`;
    writeFileSync(file, src);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import(pathToFileURL(file).href);
      if (i === 0) expect(log).toHaveBeenCalledWith('echo: hello after 60 virtual ms');
    } finally {
      log.mockRestore();
    }
  });
});
