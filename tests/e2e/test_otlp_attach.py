# SPDX-License-Identifier: Apache-2.0
"""glimpse attach exporting over OTLP/HTTP to the test receiver (tests/tools/otlp_receiver,
which decodes with the generated protobuf code): spans and metrics of a real Go service, and
the faults a collector brings — down, then back; 503 with Retry-After. Ground truth: the
requests sent and tests/apps/dbsvc's documented queries."""
import time

from conftest import HttpService, free_port, wait_for
from test_otlp_exporter import Receiver


def attach(run_glimpse, pid, endpoint, **env):
    """glimpse attach exporting to endpoint (conftest's Glimpse), its /metrics on a free port."""
    return run_glimpse("attach", "-p", str(pid), "--no-live", "--otlp-endpoint", endpoint, prometheus=True, env=env)


def test_spans_and_metrics_reach_the_collector(tmp_path, run_glimpse):
    rx = Receiver(tmp_path / "rx.jsonl")
    svc = HttpService("dbsvc-1.22-stripped", "-db", f"sqlite:{tmp_path}/db.sqlite")
    try:
        g = attach(run_glimpse, svc.pid, f"http://127.0.0.1:{rx.port}", OTEL_METRIC_EXPORT_INTERVAL="1000",
                   OTEL_RESOURCE_ATTRIBUTES="deployment.environment=test")
        for path in ("/one", "/one", "/one", "/fail"):
            svc.get(path)
        assert wait_for(lambda: len(rx.lines("span")) == 8, timeout=15), rx.lines("span")
        assert g.stop() == 0, g.stderr()
        spans = rx.lines("span")
        servers = [s for s in spans if s["kind"] == 2]
        clients = [s for s in spans if s["kind"] == 3]
        assert sorted(s["name"] for s in servers) == ["GET /fail", "GET /one", "GET /one", "GET /one"]
        assert sorted(s["name"] for s in clients) == ["SELECT missing_table"] + ["SELECT users"] * 3
        by_id = {s["span_id"]: s for s in servers}
        for c in clients:
            parent = by_id[c["parent_span_id"]]
            assert parent["trace_id"] == c["trace_id"]
            assert c["attributes"]["db.system.name"] == "sqlite"
        res = spans[0]["resource"]
        assert res["service.name"] == "dbsvc-1.22-stripped" and res["process.pid"] == svc.pid
        assert res["deployment.environment"] == "test"
        metrics = rx.lines("metric")
        last = {}
        for m in metrics:
            key = (m["name"], tuple(sorted(m["attributes"].items())))
            last[key] = m
        http = [m for (n, _), m in last.items() if n == "http.server.request.duration"]
        assert sum(m["count"] for m in http) == 4
        assert all(m["temporality"] == 2 for m in http)  # cumulative
        db = [m for (n, _), m in last.items() if n == "db.client.operation.duration"]
        assert sum(m["count"] for m in db) == 4
    finally:
        svc.stop()
        rx.stop()


def test_collector_down_then_up(tmp_path, run_glimpse):
    port = free_port()
    svc = HttpService("httpsvc-1.23")
    rx = None
    try:
        g = attach(run_glimpse, svc.pid, f"http://127.0.0.1:{port}", OTEL_BSP_MAX_QUEUE_SIZE="64",
                   OTEL_BSP_SCHEDULE_DELAY="200")
        for _ in range(400):
            svc.get("/fast")
        # Metrics keep flowing while the collector is down: every request counted, scrapes prompt.
        assert wait_for(lambda: g.value("http_server_request_duration_seconds_count") == 400)
        t0 = time.time()
        assert g.scrape() is not None
        assert time.time() - t0 < 2
        assert wait_for(lambda: g.value("glimpse_spans_dropped_total") > 0)
        rx = Receiver(tmp_path / "rx.jsonl", port=port)
        for _ in range(20):
            svc.get("/users/7")
        assert wait_for(lambda: len([s for s in rx.lines("span") if s["name"] == "GET /users/{id}"]) == 20,
                        timeout=40), g.stderr()
        assert g.stop(timeout=30) == 0, g.stderr()
        # Bounded: at most the queue and one batch of the outage's spans survive.
        fast = [s for s in rx.lines("span") if s["name"] == "GET /fast"]
        assert len(fast) <= 64 + 512
    finally:
        svc.stop()
        if rx:
            rx.stop()


def test_collector_503_with_retry_after(tmp_path, run_glimpse):
    rx = Receiver(tmp_path / "rx.jsonl", "--status", "503", "--retry-after", "1", "--fail-first", "2")
    svc = HttpService("httpsvc-1.21")
    try:
        g = attach(run_glimpse, svc.pid, f"http://127.0.0.1:{rx.port}", OTEL_BSP_SCHEDULE_DELAY="200")
        for _ in range(10):
            svc.get("/fast")
        assert wait_for(lambda: len(rx.lines("span")) == 10, timeout=30), g.stderr()
        assert g.stop() == 0, g.stderr()
    finally:
        svc.stop()
        rx.stop()
