// The `synack` command line: the tour (the main job), single demos, and benchmarks.
import { Command } from 'commander';
import pc from 'picocolors';
import { CHAPTERS } from './tour.js';
import type { DiagramStyle } from '../trace/diagram.js';

const program = new Command();
program.name('synack').description('A complete TCP/IP stack in TypeScript: tours, demos, and tools.').showHelpAfterError();

/** Colours on a TTY unless NO_COLOR is set (picocolors honours NO_COLOR and FORCE_COLOR). */
function style(): Partial<DiagramStyle> {
  if (!pc.isColorSupported || !process.stdout.isTTY) return {};
  return { time: pc.dim, arrow: pc.cyan, lost: pc.red, state: (s) => pc.bold(pc.yellow(s)), host: pc.bold };
}

program
  .command('tour', { isDefault: true })
  .description('walk through TCP, scenario by scenario, with sequence diagrams (what `npm start` runs)')
  .option('--only <ids>', 'comma-separated chapter ids')
  .option('--absolute', 'absolute sequence numbers')
  .option('--json', 'machine-readable output')
  .action((opts: { only?: string; absolute?: boolean; json?: boolean }) => {
    const only = opts.only?.split(',');
    const out: unknown[] = [];
    for (const ch of CHAPTERS) {
      if (only !== undefined && !only.includes(ch.id)) continue;
      if (ch.run === undefined) {
        if (opts.json) out.push({ id: ch.id, title: ch.title, implemented: false });
        else console.log(`\n${pc.bold(ch.title)}\n  not yet implemented\n`);
        continue;
      }
      const r = ch.run();
      if (opts.json) {
        out.push({ id: ch.id, title: ch.title, implemented: true, facts: r.facts });
        continue;
      }
      console.log(`\n${pc.bold(ch.title)}\n`);
      console.log(wrap(ch.text, 92, '  '));
      console.log('');
      console.log(r.scenario.diagram({ absolute: opts.absolute === true, style: style() }));
      const facts = Object.entries(r.facts).map(([k, v]) => `${k}=${String(v)}`).join('  ');
      if (facts !== '') console.log(`\n  ${pc.dim(facts)}`);
    }
    if (opts.json) console.log(JSON.stringify(out, null, 2));
  });

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
