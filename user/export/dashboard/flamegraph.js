// SPDX-License-Identifier: Apache-2.0
// The dashboard's CPU flame graph panel (GET /api/profile, export/dash_profile.h): the newest
// interval of attach --profile as an icicle — root at the top, each frame as wide as its
// samples — for the whole process or one request kind (the tree's first level: "GET /route",
// "[no request]"). Click a frame to zoom into it, "reset zoom" to come back; the search box
// highlights matching functions and says their share. Kept apart from dashboard.js.
'use strict';

(() => {
  const ROW = 18;
  const REFRESH_MS = 5000;
  const flame = { data: null, zoom: [], stamp: -1 };
  const $ = (id) => document.getElementById(id);

  // The subtree shown: the whole tree or the chosen request kind's, then down the zoom path.
  function shownRoot() {
    let node = flame.data.tree;
    const route = $('flame-route').value;
    if (route) node = (node.c || []).find((c) => c.n === route) || { n: route, v: 0 };
    for (const name of flame.zoom) {
      const next = (node.c || []).find((c) => c.n === name);
      if (!next) break;
      node = next;
    }
    return node;
  }

  function matches(name, term) {
    return term !== '' && name.toLowerCase().includes(term);
  }

  // Samples of the shown subtree under frames that match (each counted once, outermost match).
  function matchedSamples(node, term) {
    if (matches(node.n, term)) return node.v;
    return (node.c || []).reduce((sum, c) => sum + matchedSamples(c, term), 0);
  }

  function drawFlame() {
    const box = $('flame');
    box.replaceChildren();
    if (!flame.data || !flame.data.tree) return;
    const root = shownRoot();
    const term = $('flame-search').value.trim().toLowerCase();
    const width = box.clientWidth || 1000;
    const routeLevel = $('flame-route').value === '' && flame.zoom.length === 0;
    let depth = 0;
    const place = (node, x, w, d, isRoute) => {
      if (w < 2) return;
      depth = Math.max(depth, d);
      const el = document.createElement('div');
      el.className = 'fr' + (isRoute ? ' route' : '') + (matches(node.n, term) ? ' hit' : term ? ' dim' : '');
      el.style.left = x + 'px';
      el.style.top = d * ROW + 'px';
      el.style.width = w + 'px';
      el.textContent = node.n;
      el.title = `${node.n}\n${node.v} samples (${(100 * node.v / root.v).toFixed(1)}%)`;
      el.dataset.name = node.n;
      el.dataset.samples = node.v;
      el.addEventListener('click', () => {
        if (d === 0) return;
        flame.zoom = zoomPath(root, node);
        drawFlame();
      });
      box.appendChild(el);
      let cx = x;
      for (const c of node.c || []) {
        const cw = (w * c.v) / node.v;
        place(c, cx, cw, d + 1, routeLevel && d === 0);
        cx += cw;
      }
    };
    if (root.v > 0) place(root, 0, width, 0, false);
    box.style.height = (depth + 1) * ROW + 'px';
    $('flame-match').textContent = term && root.v
      ? `${(100 * matchedSamples(root, term) / root.v).toFixed(1)}% of the shown samples match`
      : '';
  }

  // The zoom path to node: the names from the shown root's children down to node.
  function zoomPath(root, target) {
    const path = [];
    const walk = (node) => {
      if (node === target) return true;
      for (const c of node.c || []) {
        path.push(c.n);
        if (walk(c)) return true;
        path.pop();
      }
      return false;
    };
    walk(root);
    return flame.zoom.concat(path);
  }

  function fillRoutes() {
    const sel = $('flame-route');
    const kinds = (flame.data.tree.c || []).map((c) => c.n);
    const have = [...sel.options].slice(1).map((o) => o.value);
    if (kinds.join('\n') === have.join('\n')) return;
    const chosen = sel.value;
    sel.replaceChildren(new Option('whole process', ''));
    for (const k of kinds) sel.appendChild(new Option(k, k));
    if (kinds.includes(chosen)) sel.value = chosen;
  }

  function showFlame(data) {
    flame.data = data;
    const note = $('flame-note');
    if (!data.enabled) {
      note.textContent = data.why || 'CPU profiling is off.';
      $('flame').replaceChildren();
      return;
    }
    if (!data.tree) {
      note.textContent = 'Profiling: the first interval is not over yet.';
      return;
    }
    const end = new Date((data.time_unix_ns + data.duration_ns) / 1e6);
    note.textContent = `${data.samples} samples over the ${(data.duration_ns / 1e9).toFixed(1)} s ` +
      `to ${end.toLocaleTimeString()}` + (data.left_out ? ` (${data.left_out} in frames too small to show left out)` : '');
    if (data.time_unix_ns !== flame.stamp) {
      flame.stamp = data.time_unix_ns;
      fillRoutes();
    }
    drawFlame();
  }

  async function refreshFlame() {
    try {
      const r = await fetch('/api/profile', { cache: 'no-store' });
      if (r.ok) showFlame(await r.json());
    } catch (e) {
      $('flame-note').textContent = 'The flame graph could not be read: glimpse is not answering.';
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('flame-route').addEventListener('change', () => { flame.zoom = []; drawFlame(); });
    $('flame-search').addEventListener('input', drawFlame);
    $('flame-reset').addEventListener('click', () => { flame.zoom = []; drawFlame(); });
    window.addEventListener('resize', drawFlame);
    refreshFlame();
    setInterval(refreshFlame, REFRESH_MS);
  });
})();
