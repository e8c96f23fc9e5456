# SPDX-License-Identifier: Apache-2.0
"""glimpse profile --off-cpu against a real process with known blocking, checked with real
consumers (go tool pprof, xmllint). Ground truth: tests/apps/blocker.c — per round, sleep_phase()
30 ms in nanosleep and pipe_phase() 20 ms in a pipe read; run for a fixed number of rounds, it
prints the time it measured around each blocking call."""
import os
import re
import subprocess

import pytest

from conftest import APPS, glimpse, pprof

TOLERANCE = 0.10
SLEEP_MS, PIPE_MS = 30, 20
UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "": 1e-9}


def offcpu_cum_seconds(path):
    """{function: cumulative off-CPU seconds} from `go tool pprof -top -cum`."""
    out = pprof("-top", "-cum", "-sample_index=offcpu", "-nodecount=1000", "-unit=ns", str(path))
    assert "Type: offcpu" in out, out
    cum = {}
    for line in out.splitlines():
        m = re.match(r"\s*[\d.]+(\D*)\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(\D*?)\s+[\d.]+%\s+(.+)$", line)
        if m:
            cum[m.group(4).strip()] = float(m.group(2)) * UNITS[m.group(3)]
    return cum


def folded_us(path, needle):
    """Sum of the folded counts (microseconds) of the stacks that pass through needle."""
    total = 0
    for line in path.read_text().splitlines():
        m = re.fullmatch(r"(blocker;\S.*) (\d+)", line)
        assert m, line
        if f";{needle};" in m.group(1) + ";":
            total += int(m.group(2))
    return total


def near(got, want, tol=TOLERANCE):
    return abs(got - want) <= tol * want


class Blocker:
    """blocker --wait: idle until told to start, so the profiler sees every round whole."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([os.path.join(APPS, "blocker"), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), f"blocker did not start: {line!r}"
        self.pid = self.proc.pid

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def totals(self):
        """Waits for the end: (seconds in sleep_phase, seconds in pipe_phase, rounds), and the
        duration of every call {"sleep": [seconds...], "pipe": [...]}."""
        out, _ = self.proc.communicate(timeout=60)
        m = re.search(r"sleep_ns=(\d+) pipe_ns=(\d+) rounds=(\d+)", out)
        assert m, out
        calls = {"sleep": [], "pipe": []}
        for kind, ns in re.findall(r"^(sleep|pipe) (\d+)$", out, re.M):
            calls[kind].append(int(ns) / 1e9)
        assert len(calls["sleep"]) == len(calls["pipe"]) == int(m.group(3)), out
        self.calls = calls
        return int(m.group(1)) / 1e9, int(m.group(2)) / 1e9, int(m.group(3))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def start_profiler(run_glimpse, *args):
    """Starts glimpse profile (conftest's Glimpse) and, once it is attached, returns a function
    that waits for it to end and returns (exit code, stdout, stderr)."""
    g = run_glimpse("profile", *args, ready="profiling off-CPU", timeout=30)

    def finish():
        rc = g.wait(timeout=60)
        return rc, g.stdout(), g.stderr()

    return finish


def test_offcpu_durations_match_truth(tmp_path, run_glimpse):
    out, folded, svg = tmp_path / "off.pb.gz", tmp_path / "off.folded", tmp_path / "off.svg"
    app = Blocker("--wait", "-j", "2", "-n", "40")
    try:
        finish = start_profiler(run_glimpse, "--off-cpu", "-p", str(app.pid), "-d", "60", "-o", str(out),
                                "--folded", str(folded), "--svg", str(svg), "--top", "5")
        app.go()
        sleep_s, pipe_s, rounds = app.totals()
        rc, stdout, stderr = finish()
    finally:
        app.stop()
    assert rc == 0, stderr
    assert "all target processes exited" in stderr
    assert rounds == 80
    # The blocker's clock: at least the designed 30 ms and 20 ms per round, more by the wake-up
    # latencies, which are part of the truth (a busy machine adds milliseconds).
    assert sleep_s >= rounds * SLEEP_MS / 1e3 and pipe_s >= rounds * PIPE_MS / 1e3

    # glimpse's off-CPU time per function agrees with the blocker's clock.
    cum = offcpu_cum_seconds(out)
    assert near(cum.get("sleep_phase", 0), sleep_s), (cum.get("sleep_phase"), sleep_s)
    assert near(cum.get("pipe_phase", 0), pipe_s), (cum.get("pipe_phase"), pipe_s)
    # Each worker thread spent the whole run blocked in one of the two phases.
    assert near(cum["worker"], sleep_s + pipe_s)

    # The kernel side shows where they blocked: nearly all sleep_phase time under
    # do_nanosleep, nearly all pipe_phase time under the pipe read.
    lines = folded.read_text().splitlines()
    sleep_k = sum(int(l.rsplit(" ", 1)[1]) for l in lines if ";sleep_phase;" in l and ";do_nanosleep_[k]" in l)
    pipe_k = sum(int(l.rsplit(" ", 1)[1]) for l in lines
                 if ";pipe_phase;" in l and re.search(r";(anon_)?pipe_read_\[k\]", l))
    assert near(sleep_k / 1e6, sleep_s) and near(pipe_k / 1e6, pipe_s), (sleep_k, pipe_k)
    # No leftovers of the tracing machinery at the leaf: the blocking point is the scheduler.
    assert not any(re.search(r"bpf_prog_|bpf_trace_run", l) for l in lines), lines
    assert all(l.rsplit(" ", 1)[0].endswith("schedule_[k]") for l in lines if "_[k]" in l), lines

    # Folded counts are microseconds: they add up to pprof's nanoseconds.
    assert abs(folded_us(folded, "sleep_phase") / 1e6 - cum["sleep_phase"]) < 0.01 * cum["sleep_phase"]
    assert abs(folded_us(folded, "pipe_phase") / 1e6 - cum["pipe_phase"]) < 0.01 * cum["pipe_phase"]

    # The flame graph is well-formed XML and labels its values in microseconds.
    subprocess.run(["xmllint", "--noout", str(svg)], check=True)
    text = svg.read_text()
    assert "sleep_phase" in text and "pipe_phase" in text and "off-CPU" in text
    m = re.search(r"<title>sleep_phase \((\d+) us, [\d.]+ %\)</title>", text)
    assert m and near(int(m.group(1)) / 1e6, sleep_s), m
    # The top table is in microseconds too.
    total = re.search(r"Total: (\d+) us in \d+ functions", stdout)
    assert total, stdout
    summary = re.search(r"blocks=(\d+) .*offcpu_seconds=([\d.]+)", stderr)
    assert summary and abs(int(total.group(1)) / 1e6 - float(summary.group(2))) < 0.01


def test_min_block_drops_short_blocks(tmp_path, run_glimpse):
    """--min-block 25000 µs: the 20 ms pipe waits go, the 30 ms sleeps (never shorter) stay whole.
    The blocker's own measure of each call says which really were 25 ms or longer (on a busy
    machine, wake-up latency can stretch a pipe wait past that)."""
    out = tmp_path / "off.pb.gz"
    app = Blocker("--wait", "-j", "1", "-n", "40")
    try:
        finish = start_profiler(run_glimpse, "--off-cpu", "--min-block", "25000", "-p", str(app.pid), "-d", "60",
                                "-o", str(out), "--top", "0")
        app.go()
        sleep_s, pipe_s, rounds = app.totals()
        rc, _, stderr = finish()
    finally:
        app.stop()
    assert rc == 0, stderr
    min_block = 0.025
    long_sleeps = sum(t for t in app.calls["sleep"] if t >= min_block)
    long_pipes = sum(t for t in app.calls["pipe"] if t >= min_block)
    short_pipes = sum(1 for t in app.calls["pipe"] if t < min_block)
    assert abs(long_sleeps - sleep_s) < 1e-6  # every sleep is 30 ms or more
    cum = offcpu_cum_seconds(out)
    assert near(cum.get("sleep_phase", 0), long_sleeps), (cum, long_sleeps)
    # What is left of pipe_phase is its long waits, if any: within 10 % of one round's wait.
    assert abs(cum.get("pipe_phase", 0) - long_pipes) <= TOLERANCE * PIPE_MS / 1e3, (cum, long_pipes)
    # Left out, and counted as such: at least the short pipe waits (and the helper's delays).
    shorter = int(re.search(r"shorter=(\d+)", stderr).group(1))
    assert shorter >= short_pipes > 0, stderr


def test_free_running_total_matches_wall_time(tmp_path):
    """Two threads that are always blocked: their off-CPU time is the profile's length each,
    split 60/40 between the phases."""
    out = tmp_path / "off.pb.gz"
    app = Blocker("-j", "2")
    try:
        r = glimpse("profile", "--off-cpu", "-p", str(app.pid), "-d", "3", "-o", str(out), "--top", "0")
    finally:
        app.stop()
    assert r.returncode == 0, r.stderr
    cum = offcpu_cum_seconds(out)
    seconds = float(re.search(r" seconds=([\d.]+)", r.stderr).group(1))
    sleep_s, pipe_s = cum.get("sleep_phase", 0), cum.get("pipe_phase", 0)
    assert near(sleep_s + pipe_s, 2 * seconds), cum
    assert near(sleep_s / (sleep_s + pipe_s), SLEEP_MS / (SLEEP_MS + PIPE_MS)), cum


def test_preempted_time_is_not_blocking(tmp_path, start_app):
    """CPU-bound threads contending for CPUs are preempted, never blocked: by default they have
    no off-CPU time; --preempted counts their run-queue wait."""
    threads = str(2 * os.cpu_count())
    app = start_app("cburner", "-j", threads)
    r = glimpse("profile", "--off-cpu", "-p", str(app.pid), "-d", "2", "--top", "0")
    assert r.returncode == 0, r.stderr
    assert float(re.search(r"offcpu_seconds=([\d.]+)", r.stderr).group(1)) < 0.05, r.stderr
    r = glimpse("profile", "--off-cpu", "--preempted", "-p", str(app.pid), "-d", "2", "--top", "0")
    assert r.returncode == 0, r.stderr
    # 2×CPUs runnable threads on the CPUs: about half their time waiting.
    assert float(re.search(r"offcpu_seconds=([\d.]+)", r.stderr).group(1)) > 0.5 * 2 * os.cpu_count()


def test_offcpu_all_processes(tmp_path):
    out = tmp_path / "off.pb.gz"
    app = Blocker("-j", "1")
    try:
        r = glimpse("profile", "--off-cpu", "-a", "-d", "2", "-o", str(out), "--top", "0")
    finally:
        app.stop()
    assert r.returncode == 0, r.stderr
    assert f"pid:[{app.pid}]" in pprof("-raw", str(out)).replace(" ", "")
    assert offcpu_cum_seconds(out).get("sleep_phase", 0) > 0.5


def test_offcpu_flags():
    r = glimpse("profile", "--off-cpu", "-p", "1", "-F", "99")
    assert r.returncode == 2 and "-F does not apply to --off-cpu" in r.stderr
    r = glimpse("profile", "-p", "1", "--min-block", "10")
    assert r.returncode == 2 and "--min-block needs --off-cpu" in r.stderr
    r = glimpse("profile", "--off-cpu", "-p", "1", "--min-block", "x")
    assert r.returncode == 2 and "--min-block" in r.stderr
    r = glimpse("profile", "--help")
    assert r.returncode == 0 and "--off-cpu" in r.stdout and "--min-block" in r.stdout
    assert "preempted" in r.stdout


@pytest.mark.parametrize("binary", ["goroutines-1.21-stripped", "goroutines-1.27"])
def test_go_runtime_waits_keep_their_callers(binary, tmp_path):
    """A Go process waits in runtime.futex, an assembly function with no frame, so a frame-
    pointer walk goes from it straight to its caller's caller. Ground truth: the Go runtime's
    source (os_linux.go), where futex is called by futexsleep and futexwakeup only; an idle
    process's threads wait in futexsleep. Requests to it (/stats) wake its threads up, so that
    their waits end inside the profile."""
    import threading
    import urllib.request
    proc = subprocess.Popen([os.path.join(APPS, binary)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    stop, poker = threading.Event(), None

    def poke(addr):
        while not stop.wait(0.05):
            urllib.request.urlopen(f"http://{addr}/stats", timeout=5).read()

    try:
        _, pid, addr = proc.stdout.readline().split()
        poker = threading.Thread(target=poke, args=(addr,))
        poker.start()
        folded = tmp_path / "offcpu.folded"
        r = glimpse("profile", "--off-cpu", "-p", pid, "-d", "2", "--folded", str(folded), "-o",
                    str(tmp_path / "offcpu.pb.gz"))
        assert r.returncode == 0, r.stderr
    finally:
        stop.set()
        if poker:
            poker.join()
        proc.kill()
        proc.wait()
    callers = set()
    for line in folded.read_text().splitlines():
        user = [f for f in line.rsplit(" ", 1)[0].split(";") if not f.endswith("_[k]")]
        if user and user[-1] == "runtime.futex":
            callers.add(user[-2] if len(user) > 1 else "")
    assert callers and callers <= {"runtime.futexsleep", "runtime.futexwakeup"}, callers
