# SPDX-License-Identifier: Apache-2.0
"""The socket path's connection identity and cost (bpf/sockcap.bpf.c): its data programs run on
the kernel's socket tracepoints (sock_send_length, sock_recv_length), so a watched process pays
one run per socket call and none for its pipes, files and futexes; a connection is its socket's
(the socket cookie), so an fd closed and reused by a new connection in the same process starts a
new one instead of pairing the new connection's responses with the old one's requests; and the
machine-wide sys_exit program is attached only while some target's logs are read.

Ground truth: the watched client's own count of its socket calls and what it sent, and the
server's own accounting (tests/apps/pyhttp.py's /counts, or the Unix server's replies).
"""
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from conftest import metric_value, wait_for
from servers import PythonHttpServer

HTTP_CLIENT = "http_client_request_duration_seconds_count"
HITS = "glimpse_socket_tracepoint_hits_total"
UNANSWERED = "glimpse_socket_unanswered_total"
PIPE_LOOPS = 5000

# The watched process: first work that is no socket call (pipe writes and reads, futex waits,
# sleeps), then a POST it never reads the answer of on a connection it closes, then a GET on a
# new connection that takes the same fd number. Each socket call it makes is counted by itself
# (a Python send or recv is one system call).
CLIENT = r"""
import json, os, socket, sys, threading, time
family, addr, keep = sys.argv[1], sys.argv[2], sys.argv[3] == "keep"
print("ready", flush=True)
sys.stdin.readline()
r, w = os.pipe()
for _ in range(%(loops)d):
    os.write(w, b"x")
    os.read(r, 1)
ev = threading.Event()
for _ in range(50):
    ev.wait(0.0002)
    time.sleep(0.0002)
calls = 0

def connect():
    if family == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", int(addr)))
    return s

def send(s, data):
    global calls
    n = s.send(data)
    calls += 1
    assert n == len(data)

def response(s):
    global calls
    buf = b""
    while True:
        chunk = s.recv(65536)
        calls += 1
        assert chunk, buf
        buf += chunk
        head, sep, body = buf.partition(b"\r\n\r\n")
        if sep:
            fields = dict(l.split(b":", 1) for l in head.split(b"\r\n")[1:])
            if len(body) >= int(fields[b"Content-Length"]):
                return int(head.split()[1])

first = connect()
fd = first.fileno()
send(first, b"POST /created HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}")
time.sleep(0.3)  # answered by now: never read
kept = os.dup(fd) if keep else None  # the socket stays open (no close to see): only its fd goes
first.close()
second = connect()
assert second.fileno() == fd
send(second, b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\n")
report = {"fd": fd, "status": response(second), "socket_calls": calls}
os.write(1, (json.dumps(report) + "\n").encode())  # one write (print may make two)
sys.stdin.readline()
""" % {"loops": PIPE_LOOPS}

# An HTTP/1.1 server on a Unix socket (unwatched), pyhttp's answers for the two requests.
UNIX_SERVER = r"""
import socketserver, sys
from http.server import BaseHTTPRequestHandler

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, status):
        body = b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer(404)
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.answer(201)
    def log_message(self, *args):
        pass
    def address_string(self):
        return "unix"

class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

srv = S(sys.argv[1], H)
print("ready", flush=True)
srv.serve_forever()
"""


def _run_client(tmp_path, run_glimpse, family, addr, keep, *glimpse_args):
    """Starts the client, attaches, lets it run; (glimpse, client process, its report)."""
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    client = subprocess.Popen([sys.executable, str(script), family, addr, "keep" if keep else "close"],
                              stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert client.stdout.readline() == "ready\n"
    g = run_glimpse("attach", "-p", str(client.pid), "--no-live", *glimpse_args, prometheus=True)
    client.stdin.write("go\n")
    client.stdin.flush()
    report = json.loads(client.stdout.readline())
    return g, client, report


def _tracepoints(pid):
    """The tracepoints (tp_name) of the BPF links process pid holds."""
    names = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        if "tp_name" in info:
            names.add(info["tp_name"].strip())
    return names


@pytest.mark.parametrize("family,keep", [("tcp", False), ("tcp", True), ("unix", False)])
def test_reused_fd_starts_a_new_connection(family, keep, tmp_path, run_glimpse):
    """A POST whose answer the client never reads, on a connection whose fd it closes; then a
    GET on a new connection with the same fd number. Paired by fd alone, the GET's 404 would go
    to the POST; by socket, the GET has its own 404 and the POST is unanswered (TCP: reported at
    the socket's close; Unix, or a TCP socket kept open by a dup of its fd: when the fd names
    the new socket — the socket's cookie alone tells them apart). And the client's 5,000 pipe
    writes and reads, futex waits and sleeps cost no tracepoint run: hits = its own socket
    calls."""
    if family == "tcp":
        server = PythonHttpServer().start()
        addr = str(server.port)
    else:
        path = str(tmp_path / "http.sock")
        server = subprocess.Popen([sys.executable, "-c", UNIX_SERVER, path], stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline() == "ready\n"
        addr = path
    client = None
    try:
        g, client, report = _run_client(tmp_path, run_glimpse, family, addr, keep)
        assert report["status"] == 404
        if family == "tcp":
            truth = server.counts()
            assert truth[("POST", "/created", 201)] == 1 and truth[("GET", "/missing", 404)] == 1, truth
        assert wait_for(lambda: g.value(HTTP_CLIENT) >= 1 and g.value(UNANSWERED) >= 1), g.scrape_text()
        samples = g.scrape()
        got = Counter()
        for name, labels, v in samples:
            if name == HTTP_CLIENT and v:
                got[(labels["http_request_method"], labels["http_response_status_code"])] += int(v)
        assert got == Counter({("GET", "404"): 1}), g.scrape_text()
        assert metric_value(samples, UNANSWERED) == 1, g.scrape_text()
        assert metric_value(samples, "glimpse_socket_unparseable_total") == 0
        # One run per socket call (the two sends and the response's reads), none for the rest.
        assert metric_value(samples, HITS) == report["socket_calls"], g.scrape_text()
        # Sockets only: the machine-wide sys_exit program is not attached.
        tps = _tracepoints(g.proc.pid)
        assert {"sock_send_length", "sock_recv_length", "inet_sock_set_state"} <= tps, tps
        assert "sys_exit" not in tps and "sys_enter" not in tps, tps
        assert g.stop() == 0
        # Every call's fd named its socket: none skipped as another's.
        assert "did not name" not in g.stderr(), g.stderr()
    finally:
        if client:
            client.kill()
            client.wait()
        if family == "tcp":
            server.stop()
        else:
            server.kill()
            server.wait()


def test_logs_attach_sys_exit_only_while_read(tmp_path, run_glimpse):
    """--logs needs the writes to fds 1 and 2 (pipes, files): the sys_exit program is attached
    for it, and still no pipe write elsewhere is a hit — only the lines written to stdout."""
    server = PythonHttpServer().start()
    client = None
    try:
        logs = tmp_path / "logs.jsonl"
        g, client, report = _run_client(tmp_path, run_glimpse, "tcp", str(server.port), False, "--logs-out",
                                        str(logs))
        assert "sys_exit" in _tracepoints(g.proc.pid)
        assert wait_for(lambda: g.value(HTTP_CLIENT) >= 1), g.scrape_text()
        # Its one stdout line (the report, one write) after the attach: one run.
        assert wait_for(lambda: g.value("glimpse_logs_records_total") == 1), g.scrape_text()
        assert g.value(HITS) == report["socket_calls"] + 1, g.scrape_text()
        assert g.stop() == 0
    finally:
        if client:
            client.kill()
            client.wait()
        server.stop()
