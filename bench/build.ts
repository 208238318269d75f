// Builds the code the cases run: bench/child.ts and everything it imports from src/, bundled
// by esbuild into .tmp/bench/<pid>/child.mjs as plain ES2022, the way tsc compiles src/ for the
// package (dist/). Measuring through tsx instead would measure tsx: it transpiles with esbuild's
// keepNames, which wraps every function expression and class in a `__name()` call
// (Object.defineProperty on the function), costing time on hot paths and hundreds of bytes per
// connection (measured: ~5.0 KB per idle connection pair under tsx, ~4.3 KB bundled). Source
// maps are inline, so profiles name the TypeScript files and lines.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** How to start a case process: the script and the Node flags it needs. */
export interface ChildEntry {
  script: string;
  execArgv: string[];
  /** How the code was prepared, for the JSON and the table header. */
  runtime: string;
}

/** The tsx way: TypeScript loaded as is (case 8 uses it: it imports bench/tap.ts at run time). */
export function tsxEntry(): ChildEntry {
  return { script: resolve(HERE, 'child.ts'), execArgv: ['--import', import.meta.resolve('tsx')], runtime: 'tsx (esbuild keepNames)' };
}

/** Bundles bench/child.ts with esbuild into `outDir`; falls back to tsx (and says so) without esbuild. */
export async function buildChild(outDir: string): Promise<ChildEntry> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return { ...tsxEntry(), runtime: 'tsx (esbuild not found, so not bundled: figures include keepNames overhead)' };
  }
  mkdirSync(outDir, { recursive: true });
  const script = resolve(outDir, 'child.mjs');
  await esbuild.build({
    entryPoints: [resolve(HERE, 'child.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    keepNames: false,
    sourcemap: 'inline',
    logLevel: 'error',
    // picocolors and commander are CommonJS; the child needs neither, but keep them outside.
    packages: 'external',
  });
  return { script, execArgv: ['--enable-source-maps'], runtime: `esbuild ${esbuild.version} bundle, ES2022, no keepNames (as tsc builds dist/)` };
}
