# SPDX-License-Identifier: Apache-2.0
"""What leaves the target: no personal data from URL paths in http.route, span names or any
exported text, span names capped like routes, and spans that are valid JSON whatever bytes the
path held. Ground truth: the paths this test sends (hostile on purpose) and the strings they hide."""
import json
import socket

import pytest

from conftest import HttpService, metric_value, wait_for

DURATION = "http_server_request_duration_seconds"

# Served by the legacy routes (Go < 1.22: no mux pattern, so only the heuristic stands between
# the path and the route), each to /users/<segment> → 200, or to a path no route serves → 404.
SECRETS = ["alice@example.com", "alice%40example.com", "ssn-123-45-6789", "+1-555-0100", "user42",
           "j%C3%BCrgen", "averyveryverylongsegmentthatisnotaword"]
LEAKS = ["alice", "example", "123-45-6789", "555-0100", "user42", "%40", "%C3", "averyvery", "@"]


def raw_get(addr, target):
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return s.recv(64)


@pytest.mark.parametrize("binary", ["httpsvc-1.21", "httpsvc-1.23-stripped"])
def test_no_personal_data_in_routes_or_spans(binary, run_glimpse, tmp_path):
    svc = HttpService(binary)
    try:
        spans = tmp_path / "spans.jsonl"
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--spans-out", str(spans),
                        prometheus=True)
        for secret in SECRETS:
            assert svc.get(f"/users/{secret}") == 200
            assert svc.get(f"/api/{secret}/profile") == 404  # matches no route
        # Raw bytes that are not UTF-8 (Go's server accepts them in the request line).
        assert raw_get(svc.addr, b"/users/\xff\xfe\xc0\x80").startswith(b"HTTP/1.1 200")
        n = 2 * len(SECRETS) + 1
        assert wait_for(lambda: g.value(DURATION + "_count") == n), g.scrape_text()
        text = g.scrape_text()
        samples = g.scrape()
        assert metric_value(samples, DURATION + "_count", http_route="/users/{id}") == len(SECRETS) + 1
        # 404s that matched nothing carry no route (and take no place under the cap).
        assert metric_value(samples, DURATION + "_count", http_route="",
                            http_response_status_code="404") == len(SECRETS)
        assert g.stop() == 0
        lines = spans.read_text().splitlines()
        assert len(lines) == n
        parsed = [json.loads(l) for l in lines]  # valid JSON, raw 0xff included
        names = {s["name"] for s in parsed}
        assert names == {"GET /users/{id}", "GET"}, names
        for leak in LEAKS:
            assert leak not in text, f"{leak!r} in /metrics"
            assert leak not in spans.read_text(), f"{leak!r} in spans"
    finally:
        svc.stop()


def test_span_names_capped_like_routes(run_glimpse, tmp_path):
    """--max-routes caps span names too: past the cap they name the overflow route."""
    svc = HttpService("httpsvc-1.21")
    try:
        spans = tmp_path / "spans.jsonl"
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--max-routes", "2", "--spans-out",
                        str(spans), prometheus=True)
        for word in ("alpha", "bravo", "charlie", "delta"):
            assert svc.get(f"/users/{word}") == 200  # plain words are kept: 4 routes wanted
        assert wait_for(lambda: g.value(DURATION + "_count") == 4)
        assert g.stop() == 0
        names = sorted(json.loads(l)["name"] for l in spans.read_text().splitlines())
        assert names == ["GET /users/alpha", "GET /users/bravo", "GET /{overflow}", "GET /{overflow}"]
    finally:
        svc.stop()
