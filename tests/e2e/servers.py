# SPDX-License-Identifier: Apache-2.0
"""Real third-party servers on loopback for end-to-end tests (no test functions here, no pytest
fixtures: plain classes, each a context manager that also has start() and stop()).

    Nginx              nginx, a master and 2 forked workers, static files and fixed statuses;
                       ground truth: its access log
    PythonHttpServer   tests/apps/pyhttp.py (http.server); ground truth: its own GET /counts
    Redis              redis-server; ground truth: INFO commandstats
    (PostgreSQL lives in pg.py: PostgresServer(preload=("pg_stat_statements",)); ground
    truth: pg_stat_statements)

Each server gets a free port on 127.0.0.1 and a fresh directory directly under /tmp (short
unix-socket paths, enterable by the servers' own users), runs in its own session (no ^C from a
terminal; its whole process group can be killed at once) and is torn down by stop(): a polite
signal, then SIGKILL to the process group, then the directory is removed. stop() is idempotent
and also registered with atexit, so a test that fails half-way leaves no process and no files.
"""
import atexit
import http.client
import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter

from conftest import free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
PYHTTP = os.path.join(HERE, "..", "apps", "pyhttp.py")


# -- processes ------------------------------------------------------------------------------

def _stat(pid):
    """(state, ppid, pgrp) of a process from /proc/PID/stat, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # the name, in (), may hold anything
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[2])


def _pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def child_pids(pid):
    """The live (not zombie) children of a process, sorted, from /proc."""
    return sorted(p for p in _pids() if (s := _stat(p)) and s[1] == pid and s[0] != "Z")


def descendant_pids(pid):
    """Children, their children, and so on."""
    out, todo = [], [pid]
    while todo:
        kids = child_pids(todo.pop())
        out += kids
        todo += kids
    return sorted(out)


def group_pids(pgid):
    """The live (not zombie) processes of a process group."""
    return sorted(p for p in _pids() if (s := _stat(p)) and s[2] == pgid and s[0] != "Z")


def _stop_group(proc, sig, timeout=10.0):
    """Stops a server started with start_new_session=True (its pid is its process group): sig
    to the leader, SIGKILL to the whole group if the leader is not gone after timeout, and
    SIGKILL to whatever of the group outlived the leader (orphaned workers)."""
    if proc is None:
        return
    pgid = proc.pid
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    wait_for(lambda: not group_pids(pgid), timeout=5, interval=0.05)


def _connectable(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class _Server:
    """The lifecycle every server here shares: a temp dir, a process, atexit, with."""

    prefix = "glimpse-srv-"
    stop_signal = signal.SIGTERM

    def __init__(self):
        self.tmp = None
        self.proc = None
        self.port = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _mkdtemp(self, mode=0o755):
        atexit.register(self.stop)
        self.tmp = tempfile.mkdtemp(prefix=self.prefix, dir="/tmp")
        os.chmod(self.tmp, mode)
        return self.tmp

    def _log(self, name):
        try:
            with open(os.path.join(self.tmp, name), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        """Stops the server and removes its files; safe to call more than once."""
        _stop_group(self.proc, self.stop_signal)
        self.proc = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        atexit.unregister(self.stop)


# -- nginx ----------------------------------------------------------------------------------

_NGINX_CONF = """\
user {user};
master_process on;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format glimpse '$request_method\\t$request_uri\\t$status\\t$request_time\\t$body_bytes_sent\\t$connection\\t$connection_requests\\t$pid';
    access_log {tmp}/access.log glimpse;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/html html; text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 60s;
    keepalive_requests 10000;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {tmp}/html;
        location = /fail {{ return 500; }}
        location = /created {{ return 201; }}
        location = /gone {{ return 404; }}
        location /users/ {{ default_type application/json; return 200 '{{"user":"$uri"}}\\n'; }}
        location / {{ }}
    }}
}}
"""


class Nginx(_Server):
    """nginx as root with `master_process on; worker_processes 2;` (a master plus forked
    workers running as www-data, or nobody), listening on 127.0.0.1:port with keep-alive.

        GET  /index.html, /hello.txt   200 static (sendfile)
        GET  /big.bin                  200 static, big_size bytes (for clients closing early)
        GET  /users/<anything>         200 (return 200, a small JSON body)
        *    /created                  201 (return 201; a request body is read and discarded)
        *    /gone                     404 (return 404)
        GET  /missing (any unknown)    404 (static: no such file)
        *    /fail                     500 (return 500; nginx closes the connection after it)
        POST /index.html               405 (static files take GET and HEAD only)

    Ground truth: access_counts(), from the access log nginx writes as each request ends:
    method, request URI, status, request time, body bytes sent, connection number, number of
    the request on its connection, pid of the worker that served it, tab-separated (nginx escapes bytes < 0x20 and > 0x7e in
    values, so a tab always separates fields)."""

    prefix = "glimpse-nginx-"
    stop_signal = signal.SIGTERM  # fast shutdown: keep-alive connections do not delay it

    def __init__(self, workers=2, big_size=16 << 20, start_timeout=15.0):
        super().__init__()
        self.workers = workers
        self.big_size = big_size
        self.start_timeout = start_timeout

    def start(self):
        if not shutil.which("nginx") and not os.access("/usr/sbin/nginx", os.X_OK):
            raise RuntimeError("nginx missing: install nginx-light (scripts/install-deps.sh)")
        try:
            self._mkdtemp()  # 0755: the workers (www-data) read html/ under it
            html = os.path.join(self.tmp, "html")
            os.mkdir(html, 0o755)
            with open(os.path.join(html, "index.html"), "w") as f:
                f.write("<html><body>glimpse test page</body></html>\n")
            with open(os.path.join(html, "hello.txt"), "w") as f:
                f.write("hello\n" * 100)
            with open(os.path.join(html, "big.bin"), "wb") as f:
                f.write(os.urandom(1 << 16) * (self.big_size >> 16))
            for name in os.listdir(html):
                os.chmod(os.path.join(html, name), 0o644)
            for attempt in range(5):  # the free port may be taken before nginx binds it
                if self._launch():
                    break
            else:
                raise RuntimeError(f"nginx did not start:\n{self.error_log()}")
        except BaseException:
            self.stop()
            raise
        return self

    def _user(self):
        for u in ("www-data", "nobody"):
            try:
                pwd.getpwnam(u)
                return u
            except KeyError:
                pass
        return "root"

    def _launch(self):
        self.port = free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(_NGINX_CONF.format(user=self._user(), workers=self.workers, tmp=self.tmp, port=self.port))
        for name in ("access.log", "error.log", "nginx.pid"):
            try:
                os.unlink(os.path.join(self.tmp, name))
            except FileNotFoundError:
                pass
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        with open(os.path.join(self.tmp, "stderr.log"), "ab") as log:
            self.proc = subprocess.Popen([nginx, "-c", conf, "-p", self.tmp + "/", "-e", f"{self.tmp}/error.log",
                                          "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True)
        end = time.monotonic() + self.start_timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.proc = None
                if "Address already in use" in self.error_log() + self._log("stderr.log"):
                    return False
                raise RuntimeError(f"nginx exited:\n{self.error_log()}{self._log('stderr.log')}")
            if len(self.worker_pids) == self.workers and _connectable(self.port):
                return True
            time.sleep(0.05)
        raise RuntimeError(f"nginx not ready after {self.start_timeout} s:\n{self.error_log()}")

    @property
    def master_pid(self):
        return self.proc.pid

    @property
    def worker_pids(self):
        """The master's children: its workers (nginx forks no other process here)."""
        return child_pids(self.proc.pid)

    def error_log(self):
        return self._log("error.log")

    def access_entries(self):
        """[(method, path without the query, status, request time s, body bytes, connection,
        request number on the connection, worker pid)], one per line of the access log, in
        the order the requests ended."""
        out = []
        for line in self._log("access.log").splitlines():
            f = line.split("\t")
            if len(f) != 8:
                raise AssertionError(f"access log line not in the expected format: {line!r}")
            out.append((f[0], f[1].split("?", 1)[0], int(f[2]), float(f[3]), int(f[4]), int(f[5]), int(f[6]), int(f[7])))
        return out

    def access_counts(self):
        """Counter{(method, path, status): requests} from the access log."""
        return Counter((m, p, s) for m, p, s, *_ in self.access_entries())


# -- Python http.server ---------------------------------------------------------------------

class PythonHttpServer(_Server):
    """tests/apps/pyhttp.py (ThreadingHTTPServer, HTTP/1.1 keep-alive), see its docstring.

    Ground truth: counts(), one GET /counts (counted by the service itself, see pyhttp.py)."""

    prefix = "glimpse-pyhttp-"

    def __init__(self, start_timeout=15.0):
        super().__init__()
        self.start_timeout = start_timeout

    def start(self):
        try:
            self._mkdtemp()
            for attempt in range(5):
                if self._launch():
                    break
            else:
                raise RuntimeError(f"pyhttp did not start:\n{self._log('stderr.log')}")
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self):
        port = free_port()
        with open(os.path.join(self.tmp, "stderr.log"), "ab") as log:
            self.proc = subprocess.Popen([sys.executable, PYHTTP, str(port)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        r, _, _ = select.select([self.proc.stdout], [], [], self.start_timeout)
        line = self.proc.stdout.readline().decode() if r else ""
        if not line.startswith("ready "):
            _stop_group(self.proc, signal.SIGKILL)
            self.proc = None
            if "Address already in use" in self._log("stderr.log"):
                return False
            raise RuntimeError(f"pyhttp did not start: {line!r}\n{self._log('stderr.log')}")
        _, pid, addr = line.split()
        assert int(pid) == self.proc.pid
        self.port = int(addr.rsplit(":", 1)[1])
        return True

    def counts(self):
        """Counter{(method, path, status): requests} as the service counted them, this very
        GET /counts included (once more per call)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/counts")
            r = c.getresponse()
            assert r.status == 200, r.status
            rows = json.loads(r.read())
        finally:
            c.close()
        return Counter({(m, p, s): n for m, p, s, n in rows})


# -- Redis ----------------------------------------------------------------------------------

def _resp_command(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class _RespReader:
    def __init__(self, sock):
        self.f = sock.makefile("rb")

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed by redis")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ConnectionError(f"unexpected reply from redis: {line!r}")


class RedisError(Exception):
    pass


class Redis(_Server):
    """redis-server on 127.0.0.1:port and a unix socket (sock), no persistence, files in tmp.

    Ground truth: commandstats(), from INFO commandstats (per command, subcommands as
    "config|get": calls, the commands that ran, failed_calls, those of them that failed, and
    rejected_calls, those refused before running, e.g. for a wrong number of arguments), and
    errorstats(), from INFO errorstats (replies per error prefix: ERR, WRONGTYPE...).
    Accounting for the helpers' own commands, each sent on its own connection
    with no handshake (RESP2, no HELLO, no CLIENT SETNAME): reset_stats() sends CONFIG RESETSTAT,
    which Redis counts after the reset, so commandstats() afterwards shows config|resetstat: 1;
    commandstats() and errorstats() send INFO, which is counted after its own reply is made, so a
    read never shows itself, but later reads do (info: +1 per earlier read)."""

    prefix = "glimpse-redis-"

    def __init__(self, start_timeout=15.0):
        super().__init__()
        self.start_timeout = start_timeout

    @property
    def sock(self):
        return os.path.join(self.tmp, "redis.sock")

    def start(self):
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server missing: install redis-server (scripts/install-deps.sh)")
        try:
            self._mkdtemp(0o700)
            for attempt in range(5):
                if self._launch():
                    break
            else:
                raise RuntimeError(f"redis-server did not start:\n{self._log('redis.log')}")
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self):
        self.port = free_port()
        with open(os.path.join(self.tmp, "stderr.log"), "ab") as log:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.tmp, "--unixsocket", self.sock, "--unixsocketperm", "700",
                 "--daemonize", "no", "--logfile", os.path.join(self.tmp, "redis.log"), "--databases", "1"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        end = time.monotonic() + self.start_timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.proc = None
                if "Address already in use" in self._log("redis.log"):
                    return False
                raise RuntimeError(f"redis-server exited:\n{self._log('redis.log')}{self._log('stderr.log')}")
            if os.path.exists(self.sock) and _connectable(self.port):
                return True
            time.sleep(0.05)
        raise RuntimeError(f"redis-server not ready after {self.start_timeout} s:\n{self._log('redis.log')}")

    def command(self, *args, unix=False):
        """One command on a fresh connection; the reply (str, int, bytes, list, None or a
        RedisError instance for an error reply)."""
        fam, addr = (socket.AF_UNIX, self.sock) if unix else (socket.AF_INET, ("127.0.0.1", self.port))
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(addr)
            s.sendall(_resp_command(*args))
            return _RespReader(s).read()

    def reset_stats(self):
        """CONFIG RESETSTAT (counted afterwards: config|resetstat 1)."""
        r = self.command("CONFIG", "RESETSTAT")
        assert r == "OK", r

    def _info(self, section, prefix):
        out = {}
        for line in self.command("INFO", section).decode().splitlines():
            if line.startswith(prefix):
                name, fields = line[len(prefix):].split(":", 1)
                out[name] = dict(x.split("=", 1) for x in fields.split(","))
        return out

    def commandstats(self):
        """{command: {"calls": n, "failed_calls": n, "rejected_calls": n}} from INFO
        commandstats, e.g. {"get": {"calls": 1000, ...}, "config|get": {...}}; this read itself
        is not in it (see the class docstring)."""
        return {name: {k: int(kv.get(k, 0)) for k in ("calls", "failed_calls", "rejected_calls")}
                for name, kv in self._info("commandstats", "cmdstat_").items()}

    def errorstats(self):
        """{error prefix: replies} from INFO errorstats, e.g. {"WRONGTYPE": 1}."""
        return {name: int(kv["count"]) for name, kv in self._info("errorstats", "errorstat_").items()}

    def benchmark_cmd(self, n, tests="get,set", clients=4, pipeline=1, unix=False, extra=()):
        """argv of redis-benchmark against this server (-q: one line per test)."""
        where = ["-s", self.sock] if unix else ["-h", "127.0.0.1", "-p", str(self.port)]
        return ["redis-benchmark", *where, "-n", str(n), "-t", tests, "-c", str(clients), "-P", str(pipeline),
                "-q", *extra]

    def benchmark(self, n, tests="get,set", clients=4, pipeline=1, unix=False, extra=()):
        out = subprocess.run(self.benchmark_cmd(n, tests, clients, pipeline, unix, extra),
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"redis-benchmark failed ({out.returncode}):\n{out.stdout}{out.stderr}")
        return out.stdout
