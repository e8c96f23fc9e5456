# SPDX-License-Identifier: Apache-2.0
"""glimpse attach exporting over OTLP/HTTP to the test receiver (tests/tools/otlp_receiver,
which decodes with the generated protobuf code): spans and metrics of a real Go service, and
the faults a collector brings — down, then back; 503 with Retry-After. Ground truth: the
requests sent and tests/apps/dbsvc's documented queries."""
import os
import signal
import subprocess
import time
import urllib.request

from conftest import GLIMPSE, HttpService, free_port, metric_value, parse_prometheus, wait_for
from test_otlp_exporter import Receiver


def attach(pid, endpoint, tmp_path, prom_port, **env):
    err = open(tmp_path / "attach.err", "w+")
    proc = subprocess.Popen([GLIMPSE, "attach", "-p", str(pid), "--no-live", "--otlp-endpoint", endpoint,
                             "--prometheus-addr", f"127.0.0.1:{prom_port}"], stdout=subprocess.DEVNULL, stderr=err,
                            text=True, env=dict(os.environ, **env))
    assert wait_for(lambda: "attached" in open(err.name).read() or proc.poll() is not None)
    assert proc.poll() is None, open(err.name).read()
    return proc, err.name


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return parse_prometheus(r.read().decode())


def test_spans_and_metrics_reach_the_collector(tmp_path):
    rx = Receiver(tmp_path / "rx.jsonl")
    svc = HttpService("dbsvc-1.22-stripped", "-db", f"sqlite:{tmp_path}/db.sqlite")
    try:
        proc, errfile = attach(svc.pid, f"http://127.0.0.1:{rx.port}", tmp_path, free_port(),
                               OTEL_METRIC_EXPORT_INTERVAL="1000", OTEL_RESOURCE_ATTRIBUTES="deployment.environment=test")
        for path in ("/one", "/one", "/one", "/fail"):
            svc.get(path)
        assert wait_for(lambda: len(rx.lines("span")) == 8, timeout=15), rx.lines("span")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0, open(errfile).read()
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


def test_collector_down_then_up(tmp_path):
    port = free_port()
    prom = free_port()
    svc = HttpService("httpsvc-1.23")
    proc, errfile = attach(svc.pid, f"http://127.0.0.1:{port}", tmp_path, prom, OTEL_BSP_MAX_QUEUE_SIZE="64",
                           OTEL_BSP_SCHEDULE_DELAY="200")
    rx = None
    try:
        for _ in range(400):
            svc.get("/fast")
        # Metrics keep flowing while the collector is down: every request counted, scrapes prompt.
        assert wait_for(lambda: metric_value(scrape(prom), "http_server_request_duration_seconds_count") == 400)
        t0 = time.time()
        scrape(prom)
        assert time.time() - t0 < 2
        assert wait_for(lambda: metric_value(scrape(prom), "glimpse_spans_dropped_total") > 0)
        rx = Receiver(tmp_path / "rx.jsonl", port=port)
        for _ in range(20):
            svc.get("/users/7")
        assert wait_for(lambda: len([s for s in rx.lines("span") if s["name"] == "GET /users/{id}"]) == 20,
                        timeout=40), open(errfile).read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, open(errfile).read()
        # Bounded: at most the queue and one batch of the outage's spans survive.
        fast = [s for s in rx.lines("span") if s["name"] == "GET /fast"]
        assert len(fast) <= 64 + 512
    finally:
        if proc.poll() is None:
            proc.kill()
        svc.stop()
        if rx:
            rx.stop()


def test_collector_503_with_retry_after(tmp_path):
    rx = Receiver(tmp_path / "rx.jsonl", "--status", "503", "--retry-after", "1", "--fail-first", "2")
    svc = HttpService("httpsvc-1.21")
    try:
        proc, errfile = attach(svc.pid, f"http://127.0.0.1:{rx.port}", tmp_path, free_port(),
                               OTEL_BSP_SCHEDULE_DELAY="200")
        for _ in range(10):
            svc.get("/fast")
        assert wait_for(lambda: len(rx.lines("span")) == 10, timeout=30), open(errfile).read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        svc.stop()
        rx.stop()
