# SPDX-License-Identifier: Apache-2.0
"""Stopping glimpse: a SIGINT right after start is not lost, an ignore inherited from a script is
undone, shutdown with a dead or hanging collector is bounded, and a second SIGINT exits at once
saying what it dropped. Ground truth: the signals this test sends and when, and a collector it
controls (a port nobody listens on; a socket that accepts and never answers)."""
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import GLIMPSE, HttpService, free_port


def start(args, tmp_path, ignore_sigint=False):
    err = open(tmp_path / "glimpse.err", "w+")
    pre = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    p = subprocess.Popen([GLIMPSE, *args], stdout=subprocess.DEVNULL, stderr=err, preexec_fn=pre)
    return p, lambda: open(tmp_path / "glimpse.err").read()


def wait_exit(p, timeout):
    """Seconds until p exited (None if it did not within timeout; then it is killed)."""
    t0 = time.monotonic()
    try:
        p.wait(timeout=timeout)
        return time.monotonic() - t0
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def catching_sigint(pid, timeout=5):
    """Waits until glimpse has installed its SIGINT handler (SigCgt in /proc/PID/status): the
    first thing main does, but only once the dynamic loader is done, which on a loaded machine
    can take longer than any fixed delay. True if it did."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/status") as f:
                caught = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
            if caught & (1 << (signal.SIGINT - 1)):
                return True
        except (OSError, StopIteration):
            return False
        time.sleep(0.001)
    return False


def wait_for_text(stderr, text, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in stderr():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("cmd", ["attach", "profile"])
def test_sigint_50ms_after_start_stops(cmd, go_service, tmp_path):
    args = ["attach", "-p", str(go_service.pid), "--no-live", "--no-prometheus"] if cmd == "attach" else \
        ["profile", "-p", str(go_service.pid), "--top", "0"]
    p, stderr = start(args, tmp_path)
    assert catching_sigint(p.pid), stderr()
    time.sleep(0.05)  # still attaching: that takes far longer
    p.send_signal(signal.SIGINT)
    took = wait_exit(p, 10)
    assert took is not None, f"still running 10 s after SIGINT: {stderr()}"
    assert p.returncode == 0, stderr()


def test_inherited_sigint_ignore_is_undone(go_service, tmp_path):
    """SIGINT inherited as ignored (a script's `glimpse ... &`) and sent 50 ms after start, while
    glimpse is still attaching: it must be caught, not lost (glimpse would then run forever)."""
    p, stderr = start(["attach", "-p", str(go_service.pid), "--no-live", "--no-prometheus"], tmp_path,
                      ignore_sigint=True)
    assert catching_sigint(p.pid), stderr()  # the inherited ignore undone
    time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    assert wait_exit(p, 10) is not None, stderr()
    assert p.returncode == 0


def hanging_collector():
    """A socket that accepts connections and never answers: a collector that hangs."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def test_dead_collector_shutdown_is_bounded(go_service, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    p, stderr = start(["attach", "-p", str(go_service.pid), "--no-live", "--no-prometheus", "--otlp-endpoint", dead],
                      tmp_path)
    assert wait_for_text(stderr, "attached"), stderr()
    for _ in range(20):
        go_service.get("/fast")
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    took = wait_exit(p, 10)
    # 2 s for the collector (OTLP_SHUTDOWN_MS), then the kernel removes the ~20 uprobes: ~0.2 s
    # in one step on Linux 6.10+, one at a time before (~0.1 s each on these VMs); it was
    # 6.5-7.3 s with the 5 s flush.
    assert took is not None and took < 6.0, f"shutdown took {took} s: {stderr()}"


def test_second_sigint_exits_at_once(go_service, tmp_path):
    hang = hanging_collector()
    try:
        url = f"http://127.0.0.1:{hang.getsockname()[1]}"
        p, stderr = start(["attach", "-p", str(go_service.pid), "--no-live", "--no-prometheus", "--otlp-endpoint", url],
                          tmp_path)
        assert wait_for_text(stderr, "attached"), stderr()
        for _ in range(50):
            go_service.get("/fast")
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)  # starts the shutdown, which waits for the collector
        time.sleep(0.3)
        assert p.poll() is None, "the first SIGINT should start a flush that waits for the collector"
        p.send_signal(signal.SIGINT)
        # glimpse itself stops at once (its last words come within 0.5 s); the kernel still
        # removes its uprobes when the process goes (~0.2 s; ~0.1 s each before Linux 6.10).
        assert wait_for_text(stderr, "stopping now on a second signal", timeout=0.5), stderr()
        took = wait_exit(p, 5)
        assert took is not None, "still running 5 s after the second SIGINT"
        assert p.returncode == 128 + signal.SIGINT
        assert "stopping now on a second signal; dropped" in stderr() and "queued spans" in stderr(), stderr()
    finally:
        hang.close()
