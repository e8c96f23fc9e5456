# SPDX-License-Identifier: Apache-2.0
"""Go services on pgx/v5 (pgx.Conn, pgxpool) and go-redis/v9, measured by glimpse attach's
default path for Go: HTTP and database/sql through uprobes, the PostgreSQL and Redis wire at
the sockets, each write tied in the kernel to its goroutine's request. tests/apps/godb against
a real PostgreSQL and redis-server started here.

Ground truth: PostgreSQL's pg_stat_statements (executions per statement; a failing statement
is not kept there, so its errors come from the server's own log), Redis's INFO commandstats,
and the requests each test sends (tests/apps/godb documents each route's round trips). One
difference is by construction and stated where it is used: pgx sends a batch as one
extended-protocol round (one Sync), which the socket path counts as one call named by its
first statement, while pg_stat_statements counts each statement in it.

Also: a database/sql service (dbsvc, lib/pq) on PostgreSQL is counted exactly as by the uprobes
alone, with exactly as many uprobe hits: its queries are not counted again from its sockets."""
import json
import os
import subprocess
import time

import pytest

from conftest import APPS, HttpService, free_port, metric_value, scrape, wait_for
from pg import PostgresServer
from servers import Redis

DB = "db_client_operation_duration_seconds_count"
HTTP = "http_server_request_duration_seconds_count"
SECRET = "glimpse-secret-value"  # in every value godb writes to Redis
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID, PARENT_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"

# Statements godb runs (pg_stat_statements' normalized text) → (operation, collection).
PG_STATEMENTS = {
    "SELECT name FROM items WHERE id = $1": ("SELECT", "items"),
    "SELECT count(*) FROM items": ("SELECT", "items"),
    "SELECT n FROM items WHERE id = $1": ("SELECT", "items"),
    "UPDATE items SET n = n + 1 WHERE id = $1": ("UPDATE", "items"),
}
# Each route of godb, how often the metrics test calls it, and the status it answers.
REQUESTS = [("/pg/conn", 3, 200), ("/pg/simple", 2, 200), ("/pg/pool", 3, 200), ("/pg/batch", 2, 200),
            ("/pg/fail", 2, 500), ("/pg/spawn", 2, 200), ("/redis/kv", 3, 200), ("/redis/pipe", 2, 200),
            ("/redis/fail", 2, 500)]
# Each request's database spans (names), per route: what godb documents.
CHILDREN = {
    "GET /pg/conn": ["SELECT items"],
    "GET /pg/simple": ["SELECT items"],
    "GET /pg/pool": ["SELECT items", "UPDATE items"],
    "GET /pg/batch": ["SELECT items"],  # one round, named by its first statement
    "GET /pg/fail": ["SELECT missing_items"],
    "GET /pg/spawn": ["SELECT items"],  # made by a goroutine the handler started
    "GET /redis/kv": ["GET", "INCR", "SET"],
    "GET /redis/pipe": ["GET", "INCR", "SET"],  # one write, three replies
    "GET /redis/fail": ["INCR"],
}


@pytest.fixture(scope="module")
def servers():
    with PostgresServer(preload=("pg_stat_statements",), settings={"autovacuum": "off"}) as pg, Redis() as rd:
        yield pg, rd


class Godb(HttpService):
    """godb -hold: connected (and attachable) before it prepares anything; go() lets it set up
    and waits for "ready"."""

    def __init__(self, binary, pg, rd):
        self.proc = subprocess.Popen([os.path.join(APPS, binary), "-hold", "-pg", pg.dsn, "-redis",
                                      f"127.0.0.1:{rd.port}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        word, pid = self.proc.stdout.readline().split()
        assert word == "connected", word
        self.pid = int(pid)

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        _, _, self.addr = self.proc.stdout.readline().split()
        self.port = int(self.addr.rsplit(":", 1)[1])


@pytest.fixture
def godb(servers):
    started = []

    def start(binary):
        g = Godb(binary, *servers)
        started.append(g)
        return g

    yield start
    for g in started:
        g.stop()


def db_series(samples):
    """{(system, operation, collection, error_type): count} of db.client.operation.duration."""
    out = {}
    for name, labels, value in samples:
        if name == DB:
            key = (labels.get("db_system_name", ""), labels.get("db_operation_name", ""),
                   labels.get("db_collection_name", ""), labels.get("error_type", ""))
            out[key] = out.get(key, 0) + value
    return out


def settled(scrape):
    """The database series once two scrapes 0.3 s apart agree (the setup's calls all read)."""
    last = None
    for _ in range(50):
        now = db_series(scrape() or [])
        if now and now == last:
            return now
        last = now
        time.sleep(0.3)
    raise AssertionError(f"database series never settled: {last}")


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def pg_errors(pg, relation):
    """Statements the server itself logged as failing on relation (log_min_error_statement)."""
    return pg.log().count(f'ERROR:  relation "{relation}" does not exist')


def check_metrics(scrape, app, servers, label, refresh_s=0.0):
    """Drives REQUESTS once the setup's calls are read, then checks every database series
    (their growth) against the servers' own accounting, HTTP against the requests, and the
    uprobe hits (2 per request: metrics only). scrape() → parsed /metrics or None; refresh_s: how
    stale glimpse's own counters may be (the agent refreshes them once a tick)."""
    pg, rd = servers
    before = settled(scrape)
    time.sleep(refresh_s)
    samples = scrape()
    hits0 = metric_value(samples, "glimpse_probe_hits_total")
    socket_hits0 = metric_value(samples, "glimpse_socket_tracepoint_hits_total")
    failed_before = pg_errors(pg, "missing_items")
    pg.query("SELECT pg_stat_statements_reset()")
    rd.reset_stats()
    for path, n, status in REQUESTS:
        for _ in range(n):
            assert app.get(path) == status, path
    requests = sum(n for _, n, _ in REQUESTS)
    batches = next(n for path, n, _ in REQUESTS if path == "/pg/batch")

    # PostgreSQL: executions per statement, by the server.
    executed = {}
    for calls, query in pg.query("SELECT calls, query FROM pg_stat_statements"):
        if "pg_stat_statements" in query:
            continue  # the test's own
        assert query in PG_STATEMENTS, query
        key = ("postgresql", *PG_STATEMENTS[query], "")
        executed[key] = executed.get(key, 0) + int(calls)
    # A batch is one round on the wire (3 statements: SELECT, UPDATE, SELECT): one call, SELECT.
    executed[("postgresql", "SELECT", "items", "")] -= batches
    executed[("postgresql", "UPDATE", "items", "")] -= batches
    failed = pg_errors(pg, "missing_items") - failed_before
    assert failed == 2, pg.log()
    executed[("postgresql", "SELECT", "missing_items", "42P01")] = failed
    # Redis: calls per command, by the server (failed ones included in calls).
    for command, st in rd.commandstats().items():
        if command in ("config|resetstat", "info"):
            continue  # the test's own
        ok, bad = int(st["calls"]) - int(st["failed_calls"]), int(st["failed_calls"])
        if ok:
            executed[("redis", command.upper(), "", "")] = ok
        if bad:
            executed[("redis", command.upper(), "", "ERR")] = bad
    assert sum(executed.values()) == 3 + 2 + 6 + 2 + 2 + 2 + 9 + 6 + 2, executed  # godb's documented rounds

    want = sum(executed.values())
    assert wait_for(lambda: sum(delta(db_series(scrape() or []), before).values()) >= want), scrape()
    time.sleep(0.3 + refresh_s)
    samples = scrape()
    assert delta(db_series(samples), before) == executed, samples
    # HTTP stays the uprobes' alone: every request once, with its ServeMux pattern.
    assert metric_value(samples, HTTP) == requests, samples
    for path, n, status in REQUESTS:
        assert metric_value(samples, HTTP, http_route=path, http_response_status_code=status) == n, samples
    # Cost: the uprobes trap exactly as without the socket path (2 per request, metrics only);
    # the socket path adds tracepoint runs (no trap).
    uprobe_hits = metric_value(samples, "glimpse_probe_hits_total") - hits0
    socket_hits = metric_value(samples, "glimpse_socket_tracepoint_hits_total") - socket_hits0
    assert uprobe_hits == 2 * requests, samples
    print(f"{label}: per request {uprobe_hits / requests:.1f} uprobe hits, "
          f"{socket_hits / requests:.1f} socket tracepoint runs")
    for counter in ("unparseable", "unanswered", "events_dropped"):
        assert metric_value(samples, f"glimpse_socket_{counter}_total") == 0, samples
    assert not any(SECRET in v or "glimpse:k" in v for _, labels, _ in samples for v in labels.values())


@pytest.mark.parametrize("binary", ["godb-1.26", "godb-1.26-stripped", "godb-1.27", "godb-1.27-stripped"])
def test_metrics_match_server_accounting(binary, servers, godb, run_glimpse):
    app = godb(binary)
    g = run_glimpse("attach", "-p", str(app.pid), "--no-live", prometheus=True)
    assert "capture=uprobes+socket-db" in g.stderr()
    app.go()
    check_metrics(g.scrape, app, servers, binary)
    text = g.scrape_text()
    assert SECRET not in text and "glimpse:k" not in text
    assert g.stop() == 0, g.stderr()


def test_agent_measures_the_same(servers, tmp_path):
    """The agent (one Go tracer per binary, one socket probe for all) gives the same series."""
    from test_agent import Agent, config, own_copy
    port = free_port()
    binary = own_copy(tmp_path, "godb-1.27-stripped")
    selector = f"""  - name: godb
    match:
      exe: "{binary}"
    signals:
      http_metrics: true
      traces: false
      runtime: false
      cpu_profile: false
"""
    agent = Agent(tmp_path, config(tmp_path, port, selector))
    app = Godb(binary, *servers)
    try:
        assert wait_for(lambda: [e for e in agent.events("instrumented") if e["pid"] == str(app.pid)], timeout=10), \
            agent.stderr()
        ours = [e for e in agent.events("instrumented") if e["pid"] == str(app.pid)]
        assert ours[0]["http"] == "uprobes+socket-db", agent.stderr()
        app.go()

        def scrape_agent():
            try:
                return scrape(port)
            except OSError:
                return None

        check_metrics(scrape_agent, app, servers, "agent", refresh_s=1.5)
    finally:
        app.stop()
        assert agent.stop() == 0, agent.stderr()


def by_trace(spans):
    traces = {}
    for s in spans:
        traces.setdefault(s["trace_id"], []).append(s)
    return traces


@pytest.mark.parametrize("binary", ["godb-1.26", "godb-1.27-stripped"])
def test_spans_hang_under_their_request(binary, godb, run_glimpse, tmp_path):
    """One trace per request: its server span and exactly its database calls as children,
    within its time, a goroutine the handler started included. Calls made outside any request
    (the service's setup) are traces of their own."""
    app = godb(binary)
    out = tmp_path / "spans.jsonl"
    g = run_glimpse("attach", "-p", str(app.pid), "--no-live", "--spans-out", str(out))
    app.go()
    rounds = 2
    for _ in range(rounds):
        for path, _, status in REQUESTS:
            assert app.get(path) == status, path
    # A caller's trace: the request joins it, and its database calls with it.
    assert app.get("/redis/pipe", {"traceparent": TRACEPARENT}) == 200
    assert g.stop() == 0, g.stderr()
    spans = [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
    joined = by_trace(spans).pop(TRACE_ID)
    root = next(s for s in joined if s["kind"] == "server")
    assert root["name"] == "GET /redis/pipe" and root["parent_span_id"] == PARENT_ID, joined
    assert sorted(s["name"] for s in joined if s.get("parent_span_id") == root["span_id"]) == \
        CHILDREN["GET /redis/pipe"] and len(joined) == 4, joined
    spans = [s for s in spans if s["trace_id"] != TRACE_ID]
    trees = {}
    for group in by_trace(spans).values():
        servers = [s for s in group if s["kind"] == "server"]
        if not servers:
            assert all(s["kind"] == "client" and not s.get("parent_span_id") for s in group), group
            continue  # setup, outside any request
        assert len(servers) == 1, group
        root = servers[0]
        children = [s for s in group if s is not root]
        for c in children:
            assert c["parent_span_id"] == root["span_id"], group
            assert root["start_unix_ns"] <= c["start_unix_ns"] <= c["end_unix_ns"] <= root["end_unix_ns"], group
        trees.setdefault(root["name"], []).append(sorted(c["name"] for c in children))
    assert trees == {name: [kids] * rounds for name, kids in CHILDREN.items()}, trees

    db = [s for s in spans if "db.system.name" in s["attributes"]]
    pg = {s["attributes"]["db.query.text"] for s in db if s["attributes"]["db.system.name"] == "postgresql"}
    # Sanitized: literals become '?', placeholders stay. The setup's statements included.
    assert {"SELECT name FROM items WHERE id = $1", "SELECT count(*) FROM items",
            "SELECT n FROM items WHERE id = $1", "UPDATE items SET n = n + ? WHERE id = $1",
            "SELECT * FROM missing_items"} <= pg, pg
    assert all("apple" not in q and "pear" not in q for q in pg), pg
    for s in db:
        a = s["attributes"]
        assert s["kind"] == "client"
        if a["db.system.name"] == "redis":
            assert "db.query.text" not in a and a["db.operation.name"] == s["name"], s
    errors = sorted((s["name"], s["attributes"].get("error.type")) for s in db if s["status"] == "error")
    assert errors == [("INCR", "ERR")] * rounds + [("SELECT missing_items", "42P01")] * rounds, errors
    assert SECRET not in out.read_text() and "glimpse:k" not in out.read_text()


# /stmt first: its Prepare is the first round trip after the attach on the connection it gets,
# made outside the calls the uprobes probe (the statement's executions are probed).
DBSVC_ROUTES = [("/stmt", 200), ("/one", 200), ("/many", 200), ("/spawn", 200), ("/fail", 500)]


# The oldest and the newest Go here (1.23 and 1.26 pass too: checked when this was written).
@pytest.mark.parametrize("binary", ["dbsvc-1.19", "dbsvc-1.27-stripped"])
def test_database_sql_counted_once(binary, servers, http_services, run_glimpse):
    """dbsvc (database/sql, lib/pq) with the socket path beside uprobes alone: the same
    database series and the same uprobe hits; every call it made through database/sql was
    left to the uprobes (found by the goroutine, R14 at the system call, being inside a probed
    call: so this also checks that R14 is g at system calls on every Go version here)."""
    pg, _ = servers
    svc = http_services(binary, "-db", pg.dsn)
    # dbsvc links no client outside database/sql: the default leaves its sockets alone, so the
    # socket path is asked for.
    both = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "uprobes+socket",
                       name="default", prometheus=True)
    alone = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "uprobes", name="uprobes",
                        prometheus=True)
    assert "capture=uprobes+socket-db" in both.stderr() and "capture=uprobes " in alone.stderr()
    for _ in range(2):
        for path, status in DBSVC_ROUTES:
            assert svc.get(path) == status, path
    calls = 2 * (1 + 3 + 1 + 1 + 2)
    assert wait_for(lambda: sum(db_series(alone.scrape() or []).values()) == calls), alone.scrape_text()
    time.sleep(2.5)  # past the hold (sockcap/sock_hold.h): anything the socket path adds is in
    a, b = both.scrape(), alone.scrape()
    assert db_series(a) == db_series(b), (both.scrape_text(), alone.scrape_text())
    assert metric_value(a, "glimpse_probe_hits_total") == metric_value(b, "glimpse_probe_hits_total")
    # Detaching 42 uprobes one perf event at a time (kernels before 6.10) takes seconds on a
    # loaded machine.
    assert both.stop(timeout=60) == 0 and alone.stop(timeout=60) == 0
