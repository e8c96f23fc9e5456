// SPDX-License-Identifier: Apache-2.0
// glimpse live dashboard: renders /api/stream (one JSON event per second). Everything shown is
// set with textContent or DOM attributes, never parsed as HTML: routes and names come from the
// traced process.
'use strict';

const ROW_CAP = 50;
const state = {
  data: null,
  sort: { key: 'count', dir: 'desc' },
  filter: '',
  window: 'window',
  runtimeHistory: new Map(), // metric key -> recent values (since the page opened)
  bucketHistory: new Map(), // route key -> [{t, buckets}] (since the page opened, 2 min)
  selectedRoute: null,
  lastCpu: null,
};

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function fmtDuration(s) {
  if (s === null || s === undefined || !isFinite(s)) return '–';
  if (s === 0) return '0';
  if (s < 1e-3) return (s * 1e6).toPrecision(3) + ' µs';
  if (s < 1) return (s * 1e3).toPrecision(3) + ' ms';
  return s.toPrecision(3) + ' s';
}

function fmtRate(r) {
  if (r === null || r === undefined || !isFinite(r)) return '–';
  return r >= 100 ? r.toFixed(0) : r.toFixed(1);
}

function fmtPct(errors, count) {
  return count ? (100 * errors / count).toFixed(1) : '–';
}

function fmtBytes(b) {
  if (!isFinite(b)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (i ? b.toFixed(1) : b.toFixed(0)) + ' ' + u[i];
}

// Points on a fixed axis of `slots` (the server keeps two minutes of one-second points):
// a young history sits at the right end instead of being stretched.
function sparkline(values, width, height, slots = 120) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  if (values.length > 1) {
    const max = Math.max(...values, 1e-9);
    const n = Math.max(slots, values.length);
    const step = width / (n - 1);
    const x0 = (n - values.length) * step;
    const pts = values.map((v, i) => `${(x0 + i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.appendChild(line);
  }
  return svg;
}

function services(data) {
  const m = new Map();
  for (const t of data.targets) m.set(t.id, t.service);
  return m;
}

// One row per route, with the columns of the chosen window.
function routeRows(data) {
  const svc = services(data);
  return data.routes.map((r) => {
    const w = state.window === 'window' && r.window ? r.window : null;
    const src = w || r;
    return {
      r,
      service: svc.get(r.target) || '',
      method: r.method,
      route: r.route,
      count: r.count,
      rps: r.window ? r.window.rps : null,
      errors: src.errors,
      n: src.count,
      err: src.count ? src.errors / src.count : -1,
      p50: src.p50, p95: src.p95, p99: src.p99,
    };
  });
}

function compare(a, b, key) {
  const x = a[key], y = b[key];
  if (typeof x === 'string' || typeof y === 'string') return String(x).localeCompare(String(y));
  const xv = x === null || x === undefined ? -Infinity : x;
  const yv = y === null || y === undefined ? -Infinity : y;
  return xv - yv;
}

const routeKey = (r) => `${r.target}\u0000${r.method}\u0000${r.route}`;

function rememberBuckets(data) {
  const seen = new Set();
  for (const r of data.routes) {
    const k = routeKey(r);
    seen.add(k);
    let h = state.bucketHistory.get(k);
    if (!h) state.bucketHistory.set(k, (h = []));
    h.push({ t: data.time_unix_ms, buckets: r.buckets });
    if (h.length > 121) h.shift();
  }
  for (const k of [...state.bucketHistory.keys()]) if (!seen.has(k)) state.bucketHistory.delete(k);
}

// The selected route's latency distribution per second since the page opened: one column per
// second, one row per histogram bucket (fastest at the bottom), darker for more requests.
function renderHeatmap(data) {
  const box = document.getElementById('heatmap');
  const r = data.routes.find((x) => routeKey(x) === state.selectedRoute);
  if (!r) { box.hidden = true; return; }
  box.hidden = false;
  const h = state.bucketHistory.get(state.selectedRoute) || [];
  const cols = [];
  for (let i = 1; i < h.length; i++) cols.push(h[i].buckets.map((c, j) => Math.max(0, c - h[i - 1].buckets[j])));
  const rows = data.bounds.length + 1;
  const labels = [...data.bounds.map((b) => '≤ ' + (b === 0 ? '0' : fmtDuration(b))), '> ' + fmtDuration(data.bounds[data.bounds.length - 1])];
  document.getElementById('heatmap-title').textContent =
    `Latency heatmap: ${r.method} ${r.route || '(no route)'} — requests per second by duration bucket, since this page opened (${cols.length} s)`;
  const ns = 'http://www.w3.org/2000/svg';
  const cw = 7, ch = 11, left = 64, W = left + 120 * cw, H = rows * ch + 4;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'heat');
  svg.setAttribute('id', 'heatmap-svg');
  svg.setAttribute('width', W);
  svg.setAttribute('height', H);
  const max = Math.max(1, ...cols.flat());
  for (let j = 0; j < rows; j++) {
    const y = (rows - 1 - j) * ch;
    if (j % 2 === 1) { // every other bound, the top (+Inf) row included
      const t = document.createElementNS(ns, 'text');
      t.setAttribute('x', 0);
      t.setAttribute('y', y + ch - 2);
      t.textContent = labels[j];
      svg.appendChild(t);
    }
  }
  const x0 = left + (120 - cols.length) * cw;
  cols.forEach((col, i) => col.forEach((n, j) => {
    if (!n) return;
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('class', 'cell');
    rect.setAttribute('x', x0 + i * cw);
    rect.setAttribute('y', (rows - 1 - j) * ch);
    rect.setAttribute('width', cw - 1);
    rect.setAttribute('height', ch - 1);
    rect.setAttribute('fill-opacity', (0.15 + 0.85 * Math.log1p(n) / Math.log1p(max)).toFixed(2));
    rect.setAttribute('data-bucket', j);
    rect.setAttribute('data-count', n);
    const tip = document.createElementNS(ns, 'title');
    tip.textContent = `${n} request${n === 1 ? '' : 's'} ${labels[j]}`;
    rect.appendChild(tip);
    svg.appendChild(rect);
  }));
  document.getElementById('heatmap-chart').replaceChildren(svg);
}

function renderRoutes(data) {
  const tbody = document.querySelector('#routes tbody');
  const all = routeRows(data);
  const f = state.filter.toLowerCase();
  let rows = f ? all.filter((x) => (x.route || '(no route)').toLowerCase().includes(f) ||
                               x.method.toLowerCase().includes(f) || x.service.toLowerCase().includes(f)) : all;
  const { key, dir } = state.sort;
  rows.sort((a, b) => (dir === 'asc' ? 1 : -1) * compare(a, b, key) || a.route.localeCompare(b.route));
  const shown = rows.slice(0, ROW_CAP);
  const frag = document.createDocumentFragment();
  for (const x of shown) {
    const tr = el('tr', { 'data-method': x.method, 'data-route': x.route, 'data-target': x.r.target });
    const key = routeKey(x.r);
    if (key === state.selectedRoute) tr.classList.add('selected');
    tr.addEventListener('click', () => {
      state.selectedRoute = state.selectedRoute === key ? null : key;
      renderRoutes(state.data);
      renderHeatmap(state.data);
    });
    tr.appendChild(el('td', null, x.service));
    tr.appendChild(el('td', null, x.method));
    tr.appendChild(el('td', { class: 'route', title: x.route }, x.route === '' ? '(no route)' : x.route));
    tr.appendChild(el('td', { class: 'num count', 'data-value': x.count }, x.count));
    const st = el('td', { class: 'statuses' });
    for (const [code, n] of x.r.statuses) {
      st.appendChild(el('span', { class: 's' + Math.floor(code / 100), 'data-status': code, 'data-value': n },
                        `${code || '?'}: ${n}`));
    }
    tr.appendChild(st);
    tr.appendChild(el('td', { class: 'num rps', 'data-value': x.rps ?? '' }, fmtRate(x.rps)));
    const errTd = el('td', { class: 'num err', 'data-value': x.errors }, fmtPct(x.errors, x.n));
    if (x.errors) errTd.classList.add('bad');
    tr.appendChild(errTd);
    for (const q of ['p50', 'p95', 'p99']) {
      tr.appendChild(el('td', { class: 'num ' + q, 'data-value': x[q] ?? '' }, fmtDuration(x[q])));
    }
    const sp = el('td');
    sp.appendChild(sparkline(x.r.rps_history || [], 120, 18));
    tr.appendChild(sp);
    frag.appendChild(tr);
  }
  tbody.replaceChildren(frag);
  const note = document.getElementById('routes-note');
  if (!data.routes.length) note.textContent = 'No HTTP requests seen yet.';
  else if (rows.length > shown.length) note.textContent = `Showing ${shown.length} of ${rows.length} routes: filter to find the others.`;
  else note.textContent = `${rows.length} of ${data.routes.length} routes` +
    (state.window === 'window' ? `; window ${Math.round(data.window_s)} s` : '; since glimpse attached');
  document.querySelectorAll('#routes th[data-key]').forEach((th) => {
    if (th.dataset.key === key) th.setAttribute('data-sort', dir); else th.removeAttribute('data-sort');
  });
}

function renderDb(data) {
  const svc = services(data);
  const tbody = document.querySelector('#db tbody');
  const frag = document.createDocumentFragment();
  const ops = [...data.db].sort((a, b) => b.count - a.count);
  for (const d of ops) {
    const w = state.window === 'window' && d.window ? d.window : d;
    const tr = el('tr', { 'data-system': d.system, 'data-operation': d.operation, 'data-collection': d.collection });
    tr.appendChild(el('td', null, svc.get(d.target) || ''));
    tr.appendChild(el('td', null, d.side));
    tr.appendChild(el('td', null, d.system));
    tr.appendChild(el('td', null, d.operation || '–'));
    tr.appendChild(el('td', null, d.collection || '–'));
    tr.appendChild(el('td', { class: 'num count', 'data-value': d.count }, d.count));
    tr.appendChild(el('td', { class: 'num' }, fmtRate(d.window ? d.window.rps : null)));
    tr.appendChild(el('td', { class: 'num' + (w.errors ? ' bad' : '') }, fmtPct(w.errors, w.count)));
    tr.appendChild(el('td', { class: 'num' }, fmtDuration(w.p50)));
    tr.appendChild(el('td', { class: 'num' }, fmtDuration(w.p99)));
    frag.appendChild(tr);
  }
  tbody.replaceChildren(frag);
  document.getElementById('db-note').textContent = ops.length ? '' :
    'No database calls seen (database/sql and the PostgreSQL and Redis wire protocols are traced).';
}

function renderPeers(data) {
  const svc = services(data);
  const frag = document.createDocumentFragment();
  const peers = [...data.peers].sort((a, b) => b.count - a.count);
  for (const p of peers) {
    const w = state.window === 'window' && p.window ? p.window : p;
    const peer = (p.address || '(unknown)') + (p.port ? ':' + p.port : '');
    const tr = el('tr', { 'data-peer': peer, 'data-method': p.method });
    tr.appendChild(el('td', null, svc.get(p.target) || ''));
    tr.appendChild(el('td', null, p.method));
    tr.appendChild(el('td', { class: 'route' }, peer));
    tr.appendChild(el('td', { class: 'num count', 'data-value': p.count }, p.count));
    tr.appendChild(el('td', { class: 'num' }, fmtRate(p.window ? p.window.rps : null)));
    tr.appendChild(el('td', { class: 'num' + (w.errors ? ' bad' : '') }, fmtPct(w.errors, w.count)));
    tr.appendChild(el('td', { class: 'num' }, fmtDuration(w.p50)));
    tr.appendChild(el('td', { class: 'num' }, fmtDuration(w.p99)));
    frag.appendChild(tr);
  }
  document.querySelector('#peers tbody').replaceChildren(frag);
  document.getElementById('peers-note').textContent = peers.length ? '' :
    'No outgoing HTTP calls seen.';
}

const CARDS = [
  { name: 'go.goroutine.count', label: 'goroutines', fmt: (v) => v.toFixed(0) },
  { name: 'go.memory.used', label: 'Go heap in use', fmt: fmtBytes },
  { name: 'process.thread.count', label: 'threads', fmt: (v) => v.toFixed(0) },
  { name: 'process.memory.usage', label: 'resident memory', fmt: fmtBytes },
  { name: 'glimpse.go.gc.count', label: 'GC cycles', fmt: (v) => v.toFixed(0) },
];

function cpuPercent(data, target) {
  let sum = 0, seen = false;
  for (const m of data.metrics) {
    if (m.target === target && m.name === 'process.cpu.time') { sum += m.value; seen = true; }
  }
  if (!seen) return null;
  const prev = state.lastCpu && state.lastCpu.get(target);
  const now = { sum, t: data.time_unix_ms };
  if (!state.nextCpu) state.nextCpu = new Map();
  state.nextCpu.set(target, now);
  if (!prev || now.t <= prev.t) return null;
  return 100 * (now.sum - prev.sum) / ((now.t - prev.t) / 1000);
}

function card(label, value, history) {
  const c = el('div', { class: 'card' });
  c.appendChild(el('div', { class: 'label' }, label));
  c.appendChild(el('div', { class: 'value' }, value));
  if (history) c.appendChild(sparkline(history, 140, 20));
  return c;
}

function remember(key, v) {
  let h = state.runtimeHistory.get(key);
  if (!h) state.runtimeHistory.set(key, (h = []));
  h.push(v);
  if (h.length > 120) h.shift();
  return h;
}

function renderRuntime(data) {
  const svc = services(data);
  const box = document.getElementById('runtime-cards');
  const frag = document.createDocumentFragment();
  state.nextCpu = new Map();
  const multi = data.targets.length > 1;
  for (const t of data.targets) {
    const prefix = multi ? t.service + ' ' : '';
    for (const c of CARDS) {
      const m = data.metrics.find((x) => x.target === t.id && x.name === c.name);
      if (m) frag.appendChild(card(prefix + c.label, c.fmt(m.value), remember(t.id + c.name, m.value)));
    }
    const cpu = cpuPercent(data, t.id);
    if (cpu !== null) frag.appendChild(card(prefix + 'CPU', cpu.toFixed(1) + ' %', remember(t.id + 'cpu', cpu)));
    const rq = data.metrics.find((x) => x.target === t.id && x.name === 'glimpse.sched.runqueue.latency');
    if (rq) frag.appendChild(card(prefix + 'run-queue wait p99', fmtDuration(rq.p99), null));
  }
  state.lastCpu = state.nextCpu;
  if (!frag.childNodes.length) frag.appendChild(el('p', { class: 'note' }, 'No runtime metrics (the Go runtime reader and process metrics are off or not supported for this target).'));
  box.replaceChildren(frag);

  const tbody = document.querySelector('#metrics tbody');
  const rows = document.createDocumentFragment();
  for (const m of data.metrics) {
    const tr = el('tr');
    tr.appendChild(el('td', null, m.target >= 0 ? svc.get(m.target) || '' : '(glimpse)'));
    tr.appendChild(el('td', null, m.name + (m.unit ? ` [${m.unit}]` : '')));
    tr.appendChild(el('td', null, m.attr));
    const v = m.type === 'histogram' ? `n=${m.count} p50=${fmtDuration(m.p50)} p99=${fmtDuration(m.p99)}` :
      (Number.isInteger(m.value) ? String(m.value) : (m.value ?? NaN).toPrecision(4));
    tr.appendChild(el('td', { class: 'num' }, v));
    rows.appendChild(tr);
  }
  tbody.replaceChildren(rows);
}

// Objectives as the SLO tracker's gauges give them (glimpse_slo_* on /metrics): the budget
// left over the period as far as glimpse has watched, and the burn rate per window (1 spends
// the budget exactly over the period).
const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

function fmtBurn(b) {
  if (b === null || b === undefined || !isFinite(b)) return '–';
  return b >= 100 ? b.toFixed(0) : b.toFixed(2);
}

function budgetBar(left) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'budget');
  svg.setAttribute('width', 120);
  svg.setAttribute('height', 10);
  const track = document.createElementNS(ns, 'rect');
  track.setAttribute('class', 'track');
  track.setAttribute('width', 120);
  track.setAttribute('height', 10);
  svg.appendChild(track);
  const fill = document.createElementNS(ns, 'rect');
  fill.setAttribute('class', left < 0.25 ? 'low' : 'left');
  fill.setAttribute('width', (120 * Math.min(1, Math.max(0, left))).toFixed(1));
  fill.setAttribute('height', 10);
  svg.appendChild(fill);
  return svg;
}

function renderSlos(data) {
  const svc = services(data);
  const slos = data.slos || [];
  const rows = document.createDocumentFragment();
  for (const o of slos) {
    const tr = el('tr', { 'data-slo': o.name });
    tr.appendChild(el('td', null, svc.get(o.target) || ''));
    tr.appendChild(el('td', { class: 'name' }, o.name));
    tr.appendChild(el('td', { class: 'num' }, isFinite(o.objective) ? (100 * o.objective).toPrecision(6).replace(/\.?0+$/, '') + ' %' : '–'));
    const b = el('td', { class: 'budget', 'data-value': String(o.budget_left) });
    if (o.budget_left !== null && isFinite(o.budget_left)) {
      b.appendChild(budgetBar(o.budget_left));
      b.appendChild(el('span', { class: o.budget_left < 0 ? 'value bad' : 'value' }, (100 * o.budget_left).toFixed(1) + ' %'));
    } else {
      b.textContent = '–';
    }
    tr.appendChild(b);
    for (const w of SLO_WINDOWS) {
      const v = o.burn ? o.burn[w] : null;
      tr.appendChild(el('td', { class: v > 1 ? 'num burn bad' : 'num burn', 'data-window': w, 'data-value': String(v) }, fmtBurn(v)));
    }
    // The alerts `glimpse slo rules` writes, judged by glimpse on the same counts: a page
    // outranks a ticket.
    const f = o.firing || {};
    const severity = f.page > 0 ? 'page' : f.ticket > 0 ? 'ticket' : '';
    tr.appendChild(el('td', { class: severity ? 'alert ' + severity : 'alert', 'data-severity': severity }, severity || '–'));
    rows.appendChild(tr);
  }
  document.querySelector('#slos tbody').replaceChildren(rows);
  document.getElementById('slo-note').textContent = slos.length
    ? 'Burn rate: the bad share of requests over the window divided by the share the objective allows (above 1 spends the budget before the period ends). Alert firing: the multiwindow burn-rate alerts `glimpse slo rules` writes for Prometheus, judged here on the same counts.'
    : 'No objective configured: `glimpse attach --slo objective=availability,target=99.9%` or the agent\'s `slos:` list.';
}

function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString();
}

function renderTraceList(id, list, svc) {
  const tbody = document.querySelector(`#${id} tbody`);
  const frag = document.createDocumentFragment();
  for (const t of list) {
    const tr = el('tr', { 'data-trace-id': t.trace_id, class: t.error ? 'error' : '' });
    if (t.trace_id === state.selectedTrace) tr.classList.add('selected');
    tr.appendChild(el('td', null, fmtTime(t.start_unix_ms)));
    tr.appendChild(el('td', null, svc.get(t.target) || ''));
    tr.appendChild(el('td', { class: 'name' }, t.name));
    tr.appendChild(el('td', { class: 'num duration', 'data-value': t.duration_s }, fmtDuration(t.duration_s)));
    tr.appendChild(el('td', { class: 'num' }, t.spans + (t.spans_left_out ? '+' : '')));
    tr.addEventListener('click', () => showTrace(t.trace_id));
    frag.appendChild(tr);
  }
  tbody.replaceChildren(frag);
}

function renderTraces(data) {
  const t = data.traces;
  const note = document.getElementById('traces-note');
  const lists = document.getElementById('trace-lists');
  if (!t.shown) {
    note.textContent = t.note;
    lists.hidden = true;
    return;
  }
  lists.hidden = false;
  note.textContent = t.newest.length ? 'Click a trace for its waterfall.' : 'No trace kept yet (sampling decides which are).';
  const svc = services(data);
  renderTraceList('traces-newest', t.newest, svc);
  renderTraceList('traces-slowest', t.slowest, svc);
}

// One trace: a row per span, indented under its parent, with a bar on the trace's time axis.
function renderWaterfall(tr) {
  const box = document.getElementById('waterfall');
  const total = Math.max(tr.trace.duration_s * 1e6, 1);
  const byId = new Map(tr.spans.map((s) => [s.span_id, s]));
  const depth = (s) => {
    let d = 0;
    for (let p = byId.get(s.parent_span_id); p && d < 32; p = byId.get(p.parent_span_id)) d++;
    return d;
  };
  const frag = document.createDocumentFragment();
  frag.appendChild(el('div', { class: 'title' },
    `${tr.trace.name} · ${fmtDuration(tr.trace.duration_s)} · ${tr.spans.length} spans · trace ${tr.trace.trace_id}`));
  const table = el('table', { id: 'waterfall-spans' });
  const head = el('tr');
  for (const h of ['span', 'kind', 'start', 'duration', '', 'attributes']) head.appendChild(el('th', null, h));
  table.appendChild(el('thead')).appendChild(head);
  const body = el('tbody');
  const W = 360, H = 12;
  for (const s of tr.spans) {
    const row = el('tr', { 'data-span-id': s.span_id, 'data-parent-span-id': s.parent_span_id, 'data-kind': s.kind });
    const name = el('td', { class: 'name' }, s.name);
    name.style.paddingLeft = (8 + 16 * depth(s)) + 'px';
    row.appendChild(name);
    row.appendChild(el('td', null, s.kind));
    row.appendChild(el('td', { class: 'num' }, fmtDuration(s.start_us / 1e6)));
    row.appendChild(el('td', { class: 'num duration', 'data-value': s.duration_us / 1e6 }, fmtDuration(s.duration_us / 1e6)));
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'bar');
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    const track = document.createElementNS(ns, 'rect');
    track.setAttribute('class', 'track');
    track.setAttribute('width', W);
    track.setAttribute('height', H);
    svg.appendChild(track);
    const bar = document.createElementNS(ns, 'rect');
    bar.setAttribute('class', s.error ? 'error' : s.kind);
    bar.setAttribute('x', (W * s.start_us / total).toFixed(1));
    bar.setAttribute('width', Math.max(1, W * s.duration_us / total).toFixed(1));
    bar.setAttribute('height', H);
    svg.appendChild(bar);
    const cell = el('td');
    cell.appendChild(svg);
    row.appendChild(cell);
    row.appendChild(el('td', { class: 'attrs' }, s.attributes.map(([k, v]) => `${k}=${v}`).join('  ')));
    body.appendChild(row);
  }
  table.appendChild(body);
  frag.appendChild(table);
  box.replaceChildren(frag);
}

async function showTrace(id) {
  state.selectedTrace = id;
  document.querySelectorAll('table.traces tbody tr').forEach((tr) =>
    tr.classList.toggle('selected', tr.dataset.traceId === id));
  const box = document.getElementById('waterfall');
  try {
    const r = await fetch('/api/trace?id=' + encodeURIComponent(id));
    if (!r.ok) {
      box.replaceChildren(el('p', { class: 'note' }, (await r.text()).trim()));
      return;
    }
    renderWaterfall(await r.json());
  } catch (e) {
    box.replaceChildren(el('p', { class: 'note' }, 'cannot load the trace: ' + e));
  }
}

function render(data) {
  state.data = data;
  const t = document.getElementById('targets');
  t.textContent = data.targets.map((x) => `${x.service} (pid ${x.pid})`).join(', ') || 'no target yet';
  rememberBuckets(data);
  renderRoutes(data);
  renderHeatmap(data);
  renderSlos(data);
  renderPeers(data);
  renderDb(data);
  renderRuntime(data);
  renderTraces(data);
  const s = document.getElementById('status');
  s.dataset.state = 'live';
  s.textContent = 'live · ' + new Date(data.time_unix_ms).toLocaleTimeString();
}

function connect() {
  const es = new EventSource('/api/stream');
  es.onmessage = (ev) => {
    try { render(JSON.parse(ev.data)); } catch (e) { console.error(e); }
  };
  es.onerror = () => {
    const s = document.getElementById('status');
    s.dataset.state = 'down';
    s.textContent = 'disconnected: retrying…';
  };
}

document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('#routes th[data-key]').forEach((th) => th.addEventListener('click', () => {
    const k = th.dataset.key;
    const textual = k === 'route' || k === 'method' || k === 'service';
    state.sort = state.sort.key === k ? { key: k, dir: state.sort.dir === 'asc' ? 'desc' : 'asc' }
                                      : { key: k, dir: textual ? 'asc' : 'desc' };
    if (state.data) renderRoutes(state.data);
  }));
  document.getElementById('search').addEventListener('input', (e) => {
    state.filter = e.target.value;
    if (state.data) renderRoutes(state.data);
  });
  document.getElementById('window').addEventListener('change', (e) => {
    state.window = e.target.value;
    if (state.data) { renderRoutes(state.data); renderPeers(state.data); renderDb(state.data); }
  });
  connect();
});
