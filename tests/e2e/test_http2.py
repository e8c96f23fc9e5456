# SPDX-License-Identifier: Apache-2.0
"""HTTP/2 is not measured yet, and must never give wrong numbers: behind HTTP/2's ResponseWriter
the HTTP/1 status offset is foreign memory (Caddy's h2 requests became random status codes).
glimpse checks the writer's type (its itab) and counts such requests instead. Ground truth: the
requests this test sends with curl over HTTPS, h2 and HTTP/1.1, to the test service's -tls mode."""
import os
import re
import subprocess

import pytest

from conftest import APPS, HttpService, glimpse, metric_value, wait_for

DURATION = "http_server_request_duration_seconds"


def curl(addr, path, version):
    out = subprocess.run(["curl", "-sk", version, "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                          f"https://{addr}{path}"], capture_output=True, text=True, timeout=10)
    return out.stdout


@pytest.mark.parametrize("binary", ["httpsvc-1.22", "httpsvc-1.23", "httpsvc-1.22-stripped", "httpsvc-1.23-stripped",
                                    "httpsvc-1.26", "httpsvc-1.27-stripped"])
def test_http2_is_counted_unmeasured_never_garbage(binary, run_glimpse):
    svc = HttpService(binary, "-tls")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
        for _ in range(5):
            assert curl(svc.addr, "/fast", "--http2") == "2 200"
        assert curl(svc.addr, "/status/418", "--http2") == "2 418"
        for _ in range(3):
            assert curl(svc.addr, "/fast", "--http1.1") == "1.1 200"
        assert curl(svc.addr, "/status/503", "--http1.1") == "1.1 503"
        assert wait_for(lambda: g.value("glimpse_requests_unmeasured_total") == 6 and
                        g.value(DURATION + "_count") == 4), g.scrape_text()
        samples = g.scrape()
        statuses = {l["http_response_status_code"] for n, l, v in samples if n == DURATION + "_count"}
        assert statuses == {"200", "503"}, g.scrape_text()  # exactly the HTTP/1 ones: no garbage
        assert metric_value(samples, DURATION + "_count", http_route="/fast") == 3
        assert g.stop() == 0
        said = [l for l in g.stderr().splitlines() if "not measured" in l]
        # The writer's type as the binary names it (Go 1.27 renamed it).
        assert len(said) == 1 and re.search(r"net/http\.(\(\*http2responseWriter\)|http2ResponseWriter) \(HTTP/2\)",
                                            said[0]), g.stderr()
    finally:
        svc.stop()


def test_inspect_names_what_is_not_measured():
    """gRPC must never be silent. Ground truth: Debian's Prometheus links gRPC's client (its
    tracing exporter); the test service links neither gRPC nor x/net/http2."""
    r = glimpse("inspect", "/usr/bin/prometheus")
    assert r.returncode == 0, r.stderr
    assert "not measured: gRPC client" in r.stdout, r.stdout
    r = glimpse("inspect", os.path.join(APPS, "httpsvc-1.23-stripped"))
    assert r.returncode == 0 and "not measured: -\n" in r.stdout, r.stdout
