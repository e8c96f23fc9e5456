# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for end-to-end tests: real BPF, real processes, real consumers."""
import os
import re
import signal
import subprocess
import time

import pytest

GLIMPSE = os.environ.get("GLIMPSE", os.path.join(os.path.dirname(__file__), "../../build/glimpse"))
APPS = os.environ.get("APPS", os.path.join(os.path.dirname(__file__), "../../build/apps"))
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
GO = "/usr/lib/go-1.19/bin/go"


def go_command(version):
    """The go command of a Go minor version as the test apps were built with it (tests/apps/Makefile)."""
    if version == "1.26":
        return ["env", "GOTOOLCHAIN=local", "/usr/local/go/bin/go"]
    if version == "1.27":
        return ["env", "GOTOOLCHAIN=go1.27.3", "/usr/local/go/bin/go"]
    return [f"/usr/lib/go-{version}/bin/go"]


class App:
    """A target process started for a test; killed when the test ends."""

    def __init__(self, name, *args):
        self.proc = subprocess.Popen([os.path.join(APPS, name), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), f"{name} did not start: {line!r}"
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def start_app():
    apps = []

    def start(name, *args):
        app = App(name, *args)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


def glimpse(*args, timeout=60, user=None):
    cmd = [GLIMPSE, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--inh-caps=-all", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def pprof(*args):
    """Runs the real consumer, `go tool pprof`, and returns its stdout."""
    env = dict(os.environ, HOME=os.environ.get("HOME", "/root"), PPROF_TMPDIR="/tmp")
    out = subprocess.run([GO, "tool", "pprof", *args], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def pprof_flat_shares(path):
    """{function: flat %} from `go tool pprof -top`."""
    shares = {}
    for line in pprof("-top", "-nodecount=1000", path).splitlines():
        m = re.match(r"\s*\S+\s+([\d.]+)%\s+[\d.]+%\s+\S+\s+[\d.]+%\s+(.+)$", line)
        if m:
            shares[m.group(2).strip()] = float(m.group(1))
    return shares


def pprof_shares(path):
    """{function: (flat %, cumulative %)} from `go tool pprof -top`."""
    shares = {}
    for line in pprof("-top", "-nodecount=1000", path).splitlines():
        m = re.match(r"\s*\S+\s+([\d.]+)%\s+[\d.]+%\s+\S+\s+([\d.]+)%\s+(.+)$", line)
        if m:
            shares[m.group(3).strip()] = (float(m.group(1)), float(m.group(2)))
    return shares


def source_line(path, pattern):
    """1-based line number of the first line of a source file matching a regex (ground truth)."""
    with open(os.path.join(SRC, path)) as f:
        for i, line in enumerate(f, 1):
            if re.search(pattern, line):
                return i
    raise AssertionError(f"{pattern} not in {path}")


def wait_for(predicate, timeout=10.0, interval=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_prometheus(text):
    """[(name, {label: value}, float)] from Prometheus text exposition."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)', line)
        assert m, line
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def metric_value(samples, name, **want):
    """Sum of the samples of a metric whose labels include want (0 if none); an absent label
    counts as empty, as in Prometheus."""
    return sum(v for n, l, v in samples if n == name and all(l.get(k, "") == str(x) for k, x in want.items()))


class HttpService:
    """A test HTTP service (httpsvc, dbsvc) that prints "ready PID HOST:PORT"."""

    def __init__(self, binary, *args, env=None):
        self.proc = subprocess.Popen([os.path.join(APPS, binary), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     env=dict(os.environ, **(env or {})))
        _, pid, self.addr = self.proc.stdout.readline().split()
        self.pid = int(pid)
        self.port = int(self.addr.rsplit(":", 1)[1])

    def get(self, path, headers=None, timeout=10):
        import urllib.error
        import urllib.request
        req = urllib.request.Request(f"http://{self.addr}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Glimpse:
    """glimpse running in the background, the one way e2e tests run it: started with its stdout
    and stderr in files under tmp_path (readable at any time), ready once `ready` shows in its
    stderr (or `ready(self)` is true), stopped with SIGINT. prometheus=True adds
    --prometheus-addr on a free port for scrape(). Use it through the run_glimpse fixture, which
    always cleans up."""

    def __init__(self, tmp_path, *args, name="glimpse", prometheus=False, env=None):
        self.port = free_port() if prometheus else None
        if prometheus:
            args = (*args, "--prometheus-addr", f"127.0.0.1:{self.port}")
        self.out = open(tmp_path / f"{name}.out", "w+")
        self.err = open(tmp_path / f"{name}.err", "w+")
        self.proc = subprocess.Popen([GLIMPSE, *args], stdout=self.out, stderr=self.err, text=True,
                                     env=dict(os.environ, **(env or {})))

    def wait_ready(self, ready, timeout=20):
        def done():
            return self.proc.poll() is not None or (ready(self) if callable(ready) else ready in self.stderr())
        assert wait_for(done, timeout=timeout), f"not ready after {timeout}s: {self.stderr()}"
        assert self.proc.poll() is None, f"glimpse exited {self.proc.returncode}: {self.stderr()}"

    def stderr(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def stdout(self):
        self.out.flush()
        with open(self.out.name) as f:
            return f.read()

    def scrape_text(self):
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return r.read().decode()

    def scrape(self):
        """Parsed /metrics, or None while it does not answer."""
        try:
            return parse_prometheus(self.scrape_text())
        except OSError:
            return None

    def value(self, name, **labels):
        """metric_value of one scrape (0 while /metrics does not answer)."""
        return metric_value(self.scrape() or [], name, **labels)

    def wait(self, timeout=20):
        """The exit code of a run that ends by itself (-d SECONDS)."""
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=20):
        """SIGINT, then the exit code (killed after timeout: a hang fails the caller's check)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def close(self):
        self.stop(timeout=5)
        self.out.close()
        self.err.close()


@pytest.fixture
def run_glimpse(tmp_path):
    """run_glimpse(*args, ready="attached", name=..., prometheus=False, env=None) → Glimpse, ready;
    every one started is killed (if still running) when the test ends. ready=None: no wait."""
    running = []

    def start(*args, ready="attached", name=None, timeout=20, **kw):
        g = Glimpse(tmp_path, *args, name=name or f"glimpse-{len(running)}", **kw)
        running.append(g)
        if ready is not None:
            g.wait_ready(ready, timeout=timeout)
        return g

    yield start
    for g in reversed(running):
        g.close()


@pytest.fixture
def http_services():
    """Starts Go test services (HttpService(binary, *args, env=...)); all killed after the test."""
    started = []

    def start(binary, *args, env=None):
        s = HttpService(binary, *args, env=env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def go_service():
    """The Go test service (httpsvc, Go 1.23) for tests about glimpse itself rather than a Go
    version: started for the test, killed after it."""
    s = HttpService("httpsvc-1.23")
    yield s
    s.stop()


def scrape(port):
    """Parsed /metrics of a glimpse serving on 127.0.0.1:port."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return parse_prometheus(r.read().decode())


def targets(port):
    """{pid: target_info labels} of the processes glimpse on port reports."""
    return {int(l["process_pid"]): l for n, l, v in scrape(port) if n == "target_info"}
