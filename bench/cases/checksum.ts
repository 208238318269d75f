// Case 7: the Internet checksum (RFC 1071, src/wire/checksum.ts) over 1460 bytes (a full
// Ethernet segment's payload) and 65535 bytes, in GB/s of input summed.
import { internetChecksum } from '../../src/wire/checksum.js';
import { fromRuns } from '../stats.js';
import type { BenchCase, CaseContext } from '../types.js';

/** GB/s summing `size`-byte buffers until `total` bytes have been summed. */
export function checksumRate(size: number, total: number): number {
  const buf = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
  const reps = Math.max(1, Math.floor(total / size));
  let acc = 0;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) acc ^= internetChecksum(buf);
  const secs = (performance.now() - t0) / 1000;
  if (acc === -1) console.log(acc); // keep the result alive
  return (size * reps) / secs / 1e9;
}

export const checksumCase: BenchCase = {
  id: 'checksum',
  n: 7,
  title: 'Checksum (RFC 1071)',
  run(ctx: CaseContext): void {
    const reps = ctx.reps(5);
    ctx.note(`${(ctx.sizes.checksumBytes / 1e6).toFixed(0)} MB summed per repetition; GB/s = 1e9 bytes/s`);
    for (const size of [1460, 65535]) {
      checksumRate(size, Math.min(ctx.sizes.checksumBytes, 2e7)); // warm-up
      const runs = Array.from({ length: reps }, () => checksumRate(size, ctx.sizes.checksumBytes));
      ctx.figure(fromRuns({
        id: `checksum.${size}.gbps`, name: `checksum over ${size} B`, unit: 'GB/s',
        reference: 'plain JS over Uint32Array ~3.6; byte pairs ~1.5 (NOTES.md)',
      }, runs));
    }
  },
};
