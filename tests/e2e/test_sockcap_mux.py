# SPDX-License-Identifier: Apache-2.0
"""The socket path's http.route for Go services: the ServeMux pattern, learned by a short uprobe
window and matched in user space, must give exactly the uprobe path's (http.route, method,
status) series for the same traffic — the uprobes read Request.pat of every request — and the
requests the test sent. The window's uprobe hits are counted: one per server, none once it has
closed."""
import re

import pytest

from conftest import parse_prometheus, wait_for

DURATION = "http_server_request_duration_seconds"
# (method, path, times): patterns (/users/{id}, /status/{code}), a pattern's handler answering
# 404, paths no pattern matches (404), a method the mux has no pattern for is still served (no
# method patterns here), the cleaned-path and trailing-slash answers, HEAD, and an -extra route.
REQUESTS = [("GET", "/fast", 3), ("GET", "/users/1", 2), ("GET", "/users/22", 1), ("POST", "/users/7", 1),
            ("GET", "/users/a%2Fb", 1), ("GET", "/status/404", 2), ("GET", "/status/503", 1),
            ("GET", "/nope", 2), ("GET", "/users/", 1), ("GET", "/users/1/x", 1), ("GET", "/nowrite", 1),
            ("GET", "/sleep?ms=5", 1), ("GET", "/Fast", 1), ("GET", "/fast/", 1), ("GET", "//fast", 1),
            ("GET", "/x/../fast", 1), ("HEAD", "/fast", 1), ("GET", "/x3", 1)]
# Without a pattern each path's heuristic reads the path it has: the uprobes the decoded
# URL.Path (/users/a/b), the socket path the bytes as sent (/users/a%2Fb -> /users/{id}).
NO_ESCAPED_SLASH = [r for r in REQUESTS if "%2F" not in r[1]]
# What both paths must record for REQUESTS on Go 1.22+ with the patterns in force.
PATTERN_SERIES = {
    ("/fast", "GET", "200"): 3, ("/fast", "HEAD", "200"): 1, ("/users/{id}", "GET", "200"): 4,
    ("/users/{id}", "POST", "200"): 1, ("/status/{code}", "GET", "404"): 2,
    ("/status/{code}", "GET", "503"): 1, ("/nowrite", "GET", "200"): 1, ("/sleep", "GET", "200"): 1,
}


def series(samples):
    out = {}
    for name, labels, value in samples:
        if name == DURATION + "_count":
            key = (labels.get("http_route", ""), labels["http_request_method"], labels["http_response_status_code"])
            out[key] = out.get(key, 0) + value
    return out


def send(svc, method, path):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def both(http_services, run_glimpse, binary, *args, env=None):
    svc = http_services(binary, *args, env=env)
    uprobes = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "uprobes", name="uprobes",
                          prometheus=True)
    sockets = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", name="socket",
                          prometheus=True, ready="capture=socket")
    return svc, uprobes, sockets


def run_requests(svc, uprobes, sockets, already=0, requests=REQUESTS):
    total = already
    for method, path, n in requests:
        for _ in range(n):
            send(svc, method, path)
            total += 1
    ok = wait_for(lambda: uprobes.value(DURATION + "_count") == total and sockets.value(DURATION + "_count") == total)
    got, want = series(parse_prometheus(sockets.scrape_text())), series(uprobes.scrape())
    assert ok, f"{total} requests sent; socket path: {got}; uprobes: {want}"
    return got, want


@pytest.mark.parametrize("binary,args,hits", [
    ("httpsvc-1.22", ["-bare", "-extra", "12"], 1),  # Go 1.22 syntax, children in a bucket map
    ("httpsvc-1.23", ["-default", "-extra", "12"], 1),  # http.DefaultServeMux, found by its symbol
    # Stripped: Swiss-table map, offsets from the table; the window probes (*ServeMux).ServeHTTP
    # too (a nil Handler's mux, http.DefaultServeMux, has no symbol): 2 hits for the one request.
    ("httpsvc-1.27-stripped", ["-bare", "-extra", "12"], 2),
    ("httpsvc-1.26-stripped", ["-default", "-extra", "12"], 2),
])
def test_socket_routes_equal_uprobe_routes(binary, args, hits, http_services, run_glimpse):
    svc, uprobes, sockets = both(http_services, run_glimpse, binary, *args)
    # The window closes at the first request (one server, one listening port).
    assert send(svc, "GET", "/users/0") == 200
    assert wait_for(lambda: "learning window closed" in sockets.stderr()), sockets.stderr()
    assert re.search(rf"learning window closed after {hits} uprobe hits? \(every listening port seen\): "
                     rf"port {svc.port}: ServeMux, 22 patterns", sockets.stderr()), sockets.stderr()
    got, want = run_requests(svc, uprobes, sockets, already=1)
    want[("/users/{id}", "GET", "200")] -= 1  # the window's request, which both saw
    got[("/users/{id}", "GET", "200")] -= 1
    assert got == want
    for key, n in PATTERN_SERIES.items():
        assert got.get(key) == n, (key, got)
    assert got.get(("", "GET", "404")) == 6  # /nope twice, /users/, /users/1/x, /Fast, /fast/: no pattern
    # Steady state: no more uprobe hits than the window's one.
    assert sockets.value("glimpse_probe_hits_total") == hits
    assert sockets.stop() == 0 and uprobes.stop() == 0
    assert f"routes uprobe_hits={hits} port" in sockets.stderr()


def test_wrapped_handler_and_old_mux_keep_the_heuristic(http_services, run_glimpse):
    """A Server whose Handler wraps the mux (httpsvc's /strip/ rewriter) cannot be matched by the
    mux's patterns: said once, heuristic routes, window closed after 1 hit. GODEBUG=httpmuxgo121=1
    registers no pattern in the routing tree and records none on the uprobe path: both agree."""
    svc, uprobes, sockets = both(http_services, run_glimpse, "httpsvc-1.26")
    send(svc, "GET", "/strip/users/3")
    assert wait_for(lambda: "learning window closed" in sockets.stderr()), sockets.stderr()
    assert "its Handler is not a *http.ServeMux" in sockets.stderr()
    assert sockets.value(DURATION + "_count", http_route="/strip/users/{id}") == 1
    assert sockets.value("glimpse_probe_hits_total") == 1
    sockets.stop()
    uprobes.stop()

    svc, uprobes, sockets = both(http_services, run_glimpse, "httpsvc-1.26", "-bare", "-extra", "12",
                                 env={"GODEBUG": "httpmuxgo121=1"})
    got, want = run_requests(svc, uprobes, sockets, requests=NO_ESCAPED_SLASH)
    assert got == want
    assert "ServeMux, 0 patterns" in sockets.stderr()


def test_go_before_122_has_no_window(http_services, run_glimpse):
    """Go 1.19's ServeMux has no patterns, and the uprobe path records none: no window at all
    (0 uprobe hits), the heuristic on both paths."""
    svc, uprobes, sockets = both(http_services, run_glimpse, "httpsvc-1.19", "-bare", "-extra", "12")
    got, want = run_requests(svc, uprobes, sockets, requests=NO_ESCAPED_SLASH)
    assert got == want
    assert "Go before 1.22" in sockets.stderr()
    assert re.search(r"^glimpse_probe_hits_total(\{[^}]*\})? 0$", sockets.scrape_text(), re.M), sockets.scrape_text()


def test_two_listeners_two_hits(http_services, run_glimpse):
    """One server on two listening ports: the window stays open until both have served a
    request (2 hits), then closes; both ports' requests get the patterns, none traps after."""
    svc = http_services("httpsvc-1.26", "-bare", "-also", "127.0.0.1:0")
    also = int(svc.proc.stdout.readline().split()[1].rsplit(":", 1)[1])
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", prometheus=True,
                    ready="capture=socket")

    class Other:
        port = also

    assert send(svc, "GET", "/users/1") == 200
    assert send(Other, "GET", "/users/2") == 200
    assert wait_for(lambda: "learning window closed" in g.stderr()), g.stderr()
    assert f"closed after 2 uprobe hits (every listening port seen): port {svc.port}: ServeMux, 10 patterns; " \
           f"port {also}: ServeMux, 10 patterns" in g.stderr(), g.stderr()
    for _ in range(5):
        assert send(Other, "GET", "/status/201") == 201
    assert wait_for(lambda: g.value(DURATION + "_count") == 7), g.scrape_text()
    assert g.value(DURATION + "_count", http_route="/users/{id}") == 2
    assert g.value(DURATION + "_count", http_route="/status/{code}", server_port=also) == 5
    assert g.value("glimpse_probe_hits_total") == 2


def test_agent_socket_capture_go_routes(tmp_path):
    """The agent's capture: socket on a Go service gives it the same ServeMux routes as attach."""
    import subprocess
    from conftest import free_port, metric_value, scrape, targets
    from test_agent import Agent, config, own_copy
    port = free_port()
    selector = """  - name: go-socket
    match:
      process_name: "agtsvc*"
    signals:
      http_metrics: true
      traces: false
      runtime: false
      cpu_profile: false
      capture: socket
"""
    agent = Agent(tmp_path, config(tmp_path, port, selector))
    svc = subprocess.Popen([own_copy(tmp_path, "httpsvc-1.26"), "-bare"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        _, pid, addr = svc.stdout.readline().split()

        class Svc:
            port = int(addr.rsplit(":", 1)[1])

        assert wait_for(lambda: f'"msg":"instrumented","pid":"{pid}"' in agent.stderr(), timeout=15), agent.stderr()
        assert int(pid) in targets(port)
        for path, status in (("/users/1", 200), ("/users/2", 200), ("/status/503", 503), ("/nope", 404)):
            assert send(Svc, "GET", path) == status
        name = DURATION + "_count"
        assert wait_for(lambda: metric_value(scrape(port), name) == 4, timeout=10), (agent.stderr(), [s for s in scrape(port) if s[0] == name])
        samples = scrape(port)
        assert metric_value(samples, name, http_route="/users/{id}") == 2, samples
        assert metric_value(samples, name, http_route="/status/{code}", http_response_status_code="503") == 1
        assert metric_value(samples, name, http_route="", http_response_status_code="404") == 1
        # The agent reads the window's ring at its own pace: at most the requests sent by then.
        m = re.search(r"ServeMux learning window closed after (\d+) uprobe hits? \(every listening port seen\): "
                      rf"port {Svc.port}: ServeMux, 10 patterns", agent.stderr())
        assert m and 1 <= int(m.group(1)) <= 4, agent.stderr()
    finally:
        svc.kill()
        svc.wait()
        assert agent.stop() == 0, agent.stderr()


def test_window_bounded_by_hits(http_services, run_glimpse):
    """A listening port that serves nothing keeps the window open only up to its 64 hits; a port
    first used after that is said once, and keeps the path heuristic."""
    svc = http_services("httpsvc-1.26", "-bare", "-also", "127.0.0.1:0")
    also = int(svc.proc.stdout.readline().split()[1].rsplit(":", 1)[1])
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", prometheus=True,
                    ready="capture=socket")

    class Other:
        port = also

    sent = 0
    while "learning window closed" not in g.stderr() and sent < 200:
        assert send(svc, "GET", "/users/1") == 200
        sent += 1
    assert wait_for(lambda: "learning window closed" in g.stderr()), g.stderr()
    m = re.search(r"closed after (\d+) uprobe hits \(its hits are used up; ports not seen keep the path "
                  rf"heuristic\): port {svc.port}: ServeMux, 10 patterns", g.stderr())
    assert m and 64 <= int(m.group(1)) <= sent, (sent, g.stderr())
    hits = g.value("glimpse_probe_hits_total")
    for _ in range(3):
        assert send(Other, "GET", "/status/201") == 201
    assert wait_for(lambda: g.value(DURATION + "_count") == sent + 3), g.scrape_text()
    assert g.value(DURATION + "_count", http_route="/users/{id}", server_port=svc.port) == sent
    assert g.value(DURATION + "_count", http_route="/status/{id}", server_port=also) == 3  # the heuristic's
    assert g.stderr().count(f"port {also} served no request while the ServeMux learning window was open") == 1
    assert g.value("glimpse_probe_hits_total") == hits
