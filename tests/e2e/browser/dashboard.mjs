// SPDX-License-Identifier: Apache-2.0
// Reads glimpse's live dashboard in Debian's Chromium (playwright-core, never a downloaded
// browser) and prints what the page shows as JSON for tests/e2e/test_dashboard.py to compare
// with /metrics (the JSON is its last line of output).
// Usage: node dashboard.mjs URL SCREENSHOT.png [TRACE_NAME [HEATMAP_ROUTE N]]: with TRACE_NAME
// ("" for none), opens the slowest kept trace of that root span name and reads its waterfall;
// with HEATMAP_ROUTE, selects that route, prints "heatmap-ready" on a line of its own, waits
// until its heatmap holds N requests (the caller sends them then), and reads its cells.
// Fails (exit 1) when the page asks any other host for anything, logs an error (a CSP
// violation is one), or never shows live data.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, screenshot, traceName, heatRoute, heatWant] = process.argv.slice(2);
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
  await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
  await page.waitForSelector('#routes tbody tr', { timeout: 15000 });

  // Whole-run columns: what /metrics holds (cumulative counts and buckets).
  await page.selectOption('#window', 'total');
  // Sort by p99, slowest first (the first click on a numeric column sorts descending).
  await page.click('#routes th[data-key="p99"]');
  const rows = () => page.$$eval('#routes tbody tr', (trs) => trs.map((tr) => ({
    method: tr.dataset.method,
    route: tr.dataset.route,
    route_text: tr.querySelector('td.route').textContent,
    count: tr.querySelector('td.count').textContent,
    statuses: [...tr.querySelectorAll('td.statuses span')].map((s) => [s.dataset.status, s.textContent]),
    err: tr.querySelector('td.err').textContent,
    p50: tr.querySelector('td.p50').dataset.value,
    p95: tr.querySelector('td.p95').dataset.value,
    p99: tr.querySelector('td.p99').dataset.value,
    p99_text: tr.querySelector('td.p99').textContent,
    sparkline_points: tr.querySelector('svg.spark polyline')?.getAttribute('points') || '',
  })));
  out.rows_by_p99 = await rows();
  out.sort = await page.$eval('#routes th[data-sort]', (th) => [th.dataset.key, th.dataset.sort]);
  out.routes_note = await page.textContent('#routes-note');
  // Search narrows the table (GLIMPSE_DASH_SEARCH: what to type; default "status").
  await page.fill('#search', process.env.GLIMPSE_DASH_SEARCH || 'status');
  out.rows_filtered = (await rows()).map((r) => r.route);
  out.routes_note_filtered = await page.textContent('#routes-note');
  await page.fill('#search', '');
  out.db = await page.$$eval('#db tbody tr', (trs) => trs.map((tr) => ({
    system: tr.dataset.system, operation: tr.dataset.operation, collection: tr.dataset.collection,
    count: tr.querySelector('td.count').textContent,
  })));
  out.db_note = await page.textContent('#db-note');
  out.peers = await page.$$eval('#peers tbody tr', (trs) => trs.map((tr) => ({
    peer: tr.dataset.peer, method: tr.dataset.method, count: tr.querySelector('td.count').textContent,
  })));
  out.runtime = await page.$$eval('#runtime-cards .card', (cs) => cs.map((c) => [
    c.querySelector('.label').textContent, c.querySelector('.value').textContent]));
  out.slos = await page.$$eval('#slos tbody tr', (trs) => trs.map((tr) => ({
    name: tr.dataset.slo, target_text: tr.children[2].textContent,
    budget_left: tr.querySelector('td.budget').dataset.value,
    budget_text: tr.querySelector('td.budget').textContent,
    burn: Object.fromEntries([...tr.querySelectorAll('td.burn')].map((td) => [td.dataset.window, td.dataset.value])),
    alert: tr.querySelector('td.alert').textContent,
  })));
  out.slo_note = await page.textContent('#slo-note');
  out.traces_note = await page.textContent('#traces-note');
  out.traces_shown = !(await page.$eval('#trace-lists', (d) => d.hidden));
  const traceRows = (id) => page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => ({
    trace_id: tr.dataset.traceId, name: tr.querySelector('td.name').textContent,
    duration: tr.querySelector('td.duration').dataset.value,
  })));
  out.traces_newest = await traceRows('traces-newest');
  out.traces_slowest = await traceRows('traces-slowest');
  out.targets = await page.textContent('#targets');
  out.services_shown = await page.$$eval('#routes tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
  // Strings from the target are text: markup in them must not become elements.
  out.injected_elements = await page.$$eval('img, main script, [onerror]', (es) => es.length);
  // The screenshot: the last-minute view, busiest routes first.
  await page.selectOption('#window', 'window');
  await page.click('#routes th[data-key="count"]');
  if (traceName) {
    const row = page.locator('#traces-slowest tbody tr', { has: page.locator('td.name', { hasText: traceName }) }).first();
    out.waterfall_trace_id = await row.getAttribute('data-trace-id');
    await row.click();
    await page.waitForSelector('#waterfall-spans tbody tr', { timeout: 5000 });
    out.waterfall = await page.$$eval('#waterfall-spans tbody tr', (trs) => trs.map((tr) => ({
      span_id: tr.dataset.spanId, parent_span_id: tr.dataset.parentSpanId, kind: tr.dataset.kind,
      name: tr.querySelector('td.name').textContent,
      duration: tr.querySelector('td.duration').dataset.value,
      attributes: tr.querySelector('td.attrs').textContent,
    })));
  }
  await page.waitForTimeout(1200);
  if (heatRoute) {
    await page.click(`#routes tbody tr[data-route="${heatRoute}"]`);
    await page.waitForSelector('#heatmap-svg', { timeout: 5000 });
    process.stdout.write('heatmap-ready\n');
    const want = Number(heatWant);
    const total = () => page.$$eval('#heatmap-svg rect.cell', (rs) => rs.reduce((a, r) => a + Number(r.dataset.count), 0));
    const t0 = Date.now();
    while ((await total()) < want && Date.now() - t0 < 15000) await page.waitForTimeout(250);
    out.heatmap = await page.$$eval('#heatmap-svg rect.cell', (rs) => rs.map((r) => [Number(r.dataset.bucket), Number(r.dataset.count)]));
    out.heatmap_title = await page.textContent('#heatmap-title');
  }
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  problems.push(String(e && e.stack || e));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
out.problems = problems;
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(problems.length ? 1 : 0);
