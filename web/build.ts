// Builds the browser bundle: web/synack.ts -> web/dist/synack.js (ES module, with a source map),
// with esbuild for the browser platform, which refuses Node built-ins; the inputs are checked
// again here so a Node import reached any other way fails the build. Run: `npm run build:web`.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the bundle goes by default. */
export const DEFAULT_OUTFILE = join(here, 'dist', 'synack.js');

/** Bundles web/synack.ts for browsers into `outfile`; throws if anything pulls in Node. */
export async function buildWeb(outfile: string = DEFAULT_OUTFILE): Promise<{ outfile: string; bytes: number }> {
  const result = await build({
    entryPoints: [join(here, 'synack.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  const node = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const bad = Object.keys(result.metafile.inputs).filter((p) => node.has(p) || p.startsWith('node:'));
  if (bad.length > 0) throw new Error(`the browser bundle pulls in Node built-ins: ${bad.join(', ')}`);
  const out = Object.entries(result.metafile.outputs).find(([p]) => p.endsWith('.js'));
  return { outfile, bytes: out?.[1].bytes ?? 0 };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outfile, bytes } = await buildWeb();
  console.log(`${outfile}: ${(bytes / 1024).toFixed(1)} KiB`);
}
