# SPDX-License-Identifier: Apache-2.0
"""Go runtime metrics of glimpse watch (go.goroutine.count, go.memory.used, GC count) against
the test service tests/apps/goroutines, built with every Go version here, normal and stripped.
Ground truth: the service's own runtime.NumGoroutine() and runtime.ReadMemStats, served at
/stats, and the goroutines the test itself makes it park."""
import json
import os
import signal
import subprocess
import urllib.request

import pytest

from conftest import APPS, GLIMPSE, free_port, metric_value, parse_prometheus, wait_for

BUILDS = [f"goroutines-{v}{s}" for v in ("1.19", "1.21", "1.22", "1.23") for s in ("", "-stripped")]
GOROUTINES = "go_goroutines"
MEMORY = "go_memory_used_bytes"
GC = "glimpse_go_gc_count_total"


class App:
    def __init__(self, binary):
        self.proc = subprocess.Popen([os.path.join(APPS, binary)], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), f"{binary} did not start: {line!r}"
        _, pid, self.addr = line.split()
        self.pid = int(pid)

    def get(self, path, timeout=60):
        with urllib.request.urlopen(f"http://{self.addr}{path}", timeout=timeout) as r:
            assert r.status == 200
            return r.read().decode()

    def stats(self):
        return json.loads(self.get("/stats"))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Watch:
    """glimpse watch in the background, its /metrics on a free port."""

    def __init__(self, tmp_path, pid):
        self.port = free_port()
        self.err = open(tmp_path / "watch.err", "w+")
        self.proc = subprocess.Popen([GLIMPSE, "watch", "-p", str(pid), "--no-live", "--no-sched",
                                      "--prometheus-addr", f"127.0.0.1:{self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=self.err, text=True)
        assert wait_for(lambda: self.proc.poll() is not None or self.has_goroutines(), timeout=20), self.stderr()
        assert self.proc.poll() is None, self.stderr()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def scrape(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return parse_prometheus(r.read().decode())

    def has_goroutines(self):
        try:
            return any(n == GOROUTINES for n, _, _ in self.scrape())
        except OSError:
            return False

    def value(self, name):
        return metric_value(self.scrape(), name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=20)


@pytest.fixture
def running(tmp_path):
    started = []

    def start(binary):
        app = App(binary)
        started.append(app)
        watch = Watch(tmp_path, app.pid)
        started.append(watch)
        return app, watch

    yield start
    for x in reversed(started):
        x.stop()


def within(value, want, share):
    return abs(value - want) <= share * want


@pytest.mark.parametrize("binary", BUILDS)
def test_goroutines_and_memory(running, binary):
    app, watch = running(binary)
    # Idle: exact. The goroutines serving /stats (http_goroutines) are gone once it returns;
    # this first request has no earlier connection still closing, so its count is exact.
    s = app.stats()
    idle = s["goroutines"] - s["http_goroutines"]
    assert idle >= 1
    assert wait_for(lambda: watch.value(GOROUTINES) == idle), (watch.value(GOROUTINES), s)

    # 1000, then 10000 parked goroutines: within 2 % of NumGoroutine, and exact once idle.
    for n, total in ((1000, 1000), (9000, 10000)):
        app.get(f"/spawn?n={n}")
        s = app.stats()
        assert s["parked"] == total
        # (glimpse caches a target's reading for a fraction of a second: poll.)
        assert wait_for(lambda: within(watch.value(GOROUTINES), s["goroutines"], 0.02)), \
            (watch.value(GOROUTINES), s)
        assert wait_for(lambda: watch.value(GOROUTINES) == idle + total), (watch.value(GOROUTINES), idle + total)

    # Churn: goroutines created and exiting all the time; every scrape within 2 %.
    app.get("/churn?n=2")
    for _ in range(10):
        s = app.stats()
        seen = watch.value(GOROUTINES)
        assert within(seen, s["goroutines"], 0.02), (seen, s)
    app.get("/churn?n=0")

    # Released: back to idle.
    app.get("/release")
    assert app.stats()["parked"] == 0
    assert wait_for(lambda: watch.value(GOROUTINES) == idle), (watch.value(GOROUTINES), idle)

    # Memory: 64 MiB kept, then a GC; heap in use within 3 %, GC count equal.
    app.get("/alloc?mb=64")
    app.get("/gc")
    s = app.stats()
    assert s["heap_inuse"] >= 64 << 20
    assert wait_for(lambda: watch.value(GC) == s["num_gc"]), (watch.value(GC), s)
    used = watch.value(MEMORY)
    assert within(used, s["heap_inuse"], 0.03), (used, s)
    app.get("/gc")
    assert wait_for(lambda: watch.value(GC) == app.stats()["num_gc"]), watch.value(GC)


def test_not_go_has_no_go_metrics(tmp_path, start_app):
    """A C process gets process metrics but no Go series."""
    app = start_app("cburner")
    port = free_port()
    err = open(tmp_path / "watch.err", "w+")
    watch = subprocess.Popen([GLIMPSE, "watch", "-p", str(app.pid), "--no-live", "--no-sched",
                              "--prometheus-addr", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=err, text=True)

    def scrape():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return parse_prometheus(r.read().decode())
        except OSError:
            return None

    try:
        assert wait_for(lambda: scrape() is not None or watch.poll() is not None, timeout=20)
        samples = scrape()
        assert samples is not None, open(tmp_path / "watch.err").read()
        assert not any(n in (GOROUTINES, MEMORY, GC) for n, _, _ in samples)
    finally:
        if watch.poll() is None:
            watch.send_signal(signal.SIGINT)
        watch.wait(timeout=20)
