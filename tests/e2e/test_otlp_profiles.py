# SPDX-License-Identifier: Apache-2.0
"""OTLP profiles (/v1development/profiles) end to end: `glimpse profile --otlp-endpoint` and the
agent's `profiles.otlp`, received by build/tools/otlp_profiles_receiver, which decodes every
request with the official generated messages (strict: unknown fields are reported) and the
OpenTelemetry Collector's decoder, checks the dictionary rules and resolves each stack.

Ground truth: the burners' known call chains and shares (tests/apps/cburner.c,
tests/apps/goburner/main.go), glimpse's own pprof of the same run read by `go tool pprof`
(sample for sample the same data), the ELF build id read by `readelf`, the wall clock around the
run, and a receiver that is absent or never answers."""
import json
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import APPS, GLIMPSE, SRC, free_port, pprof, wait_for

TOOLS = next((d for d in (os.path.join(os.path.dirname(os.path.abspath(GLIMPSE)), "tools"),
                          os.path.join(SRC, "build", "tools")) if os.path.isdir(d)),
             os.path.join(SRC, "build", "tools"))
RECEIVER = os.path.join(TOOLS, "otlp_profiles_receiver")


class Receiver:
    def __init__(self, out, *args):
        self.out = out
        self.proc = subprocess.Popen([RECEIVER, "--out", str(out), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening "), f"receiver did not start: {line!r} {self.proc.stderr.read()}"
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def lines(self, signal=None):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return [r for r in rows if signal is None or r["signal"] == signal]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def receiver(tmp_path):
    started = []

    def start(*args):
        r = Receiver(tmp_path / f"received-{len(started)}.jsonl", *args)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


def start_app(binary, *args):
    p = subprocess.Popen([os.path.join(APPS, binary), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    line = p.stdout.readline()
    assert line.startswith("ready "), line
    return p


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def pprof_counts(path):
    """{function: (flat, cum)} sample counts from `go tool pprof -top` on glimpse's pprof."""
    counts = {}
    for line in pprof("-sample_index=samples", "-top", "-nodecount=100000", "-nodefraction=0", "-edgefraction=0",
                      path).splitlines():
        m = re.match(r"\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.+)$", line)
        if m:
            # pprof marks a function inlined at some of its lines "(inline)"; OTLP names it plainly.
            counts[m.group(3).strip().removesuffix(" (inline)")] = (int(m.group(1)), int(m.group(2)))
    return counts


def otlp_counts(profile):
    """{function: (flat, cum)} from the decoded samples (values of samples/count)."""
    flat, cum = {}, {}
    for s in profile["samples"]:
        n = sum(s["values"])  # one value per timestamp when timestamped
        flat[s["stack"][0]] = flat.get(s["stack"][0], 0) + n
        for fn in set(s["stack"]):
            cum[fn] = cum.get(fn, 0) + n
    return {fn: (flat.get(fn, 0), cum[fn]) for fn in cum}


def by_type(profiles):
    return {p["sample_type"]: p for p in profiles}


BURNERS = {
    # binary: (the three burn functions 50/30/20, the frame calling them)
    "cburner": (("burn_a", "burn_b", "burn_c"), "main"),
    "goburner-1.26": (("main.burnA", "main.burnB", "main.burnC"), "main.worker"),
}


@pytest.mark.parametrize("binary", list(BURNERS))
def test_profile_otlp_matches_pprof(tmp_path, receiver, binary):
    """One run, two outputs: the OTLP profile holds exactly the samples of glimpse's pprof, its
    stacks resolve through the dictionary to the burner's call chain, its resource and mapping
    say which process and binary, and its window is the run's."""
    burns, caller = BURNERS[binary]
    r = receiver()
    app = start_app(binary, "-t", "20")
    pb = tmp_path / "cpu.pb.gz"
    try:
        t0 = time.time_ns()
        out = subprocess.run([GLIMPSE, "profile", "-p", str(app.pid), "-d", "3", "-F", "199", "-o", str(pb),
                              "--top", "0", "--otlp-endpoint", r.url], capture_output=True, text=True,
                             timeout=60, env=clean_env())
        t1 = time.time_ns()
    finally:
        app.kill()
        app.wait()
    assert out.returncode == 0, out.stderr
    assert "sent OTLP profile" in out.stderr, out.stderr
    reqs = r.lines("request")
    assert len(reqs) == 1 and reqs[0]["path"] == "/v1development/profiles", reqs
    assert reqs[0]["content_type"] == "application/x-protobuf"
    profiles = r.lines("profile")
    assert sorted(p["sample_type"] for p in profiles) == ["cpu/nanoseconds", "samples/count"], profiles
    for p in profiles:
        assert p["dict_errors"] is None, p["dict_errors"]
    prof = by_type(profiles)
    count, cpu = prof["samples/count"], prof["cpu/nanoseconds"]

    # Which process: the resource attributes traces carry.
    res = count["resource"]
    exe = os.path.basename(binary)
    assert res["process.pid"] == app.pid
    assert res["process.executable.name"] == exe
    assert res["service.name"] == exe
    assert res["host.name"] == socket.gethostname()
    assert count["scope"] == "glimpse"

    # The same samples as the pprof of the same run, function by function, flat and cumulative.
    assert otlp_counts(count) == pprof_counts(str(pb))
    total = sum(sum(s["values"]) for s in count["samples"])
    assert total > 100  # on a busy machine the burner gets less than its CPU
    # One sample_type per Profile: the CPU time is the count times the period.
    period = 1000000000 // 199  # the period is whole nanoseconds
    assert cpu["period_type"] == "cpu/nanoseconds" and cpu["period"] == period
    assert [s["stack"] for s in cpu["samples"]] == [s["stack"] for s in count["samples"]]
    assert [sum(s["values"]) for s in cpu["samples"]] == [sum(s["values"]) * period for s in count["samples"]]

    # Every sample's timestamps: one per value, the same event at the same index (a sample of
    # one period each), ascending, inside the profile's window — which they span, the burner
    # running throughout.
    times = []
    for p in (count, cpu):
        start, end = p["time_unix_nano"], p["time_unix_nano"] + p["duration_nano"]
        for s in p["samples"]:
            ts = s["timestamps"]
            assert len(ts) == len(s["values"]) and ts == sorted(ts), s
            assert set(s["values"]) == {period if p is cpu else 1}, s["values"]
            assert all(start <= t <= end for t in ts), (ts, start, end)
            times += ts if p is count else []
    assert min(times) - count["time_unix_nano"] < 0.5e9, (min(times), count["time_unix_nano"])
    assert count["time_unix_nano"] + count["duration_nano"] - max(times) < 0.5e9

    # Stacks resolve to the known call chain: each burn function is called by the caller (in Go,
    # the burn functions' loop, main.spin, is inlined into them: a line of the same location).
    shares = {}
    for s in count["samples"]:
        burn = next((i for i, fn in enumerate(s["stack"][:2]) if fn in burns), None)
        if burn is not None:
            assert s["stack"][burn + 1] == caller, s["stack"]
            shares[s["stack"][burn]] = shares.get(s["stack"][burn], 0) + sum(s["values"])
        assert s["attrs"]["process.pid"] == app.pid and s["attrs"]["thread.id"] > 0, s["attrs"]
    burned = sum(shares.values())
    assert burned > 0.8 * total, (shares, total)
    if binary.startswith("goburner"):  # inlined calls: one Location, several Lines, as Go writes it
        assert any(len(lines) >= 2 for s in count["samples"] for lines in s["lines"]), count["samples"][:3]
    # 50/30/20 (test_profile.py holds glimpse to the shares; here they only name the functions).
    assert shares[burns[0]] > shares[burns[2]] > 0, shares

    # The binary's mapping carries its GNU build id under the semantic conventions' name.
    path = os.path.realpath(os.path.join(APPS, binary))
    mine = [m for m in count["mappings"] if m["file"] == path]
    assert len(mine) == 1, count["mappings"]
    assert mine[0]["attrs"] == {"process.executable.build_id.gnu": build_id(path)}

    # The window is the run's.
    assert t0 <= count["time_unix_nano"] <= t1
    assert count["time_unix_nano"] + count["duration_nano"] <= t1
    assert 2.9e9 <= count["duration_nano"] <= 3.5e9


def test_offcpu_profile_otlp(tmp_path, receiver):
    """--off-cpu: the Profile's type is offcpu/nanoseconds, and its values are the pprof's."""
    r = receiver()
    app = start_app("blocker")
    pb = tmp_path / "off.pb.gz"
    try:
        out = subprocess.run([GLIMPSE, "profile", "--off-cpu", "-p", str(app.pid), "-d", "2", "-o", str(pb),
                              "--top", "0", "--otlp-endpoint", r.url], capture_output=True, text=True,
                             timeout=60, env=clean_env())
    finally:
        app.kill()
        app.wait()
    assert out.returncode == 0, out.stderr
    prof = by_type(r.lines("profile"))
    assert sorted(prof) == ["offcpu/nanoseconds", "samples/count"], prof.keys()
    assert prof["offcpu/nanoseconds"]["dict_errors"] is None
    assert otlp_counts(prof["samples/count"]) == pprof_counts(str(pb))
    # Each blocker round sleeps 30 ms (sleep_phase) and waits 20 ms on a pipe (pipe_phase).
    ns = {}
    for s in prof["offcpu/nanoseconds"]["samples"]:
        for phase in ("sleep_phase", "pipe_phase"):
            if phase in s["stack"]:
                ns[phase] = ns.get(phase, 0) + sum(s["values"])
    assert ns.get("sleep_phase", 0) > ns.get("pipe_phase", 0) > 0, ns


def warnings(stderr):
    return [line for line in stderr.splitlines() if "warning" in line.lower() and "OTLP" in line]


@pytest.mark.parametrize("mode", ["down", "hanging", "rejected"])
def test_receiver_down_or_hanging(tmp_path, receiver, mode):
    """No receiver, one that never answers, or one without the profiles signal (404): one
    warning, the pprof written, exit 0, and at most the exporter's 2 s stop deadline added."""
    url = {"down": lambda: f"http://127.0.0.1:{free_port()}",
           "hanging": lambda: receiver("--delay-ms", "60000").url,
           "rejected": lambda: receiver("--status", "404").url}[mode]()
    app = start_app("cburner", "-t", "20")
    pb = tmp_path / "cpu.pb.gz"
    try:
        t0 = time.time()
        out = subprocess.run([GLIMPSE, "profile", "-p", str(app.pid), "-d", "1", "-o", str(pb), "--top", "0",
                              "--otlp-endpoint", url], capture_output=True, text=True, timeout=60, env=clean_env())
        took = time.time() - t0
    finally:
        app.kill()
        app.wait()
    assert out.returncode == 0, out.stderr
    assert pb.stat().st_size > 0
    assert "burn_a" in pprof("-top", str(pb))
    assert len(warnings(out.stderr)) == 1, out.stderr
    assert "sent OTLP profile" not in out.stderr
    assert took < 1 + 2 + 2.5, (took, out.stderr)


def test_agent_profiles_otlp(tmp_path, receiver):
    """profiles.otlp: the agent sends one profile per interval for a selected target, under its
    resource, and none for a process no selector asks to profile."""
    r = receiver()
    burner, other = start_app("cburner"), start_app("cburner")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""log_format: json
prometheus:
  address: "127.0.0.1:{free_port()}"
otlp:
  endpoint: "{r.url}"
profiles:
  interval: 2s
  otlp: true
selectors:
  - name: burners
    match:
      pids: [{burner.pid}]
    signals:
      http_metrics: false
      traces: false
      runtime: false
      cpu_profile: true
      cpu_profile_hz: 49
""")
    errpath = tmp_path / "agent.err"
    with open(errpath, "w") as err:
        agent = subprocess.Popen([GLIMPSE, "agent", "--config", str(cfg)], stdout=subprocess.DEVNULL, stderr=err,
                                 env=clean_env())
    try:
        assert wait_for(lambda: len(r.lines("request")) and
                        any(q["path"] == "/v1development/profiles" for q in r.lines("request")), timeout=20), \
            errpath.read_text()
        t0 = time.time()
        first = len([q for q in r.lines("request") if q["path"] == "/v1development/profiles"])
        time.sleep(7)
        n = len([q for q in r.lines("request") if q["path"] == "/v1development/profiles"]) - first
        took = time.time() - t0
    finally:
        agent.terminate()
        rc = agent.wait(timeout=60)
        burner.kill()
        other.kill()
        burner.wait()
        other.wait()
    assert rc == 0, errpath.read_text()
    # One per 2 s interval: 3 or 4 in 7 s, whatever the phase.
    assert int(took // 2) - 1 <= n <= int(took // 2) + 1, (n, took)
    profiles = [p for p in r.lines("profile") if p["sample_type"] == "samples/count"]
    assert profiles
    for p in profiles:
        assert p["dict_errors"] is None, p["dict_errors"]
        assert p["resource"]["process.pid"] == burner.pid
        assert p["resource"]["service.name"] == "cburner"
        assert p["duration_nano"] <= 2.5e9
    # Whole intervals but the last, which the agent's stop cut short.
    assert sum(1.5e9 <= p["duration_nano"] for p in profiles) >= len(profiles) - 1, profiles
    fns = {s["stack"][0] for p in profiles for s in p["samples"]}
    assert {"burn_a", "burn_b", "burn_c"} <= fns, fns


def test_agent_profiles_otlp_receiver_down(tmp_path):
    """profiles.otlp with nothing listening: the pprof files keep coming every interval, and the
    failures are one warning (the exporter's are limited to one a minute per kind)."""
    burner = start_app("cburner")
    profiles = tmp_path / "profiles"
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""log_format: json
prometheus:
  address: "127.0.0.1:{free_port()}"
otlp:
  endpoint: "http://127.0.0.1:{free_port()}"
profiles:
  directory: {profiles}
  interval: 2s
  otlp: true
selectors:
  - name: burners
    match:
      pids: [{burner.pid}]
    signals: {{http_metrics: false, traces: false, runtime: false, cpu_profile: true, cpu_profile_hz: 49}}
""")
    errpath = tmp_path / "agent.err"
    with open(errpath, "w") as err:
        agent = subprocess.Popen([GLIMPSE, "agent", "--config", str(cfg)], stdout=subprocess.DEVNULL, stderr=err,
                                 env=clean_env())
    try:
        assert wait_for(lambda: len(list(profiles.glob("cpu-*.pb.gz"))) >= 3, timeout=20), errpath.read_text()
    finally:
        agent.terminate()
        rc = agent.wait(timeout=60)
        burner.kill()
        burner.wait()
    assert rc == 0, errpath.read_text()
    for f in profiles.glob("cpu-*.pb.gz"):
        assert "burn_a" in pprof("-top", str(f)) or f == max(profiles.glob("cpu-*.pb.gz"))
    lines = [line for line in errpath.read_text().splitlines() if "/v1development/profiles" in line]
    assert len(lines) == 1, lines


def test_profile_otlp_environment(tmp_path, receiver):
    """The SDK variables configure it: OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT (a full URL) beats
    OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_COMPRESSION=gzip compresses,
    OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES name the resource; a bad URL is a usage error."""
    r = receiver()
    app = start_app("cburner", "-t", "20")
    env = dict(clean_env(), OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
               OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT=f"{r.url}/v1development/profiles",
               OTEL_EXPORTER_OTLP_COMPRESSION="gzip", OTEL_SERVICE_NAME="burner-svc",
               OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=test")
    try:
        out = subprocess.run([GLIMPSE, "profile", "-p", str(app.pid), "-d", "1", "--top", "0"],
                             capture_output=True, text=True, timeout=60, env=env)
        bad = subprocess.run([GLIMPSE, "profile", "-p", str(app.pid), "-d", "1", "--otlp-endpoint", "nohost"],
                             capture_output=True, text=True, timeout=60, env=clean_env())
    finally:
        app.kill()
        app.wait()
    assert out.returncode == 0, out.stderr
    reqs = r.lines("request")
    assert [q["encoding"] for q in reqs] == ["gzip"], reqs
    res = r.lines("profile")[0]["resource"]
    assert res["service.name"] == "burner-svc" and res["deployment.environment.name"] == "test", res
    assert bad.returncode == 2, bad.stderr
    assert "--otlp-endpoint" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
