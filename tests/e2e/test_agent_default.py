# SPDX-License-Identifier: Apache-2.0
"""glimpse agent without --config: the built-in configuration instruments Go programs that
listen on TCP and nothing else. Ground truth: the processes the test starts (a Go server that
listens, a Go program that does not, a Python server that listens) and the requests it sends."""
import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from conftest import APPS, GLIMPSE, free_port, metric_value, parse_prometheus, scrape, targets, wait_for


def get(addr, path):
    with urllib.request.urlopen(f"http://{addr}{path}", timeout=5) as r:
        return r.status


def test_default_config_instruments_go_listeners(tmp_path):
    port = free_port()
    procs = []
    try:
        svc = subprocess.Popen([os.path.join(APPS, "httpsvc-1.23")], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        procs.append(svc)
        _, _, svc_addr = svc.stdout.readline().split()
        # A Go program with no socket; stopped once ready so that it costs no CPU.
        idle = subprocess.Popen([os.path.join(APPS, "goburner-1.22"), "-t", "120"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        procs.append(idle)
        assert idle.stdout.readline().startswith("ready ")
        os.kill(idle.pid, signal.SIGSTOP)
        # A server that is not Go.
        py_port = free_port()
        py = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(py_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
        procs.append(py)
        assert wait_for(lambda: f":{py_port:04X} " in open(f"/proc/{py.pid}/net/tcp").read())

        err = open(tmp_path / "agent.err", "w+")
        agent = subprocess.Popen([GLIMPSE, "agent", "--prometheus-addr", f"127.0.0.1:{port}", "--log-format",
                                  "json"], stdout=subprocess.DEVNULL, stderr=err, text=True)
        procs.append(agent)

        def stderr():
            err.seek(0)
            return err.read()

        assert wait_for(lambda: "agent running" in stderr() or agent.poll() is not None, timeout=20), stderr()
        assert agent.poll() is None, stderr()
        assert wait_for(lambda: svc.pid in targets(port), timeout=10), stderr()
        t = targets(port)
        assert idle.pid not in t
        assert py.pid not in t
        instrumented = [json.loads(l) for l in stderr().splitlines() if '"instrumented"' in l]
        ours = [e for e in instrumented if int(e["pid"]) in (svc.pid, idle.pid, py.pid)]
        assert [int(e["pid"]) for e in ours] == [svc.pid], ours
        assert ours[0]["selector"] == "listening-go" and ours[0]["http"] == "uprobes"  # no pgx or go-redis: no sockets
        for _ in range(7):
            assert get(svc_addr, "/fast") == 200
        instance = t[svc.pid]["instance"]
        assert wait_for(lambda: metric_value(scrape(port), "http_server_request_duration_seconds_count",
                                             instance=instance) == 7), stderr()
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=20) == 0, stderr()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def test_print_config_loads_back(tmp_path):
    r = subprocess.run([GLIMPSE, "agent", "--print-config"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "      listening: true\n      go: true\n" in r.stdout
    assert "      cpu_profile: false\n      cpu_profile_hz: 19\n" in r.stdout
    cfg = tmp_path / "printed.yaml"
    cfg.write_text(r.stdout)
    again = subprocess.run([GLIMPSE, "agent", "--config", str(cfg), "--print-config"], capture_output=True,
                           text=True, timeout=30)
    assert again.returncode == 0, again.stderr
    assert again.stdout == r.stdout


def test_default_config_instruments_a_server_started_later(tmp_path):
    port = free_port()
    err = open(tmp_path / "agent.err", "w+")
    agent = subprocess.Popen([GLIMPSE, "agent", "--prometheus-addr", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=err, text=True)
    svc = None
    try:
        assert wait_for(lambda: "agent running" in open(tmp_path / "agent.err").read() or agent.poll() is not None,
                        timeout=20)
        assert agent.poll() is None
        svc = subprocess.Popen([os.path.join(APPS, "httpsvc-1.22")], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        _, _, svc_addr = svc.stdout.readline().split()
        # Instrumented once it listens (re-checked every 50 ms), not only at exec.
        assert wait_for(lambda: svc.pid in targets(port), timeout=5), open(tmp_path / "agent.err").read()
        instance = targets(port)[svc.pid]["instance"]
        for _ in range(5):
            assert get(svc_addr, "/fast") == 200
        assert wait_for(lambda: metric_value(scrape(port), "http_server_request_duration_seconds_count",
                                             instance=instance) == 5)
    finally:
        for p in (svc, agent):
            if p and p.poll() is None:
                p.kill()
            if p:
                p.wait()
