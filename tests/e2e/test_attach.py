# SPDX-License-Identifier: Apache-2.0
"""glimpse attach against the real Go test service (tests/apps/httpsvc) built with every Go
version here, normal and stripped. Ground truth: the exact requests each test sends."""
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from conftest import APPS, HttpService, free_port, glimpse, metric_value, parse_prometheus, wait_for

GO_VERSIONS = ("1.19", "1.21", "1.22", "1.23", "1.26", "1.27")
BUILDS = [f"httpsvc-{v}{s}" for v in GO_VERSIONS for s in ("", "-stripped")]
DURATION = "http_server_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"


Service = HttpService


@pytest.fixture
def services(http_services):
    return http_services


@pytest.fixture
def attach(run_glimpse):
    """glimpse attach in the background (conftest's Glimpse), its /metrics on a free port."""
    return lambda pid, *extra: run_glimpse("attach", "-p", str(pid), *extra, prometheus=True)


# Requests every build gets, and what they must show up as.
REQUESTS = [("/fast", 5), ("/users/1", 1), ("/users/22", 1), ("/users/333", 1), ("/status/404", 2),
            ("/status/503", 3), ("/sleep?ms=120", 2), ("/nowrite", 1), ("/call", 2), ("/strip/users/9", 1)]


def expected_series(binary):
    patterns = not binary.startswith(("httpsvc-1.19", "httpsvc-1.21"))
    status_route = "/status/{code}" if patterns else "/status/{id}"
    series = {
        ("/fast", "200"): 5,
        ("/users/{id}", "200"): 3,
        (status_route if patterns else "", "404"): 2,  # no pattern: a 404 matched no route
        (status_route, "503"): 3,
        ("/sleep", "200"): 2,
        ("/nowrite", "200"): 1,
        ("/call", "200"): 2,
    }
    # /strip/users/9 is served as /users/9 (the service rewrites the path in place): the mux's
    # pattern where there is one, else the path as it arrived.
    if patterns:
        series[("/users/{id}", "200")] += 1
    else:
        series[("/strip/users/{id}", "200")] = 1
    return series


@pytest.mark.parametrize("binary", BUILDS)
def test_red_metrics_exact(binary, services, attach, tmp_path):
    peer = services(binary)
    svc = services(binary, "-peer", f"http://{peer.addr}", env={"OTEL_SERVICE_NAME": "checkout"})
    a = attach(svc.pid, "--no-live")
    for path, n in REQUESTS:
        for _ in range(n):
            svc.get(path)
    want = expected_series(binary)
    total = sum(want.values())
    assert wait_for(lambda: a.value(DURATION + "_count") == total), a.scrape_text()
    text = a.scrape_text()
    samples = parse_prometheus(text)
    for (route, status), n in want.items():
        got = metric_value(samples, DURATION + "_count", http_route=route, http_response_status_code=status,
                           http_request_method="GET")
        assert got == n, f"{route} {status}: {got} != {n}\n{text}"
    # 5xx carry error.type; nothing else does.
    assert metric_value(samples, DURATION + "_count", error_type="503") == 3
    assert sum(v for n, l, v in samples if n == DURATION + "_count" and "error_type" in l) == 3
    # 120 ms sleeps land above the 0.1 s bound and at or below 0.25 s.
    assert metric_value(samples, DURATION + "_bucket", http_route="/sleep", le="0.1") == 0
    assert metric_value(samples, DURATION + "_bucket", http_route="/sleep", le="0.25") == 2
    assert metric_value(samples, DURATION + "_bucket", http_route="/fast", le="0.1") == 5
    assert 0.24 <= metric_value(samples, DURATION + "_sum", http_route="/sleep") < 0.5
    # The service's outgoing calls to its peer.
    assert metric_value(samples, CLIENT + "_count", server_address="127.0.0.1", server_port=peer.port,
                        http_response_status_code="200", http_request_method="GET") == 2
    # Resource: OTEL_SERVICE_NAME from the target's environment.
    assert metric_value(samples, "target_info", service_name="checkout", process_pid=svc.pid) == 1
    assert metric_value(samples, "glimpse_events_dropped_total") == 0
    # promtool, the real consumer, accepts the exposition.
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert a.stop() == 0


@pytest.mark.parametrize("binary", ["httpsvc-1.22-stripped", "httpsvc-1.27"])
def test_probe_budget_http(binary, services, attach):
    """The cost the target pays: 2 uprobe hits per request (entry and return of
    serverHandler.ServeHTTP), counted by glimpse itself, as long as no spans are asked for."""
    svc = services(binary)
    a = attach(svc.pid, "--no-live")
    for _ in range(20):
        svc.get("/fast")
    assert wait_for(lambda: a.value(DURATION + "_count") == 20)
    assert wait_for(lambda: a.value("glimpse_probe_hits_total") == 40), a.scrape_text()


@pytest.mark.parametrize("binary", ["httpsvc-1.26", "httpsvc-1.23-stripped"])
def test_probe_budget_when_the_stack_grows_at_a_probed_entry(binary, services, attach):
    """A call whose stack must grow right where a probed function starts runs that function's
    entry twice (Go's morestack re-runs it): the entry probes sit past the stack-bound check, so
    each call still costs 2 hits. /deepcall?depth=N recurses N frames on a new goroutine, then
    calls the peer straight through the Transport (a reverse proxy's path): across 0..200 the
    stack grows at (*Transport).roundTrip's start for some depths (22 extra hits on Go 1.26 with
    the probes on the entry). Ground truth: the requests sent and the peer's answers."""
    peer = services(binary)
    svc = services(binary, "-peer", f"http://{peer.addr}")
    a = attach(svc.pid, "--no-live")
    depths = range(201)
    for d in depths:
        assert svc.get(f"/deepcall?depth={d}") == 200
    n = len(depths)
    assert wait_for(lambda: a.value(DURATION + "_count") == n and a.value(
        "http_client_request_duration_seconds_count") == n), a.scrape_text()
    assert wait_for(lambda: a.value("glimpse_probe_hits_total") == 4 * n), a.scrape_text()
    assert a.value("http_server_active_requests") == 0


def test_probe_budget_sql(services, attach, tmp_path):
    """2 more hits per SQL call, prepared (*sql.Stmt) or not. Ground truth: /one makes one query,
    /stmt one prepared query and one prepared exec (tests/apps/dbsvc)."""
    svc = services("dbsvc-1.26-stripped", "-db", f"sqlite:{tmp_path}/db.sqlite")
    a = attach(svc.pid, "--no-live")
    for _ in range(5):
        assert svc.get("/one") == 200
        assert svc.get("/stmt") == 200
    assert wait_for(lambda: a.value(DURATION + "_count") == 10)
    assert wait_for(lambda: a.value("db_client_operation_duration_seconds_count") == 15), a.scrape_text()
    assert wait_for(lambda: a.value("glimpse_probe_hits_total") == 5 * (2 + 2) + 5 * (2 + 2 + 2)), a.scrape_text()


@pytest.mark.parametrize("binary, mode", [("httpsvc-1.19-stripped", "http"), ("httpsvc-1.23", "tls"),
                                          ("httpsvc-1.27-stripped", "h2c")])
def test_server_port_tells_listeners_apart(binary, mode, services, attach):
    """A service with two listeners (Caddy has a site, a proxy and an admin one): each series
    carries the local port its requests came in on. Ground truth: the ports the service printed
    and the requests sent to each, over HTTP/1.1 and (TLS, h2c) HTTP/2."""
    svc = services(binary, "-also", "127.0.0.1:0", *({"tls": ["-tls"], "h2c": ["-h2c"]}.get(mode, [])))
    second = svc.proc.stdout.readline().split()[1]
    a = attach(svc.pid, "--no-live")
    scheme = "https" if mode == "tls" else "http"
    h2 = {"tls": "--http2", "h2c": "--http2-prior-knowledge"}.get(mode, "--http1.1")
    sent = {(svc.port, "1.1"): 3, (int(second.rsplit(":", 1)[1]), "1.1"): 2}
    if mode != "http":
        sent[(svc.port, "2")] = 1
        sent[(int(second.rsplit(":", 1)[1]), "2")] = 4
    for (port, version), n in sent.items():
        for _ in range(n):
            flag = "--http1.1" if version == "1.1" else h2
            out = subprocess.run(["curl", "-sk", flag, "-o", "/dev/null", "-w", "%{http_version}",
                                  f"{scheme}://127.0.0.1:{port}/fast"], capture_output=True, text=True, timeout=10)
            assert out.stdout == version
    assert wait_for(lambda: a.value(DURATION + "_count") == sum(sent.values())), a.scrape_text()
    got = {(int(l["server_port"]), l["network_protocol_version"]): v for n, l, v in a.scrape()
           if n == DURATION + "_count"}
    assert got == sent, a.scrape_text()


def test_active_requests_and_route_heuristics(services, attach):
    svc = services("httpsvc-1.21-stripped")
    a = attach(svc.pid, "--no-live")
    slow = threading.Thread(target=svc.get, args=("/sleep?ms=1500",))
    slow.start()
    assert wait_for(lambda: a.value("http_server_active_requests") == 1)
    slow.join()
    assert wait_for(lambda: a.value("http_server_active_requests") == 0)
    # Ids in paths collapse into one route: digits, UUIDs, long hex.
    for path in ("/users/7", "/users/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/users/deadbeef42"):
        svc.get(path)
    assert wait_for(lambda: a.value(DURATION + "_count",
                                         http_route="/users/{id}") == 3)


def test_route_cap_keeps_counts_honest(services, attach):
    svc = services("httpsvc-1.21")
    a = attach(svc.pid, "--no-live", "--max-routes", "3")
    for word in ("alpha", "bravo", "charlie", "delta", "echo"):
        svc.get(f"/users/{word}")  # word segments are kept, so each is a new route
    svc.get("/fast")
    assert wait_for(lambda: a.value(DURATION + "_count") == 6)
    samples = a.scrape()
    routes = {l["http_route"] for n, l, v in samples if n == DURATION + "_count"}
    assert len(routes) == 4 and "/{overflow}" in routes
    assert metric_value(samples, DURATION + "_count", http_route="/{overflow}") == 3


def test_live_view_and_summary(services, attach):
    svc = services("httpsvc-1.23")
    a = attach(svc.pid, "--interval", "0.5")
    for _ in range(4):
        svc.get("/status/500")
    assert wait_for(lambda: "/status/{code}" in a.stdout())
    assert a.stop() == 0
    out = a.stdout()
    assert "summary" in out.lower()
    summary = out[out.lower().rindex("summary"):]
    row = next(l for l in summary.splitlines() if "/status/{code}" in l)
    assert " 4 " in f" {row} " and "100.0%" in row


def test_detach_under_load_fails_no_request(services, run_glimpse):
    svc = services("httpsvc-1.23")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "-d", "2", prometheus=True, ready=None)
    wrk = subprocess.run(["wrk", "-t2", "-c16", "-d4s", f"http://{svc.addr}/fast"], capture_output=True, text=True)
    assert g.wait(timeout=20) == 0, g.stderr()
    assert "Non-2xx" not in wrk.stdout and "Socket errors" not in wrk.stdout, wrk.stdout
    assert svc.get("/fast") == 200


def test_real_prometheus_scrapes_glimpse(services, attach, tmp_path):
    svc = services("httpsvc-1.22-stripped")
    a = attach(svc.pid, "--no-live")
    for _ in range(7):
        svc.get("/users/9")
    prom_port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs: [{{job_name: glimpse, static_configs: [{{targets: ['127.0.0.1:{a.port}']}}]}}]\n")
    prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path}/prometheus.yml",
                             f"--storage.tsdb.path={tmp_path}/data", f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import json
        query = f"http://127.0.0.1:{prom_port}/api/v1/query?query=" + urllib.request.quote(
            f'sum({DURATION}_count{{http_route="/users/{{id}}"}})')

        def answered():
            try:
                with urllib.request.urlopen(query, timeout=2) as r:
                    res = json.load(r)["data"]["result"]
                    return res and float(res[0]["value"][1]) == 7
            except (urllib.error.URLError, ConnectionError, KeyError):
                return False
        assert wait_for(answered, timeout=30, interval=0.5)
    finally:
        prom.terminate()
        prom.wait()


def test_not_go_binary(start_app):
    """Uprobes need Go: asked for them, a C program is refused with the way out; by default it is
    measured at its sockets instead (it has none: an empty summary, exit 0)."""
    app = start_app("cburner")
    r = glimpse("attach", "-p", str(app.pid), "-d", "1", "--capture", "uprobes")
    assert r.returncode == 6
    assert f"process {app.pid} (cburner) is not a Go program" in r.stderr
    assert "--capture auto or socket" in r.stderr
    r = glimpse("attach", "-p", str(app.pid), "-d", "1", "--no-live")
    assert r.returncode == 0, r.stderr
    assert "capture=socket" in r.stderr


def test_missing_pid():
    r = glimpse("attach", "-p", "999999999", "-d", "1")
    assert r.returncode == 3 and "does not exist" in r.stderr


def future_go(tmp_path, build, version="1.26"):
    """A copy of httpsvc-<version><build> whose build info claims Go 1.99, a version glimpse has
    no table row for (the same length, so the binary is otherwise untouched). Installed under
    APPS so HttpService can start it; returns its name."""
    data = open(os.path.join(APPS, f"httpsvc-{version}{build}"), "rb").read()
    assert f"go{version}.".encode() in data
    name = f"httpsvc-future{build}-{os.getpid()}"
    path = os.path.join(APPS, name)
    with open(path, "wb") as f:
        f.write(data.replace(f"go{version}.".encode(), b"go1.99."))
    os.chmod(path, 0o755)
    return name


@pytest.fixture
def future(tmp_path):
    made = []

    def make(build):
        made.append(future_go(tmp_path, build))
        return made[-1]

    yield make
    for name in made:
        os.unlink(os.path.join(APPS, name))


def test_stripped_unknown_go_version(future, services):
    # A stripped binary whose build info claims a Go version glimpse has no table for: one line
    # that names the version and the fix.
    svc = services(future("-stripped"))
    r = glimpse("attach", "-p", str(svc.pid), "-d", "1")
    assert r.returncode == 6
    assert "no DWARF" in r.stderr and "go1.99" in r.stderr and "1.23" in r.stderr
    assert "--emit-offsets" in r.stderr and "--offsets FILE" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_offsets_file_measures_unknown_stripped_version(future, services, attach, tmp_path):
    """The fix the refusal names: offsets emitted from a non-stripped build of the same (unknown)
    Go version make the stripped build measurable, exactly."""
    emitted = glimpse("inspect", "--emit-offsets", os.path.join(APPS, future("")))
    assert emitted.returncode == 0, emitted.stderr
    assert "go go1.99." in emitted.stdout
    offsets = tmp_path / "go1.99.offsets"
    offsets.write_text(emitted.stdout)
    # Emitting from the stripped build itself is refused: it has no DWARF to read.
    stripped = future("-stripped")
    r = glimpse("inspect", "--emit-offsets", os.path.join(APPS, stripped))
    assert r.returncode == 6 and "has no DWARF" in r.stderr and r.stdout == ""
    r = glimpse("inspect", "--offsets", str(offsets), os.path.join(APPS, stripped))
    assert r.returncode == 0 and "offsets:     from offsets file" in r.stdout, r.stdout + r.stderr
    svc = services(stripped)
    a = attach(svc.pid, "--no-live", "--offsets", str(offsets))
    for path, n in (("/users/4", 3), ("/status/503", 2), ("/strip/fast", 1)):
        for _ in range(n):
            svc.get(path)
    assert wait_for(lambda: a.value(DURATION + "_count") == 6), a.scrape_text()
    samples = a.scrape()
    assert metric_value(samples, DURATION + "_count", http_route="/users/{id}", http_response_status_code="200") == 3
    assert metric_value(samples, DURATION + "_count", http_route="/status/{code}",
                        http_response_status_code="503") == 2
    assert metric_value(samples, DURATION + "_count", http_route="/fast") == 1
    assert a.stop() == 0


@pytest.mark.parametrize("content, why", [
    ("", "no 'go goX.Y' line"),
    ("go go1.99.1\nnet/http.Request.Method 0\n", "is missing"),
    ("go go1.99.1\nnet/http.Request.Method zero\n", "line 2: 'zero' is not an offset"),
    ("go 1.99\n", "line 1: '1.99' is not a Go version"),
    ("go go1.99.1\nnet/http.Request.Nope 8\n", "line 2: unknown field 'net/http.Request.Nope'"),
])
def test_malformed_offsets_file(tmp_path, content, why):
    f = tmp_path / "bad.offsets"
    f.write_text(content)
    r = glimpse("attach", "-p", "1", "-d", "1", "--offsets", str(f))
    assert r.returncode == 2 and why in r.stderr and str(f) in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("binary", ["httpsvc-1.21", "httpsvc-1.27-stripped"])
def test_path_recorded_as_it_arrived(binary, services, run_glimpse, tmp_path):
    """The service rewrites r.URL.Path in place (/strip/X is served as X), as Caddy's
    handle_path and httprouter's redirects do: url.path is what the client sent."""
    svc = services(binary)
    spans = tmp_path / "spans.json"
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture-url-path", "--spans-out", str(spans))
    assert svc.get("/strip/users/5") == 200
    assert svc.get("/users/6") == 200
    assert g.stop() == 0
    got = sorted(json.loads(l)["attributes"]["url.path"] for l in spans.read_text().splitlines())
    assert got == ["/strip/users/5", "/users/6"]


def test_summary_status_classes_and_client_calls(services, run_glimpse):
    """The summary at exit: server requests by status class, and each peer the service called.
    Ground truth: the requests sent (3 /call → 3 client calls to the peer, 3× 503, 1× 404 on a
    route, 1× 404 on no route)."""
    peer = services("httpsvc-1.23")
    svc = services("httpsvc-1.23", "-peer", f"http://{peer.addr}")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
    for _ in range(3):
        assert svc.get("/call") == 200
        assert svc.get("/status/503") == 503
    assert svc.get("/status/404") == 404
    assert svc.get("/no/such/thing") == 404
    assert wait_for(lambda: g.value(DURATION + "_count") == 8)
    assert g.stop() == 0
    out = g.stdout()
    assert "Status classes: 2xx=3 (37.5%) 4xx=2 (25.0%) 5xx=3 (37.5%)" in out, out
    row = re.search(r"^127\.0\.0\.1:(\d+)\s+GET\s+(\d+)\s+([\d.]+)%", out, re.M)
    assert row and int(row.group(1)) == peer.port and row.group(2) == "3" and row.group(3) == "0.0", out


def test_banner_names_the_port_listened_on(services, run_glimpse):
    """--prometheus-addr 127.0.0.1:0 lets the kernel pick the port: the banner must say which,
    or nobody can scrape it. Ground truth: the URL printed answers with this target's metrics
    (the request sent before), and the port is not 0."""
    svc = services("httpsvc-1.26")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--prometheus-addr", "127.0.0.1:0")
    url = re.search(r"metrics=(\S+)", g.stderr()).group(1)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/metrics", url) and not url.endswith(":0/metrics"), url
    assert svc.get("/fast") == 200

    def counted():
        with urllib.request.urlopen(url, timeout=5) as r:
            samples = parse_prometheus(r.read().decode())
        return metric_value(samples, f"{DURATION}_count", http_route="/fast") == 1

    assert wait_for(counted, timeout=10)
