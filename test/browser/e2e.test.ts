// The browser build end to end: bundle the core and the streams API for the browser platform
// (web/build.ts, the same build as `npm run build:web`), serve it with web/e2e.html over
// 127.0.0.1, load it in headless Chromium, and let the page run a client and a server on two
// synack stacks over a simulated link. The page reports what it saw; nothing in the page may
// touch a Node global.
import { createServer, type Server } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { chromium } from 'playwright-core';
import { buildWeb } from '../../web/build.js';
import { CHROMIUM, CHROMIUM_ARGS, skipWithoutChromium } from '../util/chromium.js';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

interface PageResult {
  error?: string;
  info?: { remoteAddress?: string; localAddress?: string };
  sent?: number;
  back?: number;
  ok?: boolean;
  head?: string;
  stop?: string;
  virtualMs?: number;
  frames?: number;
  states?: string;
  nodeGlobals?: boolean;
}

/** Serves web/e2e.html and the freshly built bundle on an ephemeral loopback port. */
async function serve(bundleDir: string): Promise<{ server: Server; url: string }> {
  const files: Record<string, { path: string; type: string }> = {
    '/e2e.html': { path: join(WEB, 'e2e.html'), type: 'text/html' },
    '/dist/synack.js': { path: join(bundleDir, 'synack.js'), type: 'text/javascript' },
    '/dist/synack.js.map': { path: join(bundleDir, 'synack.js.map'), type: 'application/json' },
  };
  const server = createServer((req, res) => {
    const f = files[(req.url ?? '').split('?')[0]!];
    if (f === undefined) {
      res.writeHead(404).end();
      return;
    }
    readFile(f.path).then(
      (body) => res.writeHead(200, { 'content-type': f.type }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}/e2e.html` };
}

test('the browser bundle runs a client/server exchange over a simulated link in headless Chromium', async (ctx) => {
  skipWithoutChromium(ctx);
  const dir = await mkdtemp(join(tmpdir(), 'synack-web-'));
  const { server, url } = await (async () => {
    const built = await buildWeb(join(dir, 'synack.js'));
    expect(built.bytes).toBeGreaterThan(10_000);
    return serve(dir);
  })();
  const browser = await chromium.launch({ executablePath: CHROMIUM.path!, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
    const r = await page.evaluate(() => (window as unknown as { __result: PageResult }).__result);
    expect(problems).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.stop).toBe('until');
    expect(r.ok).toBe(true);
    expect(r.back).toBe(r.sent);
    expect(r.head).toBe('HELLO FROM THE BROWSER; ');
    expect(r.info?.remoteAddress).toBe('10.0.0.2:7');
    expect(r.frames).toBeGreaterThan(10);
    expect(r.virtualMs).toBeGreaterThan(0);
    expect(r.states).toContain('client:ESTABLISHED');
    expect(r.nodeGlobals).toBe(false);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
});
