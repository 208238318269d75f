// Case 9 (--profile): CPU and heap profiles of case 1's transfers (MTU 1500 and 65535), written
// to bench/results/ as .cpuprofile and .heapprofile files, with the 15 functions that take the
// most self time and the sites that allocate the most.
import { bulkCase } from './bulk.js';
import { profileWorkload } from '../profile.js';
import type { BenchCase, CaseContext, ProfileWorkload } from '../types.js';

export const profileCase: BenchCase = {
  id: 'profile',
  n: 9,
  title: 'CPU profile of case 1 (--profile)',
  async run(ctx: CaseContext): Promise<void> {
    const ws = [bulkCase.profile!(ctx)].flat() as ProfileWorkload[];
    ws[0]!.run(); // warm-up, so the profile shows steady state rather than the JIT's start
    for (const w of ws) {
      const slug = w.what.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
      const s = await profileWorkload(w, { file: `${ctx.opts.resultsDir}/profile-${slug}`, top: 15, allocTop: 10, root: ctx.opts.root });
      ctx.addProfile(s);
    }
    ctx.note('open the .cpuprofile files in Chrome DevTools (Performance) or https://www.speedscope.app; .heapprofile in DevTools (Memory)');
  },
};
