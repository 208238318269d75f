// When `synack bench` draws its progress bar (issue 9): only where progressWanted() says so
// (a TTY, not CI), and never for runs whose stdout is JSON or that run no cases.
import { expect, test } from 'vitest';
import { benchWantsBar } from '../../src/cli/bench.js';
import { progressWanted } from '../../src/cli/progress.js';

test('the bar is drawn only for table runs on a terminal', () => {
  expect(benchWantsBar(['--quick'], true)).toBe(true);
  expect(benchWantsBar([], true)).toBe(true);
  expect(benchWantsBar(['--quick'], false)).toBe(false);
  for (const flag of ['--json', '--help', '-h', '--list']) expect(benchWantsBar(['--quick', flag], true)).toBe(false);
  const tty = { isTTY: true } as NodeJS.WriteStream;
  expect(progressWanted({ CI: 'true' }, tty)).toBe(false);
  expect(progressWanted({}, { isTTY: false } as NodeJS.WriteStream)).toBe(false);
  expect(progressWanted({}, tty)).toBe(true);
});
