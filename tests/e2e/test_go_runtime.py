# SPDX-License-Identifier: Apache-2.0
"""Go runtime metrics of glimpse watch (go.goroutine.count, go.memory.used, GC count) against
the test service tests/apps/goroutines, built with every Go version here, normal and stripped.
Ground truth: the service's own runtime.NumGoroutine() and runtime.ReadMemStats, served at
/stats, and the goroutines the test itself makes it park."""
import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import APPS, wait_for

BUILDS = [f"goroutines-{v}{s}" for v in ("1.19", "1.21", "1.22", "1.23", "1.26", "1.27") for s in ("", "-stripped")]
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


def go_series(samples):
    """The Go runtime series in a scrape: what the tests below check is there, or is not."""
    return {n for n, _, _ in samples or [] if n in (GOROUTINES, MEMORY, GC)}


def watch_go(run_glimpse, pid, ready):
    """glimpse watch in the background (conftest's Glimpse), its /metrics on a free port."""
    return run_glimpse("watch", "-p", str(pid), "--no-live", "--no-sched", prometheus=True, ready=ready)


@pytest.fixture
def running(run_glimpse):
    started = []

    def start(binary):
        app = App(binary)
        started.append(app)
        watch = watch_go(run_glimpse, app.pid, ready=lambda g: GOROUTINES in go_series(g.scrape()))
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


@pytest.mark.parametrize("binary, want", [("cburner", set()), ("goroutines-1.23", {GOROUTINES, MEMORY, GC})])
def test_go_series_only_for_go(start_app, run_glimpse, binary, want):
    """A C process gets process metrics but no Go series. The Go process is the positive
    control: the same watch and the same check (go_series) find all three there."""
    app = start_app(binary)
    watch = watch_go(run_glimpse, app.pid, ready=lambda g: g.scrape() is not None)
    # The target's own process series first: glimpse has read it.
    assert wait_for(lambda: any(n.startswith("process_cpu") for n, _, _ in watch.scrape() or []), timeout=20), \
        watch.stderr()
    assert wait_for(lambda: go_series(watch.scrape()) == want, timeout=20), go_series(watch.scrape())
    time.sleep(1.5)  # and still so a while later
    assert go_series(watch.scrape()) == want
    assert watch.stop() == 0, watch.stderr()
