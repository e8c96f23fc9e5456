# SPDX-License-Identifier: Apache-2.0
"""HTTP/2 through net/http's own server, over TLS (ALPN h2) and cleartext (h2c, Go 1.24+):
the same series and spans as HTTP/1, told apart by network.protocol.version. The status is read
behind HTTP/2's writer only once the writer's type (its itab) says it is HTTP/2's (Caddy's h2
requests once became random status codes when it was read as HTTP/1's). Ground truth: the
requests this test sends with curl, each answered with the version and status curl reports."""
import json
import os
import subprocess

import pytest

from conftest import APPS, HttpService, glimpse, metric_value, wait_for

DURATION = "http_server_request_duration_seconds"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def curl(url, version, *extra):
    out = subprocess.run(["curl", "-sk", version, *extra, "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                          url], capture_output=True, text=True, timeout=10)
    return out.stdout


def exercise_and_check(svc, scheme, h2_flag, g):
    base = f"{scheme}://{svc.addr}"
    for _ in range(5):
        assert curl(base + "/fast", h2_flag) == "2 200"
    assert curl(base + "/status/418", h2_flag) == "2 418"
    assert curl(base + "/status/503", h2_flag, "-H", f"traceparent: {TRACEPARENT}") == "2 503"
    for _ in range(3):
        assert curl(base + "/fast", "--http1.1") == "1.1 200"
    assert curl(base + "/status/503", "--http1.1") == "1.1 503"
    assert wait_for(lambda: g.value(DURATION + "_count") == 11), g.scrape_text()
    samples = g.scrape()
    want = {("/fast", "200", "2"): 5, ("/status/{code}", "418", "2"): 1, ("/status/{code}", "503", "2"): 1,
            ("/fast", "200", "1.1"): 3, ("/status/{code}", "503", "1.1"): 1}
    got = {(l["http_route"], l["http_response_status_code"], l["network_protocol_version"]): v
           for n, l, v in samples if n == DURATION + "_count"}
    assert got == want, g.scrape_text()  # exactly these: no garbage status, no other series
    assert metric_value(samples, "glimpse_requests_unmeasured_total") == 0


@pytest.mark.parametrize("binary", ["httpsvc-1.22", "httpsvc-1.23-stripped", "httpsvc-1.26", "httpsvc-1.27-stripped"])
def test_http2_over_tls_measured_like_http1(binary, run_glimpse, tmp_path):
    svc = HttpService(binary, "-tls")
    spans = tmp_path / "spans.jsonl"
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--spans-out", str(spans), prometheus=True)
        exercise_and_check(svc, "https", "--http2", g)
        assert g.stop() == 0
        assert "not measured" not in g.stderr(), g.stderr()
    finally:
        svc.stop()
    servers = [json.loads(l) for l in spans.read_text().splitlines()]
    versions = sorted(s["attributes"]["network.protocol.version"] for s in servers)
    assert versions == ["1.1"] * 4 + ["2"] * 7
    # The incoming traceparent is joined on HTTP/2 as on HTTP/1.
    joined = [s for s in servers if s.get("parent_span_id") == "b7ad6b7169203331"]
    assert len(joined) == 1 and joined[0]["trace_id"] == TRACEPARENT[3:35]
    assert joined[0]["attributes"]["http.response.status_code"] == 503 and joined[0]["status"] == "error"


@pytest.mark.parametrize("binary", ["httpsvc-1.26-stripped", "httpsvc-1.27"])
def test_h2c_measured_like_http1(binary, run_glimpse):
    svc = HttpService(binary, "-h2c")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
        exercise_and_check(svc, "http", "--http2-prior-knowledge", g)
        # HTTP/2 costs what HTTP/1 does: 2 uprobe hits per request (no spans, so no lineage probe).
        assert wait_for(lambda: g.value("glimpse_probe_hits_total") == 2 * 11), g.scrape_text()
        assert g.stop() == 0
    finally:
        svc.stop()


def test_inspect_names_what_is_not_measured():
    """gRPC must never be silent. Ground truth: Debian's Prometheus links gRPC's client (its
    tracing exporter); the test service links neither gRPC nor x/net/http2."""
    r = glimpse("inspect", "/usr/bin/prometheus")
    assert r.returncode == 0, r.stderr
    # Debian strips its DWARF, which gRPC's offsets come from: refused, in one line.
    assert "grpc:        gRPC client not measured: the binary has no DWARF" in r.stdout, r.stdout
    r = glimpse("inspect", os.path.join(APPS, "httpsvc-1.23-stripped"))
    assert r.returncode == 0 and "not measured: -\n" in r.stdout, r.stdout
