// `npm run bench`: issue 10's benchmark suite. The runner, the cases and the table live beside
// this file (suite.ts, cases/, table.ts); `synack bench` runs the same thing. See
// docs/performance.md for what the figures mean and the latest ones measured.
import { main } from './suite.js';

process.exitCode = await main(process.argv.slice(2));
