# SPDX-License-Identifier: Apache-2.0
"""Socket capture (glimpse attach --capture socket) on the Go test service, beside the uprobe
path on the same traffic: the two must agree on every request's method and status, and the
socket path's routes are the path heuristic applied to the path as it arrived (httpsvc's Handler
wraps its ServeMux in a path rewriter, whose patterns therefore cannot be matched at the socket:
test_sockcap_mux.py has the ServeMux as the Handler). Ground truth: the exact requests each test sends, and the uprobe path's
counts of them."""
import http.client
import subprocess

import pytest

from conftest import metric_value, parse_prometheus, wait_for

DURATION = "http_server_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"
REQUESTS = [("/fast", 5), ("/users/1", 1), ("/users/22", 1), ("/users/333", 1), ("/status/404", 2),
            ("/status/503", 3), ("/sleep?ms=120", 2), ("/nowrite", 1), ("/call", 2), ("/strip/users/9", 1)]
# What the socket path records for REQUESTS, whatever the Go version: (route, status) → count.
SOCKET_SERIES = {
    ("/fast", "200"): 5,
    ("/users/{id}", "200"): 3,
    ("", "404"): 2,  # a 404 without a pattern matched no route
    ("/status/{id}", "503"): 3,
    ("/sleep", "200"): 2,
    ("/nowrite", "200"): 1,  # Go's implicit 200, as it went on the wire
    ("/call", "200"): 2,
    ("/strip/users/{id}", "200"): 1,  # as it arrived, before the handler rewrote it
}


def by_status(samples):
    out = {}
    for name, labels, value in samples:
        if name == DURATION + "_count":
            key = (labels["http_request_method"], labels["http_response_status_code"])
            out[key] = out.get(key, 0) + value
    return out


@pytest.mark.parametrize("binary", ["httpsvc-1.19", "httpsvc-1.23-stripped", "httpsvc-1.26", "httpsvc-1.27"])
def test_socket_path_agrees_with_uprobes(binary, http_services, run_glimpse):
    peer = http_services(binary)
    svc = http_services(binary, "-peer", f"http://{peer.addr}")
    uprobes = run_glimpse("attach", "-p", str(svc.pid), "--no-live", name="uprobes", prometheus=True)
    sockets = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", name="socket",
                          prometheus=True)
    uprobes.wait_ready("attached")
    sockets.wait_ready("capture=socket")
    for path, n in REQUESTS:
        for _ in range(n):
            svc.get(path)
    total = sum(n for _, n in REQUESTS)
    assert wait_for(lambda: uprobes.value(DURATION + "_count") == total), uprobes.scrape_text()
    assert wait_for(lambda: sockets.value(DURATION + "_count") == total), sockets.scrape_text()
    text = sockets.scrape_text()
    samples = parse_prometheus(text)
    assert by_status(samples) == by_status(uprobes.scrape()), text
    for (route, status), n in SOCKET_SERIES.items():
        got = metric_value(samples, DURATION + "_count", http_route=route, http_response_status_code=status,
                           http_request_method="GET", network_protocol_version="1.1", server_port=svc.port)
        assert got == n, f"{route} {status}: {got} != {n}\n{text}"
    assert metric_value(samples, DURATION + "_count", error_type="503") == 3
    assert metric_value(samples, DURATION + "_bucket", http_route="/sleep", le="0.1") == 0
    assert metric_value(samples, DURATION + "_bucket", http_route="/sleep", le="0.25") == 2
    # The service's own calls to its peer, seen as a client's bytes.
    assert metric_value(samples, CLIENT + "_count", server_address="127.0.0.1", server_port=peer.port,
                        http_response_status_code="200", http_request_method="GET") == 2
    for counter in ("unparseable", "unanswered", "events_dropped", "connections_unrecognized"):
        assert metric_value(samples, f"glimpse_socket_{counter}_total") == 0, text
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert sockets.stop() == 0 and uprobes.stop() == 0


def test_connection_opened_before_attach(http_services, run_glimpse):
    """A keep-alive connection that served requests before glimpse attached is picked up at its
    next request, and nothing is paired by guesswork."""
    svc = http_services("httpsvc-1.26")
    conn = http.client.HTTPConnection(svc.addr.rsplit(":", 1)[0], svc.port, timeout=10)

    def get(path):
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status

    assert get("/users/1") == 200
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", prometheus=True)
    g.wait_ready("capture=socket")
    for _ in range(4):
        assert get("/status/418") == 418
    assert wait_for(lambda: g.value(DURATION + "_count") == 4), g.scrape_text()
    assert g.value(DURATION + "_count", http_response_status_code="418") == 4
    assert g.value("glimpse_socket_unanswered_total") == 0
    conn.close()
    assert g.stop() == 0


def test_tls_is_counted_not_measured(http_services, run_glimpse):
    """TLS bytes cannot be read at the socket: the connection is counted as encrypted, given up
    on, and said once in the log — no request is recorded from ciphertext."""
    svc = http_services("httpsvc-1.26", "-tls")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", prometheus=True)
    g.wait_ready("capture=socket")
    for _ in range(3):
        r = subprocess.run(["curl", "-sk", "--http1.1", "-o", "/dev/null", f"https://{svc.addr}/fast"])
        assert r.returncode == 0
    assert wait_for(lambda: g.value("glimpse_socket_connections_encrypted_total") == 3), g.scrape_text()
    assert g.value(DURATION + "_count") == 0
    assert g.stop() == 0
    assert g.stderr().count("carried TLS") == 1, g.stderr()


def short_connections(svc, g, clients=4, each=2000):
    """clients threads each GET /fast on a new connection every time, each times: every request
    must count in g's metrics (the socket path), none unanswered."""
    import threading
    statuses = []

    def client():
        for _ in range(each):
            c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
            c.request("GET", "/fast")
            r = c.getresponse()
            r.read()
            c.close()
            statuses.append(r.status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = clients * each
    assert statuses == [200] * total
    assert wait_for(lambda: g.value(DURATION + "_count") == total), g.value(DURATION + "_count")
    assert g.value(DURATION + "_count", http_route="/fast", http_response_status_code="200") == total
    assert g.value("glimpse_socket_unanswered_total") == 0


def test_short_connections_from_many_clients(http_services, run_glimpse):
    """Four clients each open a new connection for every request: the Go server closes one
    connection's fd on one thread while another thread accepts the next connection, which the
    kernel gives the same fd number. A close's exit that came after the new connection's request
    ended that connection's stream (a lost request: 6-7 of 8,000 here before, on sys_exit).
    Every request counts, none is left unanswered."""
    svc = http_services("httpsvc-1.26")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", prometheus=True)
    g.wait_ready("capture=socket")
    short_connections(svc, g)
    assert g.stop() == 0
