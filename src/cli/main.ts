// The `synack` command line: the tour (the main job), single demos, and the TAP host. Exit codes:
// 0 success, 1 failure, 2 usage errors (unknown command, option or scenario, bad values).
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { CHAPTERS, renderResult, resultJson, wrap, type RenderOptions } from './tour.js';
import { UsageError, registerDemo } from './demo.js';
import { registerTap } from './tap.js';
import { registerPacketdrill } from './packetdrill.js';
import { registerBench } from './bench.js';
import { registerSim } from './sim.js';
import type { DiagramStyle } from '../trace/diagram.js';

const program = new Command();
program
  .name('synack')
  .description('A complete TCP/IP stack in TypeScript: tours, demos, and tools.')
  .showHelpAfterError()
  .exitOverride();

/** Colour only on a TTY, and not with NO_COLOR (picocolors also honours FORCE_COLOR and --no-color). */
function colour(): boolean {
  return pc.isColorSupported && process.stdout.isTTY === true;
}

/** How diagrams are drawn on this terminal. */
function render(): RenderOptions {
  if (!colour()) return process.stdout.isTTY === true ? { columns: process.stdout.columns } : {};
  const style: Partial<DiagramStyle> = {
    time: pc.dim, arrow: pc.cyan, lost: pc.red, state: (s) => pc.bold(pc.yellow(s)), host: pc.bold, note: pc.magenta,
  };
  return { style, dim: pc.dim, columns: process.stdout.columns };
}

program
  .command('tour', { isDefault: true })
  .description('walk through TCP, scenario by scenario, with sequence diagrams (what `npm start` runs)')
  .option('--only <ids>', 'comma-separated chapter ids')
  .option('--list', 'list the chapters')
  .option('--absolute', 'absolute sequence numbers')
  .option('--json', 'machine-readable output')
  .action((opts: { only?: string; list?: boolean; absolute?: boolean; json?: boolean }) => {
    const only = opts.only?.split(',').map((s) => s.trim());
    const unknown = only?.filter((id) => !CHAPTERS.some((c) => c.id === id)) ?? [];
    if (unknown.length > 0) throw new UsageError(`unknown chapter(s): ${unknown.join(', ')}; see synack tour --list`);
    if (opts.list === true) {
      for (const ch of CHAPTERS) console.log(`  ${ch.id.padEnd(24)}${ch.title}${ch.run === undefined ? '  (not yet implemented)' : ''}`);
      return;
    }
    const ro = render();
    const json: unknown[] = [];
    const chapters = CHAPTERS.filter((ch) => only === undefined || only.includes(ch.id));
    chapters.forEach((ch, i) => {
      const heading = `${i + 1}. ${ch.title}`;
      if (ch.run === undefined) {
        if (opts.json === true) json.push({ id: ch.id, title: ch.title, implemented: false, text: ch.text, needs: ch.needs });
        else console.log(`\n${pc.bold(heading)}\n\n  not yet implemented${ch.needs !== undefined ? `: needs ${ch.needs}` : ''}\n`);
        return;
      }
      const r = ch.run();
      if (opts.json === true) {
        json.push({ id: ch.id, title: ch.title, implemented: true, text: ch.text, ...resultJson(r, opts.absolute === true) });
        return;
      }
      console.log(`\n${pc.bold(heading)}\n`);
      console.log(wrap(ch.text, 92, '  '));
      console.log('');
      console.log(renderResult(r, { ...ro, absolute: opts.absolute === true }));
    });
    if (opts.json === true) console.log(JSON.stringify(json, null, 2));
  });

registerDemo(program, render);
registerTap(program); // `synack tap` (src/cli/tap.ts)
registerPacketdrill(program); // `synack packetdrill FILE.pkt...` (src/cli/packetdrill.ts)
registerBench(program); // `synack bench [options]`: the benchmark suite (src/cli/bench.ts, bench/)
registerSim(program, render); // `synack sim <file>`: a user-written scenario (src/cli/sim.ts, src/sim/script.ts)

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // Help and version end with code 0 (commander has printed them); everything else it reports
    // is a usage error.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  if (e instanceof UsageError) {
    console.error(`synack: ${e.message}`);
    process.exit(2);
  }
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
