# SPDX-License-Identifier: Apache-2.0
"""Traces from glimpse attach: span trees per request, trace joins through traceparent,
sanitized SQL, database systems, sampling. Ground truth: tests/apps/dbsvc's documented DB
calls per route, the requests each test sends and the traceparent headers it sets."""
import json
import os
import subprocess

import pytest

from conftest import GLIMPSE, HttpService, metric_value, wait_for
from pg import PostgresServer

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID, PARENT_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


Svc = HttpService


class Tracing:
    """glimpse attach with --spans-out FILE (conftest's Glimpse); spans() reads what it wrote."""

    def __init__(self, run_glimpse, tmp_path, pid, *extra, name="spans"):
        self.path = tmp_path / f"{name}.jsonl"
        self.glimpse = run_glimpse("attach", "-p", str(pid), "--no-live", "--no-prometheus", "--spans-out",
                                   str(self.path), *extra, name=name)

    def stderr(self):
        return self.glimpse.stderr()

    def spans(self):
        if not self.path.exists():
            return []
        return [json.loads(l) for l in self.path.read_text().splitlines() if l.strip()]

    def stop(self):
        assert self.glimpse.stop() == 0, self.stderr()
        return self.spans()


@pytest.fixture
def run(tmp_path, run_glimpse):
    started = []

    def svc(binary, *args):
        s = Svc(binary, *args)
        started.append(s)
        return s

    def trace(pid, *extra, name="spans"):
        return Tracing(run_glimpse, tmp_path, pid, *extra, name=name)

    yield svc, trace
    for s in reversed(started):
        s.stop()


def by_trace(spans):
    traces = {}
    for s in spans:
        traces.setdefault(s["trace_id"], []).append(s)
    return traces


def tree(spans):
    """{server span name: sorted child names} for each trace, checking parent links."""
    out = []
    for tid, group in by_trace(spans).items():
        servers = [s for s in group if s["kind"] == "server"]
        assert len(servers) == 1, group
        root = servers[0]
        children = [s for s in group if s is not root]
        assert all(c["parent_span_id"] == root["span_id"] for c in children), group
        assert all(root["start_unix_ns"] <= c["start_unix_ns"] <= c["end_unix_ns"] <= root["end_unix_ns"]
                   for c in children), group
        out.append((root["name"], sorted(c["name"] for c in children)))
    return sorted(out)


EXPECTED_TREES = [
    ("GET /fail", ["SELECT missing_table"]),
    ("GET /many", ["INSERT orders", "SELECT orders", "SELECT users"]),
    ("GET /one", ["SELECT users"]),
    ("GET /spawn", ["SELECT users"]),
    ("GET /stmt", ["INSERT orders", "SELECT users"]),  # prepared statements (*sql.Stmt)
]


def exercise(svc):
    assert [svc.get(p) for p in ("/one", "/many", "/spawn", "/fail", "/stmt")] == [200, 200, 200, 500, 200]


@pytest.mark.parametrize("binary", ["dbsvc-1.19", "dbsvc-1.21-stripped", "dbsvc-1.22", "dbsvc-1.23-stripped", "dbsvc-1.26", "dbsvc-1.27-stripped"])
def test_span_trees_sqlite(binary, run, tmp_path):
    svc_, trace = run
    svc = svc_(binary, "-db", f"sqlite:{tmp_path}/db.sqlite")
    t = trace(svc.pid)
    exercise(svc)
    spans = t.stop()
    assert tree(spans) == EXPECTED_TREES
    db = [s for s in spans if "db.system.name" in s["attributes"]]
    assert {s["attributes"]["db.system.name"] for s in db} == {"sqlite"}
    queries = {s["attributes"]["db.query.text"] for s in db}
    # Literals never leave: the test app's 1, 2, 'alice', 42 become '?'.
    assert queries == {"SELECT name FROM users WHERE id = ?", "SELECT id, name FROM users WHERE name = ?",
                       "INSERT INTO orders (user_id, total) VALUES (?, ?)", "SELECT COUNT(*) FROM orders",
                       "SELECT * FROM missing_table"}
    for s in db:
        a = s["attributes"]
        assert s["kind"] == "client"
        assert a["db.operation.name"] == s["name"].split()[0]
        assert a["db.collection.name"] == s["name"].split()[1]
    errors = sorted(s["name"] for s in spans if s["status"] == "error")
    assert errors == ["GET /fail", "SELECT missing_table"]
    fail = next(s for s in spans if s["name"] == "GET /fail")
    assert fail["attributes"]["http.response.status_code"] == 500 and fail["attributes"]["error.type"] == "500"
    assert all("url.path" not in s["attributes"] for s in spans)


def test_postgres_and_traceparent_join(run, tmp_path):
    svc_, trace = run
    with PostgresServer() as pg:
        peer = svc_("dbsvc-1.23", "-db", pg.dsn)
        front = svc_("dbsvc-1.19-stripped", "-db", pg.dsn, "-peer", f"http://{peer.addr}")
        t_front = trace(front.pid, name="front")
        t_peer = trace(peer.pid, name="peer")
        exercise(front)
        # The caller is instrumented: its traceparent reaches /call, which forwards it to the peer.
        assert front.get("/call", {"traceparent": TRACEPARENT}) == 200
        front_spans, peer_spans = t_front.stop(), t_peer.stop()
    assert {s["attributes"].get("db.system.name") for s in front_spans if s["name"].startswith("SELECT")} == \
        {"postgresql"}
    # Prepared statements, with PostgreSQL's placeholders, under their request.
    stmt_root = next(s for s in front_spans if s["name"] == "GET /stmt")
    assert sorted((s["attributes"]["db.system.name"], s["attributes"]["db.query.text"]) for s in front_spans
                  if s.get("parent_span_id") == stmt_root["span_id"]) == [
        ("postgresql", "INSERT INTO orders (user_id, total) VALUES ($1, $2)"),
        ("postgresql", "SELECT name FROM users WHERE id = $1")]
    joined = [s for s in front_spans + peer_spans if s["trace_id"] == TRACE_ID]
    servers = sorted((s["resource"]["process.pid"], s["name"], s.get("parent_span_id")) for s in joined
                     if s["kind"] == "server")
    # Both services' server spans join the caller's trace with the caller's span as parent.
    assert servers == sorted([(front.pid, "GET /call", PARENT_ID), (peer.pid, "GET /one", PARENT_ID)])
    client = [s for s in joined if s["kind"] == "client" and s["resource"]["process.pid"] == front.pid]
    assert [(c["name"], c["attributes"]["server.address"]) for c in client] == [("GET", "127.0.0.1")]
    peer_root = next(s for s in joined if s["resource"]["process.pid"] == peer.pid and s["kind"] == "server")
    assert [s["name"] for s in joined if s.get("parent_span_id") == peer_root["span_id"]] == ["SELECT users"]


def get_with_headers(svc, path, pairs):
    """GET with header (name, value) pairs, repeats allowed (urllib merges them); the status."""
    import http.client
    conn = http.client.HTTPConnection(svc.addr, timeout=10)
    try:
        conn.putrequest("GET", path)
        for name, value in pairs:
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


OTHER_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
# Ground truth: the W3C Trace Context rules for each header the test sends, told apart by the
# status each request asks /status/{code} for. True: the server span joins TRACE_ID/PARENT_ID.
TRACEPARENT_CASES = [
    (201, [("traceparent", TRACEPARENT)], True),  # the positive control
    (202, [("traceparent", TRACEPARENT + "-extra")], False),  # version 00 is exactly 55 chars
    (203, [("traceparent", TRACEPARENT), ("traceparent", OTHER_TRACEPARENT)], False),  # two headers
    (204, [("traceparent", "cc" + TRACEPARENT[2:] + "-what-the-future-holds")], True),  # higher version
    (205, [("traceparent", "cc" + TRACEPARENT[2:] + "extra")], False),  # ... but only with '-' after
    (206, [("traceparent", TRACEPARENT.upper())], False),  # lowercase hex only
    (207, [("traceparent", "ff" + TRACEPARENT[2:])], False),  # version ff is invalid
    # Where the header sits in Go's map depends on how many there are: one small group (Swiss)
    # or bucket, then a table of several groups (Swiss) or several buckets.
    (208, [("traceparent", TRACEPARENT)] + [(f"x-extra-{i}", "v") for i in range(12)], True),
    (209, [(f"x-extra-{i}", "v") for i in range(40)] + [("traceparent", TRACEPARENT)], True),
]
# More headers than the BPF walk follows: glimpse cannot look, says so, and starts a new trace.
TOO_MANY_HEADERS = (210, [(f"x-extra-{i}", "v") for i in range(90)] + [("traceparent", TRACEPARENT)], False)


# Go 1.19-1.23 maps are buckets, 1.24+ Swiss tables: both layouts, normal and stripped.
@pytest.mark.parametrize("binary", ["httpsvc-1.23", "httpsvc-1.22-stripped", "httpsvc-1.26", "httpsvc-1.27-stripped"])
def test_traceparent_follows_w3c(binary, run, tmp_path):
    svc_, trace = run
    svc = svc_(binary)
    t = trace(svc.pid)
    cases = TRACEPARENT_CASES + [TOO_MANY_HEADERS]
    for code, pairs, _ in cases:
        assert get_with_headers(svc, f"/status/{code}", pairs) == code
    spans = t.stop()
    assert "1 requests had more headers than glimpse walks" in t.stderr()
    servers = {s["attributes"]["http.response.status_code"]: s for s in spans if s["kind"] == "server"}
    assert sorted(servers) == [c for c, _, _ in cases]
    for code, pairs, joins in cases:
        s = servers[code]
        got = (s["trace_id"], s.get("parent_span_id"))
        if joins:
            assert got == (TRACE_ID, PARENT_ID), (code, pairs)
        else:
            # A new trace: neither header's ids, no parent.
            assert s["trace_id"] not in (TRACE_ID, OTHER_TRACEPARENT[3:35]) and s.get("parent_span_id") is None, \
                (code, pairs, got)


def test_ratio_sampling_keeps_whole_traces_and_errors(run, tmp_path):
    svc_, trace = run
    svc = svc_("dbsvc-1.23", "-db", f"sqlite:{tmp_path}/db.sqlite")
    t = trace(svc.pid, "--sampler", "traceidratio", "--sampler-arg", "0.25")
    n = 200
    for _ in range(n):
        svc.get("/one")
    for _ in range(5):
        svc.get("/fail")
    spans = t.stop()
    kept = [s for s in spans if s["name"] == "GET /one"]
    # Binomial(200, 0.25): mean 50, sd 6.1 — ±4 sd.
    assert 25 <= len(kept) <= 75, len(kept)
    # Whole traces: every kept request keeps its query, and no query is kept without its request.
    assert tree([s for s in spans if s["trace_id"] in {k["trace_id"] for k in kept}]) == \
        [("GET /one", ["SELECT users"])] * len(kept)
    assert len([s for s in spans if s["name"] == "SELECT users"]) == len(kept)
    # Errors are kept whatever the ratio says (tail rule).
    assert len([s for s in spans if s["name"] == "GET /fail"]) == 5
    assert f"sampled={len(spans)} unsampled={2 * n + 10 - len(spans)}" in t.stderr()


def test_slow_requests_are_kept(run, tmp_path):
    svc_, trace = run
    svc = svc_("httpsvc-1.22-stripped")
    t = trace(svc.pid, "--sampler", "always_off", "--keep-slower-than", "40")
    for _ in range(3):
        svc.get("/sleep?ms=60")
        svc.get("/fast")
    spans = t.stop()
    assert sorted(s["name"] for s in spans) == ["GET /sleep"] * 3


def test_sampler_from_environment_and_bad_value(run, tmp_path):
    svc_, _ = run
    svc = svc_("httpsvc-1.23")
    r = subprocess.run([GLIMPSE, "attach", "-p", str(svc.pid), "-d", "1"], capture_output=True, text=True,
                       env=dict(os.environ, OTEL_TRACES_SAMPLER="sometimes"))
    assert r.returncode == 2
    assert "OTEL_TRACES_SAMPLER='sometimes' is not a sampler" in r.stderr


def test_url_path_only_when_asked(run, tmp_path):
    svc_, trace = run
    svc = svc_("httpsvc-1.23")
    t = trace(svc.pid, "--capture-url-path")
    svc.get("/users/42")
    spans = t.stop()
    assert [(s["attributes"]["http.route"], s["attributes"]["url.path"]) for s in spans] == \
        [("/users/{id}", "/users/42")]


def test_db_operation_duration_metrics(run, run_glimpse, tmp_path):
    svc_, _ = run
    svc = svc_("dbsvc-1.21", "-db", f"sqlite:{tmp_path}/db.sqlite")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True,
                    ready=lambda g: "attached" in g.stderr() and g.scrape() is not None)
    for _ in range(3):
        svc.get("/one")
    svc.get("/many")
    svc.get("/fail")
    name = "db_client_operation_duration_seconds_count"
    assert wait_for(lambda: metric_value(g.scrape() or [], name) == 7)
    m = g.scrape()
    assert metric_value(m, name, db_system_name="sqlite", db_operation_name="SELECT",
                        db_collection_name="users") == 4
    assert metric_value(m, name, db_operation_name="INSERT", db_collection_name="orders") == 1
    assert metric_value(m, name, db_operation_name="SELECT", db_collection_name="orders") == 1
    assert metric_value(m, name, error_type="_OTHER", db_collection_name="missing_table") == 1
    assert g.stop() == 0, g.stderr()


@pytest.mark.parametrize("binary", ["sqlmin-1.23-stripped", "sqlmin-1.26"])
def test_database_named_when_the_linker_dropped_unused_driver_methods(binary, run, tmp_path):
    """A minimal SQLite service (one connection, QueryRow, no transactions): the linker replaces
    the driver's Begin, which nothing calls, with runtime.unreachableMethod. Every query is still
    SQLite's. Ground truth: the queries the service counts itself (/count)."""
    import urllib.request
    svc_, trace = run
    svc = svc_(binary)
    t = trace(svc.pid)
    assert [svc.get(f"/q?id={i}") for i in (1, 2, 3)] == [200, 200, 404]
    with urllib.request.urlopen(f"http://{svc.addr}/count", timeout=10) as r:
        made = int(r.read())
    spans = t.stop()
    db = [s for s in spans if "db.system.name" in s["attributes"]]
    assert len(db) == made == 3
    assert {s["attributes"]["db.system.name"] for s in db} == {"sqlite"}
    assert {s["name"] for s in db} == {"SELECT users"}
