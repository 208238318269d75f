// Precomputed drop-counter keys (`layer:reason`) for every parser error, so counting a drop never
// builds a string at run time. No RFC; see src/wire/error.ts for the reasons.
import type { WireError } from '../wire/error.js';

// A Record over the union: adding a WireError without listing it here is a compile error.
const ALL: Record<WireError, true> = {
  'truncated': true,
  'bad-version': true,
  'bad-header-length': true,
  'bad-total-length': true,
  'bad-data-offset': true,
  'bad-length': true,
  'bad-option': true,
  'bad-checksum': true,
  'bad-extension-header': true,
  'bad-value': true,
  'unsupported': true,
};

/** Drop keys `${layer}:${reason}` for every WireError. */
export function dropKeys(layer: string): Readonly<Record<WireError, string>> {
  const out = {} as Record<WireError, string>;
  for (const k of Object.keys(ALL) as WireError[]) out[k] = `${layer}:${k}`;
  return out;
}
