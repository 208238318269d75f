// Builds the optional TUN/TAP addon (native/tun.c) with node-gyp.
//   node native/build.mjs             `npm run build:native`: show the build, fail loudly.
//   node native/build.mjs --optional  the root package's `install` script: never fails the
//                                     install; prints one line when the addon cannot be built
//                                     (no compiler, not Linux, no headers) and TAP stays disabled.
// Headers: when Node's own headers sit beside the binary (<prefix>/include/node, as Debian's
// nodejs and the official tarballs install them), node-gyp is pointed there with --nodedir, so
// nothing is downloaded. SYNACK_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const optional = process.argv.includes('--optional');
const here = dirname(fileURLToPath(import.meta.url));
const warn = (why) => {
  console.warn(`synack: TAP/TUN addon not built (${why}); everything else works. To build it: npm run build:native (needs python3, make, g++)`);
  process.exit(0);
};
const fail = (why) => {
  console.error(`synack: cannot build the TAP/TUN addon: ${why}`);
  process.exit(1);
};
const give = optional ? warn : fail;

if (process.env.SYNACK_SKIP_NATIVE === '1') give('SYNACK_SKIP_NATIVE=1');
if (process.platform !== 'linux') give(`TUN/TAP support is Linux only, this is ${process.platform}`);

// At install time, an addon newer than its sources is kept: N-API binaries do not depend on the
// Node version, so reinstalling dependencies need not rebuild it.
const built = join(here, 'build', 'Release', 'synack_tun.node');
if (optional && existsSync(built)) {
  const t = statSync(built).mtimeMs;
  if (['tun.c', 'binding.gyp'].every((f) => statSync(join(here, f)).mtimeMs <= t)) process.exit(0);
}

/** node-gyp: the one npm runs scripts with, else one on PATH, else the copy bundled with npm. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const [cmd, ...pre] = findNodeGyp();
const args = [...pre, 'rebuild', '--directory', here, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(cmd, args, { stdio: optional ? 'pipe' : 'inherit', encoding: 'utf8' });
if (r.error) give(`cannot run node-gyp: ${r.error.message}`);
if (r.status !== 0) {
  const lines = `${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => /error|not found|No such/i.test(l) && !/^gyp (info|ERR!) (stack|cwd|node -v|node-gyp -v|command|System)/.test(l));
  give(`node-gyp exited with ${r.status ?? r.signal}${lines.length > 0 ? `: ${lines[0]}` : ''}`);
}
if (!optional) console.log(`synack: built ${built}`);
