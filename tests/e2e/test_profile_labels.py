# SPDX-License-Identifier: Apache-2.0
"""attach --profile (and profile --by-route): the continuous CPU profile, cut every interval with the programs attached,
its samples labelled with the HTTP request their goroutine served.

Ground truth: the test service's two routes burn two known functions (tests/apps/httpsvc:
/burn/hash in main.burnHash, /burn/sort in main.burnSort) under a mixed concurrent load; the
requests the test sends (uprobe hits per request); the target's own CPU time (/proc/PID/stat)
over the profiled window; the server spans glimpse writes for the same requests (spans file).
Consumers: `go tool pprof` (-tags, -tagfocus, -traces), xmllint, and the OTLP profiles receiver
decoding with the official messages."""
import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import pprof, wait_for
from test_otlp_profiles import Receiver

ROUTES = {"/burn/hash": "main.burnHash", "/burn/sort": "main.burnSort"}
REQUESTS_PER_WORKER = 25
BURN_MS = 30


def drive(svc, workers_per_route=2):
    """Both routes at once, each from its own threads; returns the requests answered 200."""
    ok = []

    def worker(route):
        for _ in range(REQUESTS_PER_WORKER):
            ok.append(svc.get(f"{route}?ms={BURN_MS}") == 200)

    threads = [threading.Thread(target=worker, args=(r,)) for r in ROUTES for _ in range(workers_per_route)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(ok)
    return len(ok)


def cpu_ticks(pid):
    """utime + stime of the process, in clock ticks (the kernel's own accounting)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def traces(files):
    """Every sample of the pprof files: (count, {label: value}, [functions, leaf first])."""
    out = []
    text = pprof("-sample_index=samples", "-traces", *files)
    for block in text.split("-----------+-------------------------------------------------------")[1:]:
        labels, funcs, count = {}, [], 0
        for line in block.splitlines():
            m = re.match(r"\s*([\w.]+):\s+(.*)$", line)
            if m and not funcs:
                labels[m.group(1)] = m.group(2).strip()
                continue
            m = re.match(r"\s+(\d+)\s+(\S.*)$", line)
            if m:
                count = int(m.group(1))
                funcs.append(m.group(2).strip())
            elif line.strip():
                funcs.append(line.strip())
        if funcs:
            out.append((count, labels, funcs))
    return out


def right_and_wrong(samples):
    """Labelled samples whose stack holds a burner: (those in their route's, those in the other's)."""
    right = wrong = 0
    for count, labels, funcs in samples:
        route = labels.get("http.route")
        burners = {r for r, fn in ROUTES.items() if fn in funcs}
        if route in ROUTES and burners:
            if burners == {route}:
                right += count
            else:
                wrong += count
    return right, wrong


# The newest Go, and an older one stripped (struct offsets from glimpse's table, not DWARF).
@pytest.mark.parametrize("binary", ["httpsvc-1.26", "httpsvc-1.22-stripped"])
def test_route_labels_pprof(tmp_path, http_services, run_glimpse, binary):
    svc = http_services(binary)
    out = tmp_path / "profiles"
    before = cpu_ticks(svc.pid)
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--profile", "--profile-interval", "1.5",
                    "--profile-dir", str(out), "--by-route", prometheus=True)
    sent = drive(svc)
    # Labelling reads the state the HTTP probes keep: still 2 uprobe hits per request.
    assert wait_for(lambda: g.value("glimpse_probe_hits_total") == 2 * sent), g.scrape_text()
    assert wait_for(lambda: len(list(out.glob("*.pb.gz"))) >= 2, timeout=10), g.stderr()
    assert g.stop() == 0, g.stderr()
    after = cpu_ticks(svc.pid)
    files = sorted(str(p) for p in out.glob("cpu-*.pb.gz"))
    # One interval after another, with the programs attached all along: no sample lost or
    # counted twice at the cuts — together they hold the target's CPU time of the run.
    samples = traces(files)
    total = sum(c for c, _, _ in samples)
    hz = 99
    cpu_s = (after - before) / os.sysconf("SC_CLK_TCK")
    assert abs(total / hz - cpu_s) <= 0.15 * cpu_s + 0.1, (total, cpu_s, files)
    summary = re.search(r"CPU profile intervals=(\d+) samples=(\d+) labelled=(\d+)", g.stderr())
    assert summary and int(summary.group(2)) == total, g.stderr()

    # Each route's samples are its own function's, never the other's.
    right, wrong = right_and_wrong(samples)
    assert right >= 0.95 * (right + wrong) and right >= 50, (right, wrong)
    for route, fn in ROUTES.items():
        other = next(f for r, f in ROUTES.items() if r != route)
        top = pprof("-top", "-nodecount=200", "-tagfocus", f"http.route={route}", *files)
        assert fn in top, top
        assert other not in top, top
    tags = pprof("-tags", *files)
    for route in ROUTES:
        assert route in tags, tags
    assert re.search(r"http\.request\.method:.*\n\s+[\d.]+\w* \(\s*[\d.]+%\): GET", tags), tags
    # The runtime's own work (GC, scheduler on g0) and idle server goroutines stay unlabelled
    # rather than take a route: every labelled sample is inside a handler.
    for count, labels, funcs in samples:
        if "http.route" in labels:
            assert "net/http.serverHandler.ServeHTTP" in funcs, (labels, funcs)

    # --by-route: one flame graph per route in each interval's SVG, valid XML.
    svgs = sorted(out.glob("cpu-*.svg"))
    assert len(svgs) == len(files)
    subprocess.run(["xmllint", "--noout", str(svgs[0])], check=True)
    text = "".join(p.read_text() for p in svgs)
    for route, fn in ROUTES.items():
        assert f"GET {route}" in text and fn in text


def test_route_labels_otlp(tmp_path, http_services, run_glimpse):
    """The same labels as OTLP sample attributes and a Link to the request's server span."""
    receiver = Receiver(tmp_path / "received.jsonl")
    try:
        svc = http_services("httpsvc-1.26")
        spans = tmp_path / "spans.jsonl"
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--no-prometheus", "--profile",
                        "--profile-interval", "2", "--otlp-endpoint", receiver.url, "--spans-out", str(spans),
                        env={"OTEL_EXPORTER_OTLP_METRICS_INTERVAL": "600000"})
        drive(svc, workers_per_route=1)
        assert g.stop() == 0, g.stderr()
        assert wait_for(lambda: receiver.lines("profile"), timeout=10)
    finally:
        receiver.stop()
    profiles = [p for p in receiver.lines("profile") if p["sample_type"] == "samples/count"]
    assert profiles and all(not p["dict_errors"] for p in profiles), profiles
    server = {}
    for line in spans.read_text().splitlines():
        s = json.loads(line)
        if s.get("kind") == "server":
            server[s["span_id"]] = (s["trace_id"], s["attributes"].get("http.route"))
    right = wrong = linked = 0
    for p in profiles:
        for s in p["samples"]:
            route = s["attrs"].get("http.route")
            if not route:
                continue
            # A route comes with its request's link: the server span of that very route.
            assert s["link_index"] > 0, s
            assert server[s["span_id"]] == (s["trace_id"], route), s
            assert s["attrs"]["http.request.method"] == "GET"
            n, r, w = otlp_sample_verdict(p, s, route)
            linked, right, wrong = linked + n, right + r, wrong + w
    assert linked > 50 and right >= 0.95 * (right + wrong), (linked, right, wrong)


def otlp_sample_verdict(profile, sample, route):
    """An OTLP sample labelled with route: its times (one per value, inside the profile's
    window, as sent over OTLP) checked; (samples, of them under the route whose burner their
    stack holds, of them under the other route's)."""
    values = sum(sample["values"])
    assert len(sample["timestamps"]) == len(sample["values"]), sample
    start, duration = profile["time_unix_nano"], profile["duration_nano"]
    assert all(start <= t <= start + duration for t in sample["timestamps"]), (sample, start, duration)
    burners = {r for r, fn in ROUTES.items() if fn in sample["stack"]}
    if not burners:
        return values, 0, 0
    return (values, values, 0) if burners == {route} else (values, 0, values)


def folded_right_and_wrong(text):
    """Folded stacks by route (root "process;GET /route;..."): samples whose stack holds a burner,
    (under their own route, under the other's)."""
    right = wrong = 0
    for line in text.splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        route = frames[1][len("GET "):] if frames[1].startswith("GET ") else None
        burners = {r for r, fn in ROUTES.items() if any(f.startswith(fn) for f in frames)}
        if route in ROUTES and burners:
            if burners == {route}:
                right += int(count)
            else:
                wrong += int(count)
    return right, wrong


def test_profile_by_route(tmp_path, http_services, run_glimpse):
    """glimpse profile --by-route: the one-shot profile of a Go service with the Go tracer on for
    its duration — labels in the pprof, one tower per route in the flame graph and folded stacks."""
    svc = http_services("httpsvc-1.26")
    pb, svg, folded = tmp_path / "cpu.pb.gz", tmp_path / "cpu.svg", tmp_path / "cpu.folded"
    g = run_glimpse("profile", "-p", str(svc.pid), "--by-route", "-o", str(pb), "--svg", str(svg),
                    "--folded", str(folded), "--top", "0", ready="profiling hz=")
    sent = drive(svc)
    assert g.stop() == 0, g.stderr()
    # Every request seen, at attach's cost: 2 uprobe hits each.
    m = re.search(r"labelled by request requests=(\d+) samples=(\d+) running_at_end=\d+ probe_hits=(\d+)",
                  g.stderr())
    assert m and int(m.group(1)) == sent and int(m.group(3)) == 2 * sent, g.stderr()

    samples = traces([str(pb)])
    right, wrong = right_and_wrong(samples)
    assert right >= 0.95 * (right + wrong) and right >= 50, (right, wrong)
    assert sum(c for c, labels, _ in samples if "http.route" in labels) == int(m.group(2))
    for route, fn in ROUTES.items():
        other = next(f for r, f in ROUTES.items() if r != route)
        top = pprof("-top", "-nodecount=200", "-tagfocus", f"http.route={route}", str(pb))
        assert fn in top, top
        assert other not in top, top

    # The flame graph and the folded stacks: one root per route, each holding its own burner.
    subprocess.run(["xmllint", "--noout", str(svg)], check=True)
    text = svg.read_text()
    assert "glimpse CPU flame graph by route" in text
    for route, fn in ROUTES.items():
        assert f"GET {route}" in text and fn in text
    right, wrong = folded_right_and_wrong(folded.read_text())
    assert right >= 0.95 * (right + wrong) and right >= 50, (right, wrong)


def test_profile_by_route_usage_errors(tmp_path, http_services):
    """profile --by-route where it cannot follow requests: one line, exit 2, nothing written."""
    from conftest import glimpse
    svc = http_services("httpsvc-1.26")
    out = tmp_path / "cpu.pb.gz"
    me = os.getpid()  # python: not a Go program
    cases = [
        (["-p", str(me), "--by-route", "-o", str(out)],
         f"--by-route: process {me} is not a Go program (requests are followed in Go programs only)"),
        (["-p", str(svc.pid), "--by-route", "--off-cpu", "-o", str(out)],
         "--by-route labels CPU samples: it does not apply to --off-cpu"),
        (["-a", "--by-route", "-o", str(out)], "--by-route follows the requests of one process: give one -p PID"),
        (["-p", f"{svc.pid},{me}", "--by-route", "-o", str(out)],
         "--by-route follows the requests of one process: give one -p PID"),
        (["-p", str(svc.pid), "--by-route"], "--by-route: give --svg, --folded, -o or --otlp-endpoint"),
    ]
    for args, message in cases:
        r = glimpse("profile", "-d", "1", *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not out.exists()


def test_agent_labels_otlp(tmp_path, http_services):
    """The agent's CPU profiles carry the same labels when it runs the Go tracer for the target:
    OTLP sample attributes and a Link, each route's samples in its own function."""
    from conftest import GLIMPSE, free_port, scrape
    receiver = Receiver(tmp_path / "received.jsonl")
    svc = http_services("httpsvc-1.26")
    port = free_port()
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""log_format: json
prometheus:
  address: "127.0.0.1:{port}"
otlp:
  endpoint: "{receiver.url}"
profiles:
  interval: 2s
  otlp: true
selectors:
  - name: svc
    match:
      pids: [{svc.pid}]
    signals:
      http_metrics: true
      traces: false
      runtime: false
      cpu_profile: true
      cpu_profile_hz: 99
""")
    errpath = tmp_path / "agent.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_METRICS_INTERVAL"] = "600000"
    with open(errpath, "w") as err:
        agent = subprocess.Popen([GLIMPSE, "agent", "--config", str(cfg)], stdout=subprocess.DEVNULL,
                                 stderr=err, env=env)
    try:
        # The tracer attached, then the profiler (its thread looks for targets every second).
        assert wait_for(lambda: "probes attached" in errpath.read_text() and
                        '"msg":"profiling"' in errpath.read_text().replace(" ", ""), timeout=20), \
            errpath.read_text()
        sent = drive(svc)
        # Labelling reads the state the HTTP probes keep: still 2 uprobe hits per request.
        def hits():
            return sum(v for n, _, v in scrape(port) if n == "glimpse_probe_hits_total")
        assert wait_for(lambda: hits() == 2 * sent), (hits(), sent)
        time.sleep(2.5)  # the interval the last requests ended in is cut and sent
    finally:
        agent.terminate()
        rc = agent.wait(timeout=60)
        receiver.stop()
    assert rc == 0, errpath.read_text()
    profiles = [p for p in receiver.lines("profile") if p["sample_type"] == "samples/count"]
    assert profiles and all(not p["dict_errors"] for p in profiles), profiles
    right = wrong = linked = 0
    spans = {}
    for p in profiles:
        assert p["resource"]["process.pid"] == svc.pid
        for s in p["samples"]:
            route = s["attrs"].get("http.route")
            if not route:
                continue
            assert s["link_index"] > 0 and int(s["span_id"], 16) and int(s["trace_id"], 16), s
            assert s["attrs"]["http.request.method"] == "GET"
            # One request, one route: a span's samples never name two.
            assert spans.setdefault(s["span_id"], route) == route, s
            n, r, w = otlp_sample_verdict(p, s, route)
            linked, right, wrong = linked + n, right + r, wrong + w
    assert linked > 50 and right >= 0.95 * (right + wrong), (linked, right, wrong)
    assert set(spans.values()) == set(ROUTES), spans


def test_profile_usage_errors(tmp_path):
    """Bad --profile settings: one line naming what is wrong, exit 2, nothing left behind."""
    from conftest import glimpse
    cases = [
        (["--profile", "--no-prometheus"], "--profile: the profiles go nowhere"),
        (["--by-route"], "--by-route needs --profile"),
        (["--profile", "--by-route"], "--by-route writes its flame graphs into --profile-dir"),
        (["--profile", "--profile-dir", str(tmp_path / "no" / "such")],
         f"--profile-dir: cannot create {tmp_path}/no/such: {tmp_path}/no is not a writable directory"),
        (["--profile", "--profile-frequency", "0"], "--profile-frequency: '0' is not a whole number from 1 to 1000"),
    ]
    for args, message in cases:
        r = glimpse("attach", "-p", str(os.getpid()), *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    # A directory to make is made only once attached: a failed attach leaves none.
    r = glimpse("attach", "-p", "999999", "--profile", "--profile-dir", str(tmp_path / "made"))
    assert r.returncode == 3 and not (tmp_path / "made").exists(), r.stderr
