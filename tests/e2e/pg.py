# SPDX-License-Identifier: Apache-2.0
"""A throw-away PostgreSQL server for tests (no test functions here).

Uses Debian's binaries (/usr/lib/postgresql/15/bin) directly, never the package's own cluster
(scripts/install-deps.sh disables it, and it may or may not be running: we share nothing with
it). The server runs as the `postgres` OS user (PostgreSQL refuses to run as root), keeps its
data directory and unix socket in a fresh temp dir owned by that user, listens on 127.0.0.1
only at a free port, trusts every local connection, and is tuned for speed, not durability.

    with PostgresServer() as pg:          # or: pg = PostgresServer(); pg.start(); ...; pg.stop()
        pg.dsn   # postgres://postgres@127.0.0.1:PORT/glimpse_test?sslmode=disable
        pg.query("SELECT count(*) FROM users")   # -> [["3"]] (psql, text values)

stop() shuts the server down (fast shutdown, SIGKILL after 10 s) and removes the temp dir; it
is idempotent and also runs at interpreter exit if a test forgot it.

Options, all off by default: settings={name: value} adds or overrides server settings;
preload=("pg_stat_statements",) loads that module at start and creates its extension in the
test database, the ground truth of per-statement calls (stat_statements()). The server also
listens on a unix socket in its temp dir (unix_dir), and pgbench()/pgbench_cmd() drive it over
TCP or that socket; postmaster_pid and child_pids() name its processes.
"""
import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PG_VERSION = 15
PG_BIN = f"/usr/lib/postgresql/{PG_VERSION}/bin"
PG_USER = "postgres"
DBNAME = "glimpse_test"

# Durability off: a test database is thrown away anyway.
_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "shared_buffers": "32MB",
    "dynamic_shared_memory_type": "mmap",  # no dependence on the size of /dev/shm
    "max_wal_senders": "0",
    "wal_level": "minimal",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd):
    """cmd run as the postgres OS user (setpriv execs: the child pid is cmd's own pid)."""
    return ["setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups", *cmd]


class PostgresServer:
    """One private PostgreSQL server; see the module docstring."""

    def __init__(self, dbname=DBNAME, start_timeout=30.0, settings=None, preload=()):
        self.dbname = dbname
        self.start_timeout = start_timeout
        self.settings = dict(_SETTINGS, **(settings or {}))
        self.preload = tuple(preload)
        if self.preload:
            self.settings["shared_preload_libraries"] = ",".join(self.preload)
        self.tmp = None
        self.proc = None
        self.port = None
        self.dsn = None
        self.timings = {}  # seconds: initdb, start, createdb

    # -- lifecycle -------------------------------------------------------------------------

    def start(self):
        """Creates, starts and waits for the server; returns the DSN."""
        for b in ("initdb", "postgres", "psql", "pg_isready"):
            if not os.access(os.path.join(PG_BIN, b), os.X_OK):
                raise RuntimeError(f"{PG_BIN}/{b} missing: install the postgresql package "
                                   "(scripts/install-deps.sh)")
        for lib in self.preload:
            if not os.path.exists(f"/usr/lib/postgresql/{PG_VERSION}/lib/{lib}.so"):
                raise RuntimeError(f"PostgreSQL module {lib} missing (postgresql-contrib)")
        pw = pwd.getpwnam(PG_USER)
        atexit.register(self.stop)
        try:
            # Directly under /tmp, whatever $TMPDIR or pytest's tmp_path say: postgres must be
            # able to enter it (pytest's dirs are 0700 root) and the unix socket path must stay
            # under its 107-byte limit.
            self.tmp = tempfile.mkdtemp(prefix="glimpse-pg-", dir="/tmp")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            os.chmod(self.tmp, 0o700)
            t = time.monotonic()
            self._run_as_postgres([f"{PG_BIN}/initdb", "-D", self.datadir, "-U", PG_USER,
                                   "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
                                   "--no-instructions"])
            self.timings["initdb"] = time.monotonic() - t
            t = time.monotonic()
            for attempt in range(5):  # the free port may be taken before postgres binds it
                if self._launch():
                    break
            else:
                raise RuntimeError(f"postgres did not start:\n{self.log()}")
            self.timings["start"] = time.monotonic() - t
            t = time.monotonic()
            self.query(f'CREATE DATABASE "{self.dbname}"', dbname="postgres")
            self.timings["createdb"] = time.monotonic() - t
            if "pg_stat_statements" in self.preload:
                self.query("CREATE EXTENSION pg_stat_statements")
        except BaseException:
            self.stop()
            raise
        self.dsn = f"postgres://{PG_USER}@127.0.0.1:{self.port}/{self.dbname}?sslmode=disable"
        return self.dsn

    def stop(self):
        """Stops the server and removes its files; safe to call more than once."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)  # fast shutdown: ends backends, checkpoints
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        atexit.unregister(self.stop)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- helpers ---------------------------------------------------------------------------

    @property
    def datadir(self):
        return os.path.join(self.tmp, "data")

    def log(self):
        try:
            with open(os.path.join(self.tmp, "postgres.log"), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def query(self, sql, dbname=None):
        """Runs SQL through psql over TCP; returns the rows as lists of text values."""
        out = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                              "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER,
                              "-d", dbname or self.dbname, "-c", sql],
                             capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, PGCONNECT_TIMEOUT="5", PGSSLMODE="disable"))
        if out.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    @property
    def unix_dir(self):
        """The directory of the server's unix socket (.s.PGSQL.PORT), psql's and pgbench's -h."""
        return self.tmp

    @property
    def postmaster_pid(self):
        """The postmaster (setpriv execs postgres: the Popen pid is the server's own)."""
        return self.proc.pid

    def child_pids(self):
        """The postmaster's live children now: background processes and one backend per
        client connection."""
        out = []
        for d in os.listdir("/proc"):
            try:
                with open(f"/proc/{d}/stat") as f:
                    state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            if int(ppid) == self.proc.pid and state != "Z":
                out.append(int(d))
        return sorted(out)

    def client_env(self):
        return dict(os.environ, PGCONNECT_TIMEOUT="5", PGSSLMODE="disable")

    def pgbench_cmd(self, *args, unix=False):
        """argv of pgbench against the test database, over TCP or (unix=True) the unix socket."""
        host = self.unix_dir if unix else "127.0.0.1"
        return [f"{PG_BIN}/pgbench", "-h", host, "-p", str(self.port), "-U", PG_USER, *args, self.dbname]

    def pgbench(self, *args, unix=False, timeout=120):
        """Runs pgbench (e.g. "-i", "-q" to initialize; "-n", "-c", "4", "-t", "50" to load);
        its stdout. pgbench -i is not a load: tables, data, vacuum, keys."""
        out = subprocess.run(self.pgbench_cmd(*args, unix=unix), capture_output=True, text=True,
                             timeout=timeout, env=self.client_env())
        if out.returncode != 0:
            raise RuntimeError(f"pgbench {' '.join(args)} failed ({out.returncode}):\n{out.stdout}{out.stderr}")
        return out.stdout

    def stat_statements_reset(self):
        """Empties pg_stat_statements (the reset call itself is then recorded, with a text that
        names pg_stat_statements, so stat_statements() leaves it out)."""
        self.query("SELECT pg_stat_statements_reset()")

    def stat_statements(self):
        """[(query, calls)] from pg_stat_statements, every database and user, leaving out the
        statements that name pg_stat_statements: this read (one SELECT, which the server runs:
        a tracer at the server sees it) and the reset."""
        rows = self.query("SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
                          "WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC")
        return [(q, int(c)) for c, q in rows]

    def operation_calls(self):
        """{first keyword upper-cased: calls} of stat_statements() (one SELECT of its own)."""
        out = {}
        for q, calls in self.stat_statements():
            m = re.match(r"\s*([A-Za-z]+)", q)
            op = m.group(1).upper() if m else ""
            out[op] = out.get(op, 0) + calls
        return out

    def _run_as_postgres(self, cmd):
        out = subprocess.run(_as_postgres(cmd), cwd=self.tmp, capture_output=True, text=True,
                             timeout=120, env=self._env())
        if out.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({out.returncode}):\n{out.stdout}{out.stderr}")

    def _env(self):
        return {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "HOME": self.tmp,
                "TZ": "UTC", "PGTZ": "UTC"}

    def _launch(self):
        """Starts postgres on a fresh free port; True once it accepts connections."""
        self.port = _free_port()
        args = [f"{PG_BIN}/postgres", "-D", self.datadir, "-p", str(self.port), "-k", self.tmp]
        for k, v in self.settings.items():
            args += ["-c", f"{k}={v}"]
        with open(os.path.join(self.tmp, "postgres.log"), "ab") as log:
            self.proc = subprocess.Popen(_as_postgres(args), cwd=self.tmp, env=self._env(),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)  # no ^C from the terminal
        end = time.monotonic() + self.start_timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.proc = None
                return False  # e.g. the port was taken meanwhile: the caller retries
            # pg_isready: 0 accepting, 1 rejecting (starting up), 2 no response, 3 bad args.
            r = subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port),
                                "-U", PG_USER, "-d", "postgres", "-t", "1"], timeout=10)
            if r.returncode == 0:
                return True
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        raise RuntimeError(f"postgres not ready after {self.start_timeout} s:\n{self.log()}")
