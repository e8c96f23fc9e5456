# SPDX-License-Identifier: Apache-2.0
"""gRPC (google.golang.org/grpc) server and client calls, unary and streaming, from glimpse
attach. Ground truth: tests/apps/grpcsvc's own accounting — the calls its server interceptors
saw end with each code, and the calls it made as a client with each code (its Counts method) —
and the calls the driver made; compared exactly with the Prometheus series, the uprobe hits and
the spans."""
import json
import os
import re
import subprocess

import pytest

from conftest import APPS, GLIMPSE, HttpService, wait_for

SERVICE = "glimpse.test.Echo"
# What the driver sends to the instance under test: unary calls that succeed, server streams
# of 5 messages, calls that return NOT_FOUND, INTERNAL after 50 ms, INVALID_ARGUMENT, and Calls,
# each of which makes 3 client calls to the peer (Echo, Stream, Fail → NOT_FOUND).
PLAN = "Echo:7,Stream:3,Fail/5:4,Fail/13@50:2,Fail/3:1,Call:2"


def semconv_code(go_name):
    """Go's codes.Code.String() ("NotFound") → rpc.response.status_code ("NOT_FOUND")."""
    return "OK" if go_name == "OK" else re.sub(r"(?<!^)(?=[A-Z])", "_", go_name).upper()


def grpcsvc(binary, *args):
    out = subprocess.run([os.path.join(APPS, binary), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def pair():
    """Two instances of one build: the peer, and the instance under test calling it."""
    started = []

    def start(binary, *extra):
        peer = HttpService(binary)
        started.append(peer)
        svc = HttpService(binary, "-peer", peer.addr, *extra)
        started.append(svc)
        return svc, peer

    yield start
    for s in reversed(started):
        s.stop()


def series(samples, name):
    """{(method, status, error_type, server_address, server_port): count} of one histogram."""
    out = {}
    for n, l, v in samples:
        if n == name + "_count":
            key = (l.get("rpc_method"), l.get("rpc_response_status_code"), l.get("error_type", ""),
                   l.get("server_address", ""), l.get("server_port", ""))
            assert l.get("rpc_system_name") == "grpc", l
            out[key] = out.get(key, 0) + int(v)
    return out


# Stripped builds (-ldflags='-s -w') take their offsets from the table of grpc-go versions
# (scripts/gen-grpc-offsets.sh) and must give exactly what the normal builds give.
BUILDS = ["1.22", "1.23", "1.26", "1.27", "1.22-stripped", "1.23-stripped", "1.26-stripped", "1.27-stripped"]


@pytest.mark.parametrize("go", BUILDS)
def test_grpc_exact_counts_codes_and_probe_budget(go, pair, run_glimpse):
    exact_counts_codes_and_probe_budget(f"grpcsvc-{go}", pair, run_glimpse)


def exact_counts_codes_and_probe_budget(binary, pair, run_glimpse, *attach_args):
    """The driver's plan against binary (a name in APPS or a path): each method and code counted
    exactly, as the service's own accounting says, at the stated probe budget."""
    svc, peer = pair(binary)
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", *attach_args, prometheus=True)
    assert "gRPC server and client measured" in g.stderr(), g.stderr()
    driven = grpcsvc(binary, "-drive", svc.addr, "-plan", PLAN)
    counts = grpcsvc(binary, "-counts", svc.addr)
    served, called = counts["served"], counts["called"]
    assert served == driven, (served, driven)  # the service saw what the driver got

    # Server: every method and code it served (the Counts call included, which its own
    # accounting leaves out); error.type only on the codes that are the server's failure.
    want_server = {}
    for key, n in served.items():
        method, code = key.split()
        code = semconv_code(code)
        error = code if code in ("UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL",
                                 "UNAVAILABLE", "DATA_LOSS") else ""
        want_server[(f"{SERVICE}/{method}", code, error, "", str(svc.port))] = n
    want_server[(f"{SERVICE}/Counts", "OK", "", "", str(svc.port))] = 1
    # Client: the calls its Call handler made to the peer, every non-OK code an error.
    want_client = {}
    for key, n in called.items():
        method, code = key.split()
        code = semconv_code(code)
        want_client[(f"{SERVICE}/{method}", code, "" if code == "OK" else code, "127.0.0.1",
                     str(peer.port))] = n
    assert want_server[(f"{SERVICE}/Fail", "INTERNAL", "INTERNAL", "", str(svc.port))] == 2
    assert want_client[(f"{SERVICE}/Stream", "OK", "", "127.0.0.1", str(peer.port))] == 2

    # Probe budget: 2 uprobe hits per server call; 3 per client call, and a 4th for a
    # streaming one (grpc's context watcher calls finish again after the stream ends).
    server_calls = sum(want_server.values())
    client_streams = sum(n for k, n in want_client.items() if k[0].endswith("/Stream"))
    client_calls = sum(want_client.values())
    budget = 2 * server_calls + 3 * client_calls + client_streams

    def settled():
        s = g.scrape() or []
        return (series(s, "rpc_server_call_duration_seconds") == want_server and
                series(s, "rpc_client_call_duration_seconds") == want_client and
                sum(v for n, l, v in s if n == "glimpse_probe_hits_total") == budget)
    if not wait_for(settled, timeout=10):
        s = g.scrape()
        pytest.fail(f"server {series(s, 'rpc_server_call_duration_seconds')} want {want_server}; client "
                    f"{series(s, 'rpc_client_call_duration_seconds')} want {want_client}; hits "
                    f"{g.value('glimpse_probe_hits_total')} want {budget}")

    # Durations: the two INTERNAL calls slept 50 ms each, the server's own clock.
    s = g.scrape()
    internal = [v for n, l, v in s if n == "rpc_server_call_duration_seconds_sum" and
                l.get("rpc_response_status_code") == "INTERNAL"]
    assert len(internal) == 1 and 0.1 <= internal[0] < 0.5, internal
    assert g.stop() == 0, g.stderr()
    # The summary's gRPC tables: the same counts, served then made.
    out = g.stdout()
    assert "gRPC calls served:" in out and "gRPC calls made:" in out, out
    for (method, code, error, _, _), n in list(want_server.items()) + list(want_client.items()):
        assert re.search(rf"^{re.escape(method)} +{code} +{n} +\S+{'  error' if error else ''}$", out, re.M), out


@pytest.mark.parametrize("go", ["1.26", "1.27-stripped"])
def test_grpc_spans(go, pair, tmp_path, run_glimpse):
    """Server spans per call, named by rpc.method, server.address the host of the :authority
    the client sent (here a name the driver sets, not the address it dialled); a Call's 3
    client calls are its children in its trace; span status follows the server and client
    rules (NOT_FOUND is an error only for the client). Reading the metadata for spans costs
    no hit: 2 per server call, 3 per client call (+1 per stream), and with traces the
    goroutine starts (runtime.newproc1: grpc-go's per-stream handler goroutines, context
    watchers and the connections' goroutines), 15 here for grpc-go 1.85 as before server.address
    was read. Stripped builds give the same spans."""
    svc, peer = pair(f"grpcsvc-{go}")
    path = tmp_path / "spans.jsonl"
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--spans-out", str(path), prometheus=True)
    grpcsvc(f"grpcsvc-{go}", "-drive", svc.addr, "-plan", "Call:2,Fail/13:1,Fail/5:1,Stream:1",
            "-authority", "echo.internal.test:8443")
    budget = 2 * 5 + 3 * 6 + 2 + 15
    assert wait_for(lambda: g.value("glimpse_probe_hits_total") == budget, timeout=10), \
        (g.value("glimpse_probe_hits_total"), budget)
    assert g.stop() == 0, g.stderr()
    spans = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    servers = [s for s in spans if s["kind"] == "server"]
    assert sorted(s["name"] for s in servers) == sorted(
        [f"{SERVICE}/Call"] * 2 + [f"{SERVICE}/Fail"] * 2 + [f"{SERVICE}/Stream"]), spans
    for s in servers:
        a = s["attributes"]
        assert a["rpc.system.name"] == "grpc" and a["rpc.method"] == s["name"] and a["server.port"] == svc.port
        assert a["server.address"] == "echo.internal.test", a
        assert "parent_span_id" not in s or not s["parent_span_id"], s
        internal = a["rpc.response.status_code"] == "INTERNAL"
        assert (s["status"] == "error") == internal and (a.get("error.type") == "INTERNAL") == internal, s
    for root in (s for s in servers if s["name"] == f"{SERVICE}/Call"):
        children = [c for c in spans if c.get("parent_span_id") == root["span_id"]]
        assert all(c["trace_id"] == root["trace_id"] and c["kind"] == "client" for c in children), children
        assert sorted((c["name"], c["attributes"]["rpc.response.status_code"], c["status"]) for c in children) == [
            (f"{SERVICE}/Echo", "OK", "unset"), (f"{SERVICE}/Fail", "NOT_FOUND", "error"),
            (f"{SERVICE}/Stream", "OK", "unset")], children
        for c in children:
            assert c["attributes"]["server.address"] == "127.0.0.1"
            assert c["attributes"]["server.port"] == peer.port
            assert root["start_unix_ns"] <= c["start_unix_ns"] <= c["end_unix_ns"] <= root["end_unix_ns"]
    assert len(spans) == len(servers) + 2 * 3, spans


@pytest.mark.parametrize("go", ["1.22", "1.23", "1.26", "1.27"])
def test_grpc_stripped_finds_what_dwarf_gives(go):
    """A stripped build's offsets come from the table row of its grpc-go version (the build
    info's; Debian's GOPATH build: grpc.Version in its user agent), io.EOF and the metadata
    types from the code that uses them: the same values the normal build's DWARF and symbols
    give (io.EOF's address moves with the data the stripping removes: checked in the file)."""
    def grpc_lines(binary):
        out = subprocess.run([GLIMPSE, "inspect", os.path.join(APPS, binary)], capture_output=True, text=True,
                             timeout=30).stdout
        offsets = re.search(r"^  grpc offsets: (.*) \(from (.*)\)$", out, re.M)
        types = re.search(r"^  io.EOF (0x[0-9a-f]+); metadata types at (.*)$", out, re.M)
        assert offsets and types, out
        return offsets.group(1), offsets.group(2), int(types.group(1), 16), types.group(2)
    normal, stripped = grpc_lines(f"grpcsvc-{go}"), grpc_lines(f"grpcsvc-{go}-stripped")
    version = {"1.22": "v1.70.0", "1.23": "v1.33.3"}.get(go, "v1.85.0")
    assert normal[1] == "DWARF" and stripped[1] == f"table: google.golang.org/grpc {version}", (normal, stripped)
    assert stripped[0] == normal[0] and stripped[3] == normal[3] and "+0x0 " not in stripped[3], (normal, stripped)
    assert stripped[2] != 0


def test_grpc_stripped_version_not_in_table_is_refused_in_one_line(pair, tmp_path):
    """A stripped build of a grpc-go version the table lacks (here the build info says
    v1.85.9): never guessed, refused in one line naming the version and the fix, at attach
    (which still measures what it can: the service's net/http client) and in inspect."""
    data = open(os.path.join(APPS, "grpcsvc-1.27-stripped"), "rb").read()
    dep = b"\tgoogle.golang.org/grpc\tv1.85.0\t"
    assert data.count(dep) >= 1  # the build info, and runtime/debug's copy of it
    binary = tmp_path / "grpcsvc-1.27-stripped"
    binary.write_bytes(data.replace(dep, dep.replace(b"v1.85.0", b"v1.85.9")))
    binary.chmod(0o755)
    why = ("gRPC server and client not measured: the binary has no DWARF (built with -ldflags=-w) and "
           "google.golang.org/grpc v1.85.9 is neither in an offsets file nor in glimpse's table of gRPC "
           "offsets (it knows ")
    fix = ("): build it without -w, or pass attach --offsets a file from 'glimpse inspect --emit-offsets' on "
           "a build of that version with DWARF, or add that version with scripts/gen-grpc-offsets.sh")
    r = subprocess.run([GLIMPSE, "inspect", str(binary)], capture_output=True, text=True, timeout=30)
    line = next((l for l in r.stdout.splitlines() if l.startswith("grpc:")), "")
    assert r.returncode == 0 and line.startswith(f"grpc:        {why}") and line.endswith(fix), r.stdout
    assert "v1.85.0" in line and "v1.33.3 (Debian)" in line, line
    peer = HttpService("grpcsvc-1.27")
    svc = subprocess.Popen([str(binary), "-peer", peer.addr], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    try:
        pid = svc.stdout.readline().split()[1]
        r = subprocess.run([GLIMPSE, "attach", "-p", pid, "--no-live", "-d", "1", "--no-prometheus"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and r.stderr.count(why) == 1, r.stderr
    finally:
        svc.kill()
        svc.wait()
        peer.stop()


def spoof_grpc_version(tmp_path, build, version):
    """A copy of an APPS build whose build info says grpc-go is version (no table row)."""
    data = open(os.path.join(APPS, build), "rb").read()
    dep = b"\tgoogle.golang.org/grpc\tv1.85.0\t"
    assert data.count(dep) >= 1
    binary = tmp_path / build
    binary.write_bytes(data.replace(dep, dep.replace(b"v1.85.0", version.encode())))
    binary.chmod(0o755)
    return str(binary)


def grpc_offsets_line(*args):
    r = subprocess.run([GLIMPSE, "inspect", *args], capture_output=True, text=True, timeout=30)
    m = re.search(r"^  grpc offsets: (.*) \(from (.*)\)$", r.stdout, re.M)
    assert r.returncode == 0 and m, r.stdout + r.stderr
    return m.group(1), m.group(2)


def test_grpc_offsets_file_for_a_version_not_in_table(pair, run_glimpse, tmp_path):
    """The fix the refusal names: a stripped build of a grpc-go version glimpse's table lacks
    (build info spoofed to v1.85.9 in both builds) is measured from the offsets file that
    `inspect --emit-offsets` wrote from the normal build: the same offsets the table gives the
    real v1.85.0, and exactly the counts, codes and probe budget of the table path."""
    normal = spoof_grpc_version(tmp_path, "grpcsvc-1.26", "v1.85.9")
    stripped = spoof_grpc_version(tmp_path, "grpcsvc-1.26-stripped", "v1.85.9")
    emitted = subprocess.run([GLIMPSE, "inspect", "--emit-offsets", normal], capture_output=True, text=True,
                             timeout=60)
    assert emitted.returncode == 0, emitted.stderr
    assert "\ngrpc v1.85.9\ngrpc.stream_method " in emitted.stdout and "\nxnet " not in emitted.stdout
    offsets = tmp_path / "grpc.offsets"
    offsets.write_text(emitted.stdout)
    table = grpc_offsets_line(os.path.join(APPS, "grpcsvc-1.26-stripped"))
    assert table[1] == "table: google.golang.org/grpc v1.85.0", table
    from_file = grpc_offsets_line("--offsets", str(offsets), stripped)
    assert from_file == (table[0], "offsets file: google.golang.org/grpc v1.85.9"), (from_file, table)
    # Without the file: refused (test_grpc_stripped_version_not_in_table_is_refused_in_one_line).
    r = subprocess.run([GLIMPSE, "inspect", stripped], capture_output=True, text=True, timeout=30)
    assert "v1.85.9 is neither in an offsets file nor" in r.stdout, r.stdout
    exact_counts_codes_and_probe_budget(stripped, pair, run_glimpse, "--offsets", str(offsets))


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize("go", BUILDS)
def test_grpc_traceparent_metadata_is_joined(go, pair, tmp_path, run_glimpse):
    """An incoming traceparent in the call's metadata: the server span joins that trace under
    the caller's span, and the client calls it makes stay in it. A call without one, or with an
    invalid one (all-zero trace id, which W3C says to ignore), starts a new trace. The same
    metadata's :authority gives every server span its server.address."""
    binary = f"grpcsvc-{go}"
    svc, _ = pair(binary)
    path = tmp_path / "spans.jsonl"
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--no-prometheus", "--spans-out", str(path))
    grpcsvc(binary, "-drive", svc.addr, "-plan", "Echo:2,Call:1", "-traceparent", TRACEPARENT)
    grpcsvc(binary, "-drive", svc.addr, "-plan", "Echo:1")
    grpcsvc(binary, "-drive", svc.addr, "-plan", "Echo:1", "-traceparent",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01")
    assert g.stop() == 0, g.stderr()
    spans = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    joined = [s for s in spans if s["trace_id"] == "0af7651916cd43dd8448eb211c80319c"]
    servers = [s for s in joined if s["kind"] == "server"]
    assert sorted(s["name"] for s in servers) == [f"{SERVICE}/Call", f"{SERVICE}/Echo", f"{SERVICE}/Echo"], spans
    assert all(s["parent_span_id"] == "b7ad6b7169203331" for s in servers), servers
    call = next(s for s in servers if s["name"].endswith("/Call"))
    assert sorted(s["name"] for s in joined if s.get("parent_span_id") == call["span_id"]) == [
        f"{SERVICE}/Echo", f"{SERVICE}/Fail", f"{SERVICE}/Stream"], joined
    others = [s for s in spans if s not in joined]
    assert len(others) == 2 and all(s["kind"] == "server" and not s.get("parent_span_id") for s in others), others
    assert len({s["trace_id"] for s in others}) == 2, others
    assert all(s["attributes"]["server.address"] == "127.0.0.1" for s in servers + others), spans


def test_grpc_under_the_agent(tmp_path):
    """The agent's shared per-binary tracer (processes selected by pid in BPF, types set per
    process): a discovered gRPC service's calls, exactly, under its own pid's series."""
    from conftest import free_port, scrape
    from test_agent import Agent, config
    port = free_port()
    binary = tmp_path / "agtgrpc-1.26"
    binary.write_bytes(open(os.path.join(APPS, "grpcsvc-1.26"), "rb").read())
    binary.chmod(0o755)
    agent = Agent(tmp_path, config(tmp_path, port, """  - name: grpc
    match:
      process_name: "agtgrpc*"
    signals:
      http_metrics: true
      traces: false
      runtime: false
      cpu_profile: false
"""))
    peer = HttpService("grpcsvc-1.26")
    svc = subprocess.Popen([str(binary), "-peer", peer.addr], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    try:
        _, pid, addr = svc.stdout.readline().split()

        def traced():
            return any(l.get("process_pid") == pid for n, l, v in scrape(port) if n == "target_info")
        assert wait_for(traced, timeout=20), agent.stderr()
        assert wait_for(lambda: "gRPC server and client measured" in agent.stderr(), timeout=10), agent.stderr()
        grpcsvc("grpcsvc-1.26", "-drive", addr, "-plan", "Echo:3,Fail/13:2,Call:1")
        want_server = {(f"{SERVICE}/Echo", "OK"): 3, (f"{SERVICE}/Fail", "INTERNAL"): 2, (f"{SERVICE}/Call", "OK"): 1}
        want_client = {(f"{SERVICE}/Echo", "OK"): 1, (f"{SERVICE}/Stream", "OK"): 1,
                       (f"{SERVICE}/Fail", "NOT_FOUND"): 1}

        def got(name):
            return {(l["rpc_method"], l["rpc_response_status_code"]): int(v) for n, l, v in scrape(port)
                    if n == name and l.get("instance", "").endswith(f":{pid}")}
        assert wait_for(lambda: got("rpc_server_call_duration_seconds_count") == want_server and
                        got("rpc_client_call_duration_seconds_count") == want_client, timeout=10), \
            (got("rpc_server_call_duration_seconds_count"), got("rpc_client_call_duration_seconds_count"))
    finally:
        svc.kill()
        svc.wait()
        peer.stop()
        assert agent.stop() == 0


def test_grpc_over_otlp(pair, tmp_path, run_glimpse):
    """The same calls reach an OTLP collector (the test receiver decodes with the generated
    protobuf code): the RPC histograms with typed attributes, and the spans."""
    from test_otlp_exporter import Receiver
    rx = Receiver(tmp_path / "rx.jsonl")
    try:
        svc, peer = pair("grpcsvc-1.26")
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--no-prometheus", "--otlp-endpoint",
                        f"http://127.0.0.1:{rx.port}", env={"OTEL_METRIC_EXPORT_INTERVAL": "1000"})
        grpcsvc("grpcsvc-1.26", "-drive", svc.addr, "-plan", "Echo:3,Fail/5:2,Call:1")
        assert wait_for(lambda: len(rx.lines("span")) == 9, timeout=15), rx.lines("span")
        assert g.stop() == 0, g.stderr()
        last = {}
        for m in rx.lines("metric"):
            last[(m["name"], tuple(sorted(m["attributes"].items())))] = m
        server = {(dict(a)["rpc.method"], dict(a)["rpc.response.status_code"]): m["count"]
                  for (n, a), m in last.items() if n == "rpc.server.call.duration"}
        assert server == {(f"{SERVICE}/Echo", "OK"): 3, (f"{SERVICE}/Fail", "NOT_FOUND"): 2,
                          (f"{SERVICE}/Call", "OK"): 1}, server
        client = [dict(a) for (n, a), m in last.items() if n == "rpc.client.call.duration"]
        assert len(client) == 3 and all(a["server.port"] == peer.port and a["rpc.system.name"] == "grpc"
                                        for a in client), client
        spans = rx.lines("span")
        assert sorted(s["name"] for s in spans if s["kind"] == 2) == sorted(
            [f"{SERVICE}/Echo"] * 3 + [f"{SERVICE}/Fail"] * 2 + [f"{SERVICE}/Call"])
    finally:
        rx.stop()


@pytest.mark.parametrize("go", ["1.23", "1.26"])
def test_grpc_handler_http_call_is_a_child(go, pair, tmp_path, run_glimpse):
    """A gRPC handler's outgoing HTTP call (net/http's client) is a child of its server span,
    with the HTTP conventions' attributes; the handler's status follows the HTTP answer."""
    web = HttpService("httpsvc-1.26")
    try:
        svc, _ = pair(f"grpcsvc-{go}", "-http", f"http://{web.addr}/fast")
        path = tmp_path / "spans.jsonl"
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--no-prometheus", "--spans-out", str(path))
        assert grpcsvc(f"grpcsvc-{go}", "-drive", svc.addr, "-plan", "CallHTTP:2") == {"CallHTTP OK": 2}
        assert g.stop() == 0, g.stderr()
    finally:
        web.stop()
    spans = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    servers = [s for s in spans if s["kind"] == "server"]
    assert [s["name"] for s in servers] == [f"{SERVICE}/CallHTTP"] * 2, spans
    for root in servers:
        children = [c for c in spans if c.get("parent_span_id") == root["span_id"]]
        assert [(c["name"], c["kind"], c["trace_id"]) for c in children] == [("GET", "client", root["trace_id"])]
        a = children[0]["attributes"]
        assert a["http.response.status_code"] == 200 and a["server.port"] == web.port, a
    assert len(spans) == 4, spans
