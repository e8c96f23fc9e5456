# SPDX-License-Identifier: Apache-2.0
"""The OpenTelemetry Go SDK as the judge: each test app is built twice (tests/apps/Makefile),
plain and with `-tags otel` — instrumented the way its authors would, with the contrib
instrumentations (otelhttp, otelgin, otelmux, otelecho, otelchi, otelpgx, redisotel, otelgrpc)
and the SDK exporting OTLP/HTTP (tests/apps/otelsetup). The same traffic goes to the
instrumented build and, with glimpse attached, to the plain build; both export to the test
receiver (tests/tools/otlp_receiver). Compared (judge.py): metric names, types, units,
attribute keys and values, per-series counts (exact), bucket placement of known sleeps, span
names, kinds, status, parent/child structure, span attribute keys and values, resource keys.

Every difference that remains is a row of the README's "glimpse against the OpenTelemetry Go
SDK" table, with its reason; the test asserts that the differences found are exactly the
table's rows for that app: a new difference fails it, and so does one that went away."""
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import APPS, SRC, HttpService, wait_for
from judge import Side, compare_metrics, compare_resources, compare_spans, last_points, readme_table
from test_godb import Godb, servers  # noqa: F401 (the PostgreSQL and Redis servers fixture)
from test_grpc import grpcsvc
from test_otlp_exporter import Receiver
from test_routers import OPENER

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
# The SDK and glimpse export often, so that the test waits little for the last points.
EXPORT_ENV = {"OTEL_METRIC_EXPORT_INTERVAL": "300", "OTEL_BSP_SCHEDULE_DELAY": "100"}
# Span attributes whose values differ from run to run whoever measures (client ports).
VOLATILE = ("network.peer.port", "client.port")


def glimpse_metric(r):
    """glimpse's own health metrics (glimpse.*) have no SDK counterpart to compare."""
    return not r["name"].startswith("glimpse.")


def settle(rx, spans, timeout=30):
    """Waits until the receiver holds at least `spans` spans and nothing it holds (span count,
    metric totals) changed over the last 0.6 s: two metric exports and six span batches."""
    assert wait_for(lambda: len(rx.lines("span")) >= spans, timeout=timeout), len(rx.lines("span"))
    last = None
    for _ in range(int(timeout / 0.6)):
        now = (len(rx.lines("span")),
               {k: r.get("count", r.get("value")) for k, r in last_points(rx.lines("metric")).items()
                if k[0].startswith(("http.", "rpc.", "db."))})
        if now == last:
            return
        last = now
        time.sleep(0.6)
    raise AssertionError("telemetry never settled")


def judge(rows_sdk, rows_glimpse, ports_sdk, ports_glimpse, bucket_keys=()):
    sdk = Side(rows_sdk, ports_sdk, lambda r: True)
    glimpse = Side(rows_glimpse, ports_glimpse, glimpse_metric)
    out = []
    compare_resources(sdk, glimpse, out)
    buckets = compare_metrics(sdk, glimpse, out, bucket_keys)
    compare_spans(sdk, glimpse, out, VOLATILE)
    assert buckets >= len(bucket_keys), f"bucket placement compared for {buckets} series only:\n" + "\n".join(out)
    return out


def assert_table(app, found):
    """found == the README table's rows for app. GLIMPSE_JUDGE_DUMP=DIR writes found to
    DIR/APP.txt (for updating the table)."""
    if os.environ.get("GLIMPSE_JUDGE_DUMP"):
        with open(os.path.join(os.environ["GLIMPSE_JUDGE_DUMP"], app.replace(" ", "-") + ".txt"), "w") as f:
            f.write("".join(line + "\n" for line in found))
    want = readme_table(os.path.join(SRC, "README.md"), app)
    missing = sorted(set(found) - set(want))
    gone = sorted(set(want) - set(found))
    assert not missing and not gone, (
        f"\nnew differences (not in README's table for {app}):\n  " + "\n  ".join(missing) +
        f"\nlisted in README's table for {app} but not found:\n  " + "\n  ".join(gone))
    assert len(found) == len(set(found)), found


def terminate(svc):
    """SIGTERM: the SDK builds flush their last spans and metrics as they exit."""
    svc.proc.send_signal(signal.SIGTERM)
    svc.proc.wait(timeout=15)


# httpsvc: net/http's ServeMux (Go 1.22 patterns) under otelhttp.NewHandler, its client under
# otelhttp.NewTransport; glimpse attached to the plain build. Over HTTP, and over HTTPS (-tls).
# /sleep?ms=110 lands in the bucket (0.1, 0.25] with 140 ms to spare on a loaded machine.
HTTPSVC_TRAFFIC = (["/fast"] * 5 + ["/sleep?ms=110"] * 3 + ["/status/404"] * 2 + ["/status/503", "/users/7",
                   "/users/8", "/nowrite", "/call", "/call", "/nope"])


def httpsvc_traffic(svc):
    for path in HTTPSVC_TRAFFIC:
        svc.get(path)
    svc.get("/fast", headers={"traceparent": TRACEPARENT})
    return len(HTTPSVC_TRAFFIC) + 1 + 2  # spans: one per request, one per /call's client call


def run_both(tmp_path, run_glimpse, start, traffic):
    """The same traffic to the SDK build (start("sdk", env)) and, with glimpse attached, to the
    plain build (start("glimpse", None)); each exports to its own receiver. start returns the
    service (pid, port, stop()) and the {port: placeholder} of the run; traffic(svc) returns the
    fewest spans the run must give. → (rows, ports) per side."""
    rows, ports = {}, {}
    for side in ("sdk", "glimpse"):
        rx = Receiver(tmp_path / f"{side}.jsonl")
        env = dict(EXPORT_ENV, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{rx.port}")
        svc = None
        try:
            svc, ports[side] = start(side, env if side == "sdk" else None)
            if side == "glimpse":
                g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--no-prometheus", "--otlp-endpoint",
                                f"http://127.0.0.1:{rx.port}", env=env)
            settle(rx, traffic(svc))
            if side == "glimpse":
                assert g.stop() == 0, g.stderr()
            terminate(svc)
        finally:
            if svc:
                svc.stop()
            rx.stop()
        rows[side] = rx.lines()
    return rows, ports


class Https(HttpService):
    """httpsvc -tls: HTTPS with its self-signed certificate (not verified), HTTP/1.1."""

    def get(self, path, headers=None, timeout=10):
        import ssl
        ctx = ssl._create_unverified_context()
        req = urllib.request.Request(f"https://{self.addr}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code


class Http2(HttpService):
    """httpsvc -tls driven by curl over HTTP/2 (ALPN h2; the certificate not verified)."""

    def get(self, path, headers=None, timeout=10):
        extra = [a for k, v in (headers or {}).items() for a in ("-H", f"{k}: {v}")]
        out = subprocess.run(["curl", "-s", "-k", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                              "-m", str(timeout), *extra, f"https://{self.addr}{path}"],
                             capture_output=True, text=True, timeout=timeout + 5)
        version, code = out.stdout.split()
        assert version == "2", out.stdout
        return int(code)


@pytest.mark.parametrize("proto", ["http", "https", "h2"])
def test_httpsvc_against_otelhttp(proto, tmp_path, run_glimpse):
    peer = HttpService("httpsvc-1.26")
    kind = {"http": HttpService, "https": Https, "h2": Http2}[proto]

    def start(side, env):
        svc = kind("httpsvc-otel-1.26" if side == "sdk" else "httpsvc-1.26", "-peer", f"http://{peer.addr}",
                   *([] if proto == "http" else ["-tls"]), env=env)
        return svc, {svc.port: "$PORT", peer.port: "$PEER"}

    try:
        rows, ports = run_both(tmp_path, run_glimpse, start, httpsvc_traffic)
    finally:
        peer.stop()
    # Over HTTP/2 no series matches (otelhttp's network.protocol.version is "2.0"): the buckets
    # are compared over HTTP/1.1.
    found = judge(rows["sdk"], rows["glimpse"], ports["sdk"], ports["glimpse"],
                  bucket_keys=[("http.route", "/sleep")] if proto != "h2" else [])
    assert_table({"http": "httpsvc", "https": "httpsvc https", "h2": "httpsvc h2"}[proto], found)


class Routers(HttpService):
    """routersvc serving one router (-NAME 127.0.0.1:0)."""

    def __init__(self, binary, router, env=None):
        self.proc = subprocess.Popen([os.path.join(APPS, binary), f"-{router}", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=dict(os.environ, **(env or {})))
        words = self.proc.stdout.readline().split()
        assert words and words[0] == "ready", words
        self.pid = int(words[1])
        self.addr = words[2].split("=", 1)[1]
        self.port = int(self.addr.rsplit(":", 1)[1])


# The requests of test_routers.py (its own copy: the table's counts follow from it): templated
# routes, a group's route, a handler's own 404, paths no route matches, a method none allows.
ROUTER_TRAFFIC = [("GET", "/health", 3), ("GET", "/users/7", 2), ("GET", "/users/42", 1), ("GET", "/users/missing", 2),
                  ("POST", "/users", 2), ("GET", "/api/v1/items/3", 2), ("GET", "/api/v1/items/abc-9", 1),
                  ("GET", "/nope", 2), ("GET", "/api/v1/nope", 1), ("GET", "/users/7/extra", 1), ("GET", "/health/", 1),
                  ("DELETE", "/health", 1)]


@pytest.mark.parametrize("router", ["gin", "chi", "echo", "mux", "httprouter"])
def test_routersvc_against_router_instrumentation(router, tmp_path, run_glimpse):
    def start(side, env):
        svc = Routers("routersvc-otel-1.26" if side == "sdk" else "routersvc-1.26", router, env)
        return svc, {svc.port: "$PORT"}

    def traffic(svc):
        for method, path, n in ROUTER_TRAFFIC:
            for _ in range(n):
                req = urllib.request.Request(f"http://{svc.addr}{path}", method=method)
                try:
                    with OPENER.open(req, timeout=10) as r:
                        r.read()
                except urllib.error.HTTPError:
                    pass
        svc.get("/health", headers={"traceparent": TRACEPARENT})
        return 1

    rows, ports = run_both(tmp_path, run_glimpse, start, traffic)
    found = judge(rows["sdk"], rows["glimpse"], ports["sdk"], ports["glimpse"])
    assert_table(f"routersvc {router}", found)


class GodbService(Godb):
    """godb -hold with an environment; go() lets it set up (after glimpse attached)."""

    def __init__(self, binary, pg, rd, env=None):
        self.proc = subprocess.Popen([os.path.join(APPS, binary), "-hold", "-pg", pg.dsn, "-redis",
                                      f"127.0.0.1:{rd.port}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, **(env or {})))
        word, pid = self.proc.stdout.readline().split()
        assert word == "connected", word
        self.pid = int(pid)


def in_request(rows):
    """The rows minus the spans outside a request's trace (connecting and the set-up statements
    before the test's first request, which only the SDK build sees: glimpse attaches later)."""
    traces = set(r["trace_id"] for r in rows if r["signal"] == "span" and r["kind"] == 2)
    return [r for r in rows if r["signal"] != "span" or r["trace_id"] in traces]


# godb's routes (as test_godb.py drives them; its own copy: the table's counts follow from it):
# how often, the status, and the database calls each makes (tests/apps/godb documents them).
GODB_REQUESTS = [("/pg/conn", 3, 200, 1), ("/pg/simple", 2, 200, 1), ("/pg/pool", 3, 200, 2), ("/pg/batch", 2, 200, 1),
                 ("/pg/fail", 2, 500, 1), ("/pg/spawn", 2, 200, 1), ("/redis/kv", 3, 200, 3), ("/redis/pipe", 2, 200, 3),
                 ("/redis/fail", 2, 500, 1)]


def test_godb_against_otelpgx_and_redisotel(servers, tmp_path, run_glimpse):
    pg, rd = servers

    def start(side, env):
        svc = GodbService("godb-otel-1.26" if side == "sdk" else "godb-1.26", pg, rd, env)
        svc.ports = {pg.port: "$PG", rd.port: "$REDIS"}
        return svc, svc.ports

    def traffic(svc):
        svc.go()  # glimpse is attached: it sees the set-up statements prepared
        svc.ports[svc.port] = "$PORT"
        spans = 0
        for path, n, status, calls in GODB_REQUESTS:
            for _ in range(n):
                assert svc.get(path) == status, path
            spans += n * (1 + calls)  # glimpse's spans; the SDK makes more
        assert svc.get("/pg/conn", headers={"traceparent": TRACEPARENT}) == 200
        return spans

    rows, ports = run_both(tmp_path, run_glimpse, start, traffic)
    found = judge(in_request(rows["sdk"]), in_request(rows["glimpse"]), ports["sdk"], ports["glimpse"])
    assert_table("godb", found)

    # otelpgx's pgx.operation.type against glimpse's operations, exactly: its prepares are
    # glimpse's PREPAREs, its queries and batches glimpse's other PostgreSQL calls (a batch is
    # one round trip); connect and acquire never reach the wire.
    def pg_counts(rows, key):
        out = {}
        for (name, _), r in last_points(rows).items():
            if name == "db.client.operation.duration" and r["attributes"]["db.system.name"] == "postgresql":
                k = key(r["attributes"])
                out[k] = out.get(k, 0) + r["count"]
        return out
    sdk = pg_counts(rows["sdk"], lambda a: a["pgx.operation.type"])
    glimpse = pg_counts(rows["glimpse"], lambda a: "prepare" if a["db.operation.name"] == "PREPARE" else "other")
    assert sdk["prepare"] == glimpse["prepare"] and sdk["query"] + sdk["batch"] == glimpse["other"], (sdk, glimpse)


# test_grpc.py's plan, the INTERNAL calls taking 110 ms: the bucket (0.1, 0.25] with 140 ms to
# spare on a loaded machine.
GRPC_PLAN = "Echo:7,Stream:3,Fail/5:4,Fail/13@110:2,Fail/3:1,Call:2"


def test_grpcsvc_against_otelgrpc(tmp_path, run_glimpse):
    peer = HttpService("grpcsvc-1.26")

    def start(side, env):
        svc = HttpService("grpcsvc-otel-1.26" if side == "sdk" else "grpcsvc-1.26", "-peer", peer.addr, env=env)
        return svc, {svc.port: "$PORT", peer.port: "$PEER"}

    def traffic(svc):
        # The driver is the plain build: it exports nothing itself.
        grpcsvc("grpcsvc-1.26", "-drive", svc.addr, "-plan", GRPC_PLAN)
        grpcsvc("grpcsvc-1.26", "-drive", svc.addr, "-plan", "Echo:1", "-traceparent", TRACEPARENT)
        return 7 + 3 + 4 + 2 + 1 + 2 * (1 + 3) + 1  # server spans, and Call's 3 client calls each

    try:
        rows, ports = run_both(tmp_path, run_glimpse, start, traffic)
    finally:
        peer.stop()
    found = judge(rows["sdk"], rows["glimpse"], ports["sdk"], ports["glimpse"],
                  bucket_keys=[("rpc.response.status_code", "INTERNAL")])
    assert_table("grpcsvc", found)


def test_judge_sees_what_it_compares():
    """The comparison itself, on made-up receiver lines: a count, a bucket, a parent, a status,
    a value and a key that differ each give their line; equal sides give none."""
    def metric(name, attrs, count, buckets, kind="histogram"):
        return {"signal": "metric", "resource": {"service.name": "x"}, "name": name, "unit": "s", "type": kind,
                "attributes": attrs, "count": count, "bucket_counts": buckets, "bounds": [0.1, 0.25]}

    def span(sid, name, kind, parent="", code=0, attrs=None):
        return {"signal": "span", "resource": {"service.name": "x"}, "name": name, "kind": kind, "trace_id": "t",
                "span_id": sid, "parent_span_id": parent, "status": {"code": code}, "attributes": attrs or {}}

    route = {"http.route": "/sleep", "server.port": 8080}
    sdk = [metric("m", route, 3, [0, 3, 0]), span("a", "GET /sleep", 2, attrs={"k": 1}),
           span("b", "GET", 3, "a")]
    assert judge(sdk, sdk, {8080: "$PORT"}, {8080: "$PORT"}, [("http.route", "/sleep")]) == []
    glimpse = [metric("m", dict(route, **{"server.port": 9090}), 2, [0, 1, 1]),
               span("a", "GET /sleep", 2, code=2, attrs={"k": 2, "extra": 1}), span("b", "GET", 3, "remote")]
    found = judge(sdk, glimpse, {8080: "$PORT"}, {9090: "$PORT"})
    assert found == [
        "metric m: series {http.route=/sleep, server.port=$PORT} count SDK 3, glimpse 2",
        "span client 'GET' status unset parent remote remote: SDK 0, glimpse 1",
        "span client 'GET' status unset parent server 'GET /sleep': SDK 1, glimpse 0",
        "span server 'GET /sleep' status error parent root: SDK 0, glimpse 1",
        "span server 'GET /sleep' status unset parent root: SDK 1, glimpse 0",
        "span server: attribute extra only glimpse",
        "span server 'GET /sleep': attribute k values SDK {'1': 1}, glimpse {'2': 1}",
    ], found
    glimpse[0] = metric("m", route, 3, [0, 2, 1])
    assert judge(sdk, glimpse[:1] + sdk[1:], {8080: "$PORT"}, {8080: "$PORT"}, [("http.route", "/sleep")]) == [
        "metric m: series {http.route=/sleep, server.port=$PORT} buckets SDK {0.25: 3}, glimpse {0.25: 2, inf: 1}"]
