# SPDX-License-Identifier: Apache-2.0
"""The OTLP/HTTP exporter end to end: build/tools/otlp_driver (the exporter fed with synthetic
spans and metrics, configured by OTEL_* variables) against build/tools/otlp_receiver (a real
HTTP server decoding what arrives with the generated protobuf code, with injected faults).

Ground truth: every field of span i is a function of i (see tests/tools/otlp_driver.c); the
metrics are the fixed traffic the driver records; delivery is what the receiver wrote."""
import json
import os
import subprocess
import time

import pytest

from conftest import GLIMPSE, SRC, free_port

TOOLS = next((d for d in (os.path.join(os.path.dirname(os.path.abspath(GLIMPSE)), "tools"),
                          os.path.join(SRC, "build", "tools")) if os.path.isdir(d)),
             os.path.join(SRC, "build", "tools"))
RECEIVER = os.path.join(TOOLS, "otlp_receiver")
DRIVER = os.path.join(TOOLS, "otlp_driver")
BOUNDS = [0, .005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10]


class Receiver:
    def __init__(self, out, *args, port=0):
        self.out = out
        self.proc = subprocess.Popen([RECEIVER, "--out", str(out), "--port", str(port), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening "), f"receiver did not start: {line!r} {self.proc.stderr.read()}"
        self.port = int(line.split()[1])

    def lines(self, signal=None):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return [r for r in rows if signal is None or r["signal"] == signal]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def receiver(tmp_path):
    started = []

    def start(*args, port=0):
        r = Receiver(tmp_path / f"received-{len(started)}.jsonl", *args, port=port)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


def driver_env(port, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"
    env.update(extra)
    return env


def finish(proc, timeout=90):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


def run_driver(port, *args, timeout=90, **env):
    proc = subprocess.Popen([DRIVER, *args], env=driver_env(port, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return finish(proc, timeout)


def expected_span(i):
    """Span i as tests/tools/otlp_driver.c builds it."""
    status = {0: {"code": 2, "message": f"boom {i}", "present": True},
              1: {"code": 1, "message": "", "present": True}}.get(i % 5, {"code": 0, "message": "", "present": False})
    return {
        "name": f"span-{i}",
        "kind": 3 if i % 2 else 2,
        "trace_id": "0102030405060708" + f"{i // 2 + 1:016x}",
        "span_id": f"{i + 1:016x}",
        "parent_span_id": f"{i:016x}" if i % 2 else "",
        "start_ns": 1700000000000000000 + i * 1000000,
        "end_ns": 1700000000000000000 + i * 1000000 + 1000 + i,
        "status": status,
        "attributes": {"http.request.method": "GET", "http.response.status_code": 200 + i % 3,
                       "index": i, "ratio": i / 4.0, "even": i % 2 == 0, "note": f"\u00fcn\u00ef-{i}"},
    }


def spans_by_index(rcv):
    spans = {}
    for s in rcv.lines("span"):
        i = s["attributes"]["index"]
        assert i not in spans, f"span {i} delivered twice"
        spans[i] = s
    return spans


def check_span(s, i, pid, services=1, extra_resource=None, service_name=None):
    want = expected_span(i)
    for k, v in want.items():
        assert s[k] == v, (i, k, s[k], v)
    k = i % services
    resource = {"service.name": service_name or f"driver-svc-{k}", "process.pid": pid + k,
                "process.executable.name": "otlp_driver", "host.name": "driver-host", **(extra_resource or {})}
    assert s["resource"] == resource
    assert s["scope"]["name"] == "glimpse" and s["scope"]["version"]


def test_all_spans_arrive_with_their_fields(receiver):
    rcv = receiver()
    n = 500
    stats, _ = run_driver(rcv.port, "--spans", str(n), "--rate", "5000", "--services", "2",
                          OTEL_RESOURCE_ATTRIBUTES="deployment.environment=e2e,team=a%20b",
                          OTEL_EXPORTER_OTLP_HEADERS="x-tenant=t%201,Authorization=Bearer%20xyz",
                          OTEL_BSP_MAX_EXPORT_BATCH_SIZE="100", OTEL_BSP_SCHEDULE_DELAY="200")
    assert stats["exported"] == n and stats["dropped"] == 0 and stats["failed"] == 0, stats
    assert stats["stop_rc"] == 0
    spans = spans_by_index(rcv)
    assert sorted(spans) == list(range(n))
    for i, s in spans.items():
        check_span(s, i, stats["pid"], services=2,
                   extra_resource={"deployment.environment": "e2e", "team": "a b"})
    requests = rcv.lines("request")
    assert len(requests) == stats["export_requests"] >= n // 100
    for r in requests:
        assert (r["path"], r["status"], r["encoding"]) == ("/v1/traces", 200, "identity")
        assert r["headers"]["content-type"] == "application/x-protobuf"
        assert r["headers"]["x-tenant"] == "t 1" and r["headers"]["authorization"] == "Bearer xyz"
        assert r["headers"]["user-agent"].startswith("glimpse/")
        assert 0 < r["items"] <= 100  # batches of at most OTEL_BSP_MAX_EXPORT_BATCH_SIZE


def test_many_processes_small_queue(receiver):
    """64 processes through a queue of 8: the exporter's resource slots (queue + batch + 1 = 13)
    are reused as spans leave, and every span still carries its own process's resource."""
    rcv = receiver()
    n = 640
    stats, _ = run_driver(rcv.port, "--spans", str(n), "--rate", "200", "--services", "64",
                          OTEL_BSP_MAX_QUEUE_SIZE="8", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="4",
                          OTEL_BSP_SCHEDULE_DELAY="20")
    assert stats["exported"] + stats["dropped"] == n and stats["failed"] == 0, stats
    assert stats["exported"] >= n * 0.9, stats
    spans = spans_by_index(rcv)
    assert len(spans) == stats["exported"]
    for i, s in spans.items():
        check_span(s, i, stats["pid"], services=64)


def test_receiver_down_then_up(receiver):
    """Nothing listens for the first 2 s: the queue (200) stays bounded and drops its oldest
    spans, counted; once the receiver is up, the retried batch and everything after arrive."""
    port = free_port()
    n, rate, queue = 5000, 500, 200
    proc = subprocess.Popen([DRIVER, "--spans", str(n), "--rate", str(rate), "--stop-timeout-ms", "15000"],
                            env=driver_env(port, OTEL_BSP_MAX_QUEUE_SIZE=str(queue),
                                           OTEL_BSP_MAX_EXPORT_BATCH_SIZE="50", OTEL_BSP_SCHEDULE_DELAY="100"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    rcv = receiver(port=port)
    stats, err = finish(proc)
    assert stats["enqueued"] == n
    assert stats["exported"] + stats["dropped"] + stats["failed"] == n, stats
    assert stats["failed"] == 0, stats  # the batch in flight was retried until it went through
    # ~1000 spans were enqueued while nothing listened: only the queue (200) and the batch in
    # flight (50) can have kept any of them.
    assert stats["dropped"] >= rate, stats
    assert stats["export_errors"] >= 1
    spans = spans_by_index(rcv)
    assert len(spans) == stats["exported"]
    before_up = [i for i in spans if i < int(1.9 * rate)]
    assert 0 < len(before_up) <= queue + 50, len(before_up)
    # Recovery takes at most one backoff step (<= 5 s) after the receiver came up (t=2 s):
    # everything enqueued from t=7.5 s on must be there, complete.
    for i in range(int(7.5 * rate), n):
        assert i in spans, f"span {i} enqueued after recovery is missing"
        check_span(spans[i], i, stats["pid"])
    assert all(r["status"] == 200 for r in rcv.lines("request"))
    # One warning for the outage, not one per attempt; and a note when it recovers.
    assert sum("OTLP export of" in line and "failed" in line for line in err.splitlines()) == 1, err
    assert "works again" in err


def test_503_retry_after_is_honoured(receiver):
    rcv = receiver("--status", "503", "--retry-after", "2", "--fail-first", "2")
    stats, err = run_driver(rcv.port, "--spans", "50", OTEL_BSP_SCHEDULE_DELAY="100",
                            OTEL_EXPORTER_OTLP_TIMEOUT="5000")
    assert stats["exported"] == 50 and stats["failed"] == 0 and stats["dropped"] == 0, stats
    requests = sorted(rcv.lines("request"), key=lambda r: r["n"])
    assert [r["status"] for r in requests] == [503, 503, 200]
    gaps = [(b["mono_ns"] - a["mono_ns"]) / 1e9 for a, b in zip(requests, requests[1:])]
    # Each retry waits what Retry-After says (2 s), not a shorter backoff step.
    assert all(2.0 <= g < 3.5 for g in gaps), gaps
    assert stats["export_errors"] == 2
    assert sorted(spans_by_index(rcv)) == list(range(50))
    assert "Retry-After" in err


def test_slow_receiver_does_not_stall_enqueue(receiver):
    rcv = receiver("--delay-ms", "500")
    n = 2000
    # --realtime: the enqueuing thread is SCHED_FIFO, so the numbers are the exporter's and not
    # other processes' (a loaded 2-CPU VM preempts a normal thread for milliseconds).
    stats, _ = run_driver(rcv.port, "--spans", str(n), "--rate", "1000", "--stop-timeout-ms", "20000",
                          "--realtime")
    # Each request takes >= 0.5 s while spans keep coming at 1000/s: the caller never waits.
    assert stats["max_enqueue_us"] < 1000, stats
    assert stats["p99_enqueue_us"] < 100, stats
    assert stats["exported"] == n and stats["dropped"] == 0, stats
    requests = sorted(rcv.lines("request"), key=lambda r: r["n"])
    assert all(r["status"] == 200 for r in requests)
    assert all((b["mono_ns"] - a["mono_ns"]) / 1e9 >= 0.45 for a, b in zip(requests, requests[1:]))
    assert sorted(spans_by_index(rcv)) == list(range(n))


def test_gzip(receiver):
    rcv = receiver()
    stats, _ = run_driver(rcv.port, "--spans", "300", OTEL_EXPORTER_OTLP_COMPRESSION="gzip",
                          OTEL_SERVICE_NAME="renamed-svc")
    assert stats["exported"] == 300, stats
    requests = rcv.lines("request")
    assert requests and all(r["encoding"] == "gzip" and r["status"] == 200 for r in requests)
    assert all(r["headers"]["content-encoding"] == "gzip" for r in requests)
    # A compressed batch of 300 similar spans is far smaller than 300 encoded spans (~150 B each).
    assert sum(r["bytes"] for r in requests) < 300 * 60
    spans = spans_by_index(rcv)
    assert sorted(spans) == list(range(300))
    for i, s in spans.items():
        check_span(s, i, stats["pid"], service_name="renamed-svc")


def group_exports(rcv):
    """Metric points per /v1/metrics request, in order (a request line follows its points)."""
    exports, points = [], []
    for row in rcv.lines():
        if row["signal"] == "metric":
            points.append(row)
        elif row["signal"] == "request" and row["path"] == "/v1/metrics":
            assert row["status"] == 200
            exports.append(points)
            points = []
    return exports


def point(points, name, **attrs):
    found = [p for p in points if p["name"] == name and all(p["attributes"].get(k) == v for k, v in attrs.items())]
    assert len(found) == 1, (name, attrs, found)
    return found[0]


def test_metrics_cumulative(receiver):
    rcv = receiver()
    stats, _ = run_driver(rcv.port, "--spans", "0", "--metrics-interval", "0.5", "--linger-ms", "1800")
    exports = group_exports(rcv)
    # Every 0.5 s while the driver lingers 1.8 s, plus a last one at stop.
    assert len(exports) == stats["metrics_exports"] >= 4, stats
    pid = stats["pid"]
    last = exports[-1]
    target = {"service.name": "driver-svc-0", "process.pid": pid, "process.executable.name": "otlp_driver",
              "host.name": "driver-host"}

    p = point(last, "http.server.request.duration", **{"http.route": "/users/{id}"})
    assert p["resource"] == target and p["scope"]["name"] == "glimpse"
    assert (p["type"], p["temporality"], p["unit"]) == ("histogram", 2, "s")  # 2 = CUMULATIVE
    assert p["attributes"] == {"http.request.method": "GET", "http.response.status_code": 200,
                               "http.route": "/users/{id}"}
    assert p["bounds"] == BOUNDS
    # 3 ms, 20 ms, 200 ms: buckets le=0.005, le=0.025, le=0.25
    assert p["bucket_counts"] == [0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert p["count"] == 3 and abs(p["sum"] - 0.223) < 1e-9

    p = point(last, "http.server.request.duration", **{"http.route": "/orders"})
    assert p["attributes"] == {"error.type": "503", "http.request.method": "POST",
                               "http.response.status_code": 503, "http.route": "/orders"}
    assert p["bucket_counts"][11] == 1 and p["count"] == 1 and p["sum"] == 1.5

    p = point(last, "http.client.request.duration", **{"server.address": "api.example.com"})
    assert p["attributes"] == {"http.request.method": "GET", "http.response.status_code": 200,
                               "server.address": "api.example.com", "server.port": 443}
    assert p["bucket_counts"][2] == 2 and p["count"] == 2 and abs(p["sum"] - 0.02) < 1e-9
    p = point(last, "http.client.request.duration", **{"server.address": "down.example.com"})
    assert p["attributes"] == {"error.type": "_OTHER", "http.request.method": "GET",
                               "server.address": "down.example.com", "server.port": 80}

    p = point(last, "http.server.active_requests")
    # semconv's UpDownCounter: a non-monotonic cumulative sum.
    assert (p["type"], p["monotonic"], p["temporality"], p["unit"], p["value"], p["resource"]) == (
        "sum", False, 2, "{request}", 7, target)
    p = point(last, "test.histogram")
    assert p["attributes"] == {"phase": "a"} and p["bounds"] == [0.1, 1]
    assert p["bucket_counts"] == [1, 2, 3] and p["count"] == 6 and p["sum"] == 4.5

    # Not about one target: glimpse's own resource; counters are monotonic cumulative sums.
    p = point(last, "glimpse.events.dropped")
    assert (p["type"], p["temporality"], p["monotonic"], p["value"]) == ("sum", 2, True, 42)
    assert p["resource"]["service.name"] == "glimpse"
    p = point(last, "glimpse.spans.dropped")
    assert (p["type"], p["monotonic"], p["value"]) == ("sum", True, 0)

    # Cumulative: each series keeps its start time; export times move forward.
    starts = {}
    prev_time = 0
    for points in exports:
        times = {q["time_ns"] for q in points}
        assert len(times) == 1
        t = times.pop()
        assert t > prev_time
        prev_time = t
        for q in points:
            key = (q["name"], json.dumps(q["attributes"], sort_keys=True))
            assert q["start_ns"] < q["time_ns"]
            assert starts.setdefault(key, q["start_ns"]) == q["start_ns"]
        assert point(points, "http.server.request.duration", **{"http.route": "/users/{id}"})["count"] == 3


def test_rejected_batches_are_dropped_and_logged_once(receiver):
    rcv = receiver("--status", "400")
    stats, err = run_driver(rcv.port, "--spans", "40", "--rate", "200", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="10",
                            OTEL_BSP_SCHEDULE_DELAY="50")
    assert stats["failed"] == 40 and stats["exported"] == 0 and stats["dropped"] == 0, stats
    requests = rcv.lines("request")
    # Not retried: one request per batch.
    assert len(requests) == stats["export_requests"] == stats["export_errors"] >= 4
    assert all(r["status"] == 400 for r in requests)
    rejected = [line for line in err.splitlines() if "rejected" in line]
    assert len(rejected) == 1, err
    assert "HTTP 400" in rejected[0] and "injected failure" in rejected[0]


def test_bad_environment_is_one_line(receiver):
    env = driver_env(1, OTEL_EXPORTER_OTLP_TIMEOUT="soon")
    p = subprocess.run([DRIVER, "--spans", "1"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0
    assert "OTEL_EXPORTER_OTLP_TIMEOUT" in p.stderr and "expected" in p.stderr
