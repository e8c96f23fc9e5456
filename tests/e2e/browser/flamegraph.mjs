// SPDX-License-Identifier: Apache-2.0
// Reads the dashboard's CPU flame graph panel in Debian's Chromium (playwright-core, as
// dashboard.mjs) and prints what it shows as JSON (its last line of output) for
// tests/e2e/test_dashboard_profile.py.
// Usage: node flamegraph.mjs URL SCREENSHOT.png WANT_FUNCTION: waits until the whole-process
// graph shows WANT_FUNCTION (or, profiling off, the panel's note), then reads each request
// kind's graph, a search and a zoom. Fails (exit 1) when the page asks any other host for
// anything or logs an error (a CSP violation is one).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, screenshot, want] = process.argv.slice(2);
const origin = new URL(url).origin;
const profile = mkdtempSync(join(tmpdir(), 'glimpse-chromium-'));
const problems = [];
const out = {};

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
});
const frames = (page) => page.$$eval('#flame .fr', (els) => els.map((e) => ({
  name: e.dataset.name, samples: Number(e.dataset.samples), hit: e.classList.contains('hit'),
  top: parseFloat(e.style.top), width: parseFloat(e.style.width),
})));
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (new URL(u).origin !== origin) {
      problems.push('request to another host: ' + u);
      return route.abort();
    }
    return route.continue();
  });
  await page.goto(url);
  await page.waitForFunction((w) => {
    const note = document.getElementById('flame-note').textContent;
    return note.includes('off') || [...document.querySelectorAll('#flame .fr')].some((e) => e.dataset.name === w);
  }, want, { timeout: 30000 });
  out.note = await page.textContent('#flame-note');
  out.whole = await frames(page);
  out.routes = await page.$$eval('#flame-route option', (os) => os.map((o) => o.value).filter((v) => v));
  out.by_route = {};
  for (const r of out.routes) {
    await page.selectOption('#flame-route', r);
    out.by_route[r] = await frames(page);
  }
  await page.selectOption('#flame-route', '');
  if (out.whole.length) {
    await page.fill('#flame-search', want);
    out.search_hits = (await frames(page)).filter((f) => f.hit).map((f) => f.name);
    out.search_note = await page.textContent('#flame-match');
    // Zoom into the function: it becomes the top row, as wide as the graph.
    await page.click(`#flame .fr[data-name="${want}"]`);
    out.zoomed = await frames(page);
    await page.fill('#flame-search', '');
    await page.click('#flame-reset');
    out.after_reset = (await frames(page)).length;
    await page.locator('#flame-panel').screenshot({ path: screenshot });
  } else {
    await page.locator('#flame-panel').screenshot({ path: screenshot });
  }
} catch (e) {
  problems.push('driver: ' + e.message);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
out.problems = problems;
console.log(JSON.stringify(out));
process.exit(problems.length ? 1 : 0);
