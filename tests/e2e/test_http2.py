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

from conftest import APPS, GLIMPSE, HttpService, glimpse, metric_value, wait_for

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


def xnet_exercise(svc):
    """Requests to httpsvc -xnet-h2c (golang.org/x/net/http2/h2c): cleartext HTTP/2 with prior
    knowledge (one connection each), HTTP/1.1 upgraded to h2c (the request becomes stream 1:
    its Proto stays HTTP/1.1), and plain HTTP/1.1. Returns the connections of each kind."""
    base = f"http://{svc.addr}"
    prior = [("/fast", "2 200")] * 4 + [("/status/418", "2 418"), ("/nowrite", "2 200")]
    for path, want in prior:
        assert curl(base + path, "--http2-prior-knowledge") == want
    assert curl(base + "/status/503", "--http2-prior-knowledge", "-H", f"traceparent: {TRACEPARENT}") == "2 503"
    upgraded = [("/fast", "2 200"), ("/status/404", "2 404")]
    for path, want in upgraded:
        assert curl(base + path, "--http2") == want
    plain = [("/fast", "1.1 200")] * 2
    for path, want in plain:
        assert curl(base + path, "--http1.1") == want
    return len(prior) + 1, len(upgraded), len(plain)


def service_counts(svc):
    """The service's own counts, {(route, status, version): n}, plus the /counts request."""
    out = subprocess.run(["curl", "-s", "--http2-prior-knowledge", f"http://{svc.addr}/counts"], capture_output=True,
                         text=True, timeout=10)
    want = {("/counts", "200", "2"): 1}
    for key, n in json.loads(out.stdout).items():
        proto, path, status = key.split()
        route = "/status/{code}" if path.startswith("/status/") else path
        k = (route, status, "2" if proto == "HTTP/2.0" else "1.1")
        want[k] = want.get(k, 0) + n
    return want


@pytest.mark.parametrize("binary", ["httpsvc-xnet-1.22", "httpsvc-xnet-1.22-stripped", "httpsvc-xnet-1.23",
                                    "httpsvc-xnet-1.23-stripped", "httpsvc-xnet-1.26", "httpsvc-xnet-1.26-stripped",
                                    "httpsvc-xnet-1.27", "httpsvc-xnet-1.27-stripped"])
def test_xnet_h2c_measured_like_http1(binary, run_glimpse):
    """golang.org/x/net/http2 used directly (h2c.NewHandler → http2.Server.ServeConn) bypasses
    net/http's server: its probes give the same series, exactly the service's own counts; the
    HTTP/1 sides h2c takes over (the "PRI *" preface, the Upgrade request) are not counted as
    requests. 2 uprobe hits per request; per connection h2c takes over, the 2 of its HTTP/1 side,
    and from Go 1.27 a 3rd (x/net's serveConn, which names the upgraded request). Up to Go 1.26
    x/net's own server is probed; from Go 1.27, where x/net/http2 wraps net/http's internal
    server, net/http's http2Handler where it calls the handler. Stripped, the offsets come from
    the table rows of the build's x/net version and Go release (and Go's own table)."""
    xnet_measured_like_http1(binary, run_glimpse)


def xnet_measured_like_http1(binary, run_glimpse, *attach_args):
    svc = HttpService(binary, "-xnet-h2c")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", *attach_args, prometheus=True)
        prior, upgraded, plain = xnet_exercise(svc)
        want = service_counts(svc)
        prior += 1  # the /counts request
        requests = sum(want.values())
        assert requests == prior + upgraded + plain
        want = {(r, s, v, str(svc.port)): n for (r, s, v), n in want.items()}

        def got():
            return {(l["http_route"], l["http_response_status_code"], l["network_protocol_version"],
                     l.get("server_port")): v for n, l, v in g.scrape() if n == DURATION + "_count"}
        per_conn = 3 if "-1.27" in binary else 2
        hits = 2 * requests + per_conn * (prior + upgraded)
        assert wait_for(lambda: got() == want and g.value("glimpse_probe_hits_total") == hits), \
            (got(), want, g.value("glimpse_probe_hits_total"), hits)
        samples = g.scrape()
        assert metric_value(samples, "glimpse_requests_unmeasured_total") == 0
        assert metric_value(samples, "http_server_active_requests") == 0
        assert g.stop() == 0
        assert "not measured" not in g.stderr(), g.stderr()
    finally:
        svc.stop()


@pytest.mark.parametrize("binary", ["httpsvc-xnet-1.22-stripped", "httpsvc-xnet-1.26", "httpsvc-xnet-1.27-stripped"])
def test_xnet_h2c_spans_and_traceparent(binary, run_glimpse, tmp_path):
    """One span per request x/net/http2 served, the incoming traceparent joined."""
    svc = HttpService(binary, "-xnet-h2c")
    spans = tmp_path / "spans.jsonl"
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--no-prometheus", "--spans-out", str(spans))
        requests = sum(xnet_exercise(svc))
        assert g.stop() == 0
    finally:
        svc.stop()
    servers = [json.loads(l) for l in spans.read_text().splitlines()]
    assert len(servers) == requests and all(s["kind"] == "server" for s in servers), servers
    assert all(s["attributes"].get("server.address") == "127.0.0.1" for s in servers), servers
    joined = [s for s in servers if s.get("parent_span_id") == "b7ad6b7169203331"]
    assert len(joined) == 1 and joined[0]["trace_id"] == TRACEPARENT[3:35], servers
    assert joined[0]["attributes"]["http.response.status_code"] == 503 and joined[0]["status"] == "error"
    assert joined[0]["attributes"]["network.protocol.version"] == "2"


def test_xnet_offsets_file_for_a_version_not_in_table(run_glimpse, tmp_path):
    """A stripped build of an x/net version glimpse's table lacks (build info spoofed to v9.60.0
    in both builds) is measured from the offsets file `inspect --emit-offsets` wrote from the
    normal build: the table's offsets for the real v0.60.0, and the same exact series."""
    dep = b"\tgolang.org/x/net\tv0.60.0\t"
    builds = {}
    for build in ("httpsvc-xnet-1.26", "httpsvc-xnet-1.26-stripped"):
        data = open(os.path.join(APPS, build), "rb").read()
        assert data.count(dep) >= 1
        builds[build] = tmp_path / build
        builds[build].write_bytes(data.replace(dep, dep.replace(b"v0.60.0", b"v9.60.0")))
        builds[build].chmod(0o755)
    emitted = subprocess.run([GLIMPSE, "inspect", "--emit-offsets", str(builds["httpsvc-xnet-1.26"])],
                             capture_output=True, text=True, timeout=60)
    assert emitted.returncode == 0 and "\nxnet v9.60.0\nxnet.writer_rws " in emitted.stdout, emitted.stderr
    offsets = tmp_path / "xnet.offsets"
    offsets.write_text(emitted.stdout)

    def xnet_line(*args):
        out = subprocess.run([GLIMPSE, "inspect", *args], capture_output=True, text=True, timeout=30).stdout
        return next((l for l in out.splitlines() if l.startswith("  x/net offsets:")), out)
    table = xnet_line(os.path.join(APPS, "httpsvc-xnet-1.26-stripped"))
    stripped = str(builds["httpsvc-xnet-1.26-stripped"])
    assert table.endswith("(from table: golang.org/x/net v0.60.0, Go 1.26)"), table
    assert xnet_line("--offsets", str(offsets), stripped) == table.replace(
        "table: golang.org/x/net v0.60.0", "offsets file: golang.org/x/net v9.60.0")
    assert xnet_line(stripped).endswith("writer_rws=-1 state_status=-1 state_conn=-1 serverconn_conn=-1 "
                                        "bufconn_conn=-1 opts_upgrade=-1 (from -)")  # without the file
    xnet_measured_like_http1(stripped, run_glimpse, "--offsets", str(offsets))


def test_xnet_h2c_requests_leave_no_note_behind(run_glimpse):
    """h2c's upgrade requests are noted so that their HTTP/1 twin is not counted; a note of any
    other request x/net serves would outlive it, and an HTTP/1.1 request later allocated at its
    address (the garbage collector frees and reuses them) would be dropped. 3000 prior-knowledge
    requests, then 3000 HTTP/1.1 ones (each on one connection, httpsvc -drive): every one
    counted, as the service counted them."""
    n = 3000
    svc = HttpService("httpsvc-xnet-1.26-stripped", "-xnet-h2c")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
        for h2c in (True, False):
            subprocess.run([os.path.join(APPS, "httpsvc-1.26"), "-drive", f"http://{svc.addr}/fast", "-n", str(n),
                            *(["-drive-h2c"] if h2c else [])], check=True, timeout=120)
        want = {k: v for k, v in service_counts(svc).items() if k[0] == "/fast"}
        assert want == {("/fast", "200", "2"): n, ("/fast", "200", "1.1"): n}, want

        def got():
            return {(l["http_route"], l["http_response_status_code"], l["network_protocol_version"]): v
                    for n_, l, v in g.scrape() if n_ == DURATION + "_count" and l["http_route"] == "/fast"}
        assert wait_for(lambda: got() == want), (got(), want)
        assert g.stop() == 0
    finally:
        svc.stop()


def xnet_tls_measured_once(svc, g, h2_hits):
    """HTTPS requests to svc (HTTP/2 by ALPN, and one HTTP/1.1): each measured once, exactly
    the service's own counts, at h2_hits uprobe hits an HTTP/2 request and 2 an HTTP/1.1 one."""
    base = f"https://{svc.addr}"
    for path, want in [("/fast", "2 200")] * 3 + [("/status/418", "2 418")]:
        assert curl(base + path, "--http2") == want
    assert curl(base + "/fast", "--http1.1") == "1.1 200"
    out = subprocess.run(["curl", "-sk", "--http2", f"{base}/counts"], capture_output=True, text=True, timeout=10)
    assert json.loads(out.stdout) == {"HTTP/2.0 /fast 200": 3, "HTTP/2.0 /status/418 418": 1,
                                      "HTTP/1.1 /fast 200": 1}, out.stdout
    want = {("/fast", "200", "2"): 3, ("/status/{code}", "418", "2"): 1, ("/fast", "200", "1.1"): 1,
            ("/counts", "200", "2"): 1}
    want = {k + (str(svc.port),): n for k, n in want.items()}

    def got():
        return {(l["http_route"], l["http_response_status_code"], l["network_protocol_version"],
                 l.get("server_port")): v for n, l, v in g.scrape() if n == DURATION + "_count"}
    hits = h2_hits * 5 + 2 * 1
    assert wait_for(lambda: got() == want and g.value("glimpse_probe_hits_total") == hits), \
        (got(), want, g.value("glimpse_probe_hits_total"), hits)
    samples = g.scrape()
    assert metric_value(samples, "http_server_active_requests") == 0
    assert metric_value(samples, "glimpse_requests_unmeasured_total") == 0


@pytest.mark.parametrize("binary", ["httpsvc-xnet-1.22", "httpsvc-xnet-1.23-stripped", "httpsvc-xnet-1.26-stripped",
                                    "httpsvc-xnet-1.27"])
def test_xnet_over_tls_measured_once(binary, run_glimpse):
    """golang.org/x/net/http2 serving HTTPS itself (http2.ConfigureServer: ALPN's h2
    connections go to x/net's Server, whose handler is then net/http's serverHandler): each
    request once, exactly the service's own counts, at 4 uprobe hits an HTTP/2 request. Up to
    Go 1.26 x/net's runHandler and handlerDone measure it, serverHandler's probes (which see
    x/net's writer there) leave it to them; from Go 1.27 x/net wraps net/http's server, whose
    own HTTP/2 passes http2Handler's call (2 hits) and serverHandler (2, which measure it)."""
    svc = HttpService(binary, "-xnet-h2c", "-xnet-tls", "-tls")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
        xnet_tls_measured_once(svc, g, 4)
        assert g.stop() == 0
        assert "not measured" not in g.stderr(), g.stderr()
    finally:
        svc.stop()


@pytest.mark.parametrize("binary", ["httpsvc-xnet-1.22-stripped", "httpsvc-xnet-1.27"])
def test_xnet_binary_serving_net_http_own_http2_counts_once(binary, run_glimpse):
    """In a binary that links x/net/http2's server, net/http's own HTTP/2 (TLS, ALPN h2) is
    measured once, exactly the service's own counts. Up to Go 1.26 by serverHandler alone (2
    hits); from Go 1.27 it passes the same http2Handler call as x/net's requests, where the
    code called is serverHandler.ServeHTTP, which measures it: 4 uprobe hits (2 at the call
    and its return, 2 of serverHandler's)."""
    svc = HttpService(binary, "-xnet-h2c", "-tls")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
        xnet_tls_measured_once(svc, g, 4 if "-1.27" in binary else 2)
        assert g.stop() == 0
    finally:
        svc.stop()


def test_xnet_not_in_table_is_named_and_never_miscounted(run_glimpse, tmp_path):
    """A stripped Go 1.27 build whose x/net version the table lacks (its build info patched to
    say v0.60.9): without ServeConnOpts.UpgradeRequest's offset an upgraded request would count
    twice, so x/net's requests are not measured, and the log and inspect say so once, with what
    it means; the prefaces of prior-knowledge connections are still not counted, so the plain
    HTTP/1.1 requests are all there is."""
    data = open(os.path.join(APPS, "httpsvc-xnet-1.27-stripped"), "rb").read()
    dep = b"\tgolang.org/x/net\tv0.60.0\t"
    assert data.count(dep) >= 1
    binary = tmp_path / "httpsvc-xnet-1.27-stripped"
    binary.write_bytes(data.replace(dep, dep.replace(b"v0.60.0", b"v0.60.9")))
    binary.chmod(0o755)
    why = ("HTTP/2 server (golang.org/x/net/http2 used directly; Go 1.27+, where it wraps net/http's internal "
           "server; no DWARF, and its x/net version and Go release are not in glimpse's table: its h2c upgrades "
           "count as HTTP/1.1 requests lasting their connection)")
    r = glimpse("inspect", str(binary))
    assert r.returncode == 0 and f"not measured: {why}\n" in r.stdout, r.stdout
    svc = HttpService(str(binary), "-xnet-h2c")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
        base = f"http://{svc.addr}"
        for path in ["/fast", "/status/418"]:
            curl(base + path, "--http2-prior-knowledge")
        for _ in range(2):
            assert curl(base + "/fast", "--http1.1") == "1.1 200"
        assert wait_for(lambda: g.value(DURATION + "_count") == 2), g.scrape_text()
        got = {(l["http_route"], l["network_protocol_version"]): v for n, l, v in g.scrape()
               if n == DURATION + "_count"}
        assert got == {("/fast", "1.1"): 2}, got
        assert g.stop() == 0
        assert g.stderr().count(why) == 1, g.stderr()
    finally:
        svc.stop()


def test_xnet_over_tls_not_in_table_is_counted_unmeasured(run_glimpse, tmp_path):
    """A stripped Go 1.22 build whose x/net version the table lacks (build info patched to say
    v0.35.9), serving HTTPS through x/net (http2.ConfigureServer): x/net's requests have no
    status glimpse may read, so they are counted in glimpse_requests_unmeasured_total, never as
    series, and the log says so once; the HTTP/1.1 request is measured."""
    data = open(os.path.join(APPS, "httpsvc-xnet-1.22-stripped"), "rb").read()
    dep = b"\tgolang.org/x/net\tv0.35.0\t"
    assert data.count(dep) >= 1
    binary = tmp_path / "httpsvc-xnet-1.22-stripped"
    binary.write_bytes(data.replace(dep, dep.replace(b"v0.35.0", b"v0.35.9")))
    binary.chmod(0o755)
    svc = HttpService(str(binary), "-xnet-h2c", "-xnet-tls", "-tls")
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
        base = f"https://{svc.addr}"
        for path, want in [("/fast", "2 200")] * 2 + [("/status/418", "2 418")]:
            assert curl(base + path, "--http2") == want
        assert curl(base + "/fast", "--http1.1") == "1.1 200"
        assert wait_for(lambda: g.value("glimpse_requests_unmeasured_total") == 3 and
                        g.value(DURATION + "_count") == 1), g.scrape_text()
        got = {(l["http_route"], l["network_protocol_version"]): v for n, l, v in g.scrape()
               if n == DURATION + "_count"}
        assert got == {("/fast", "1.1"): 1}, got
        assert g.stop() == 0
        assert g.stderr().count("HTTP/2 server (golang.org/x/net/http2 used directly; no DWARF") == 1, g.stderr()
        assert g.stderr().count("requests served through golang.org/x/net/http2.(*responseWriter) are not "
                                "measured") == 1, g.stderr()
    finally:
        svc.stop()


def test_server_address_from_host_and_authority(run_glimpse, tmp_path):
    """Server spans carry server.address from the request's Host (HTTP/1.1) or :authority
    (HTTP/2), without its port (server.port stays the listener's); the metrics do not (opt-in
    in the HTTP conventions, and chosen by the client: each value would be a series)."""
    svc = HttpService("httpsvc-1.26", "-tls")
    spans = tmp_path / "spans.jsonl"
    try:
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--spans-out", str(spans), prometheus=True)
        named = f"https://api.example.com:{svc.port}/fast"
        resolve = ["--resolve", f"api.example.com:{svc.port}:127.0.0.1"]
        assert curl(named, "--http1.1", *resolve) == "1.1 200"
        assert curl(named, "--http2", *resolve) == "2 200"
        assert curl(f"https://{svc.addr}/fast", "--http2") == "2 200"
        assert wait_for(lambda: g.value(DURATION + "_count") == 3), g.scrape_text()
        assert not [l for n, l, v in g.scrape() if n == DURATION + "_count" and "server_address" in l]
        assert g.stop() == 0
    finally:
        svc.stop()
    got = sorted((s["attributes"]["network.protocol.version"], s["attributes"].get("server.address"),
                  s["attributes"]["server.port"]) for s in map(json.loads, spans.read_text().splitlines()))
    assert got == [("1.1", "api.example.com", svc.port), ("2", "127.0.0.1", svc.port),
                   ("2", "api.example.com", svc.port)], got
