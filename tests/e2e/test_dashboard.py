# SPDX-License-Identifier: Apache-2.0
"""The live dashboard (GET / of the metrics server) in a real browser: Debian's Chromium driven
by playwright-core (tests/e2e/browser/dashboard.mjs). Ground truth: the requests each test sends
and /metrics of the same glimpse — the page must show exactly its counts per route and status,
and percentiles by Prometheus' histogram_quantile rule over the same buckets."""
import http.client
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from conftest import SRC, metric_value, parse_prometheus, wait_for

BROWSER_DIR = os.path.join(SRC, "tests/e2e/browser")
DURATION = "http_server_request_duration_seconds"
DB = "db_client_operation_duration_seconds"
SECRET = "s3cr3t-t0ken"
# The service names itself (OTEL_SERVICE_NAME is the target's to choose): markup must stay text.
HOSTILE_NAME = '<img src=x onerror="document.title=1">&amp;"\''



@pytest.fixture
def attach(run_glimpse):
    return lambda pid, *extra: run_glimpse("attach", "-p", str(pid), "--no-live", *extra, prometheus=True)


def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.read().decode()


def snapshot_total(port):
    try:
        return sum(r["count"] for r in json.loads(get_json(port, "/api/snapshot"))["routes"])
    except OSError:
        return -1


def open_dashboard(port):
    """Someone looks first: the dashboard samples while it is in use, so the traffic that follows
    is in its history (sparklines, last-minute window)."""
    assert wait_for(lambda: snapshot_total(port) == 0, timeout=10)


def read_page(port, tmp_path, name, trace_name=None, heatmap=None, search=None):
    """What the page shows (dashboard.mjs's JSON; with trace_name, the waterfall of the slowest
    trace of that name; with heatmap = (route, n, send), the route's heatmap after send() sent
    n requests once the page showed it), its screenshot in tmp_path (and, with
    GLIMPSE_SCREENSHOT_DIR set, a copy there)."""
    assert os.path.exists(os.path.join(BROWSER_DIR, "node_modules/playwright-core")), \
        "playwright-core is not installed: run `make deps` (npm ci in tests/e2e/browser)"
    shot = tmp_path / f"{name}.png"
    args = [trace_name or ""] + ([heatmap[0], str(heatmap[1])] if heatmap else [])
    env = dict(os.environ, **({"GLIMPSE_DASH_SEARCH": search} if search else {}))
    proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "dashboard.mjs"), f"http://127.0.0.1:{port}/",
                             str(shot), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=BROWSER_DIR, env=env)
    try:
        if heatmap:
            line = proc.stdout.readline()
            assert line == "heatmap-ready\n", line + proc.stderr.read()
            heatmap[2]()  # the traffic the heatmap must show
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out + err
    if os.environ.get("GLIMPSE_SCREENSHOT_DIR"):
        shutil.copy(shot, os.environ["GLIMPSE_SCREENSHOT_DIR"])
    return json.loads(out.splitlines()[-1])


def histogram_quantile(q, buckets):
    """Prometheus' rule over [(le, cumulative count)] sorted by le, +Inf last."""
    total = buckets[-1][1]
    if total == 0:
        return None
    rank = q * total
    b = next(i for i, (_, c) in enumerate(buckets) if c >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, before = (0.0, 0) if b == 0 else buckets[b - 1]
    return start + (buckets[b][0] - start) * (rank - before) / (buckets[b][1] - before)


def route_buckets(samples, route, method):
    """The route's buckets summed over its series (statuses, protocol versions)."""
    sums = {}
    for n, l, v in samples:
        if n == DURATION + "_bucket" and l.get("http_route", "") == route and l["http_request_method"] == method:
            le = float(l["le"])
            sums[le] = sums.get(le, 0) + v
    return sorted(sums.items())


# What the service gets; /sleep is the slow route (300 ms, the rest answer in microseconds).
REQUESTS = [("/fast", 7), (f"/fast?token={SECRET}", 1), ("/users/1", 2), ("/users/22", 2),
            ("/status/503", 3), ("/status/404", 2), ("/sleep?ms=300", 2), ("/nowrite", 1), ("/call", 2)]


def test_routes_match_metrics_in_browser(http_services, attach, tmp_path):
    peer = http_services("httpsvc-1.26")  # /call's: GET /fast on it
    svc = http_services("httpsvc-1.26", "-peer", f"http://{peer.addr}", env={"OTEL_SERVICE_NAME": HOSTILE_NAME})
    a = attach(svc.pid)
    open_dashboard(a.port)
    for path, n in REQUESTS:
        for _ in range(n):
            svc.get(path)
    total = sum(n for _, n in REQUESTS)
    assert wait_for(lambda: a.value(DURATION + "_count") == total), a.scrape_text()
    # The dashboard samples once a second: its newest snapshot has every request once it shows
    # the same total.
    assert wait_for(lambda: snapshot_total(a.port) == total, timeout=5)
    text = a.scrape_text()
    samples = parse_prometheus(text)
    # Once everything was sent, the page opens; its heatmap of /sleep then shows 3 more requests
    # of 30 ms, all in the bucket (25 ms, 50 ms] (index 4 of the bounds), sent after it opened.
    page = read_page(a.port, tmp_path, "dashboard-routes",
                     heatmap=("/sleep", 3, lambda: [svc.get("/sleep?ms=30") for _ in range(3)]))
    assert page["problems"] == []

    # Every route /metrics has, and no other, with exactly its counts per status.
    want = {}
    for n, l, v in samples:
        if n == DURATION + "_count":
            key = (l["http_request_method"], l.get("http_route", ""))
            want.setdefault(key, {})[l["http_response_status_code"]] = \
                want.get(key, {}).get(l["http_response_status_code"], 0) + int(v)
    rows = {(r["method"], r["route"]): r for r in page["rows_by_p99"]}
    assert set(rows) == set(want), (rows.keys(), text)
    assert set(want) == {("GET", "/fast"), ("GET", "/users/{id}"), ("GET", "/status/{code}"),
                         ("GET", "/sleep"), ("GET", "/nowrite"), ("GET", "/call")}
    for key, statuses in want.items():
        row = rows[key]
        assert int(row["count"]) == sum(statuses.values()), (key, row)
        shown = {code: int(label.split(": ")[1]) for code, label in row["statuses"]}
        assert shown == statuses, (key, row, statuses)
        buckets = route_buckets(samples, key[1], key[0])
        for q, col in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
            assert float(row[col]) == pytest.approx(histogram_quantile(q, buckets), rel=1e-12), (key, col)
    # The ground truth itself, through /metrics: 8 /fast (one with a query string), and so on.
    assert want[("GET", "/fast")] == {"200": 8}
    assert want[("GET", "/status/{code}")] == {"404": 2, "503": 3}
    assert rows[("GET", "/status/{code}")]["err"] == "60.0"  # 3 of 5 are 5xx

    # Sorted by p99, slowest first: the slow route leads, at its bucket (0.25, 0.5].
    assert page["sort"] == ["p99", "desc"]
    assert page["rows_by_p99"][0]["route"] == "/sleep"
    assert 0.25 < float(page["rows_by_p99"][0]["p99"]) <= 0.5
    p99s = [float(r["p99"]) for r in page["rows_by_p99"]]
    assert p99s == sorted(p99s, reverse=True)
    assert page["rows_filtered"] == ["/status/{code}"]
    # The sparkline has a point per second of history, not a flat line: requests were seen.
    assert any(not p.endswith(",17.0") for p in page["rows_by_p99"][0]["sparkline_points"].split())

    assert sum(n for _, n in page["heatmap"]) == 3 and {b for b, _ in page["heatmap"]} == {4}, page["heatmap"]
    assert page["heatmap_title"].startswith("Latency heatmap: GET /sleep")

    # Runtime from the Go runtime reader and /proc; traces say why they are missing.
    cards = dict(page["runtime"])
    assert int(cards["goroutines"]) > 0
    assert int(cards["threads"]) > 0
    # Traces are off (no --spans-out, no OTLP endpoint): the panel says how to turn them on.
    assert not page["traces_shown"] and page["traces_newest"] == []
    assert page["traces_note"].startswith("traces are off: give glimpse somewhere to send spans "
                                          "(glimpse attach --spans-out FILE or --otlp-endpoint URL")
    assert page["db_note"].startswith("No database calls seen")
    assert page["slos"] == [] and page["slo_note"].startswith("No objective configured")

    # Outgoing calls: /call's two GETs to the peer, as /metrics counts them.
    calls = {(l["server_address"], l["server_port"]): int(v) for n, l, v in samples
             if n == "http_client_request_duration_seconds_count"}
    assert calls == {("127.0.0.1", str(peer.port)): 2}
    assert page["peers"] == [{"peer": f"127.0.0.1:{peer.port}", "method": "GET", "count": "2"}]

    # The hostile service name is shown as the very text it is, nowhere as markup.
    assert page["targets"] == f"{HOSTILE_NAME} (pid {svc.pid})"
    assert set(page["services_shown"]) == {HOSTILE_NAME}
    assert page["injected_elements"] == 0

    # Privacy: the query string went nowhere.
    assert SECRET not in json.dumps(page) and SECRET not in get_json(a.port, "/api/snapshot")


def test_db_operations_and_trace_waterfall_in_browser(http_services, attach, tmp_path):
    """tests/apps/dbsvc's documented calls: /one 1 SELECT users, /many SELECT users + INSERT
    orders + SELECT orders, /fail 1 failing SELECT missing_table. Traces on (--spans-out): the
    slowest /many trace's waterfall is the server span and its three DB children, exactly as
    the spans file has them."""
    svc = http_services("dbsvc-1.26", "-db", f"sqlite:{tmp_path}/db.sqlite")
    spans_file = tmp_path / "spans.jsonl"
    a = attach(svc.pid, "--spans-out", str(spans_file), "--slo", "objective=availability,target=90%,name=avail")
    open_dashboard(a.port)
    sent = {"/one": 3, "/many": 2, "/fail": 1}
    for path, n in sent.items():
        for _ in range(n):
            svc.get(path)
    assert wait_for(lambda: a.value(DB + "_count") == 3 + 2 * 3 + 1), a.scrape_text()
    assert wait_for(lambda: snapshot_total(a.port) == sum(sent.values()), timeout=5)
    samples = parse_prometheus(a.scrape_text())
    # Every trace is sampled (parentbased_always_on, no parent): 6 roots in the spans file.
    spans = lambda: [json.loads(l) for l in spans_file.read_text().splitlines()]
    assert wait_for(lambda: sum(1 for s in spans() if s["kind"] == "server") == 6)
    # The SLO tracker reads the counters once a second: it has seen all 6 once the 3d burn is 5/3.
    assert wait_for(lambda: abs(a.value("glimpse_slo_burn_rate", slo="avail", window="3d") - 5 / 3) < 1e-9)
    page = read_page(a.port, tmp_path, "dashboard-db", trace_name="GET /many")
    assert page["problems"] == []
    want = {}
    for n, l, v in samples:
        if n == DB + "_count":
            key = (l["db_system_name"], l.get("db_operation_name", ""), l.get("db_collection_name", ""))
            want[key] = want.get(key, 0) + int(v)
    shown = {(d["system"], d["operation"], d["collection"]): int(d["count"]) for d in page["db"]}
    assert shown == want
    assert want[("sqlite", "SELECT", "users")] == 3 + 2
    assert want[("sqlite", "INSERT", "orders")] == 2

    # The objective as /metrics gives it, after the traffic: 1 bad (/fail's 500) of 6 spends
    # (1/6) / (1 - 0.9) of the budget's rate in every window: burn 5/3, 2/3 overspent.
    gauges = parse_prometheus(a.scrape_text())
    burn = {l["window"]: float(v) for n, l, v in gauges if n == "glimpse_slo_burn_rate" and l["slo"] == "avail"}
    budget = [float(v) for n, l, v in gauges if n == "glimpse_slo_error_budget_remaining_ratio"]
    assert burn == {w: pytest.approx(5 / 3, rel=1e-12) for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")}
    assert budget == [pytest.approx(1 - 5 / 3, rel=1e-12)]
    assert [(o["name"], o["target_text"]) for o in page["slos"]] == [("avail", "90 %")]
    assert {w: float(v) for w, v in page["slos"][0]["burn"].items()} == burn
    assert float(page["slos"][0]["budget_left"]) == budget[0]
    assert page["slos"][0]["budget_text"] == "-66.7 %"
    # The alerts of `glimpse slo rules` for a 30-day objective fire above burn rates 14.4 and 6
    # (page) and 3 and 1 (ticket, 1d/2h and 3d/6h). At 5/3 in every window only the 3d/6h
    # ticket fires: the gauge, the page and the summary's line all say so.
    firing = {l["severity"]: float(v) for n, l, v in gauges if n == "glimpse_slo_alerts_firing" and l["slo"] == "avail"}
    assert firing == {"page": 0, "ticket": 1}
    assert page["slos"][0]["alert"] == "ticket"

    # Trace lists: the 6 traces, newest first; the slowest list by duration.
    written = spans()
    roots = {s["trace_id"]: s for s in written if s["kind"] == "server"}
    assert page["traces_shown"]
    assert sorted(t["trace_id"] for t in page["traces_newest"]) == sorted(roots)
    assert [t["name"] for t in page["traces_newest"]] == \
        [r["name"] for r in sorted(roots.values(), key=lambda r: r["start_unix_ns"], reverse=True)]
    durations = [float(t["duration"]) for t in page["traces_slowest"]]
    assert durations == sorted(durations, reverse=True) and len(durations) == 6
    # The waterfall of the slowest /many: its spans, parents and names as written to the file.
    tid = page["waterfall_trace_id"]
    assert roots[tid]["name"] == "GET /many"
    want_spans = {s["span_id"]: s for s in written if s["trace_id"] == tid}
    got = {s["span_id"]: s for s in page["waterfall"]}
    assert set(got) == set(want_spans) and len(got) == 4
    root = roots[tid]["span_id"]
    assert page["waterfall"][0]["span_id"] == root and page["waterfall"][0]["kind"] == "server"
    assert sorted(s["name"] for s in page["waterfall"][1:]) == ["INSERT orders", "SELECT orders", "SELECT users"]
    for sid, s in got.items():
        w = want_spans[sid]
        assert s["parent_span_id"] == w.get("parent_span_id", "")
        assert s["name"] == w["name"] and s["kind"] == w["kind"]
        assert float(s["duration"]) == pytest.approx((w["end_unix_ns"] - w["start_unix_ns"]) / 1e9, abs=1e-9)
        # Privacy: no SQL text on the page (the file has it, sanitized).
        assert "db.query.text" not in s["attributes"]
    assert any("db.query.text" in w["attributes"] for w in want_spans.values())


def test_many_routes_capped_and_searchable_in_browser(attach, tmp_path):
    """A site of 60 pages (Python's http.server through the socket path: each plain-word page
    is a route of its own) and /users/{id}: the page shows the 50 busiest rows and says how
    many it leaves out; searching finds a route beyond the 50, with exactly its count."""
    from servers import PythonHttpServer
    pages = [f"p{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(60)]  # paa, pab, ... pch
    with PythonHttpServer() as py:
        a = attach(py.pid)
        open_dashboard(a.port)
        conn = http.client.HTTPConnection("127.0.0.1", py.port, timeout=10)
        # Page i gets 1 + i % 3 requests: the sort by count puts the last ones anywhere.
        for i, p in enumerate(pages):
            for _ in range(1 + i % 3):
                conn.request("GET", f"/pages/{p}")
                r = conn.getresponse()
                r.read()
                assert r.status == 200
        for _ in range(4):
            conn.request("GET", "/users/7")
            conn.getresponse().read()
        conn.close()
        total = sum(1 + i % 3 for i in range(60)) + 4
        assert wait_for(lambda: a.value(DURATION + "_count") == total), a.scrape_text()
        assert wait_for(lambda: snapshot_total(a.port) == total, timeout=5)
        samples = parse_prometheus(a.scrape_text())
        routes = {l.get("http_route") for n, l, v in samples if n == DURATION + "_count"}
        assert routes == {f"/pages/{p}" for p in pages} | {"/users/{id}"}
        last = pages[-1]  # pch: 1 + 59 % 3 = 3 requests
        page = read_page(a.port, tmp_path, "dashboard-many", search=last)
        assert page["problems"] == []
        assert len(page["rows_by_p99"]) == 50
        assert page["routes_note"] == "Showing 50 of 61 routes: filter to find the others."
        assert page["rows_filtered"] == [f"/pages/{last}"]
        assert page["routes_note_filtered"].startswith("1 of 61 routes")
        want = int(metric_value(samples, DURATION + "_count", http_route=f"/pages/{last}"))
        assert want == 3
        shown = {r["route"]: int(r["count"]) for r in page["rows_by_p99"]}
        assert all(shown[r] == int(metric_value(samples, DURATION + "_count", http_route=r)) for r in shown)
