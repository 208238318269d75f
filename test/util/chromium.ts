// Debian's Chromium for browser tests, driven by playwright-core (`npx playwright install` cannot
// download on the machines this project runs on). Node only, test-only. Like tshark.ts: a test
// skips with a one-line reason when Chromium is missing, except under CI=true, where .ci/run
// installs it and a missing browser is an error.
import { accessSync, constants } from 'node:fs';
import type { TestContext } from 'vitest';

/** Where Chromium is, or a one-line reason it cannot be used. */
export type ChromiumLocation = { readonly path: string; readonly missing?: undefined } | { readonly path?: undefined; readonly missing: string };

/** Looks for Chromium ($SYNACK_CHROMIUM, then Debian's paths) without starting it. */
export function findChromium(): ChromiumLocation {
  const candidates = [process.env['SYNACK_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => p !== undefined && p !== '');
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return { path };
    } catch {
      // not here
    }
  }
  return { missing: 'chromium is not installed (apt-get install chromium; .ci/run installs it)' };
}

/** Chromium on this machine, looked up once. */
export const CHROMIUM: ChromiumLocation = findChromium();

/** Flags that work for headless Debian Chromium here (see NOTES.md). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** For a test's start: skips with a one-line reason when Chromium is missing; under CI=true, fails instead. */
export function skipWithoutChromium(ctx: TestContext): void {
  if (CHROMIUM.missing === undefined) return;
  if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM.missing}; CI must have it`);
  ctx.skip(CHROMIUM.missing);
}
