# SPDX-License-Identifier: Apache-2.0
"""Logs correlated with traces (`glimpse attach --logs`): what a Go service writes to stdout and
stderr, read at its write system calls, each line a record with the trace of the request its
goroutine was serving.

Ground truth: tests/apps/logsvc, whose output is deterministic (its log clock is a counter) and
which counts every line it writes; the traceparent headers this test sends (so the trace ids are
ours); the service's own output, captured here from its stdout and stderr (pipes, or files), line
for line; and the same script run without glimpse, which must leave byte-identical output. The
OTLP records are decoded by build/tools/otlp_profiles_receiver with the official generated
messages (unknown fields reported) and the Collector's pdata decoder."""
import json
import os
import threading
import urllib.request

import pytest

from conftest import APPS, glimpse, wait_for
from test_otlp_profiles import Receiver

HELLOS = 6  # /hello requests, each logging K JSON lines and one plain line
K = 4


class LogService:
    """logsvc with its stdout and stderr as pipes (read here) or files."""

    def __init__(self, tmp_path, version, mode, name):
        self.portfile = tmp_path / f"{name}.port"
        self.mode = mode
        self.chunks = {"out": [], "err": []}
        cmd = [os.path.join(APPS, f"logsvc-{version}"), "-portfile", str(self.portfile)]
        import subprocess
        if mode == "file":
            self.files = {k: open(tmp_path / f"{name}.std{k}", "wb") for k in ("out", "err")}
            self.proc = subprocess.Popen(cmd, stdout=self.files["out"], stderr=self.files["err"])
        else:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.readers = [threading.Thread(target=self._read, args=(k, getattr(self.proc, f"std{k}")))
                            for k in ("out", "err")]
            for t in self.readers:
                t.start()
        assert wait_for(lambda: self.portfile.exists(), timeout=10), "logsvc did not start"
        self.url = f"http://127.0.0.1:{int(self.portfile.read_text())}"
        self.pid = self.proc.pid

    def _read(self, key, f):
        for chunk in iter(lambda: f.read1(65536), b""):
            self.chunks[key].append(chunk)

    def get(self, path, headers=None):
        req = urllib.request.Request(self.url + path, headers=headers or {})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def output(self):
        """{"out": bytes, "err": bytes} the service wrote, once it is stopped."""
        self.proc.kill()
        self.proc.wait()
        if self.mode == "file":
            for f in self.files.values():
                f.close()
            return {k: open(f.name, "rb").read() for k, f in self.files.items()}
        for t in self.readers:
            t.join(timeout=10)
        return {k: b"".join(v) for k, v in self.chunks.items()}


def trace_id(i):
    return f"{0x4bf92f3577b34da6a3ce929d0e0e4700 + i:032x}"


def script(svc):
    """The same requests every run; returns {what: trace id sent} for the traced ones."""
    sent = {}
    for i in range(HELLOS):
        sent[f"hello{i}"] = trace_id(i)
        svc.get(f"/hello?n={K}", {"traceparent": f"00-{trace_id(i)}-00f067aa0ba902b7-01",
                                   "X-Request-Id": f"r{i}"})
    sent["spawn"] = trace_id(100)
    svc.get("/spawn", {"traceparent": f"00-{trace_id(100)}-00f067aa0ba902b7-01", "X-Request-Id": "s"})
    svc.get("/kick", {"traceparent": f"00-{trace_id(101)}-00f067aa0ba902b7-01"})
    sent["big"] = trace_id(102)
    svc.get("/big", {"traceparent": f"00-{trace_id(102)}-00f067aa0ba902b7-01", "X-Request-Id": "b"})
    return sent


def unix_ns(rfc3339):
    """Nanoseconds of an RFC 3339 UTC time with any number of fraction digits."""
    import calendar
    import time
    whole, _, frac = rfc3339.rstrip("Z").partition(".")
    secs = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return secs * 10**9 + int(frac.ljust(9, "0") or 0)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize("version,mode", [("1.26", "pipe"), ("1.26", "file"), ("1.23", "pipe")])
def test_logs_carry_their_request_trace(tmp_path, run_glimpse, version, mode):
    # Without glimpse: the output the service writes on its own.
    alone = LogService(tmp_path, version, mode, "alone")
    script(alone)
    counts_alone = json.loads(alone.get("/counts"))
    baseline = alone.output()

    svc = LogService(tmp_path, version, mode, "watched")
    # inspect names where the output goes and what reading it costs.
    shown = glimpse("inspect", "-p", str(svc.pid)).stdout
    assert "--logs reads its writes to stdout and stderr (1 tracepoint run per write" in shown
    for fd, key in ((1, "out"), (2, "err")):
        where = str(tmp_path / f"watched.std{key}") if mode == "file" else "pipe:["
        assert f"  std{key} {where}" in shown, shown
    receiver = Receiver(tmp_path / "otlp.jsonl")
    try:
        logs, spans = tmp_path / "logs.jsonl", tmp_path / "spans.jsonl"
        g = run_glimpse("attach", "-p", str(svc.pid), "--logs-out", str(logs), "--spans-out", str(spans),
                        "--otlp-endpoint", receiver.url, "--no-live", prometheus=True,
                        env={"OTEL_BSP_SCHEDULE_DELAY": "200"})
        assert "logs=on" in g.stderr()
        before = json.loads(svc.get("/counts"))
        sent = script(svc)
        after = json.loads(svc.get("/counts"))
        written = after["inside"] + after["outside"] - before["inside"] - before["outside"]
        assert after["outside"] - before["outside"] == 2
        assert wait_for(lambda: g.value("glimpse_logs_records_total") == written, timeout=10), g.scrape_text()
        hits = g.value("glimpse_socket_tracepoint_hits_total")
        dropped = g.value("glimpse_logs_dropped_total")
        truncated = g.value("glimpse_logs_truncated_total")
        assert g.stop() == 0, g.stderr()
        assert f"records={written} truncated=1 dropped=0" in g.stderr()
        output = svc.output()
    finally:
        receiver.stop()

    # The service's output is its own: byte for byte what it writes without glimpse.
    assert counts_alone == after
    assert output == baseline

    # Line counts: every line written after the attach, no more, exactly once.
    records = read_jsonl(logs)
    assert len(records) == written == HELLOS * (K + 1) + 1 + 2 + 1
    assert dropped == 0 and truncated == 1
    # The probe's cost: one write per line, one tracepoint run per write (at its return), no
    # trap; the service's other system calls are not followed.
    assert hits == written

    # Ground truth line by line: the service's own lines, in its order per stream, after the
    # "starting" line it wrote before the attach.
    out_lines = output["out"].decode("utf-8").splitlines()[1:]
    err_lines = output["err"].splitlines()
    by_stream = {"stdout": [r for r in records if r["attributes"]["log.iostream"] == "stdout"],
                 "stderr": [r for r in records if r["attributes"]["log.iostream"] == "stderr"]}
    assert len(by_stream["stdout"]) == len(out_lines) and len(by_stream["stderr"]) == len(err_lines)
    levels = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17}
    for line, rec in zip(out_lines, by_stream["stdout"]):
        own = json.loads(line)
        if rec.get("truncated"):  # the 6 KB line: cut at 4 KiB, its fields before the cut kept
            assert len(line.encode()) > 4096 and own["msg"].startswith(rec["body"])
            assert 4000 < len(rec["body"]) < 4096 and "request_id" not in rec["attributes"]
        else:
            assert rec["body"] == own["msg"]
        assert rec["severity_text"] == own["level"]
        assert rec["severity_number"] == levels[own["level"]]
        assert unix_ns(rec["time"]) == unix_ns(own["time"])
        for key in ("request_id", "i", "ratio", "ok", "tick"):
            if key in own and not rec.get("truncated"):
                assert rec["attributes"][key] == own[key]
        if "req" in own:
            assert rec["attributes"]["req.method"] == "GET" and rec["attributes"]["req.path"] == "/hello"
    for line, rec in zip(err_lines, by_stream["stderr"]):
        assert rec["body"].encode() == line.replace(b"\xff", "\ufffd".encode())  # repaired, not lost
        assert rec["severity_number"] == 13 and rec["severity_text"] == "WARN"

    # Correlation: every line written while a request was served carries exactly its trace (N of
    # N), and its span is that request's server span; the background worker's carry none.
    server_span = {s["trace_id"]: s["span_id"] for s in read_jsonl(spans) if s["kind"] == "server"}
    expected = []
    for i in range(HELLOS):
        expected += [sent[f"hello{i}"]] * K
    expected += [sent["spawn"], None, None, sent["big"]]
    got_out = [r.get("trace_id") for r in by_stream["stdout"]]
    assert got_out == expected
    assert [r.get("trace_id") for r in by_stream["stderr"]] == [sent[f"hello{i}"] for i in range(HELLOS)]
    for r in records:
        if "trace_id" in r:
            assert r["span_id"] == server_span[r["trace_id"]] and r["trace_flags"] == 1
        else:
            assert "span_id" not in r and r["body"] == "background tick"
    assert all(r["resource"]["process.pid"] == svc.pid for r in records)

    # OTLP: the same records, decoded strictly by the official messages and the Collector's.
    otlp = receiver.lines("log")
    assert sorted((r["body"], r["trace_id"]) for r in otlp) == \
        sorted((r["body"], r.get("trace_id", "")) for r in records)
    for r in otlp:
        assert r["errors"] is None and r["scope"] == "glimpse"
        assert r["resource"]["service.name"] == f"logsvc-{version}"
        assert r["span_id"] == (server_span[r["trace_id"]] if r["trace_id"] else "")
        assert r["flags"] == (1 if r["trace_id"] else 0)
    big = [r for r in otlp if r["attributes"].get("glimpse.log.truncated")]
    assert len(big) == 1 and big[0]["trace_id"] == sent["big"]


def test_agent_logs(tmp_path):
    """The agent's `logs` signal: the same records over OTLP, N of N with their trace."""
    from test_agent import Agent, config
    from conftest import free_port
    svc = LogService(tmp_path, "1.26", "pipe", "agent")
    receiver = Receiver(tmp_path / "otlp.jsonl")
    agent = None
    try:
        cfg = config(tmp_path, free_port(), f"""  - name: logsvc
    match:
      pids: [{svc.pid}]
    signals:
      http_metrics: true
      traces: false
      logs: true
      runtime: false
      cpu_profile: false
""", extra=f"otlp:\n  endpoint: {receiver.url}\n  compression: none\n")
        agent = Agent(tmp_path, cfg)
        assert wait_for(lambda: agent.events("instrumented"), timeout=10), agent.stderr()
        assert agent.events("instrumented")[0]["logs"] == "on"
        before = json.loads(svc.get("/counts"))
        sent = script(svc)
        after = json.loads(svc.get("/counts"))
        written = after["inside"] + after["outside"] - before["inside"] - before["outside"]
        assert agent.stop() == 0
        agent = None
    finally:
        if agent:
            agent.stop()
        receiver.stop()
        svc.output()
    otlp = receiver.lines("log")
    assert len(otlp) == written
    for i in range(HELLOS):
        assert sum(r["trace_id"] == sent[f"hello{i}"] for r in otlp) == K + 1
    assert [r["trace_id"] for r in otlp if r["body"] == "background tick"] == ["", ""]
    assert all(r["errors"] is None and r["resource"]["service.name"] == "logsvc-1.26" for r in otlp)


def test_non_go_process_lines(tmp_path, run_glimpse):
    """A program that is not Go (Python's http.server, socket capture): each line it logs to
    stderr is a record, exactly once and as written, with no trace (a thread is not a request)."""
    import subprocess
    import sys
    from conftest import free_port
    port = free_port()
    py = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: py.stderr.read1(65536), b"")))
    reader.start()
    try:
        assert wait_for(lambda: f":{port:04X} " in open(f"/proc/{py.pid}/net/tcp").read())
        logs = tmp_path / "logs.jsonl"
        g = run_glimpse("attach", "-p", str(py.pid), "--logs-out", str(logs), "--no-live", prometheus=True)
        for i in range(5):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/?i={i}", timeout=10) as r:
                assert r.status == 200
        assert wait_for(lambda: g.value("glimpse_logs_records_total") == 5, timeout=10), g.stderr()
        assert g.stop() == 0
    finally:
        py.kill()
        py.wait()
        reader.join(timeout=10)
    written = b"".join(chunks).decode().splitlines()
    records = read_jsonl(logs)
    assert [r["body"] for r in records] == written and len(written) == 5
    for i, r in enumerate(records):
        assert f'"GET /?i={i} HTTP/1.' in r["body"]
        assert "trace_id" not in r and r["attributes"]["log.iostream"] == "stderr"
        assert r["severity_number"] == 0
