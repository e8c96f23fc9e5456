# SPDX-License-Identifier: Apache-2.0
"""glimpse attach on processes that are not Go, measured at their socket system calls: nginx (a
master and forked workers), Python's http.server and http.client, PostgreSQL (postmaster and its backends, and
pgbench as a client), Redis, and hostile bytes. Each test names its ground truth, which is
never glimpse: the server's own accounting (nginx's access log, the Python service's counters,
pg_stat_statements, Redis's INFO commandstats/errorstats) or the exact requests the test sent.

Every test waits for glimpse's "attached" before the measured traffic, and lets the counts
settle (wait until the expected total shows, then a little longer so an over-count would show
too) before comparing them exactly. Traffic the test itself sends to read the ground truth is
accounted for exactly, test by test (see each docstring).

Skipped as a whole while `glimpse attach --help` does not mention socket capture.
"""
import http.client
import json
import os
import sys
import random
import re
import socket
import subprocess
import threading
import time
from collections import Counter

import pytest

from conftest import GLIMPSE, metric_value, wait_for
from pg import PostgresServer
from servers import Nginx, PythonHttpServer, Redis

HTTP_SERVER = "http_server_request_duration_seconds"
HTTP_CLIENT = "http_client_request_duration_seconds"
DB_CLIENT = "db_client_operation_duration_seconds"
DB_SERVER = "db_server_operation_duration_seconds"
UNPARSEABLE = "glimpse_socket_unparseable_total"
UNANSWERED = "glimpse_socket_unanswered_total"


def _socket_capture():
    """(True, "") if this glimpse's attach can capture at the socket calls, else (False, why)."""
    if not os.access(GLIMPSE, os.X_OK):
        return False, f"{GLIMPSE} is not built"
    try:
        out = subprocess.run([GLIMPSE, "attach", "--help"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"glimpse attach --help failed: {e}"
    if not re.search(r"\bsocket", out.stdout + out.stderr, re.IGNORECASE):
        return False, "glimpse attach --help does not mention socket capture: this build cannot measure non-Go processes yet"
    return True, ""


_CAPTURE, _WHY = _socket_capture()
pytestmark = pytest.mark.skipif(not _CAPTURE, reason=_WHY)


# -- helpers --------------------------------------------------------------------------------

@pytest.fixture
def attach(run_glimpse):
    """glimpse attach -p PID in the background, ready once it logs "attached", /metrics on a
    free port."""
    return lambda pid, *extra: run_glimpse("attach", "-p", str(pid), "--no-live", *extra, prometheus=True)


def settled(g, name, total, timeout=15, **labels):
    """The scrape once metric `name` (labels) has reached total, plus 0.5 s more so that
    anything counted twice or late shows as well; the exact comparisons follow."""
    wait_for(lambda: g.value(name, **labels) >= total, timeout=timeout)
    time.sleep(0.5)
    samples = g.scrape()
    assert samples is not None, f"no /metrics: {g.stderr()}"
    return samples


def series(samples, name, *labels, **where):
    """Counter{(label values...): sum} of metric `name` over the samples whose labels include
    `where`; an absent label reads as ""."""
    out = Counter()
    for n, l, v in samples:
        if n == name and all(l.get(k, "") == str(x) for k, x in where.items()) and v:
            out[tuple(l.get(k, "") for k in labels)] += int(v)
    return out


def http_route(path, status):
    """The route glimpse is to report for a path the tests send: id-like (here: numeric)
    segments become {id}; none for 404 and 405."""
    if status in (404, 405):
        return ""
    return "/".join("{id}" if seg.isdigit() else seg for seg in path.split("?", 1)[0].split("/"))


def request_all(port, requests):
    """Sends (method, path, body) requests in order on one keep-alive http.client connection
    (which reconnects by itself after a response that closes it); [(method, path, status)]."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    got = []
    try:
        for method, path, body in requests:
            c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
            r = c.getresponse()
            r.read()
            got.append((method, path.split("?", 1)[0], r.status))
    finally:
        c.close()
    return got


# A request mix with every status the test servers give (nginx: tests/e2e/servers.py Nginx;
# Python: tests/apps/pyhttp.py). /fail answers 500 and nginx closes the connection after it.
NGINX_MIX = ([("GET", "/index.html", None)] * 4 + [("GET", f"/users/{i}", None) for i in (1, 22, 333, 4444)]
             + [("GET", "/hello.txt", None)] * 2 + [("GET", "/missing", None)] * 3 + [("GET", "/gone", None)] * 2
             + [("POST", "/created", b'{"name":"x"}')] * 3 + [("GET", "/fail", None)] * 2
             + [("POST", "/index.html", b"{}")])
PY_MIX = ([("GET", f"/users/{i}", None) for i in (1, 2, 30, 400, 5000, 1)] + [("GET", "/fail", None)] * 3
          + [("GET", "/missing", None)] * 2 + [("GET", "/nowhere", None)]
          + [("POST", "/created", b'{"name":"%d"}' % i) for i in range(4)])


def wait_log(ngx, n, timeout=10):
    """The access log once it has n entries (nginx writes each as its request ends)."""
    assert wait_for(lambda: len(ngx.access_entries()) >= n, timeout=timeout), ngx.access_entries()
    return ngx.access_entries()


# -- HTTP servers ---------------------------------------------------------------------------

def test_nginx_master_and_workers(attach):
    """Attached to the nginx master, glimpse measures the requests its forked workers serve.
    Ground truth: nginx's access log, which must also agree with what the client saw. The mix
    runs on two keep-alive connections at once, then new connections, one request each, until
    both workers have served (the log says which worker served each request)."""
    with Nginx() as ngx:
        workers = ngx.worker_pids
        assert len(workers) == 2
        a = attach(ngx.master_pid)
        sent = []
        threads = [threading.Thread(target=lambda: sent.extend(request_all(ngx.port, NGINX_MIX))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = wait_log(ngx, len(sent))
        for _ in range(50):
            if {e[7] for e in log} >= set(workers):
                break
            sent += request_all(ngx.port, [("GET", "/hello.txt", None)])
            log = wait_log(ngx, len(sent))
        assert {e[7] for e in log} == set(workers), "one worker served everything"
        truth = Counter((m, p, s) for m, p, s, *_ in log)
        assert truth == Counter(sent)
        total = sum(truth.values())

        samples = settled(a, HTTP_SERVER + "_count", total)
        text = a.scrape_text()
        by_status = series(samples, HTTP_SERVER + "_count", "http_request_method", "http_response_status_code")
        want = Counter()
        for (m, p, s), n in truth.items():
            want[(m, str(s))] += n
        assert by_status == want, text
        by_route = series(samples, HTTP_SERVER + "_count", "http_request_method", "http_response_status_code",
                          "http_route")
        want = Counter()
        for (m, p, s), n in truth.items():
            want[(m, str(s), http_route(p, s))] += n
        assert by_route == want, text
        assert want[("GET", "200", "/users/{id}")] == 8 and want[("GET", "404", "")] == 10
        assert series(samples, HTTP_SERVER + "_count", "network_protocol_version") == {("1.1",): total}, text
        assert series(samples, HTTP_SERVER + "_count", "server_port") == {(str(ngx.port),): total}, text
        # 5xx carry error.type (as for Go), nothing else does.
        assert metric_value(samples, HTTP_SERVER + "_count", error_type="500") == truth[("GET", "/fail", 500)]
        assert sum(v for n, l, v in samples if n == HTTP_SERVER + "_count" and l.get("error_type")) == 4
        assert metric_value(samples, "glimpse_events_dropped_total") == 0
        assert metric_value(samples, UNANSWERED) == 0, text
        assert a.stop() == 0


# A client the test controls: it prints "ready", waits for a line on stdin, sends its requests
# on one keep-alive connection, prints "done" and waits for stdin to close.
HTTP_CLIENT_SCRIPT = """\
import http.client, json, sys
port, requests = int(sys.argv[1]), json.loads(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for method, path, body in requests:
    c.request(method, path, body=body and body.encode())
    c.getresponse().read()
c.close()
print("done", flush=True)
sys.stdin.read()
"""


def test_python_http_client(attach, tmp_path):
    """Attached to a Python process that is an HTTP client (http.client, keep-alive), glimpse
    measures its calls to nginx. The client waits until glimpse is attached, then sends the
    mix and stays alive until the counts are compared. Ground truth: nginx's access log."""
    script = tmp_path / "client.py"
    script.write_text(HTTP_CLIENT_SCRIPT)
    mix = [(m, p, b and b.decode()) for m, p, b in NGINX_MIX]
    with Nginx() as ngx:
        client = subprocess.Popen([sys.executable, str(script), str(ngx.port), json.dumps(mix)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert client.stdout.readline() == "ready\n"
            a = attach(client.pid)
            client.stdin.write("go\n")
            client.stdin.flush()
            assert client.stdout.readline() == "done\n"
            log = wait_log(ngx, len(mix))
            truth = Counter((m, str(s)) for m, p, s, *_ in log)
            assert sum(truth.values()) == len(mix)
            samples = settled(a, HTTP_CLIENT + "_count", len(mix))
            text = a.scrape_text()
            got = series(samples, HTTP_CLIENT + "_count", "http_request_method", "http_response_status_code")
            assert got == truth, text
            assert series(samples, HTTP_CLIENT + "_count", "server_address", "server_port") == \
                {("127.0.0.1", str(ngx.port)): len(mix)}, text
            assert metric_value(samples, HTTP_SERVER + "_count") == 0, text
            assert a.stop() == 0
        finally:
            client.kill()
            client.wait()


def test_python_http_server(attach):
    """Python's http.server (tests/apps/pyhttp.py, a thread per connection), two keep-alive
    connections at once. Ground truth: the service's own counts from one GET /counts at the
    end, which counts that very request, so glimpse must show exactly those counts, the
    /counts request included; the counts also match what the client saw."""
    with PythonHttpServer() as py:
        a = attach(py.pid)
        sent = []
        threads = [threading.Thread(target=lambda: sent.extend(request_all(py.port, PY_MIX))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        truth = py.counts()
        assert truth - Counter({("GET", "/counts", 200): 1}) == Counter(sent)
        total = sum(truth.values())

        samples = settled(a, HTTP_SERVER + "_count", total)
        text = a.scrape_text()
        got = series(samples, HTTP_SERVER + "_count", "http_request_method", "http_response_status_code", "http_route")
        want = Counter()
        for (m, p, s), n in truth.items():
            want[(m, str(s), http_route(p, s))] += n
        assert got == want, text
        assert want[("GET", "200", "/users/{id}")] == 12 and want[("POST", "201", "/created")] == 8
        assert series(samples, HTTP_SERVER + "_count", "server_port") == {(str(py.port),): total}, text
        assert metric_value(samples, HTTP_SERVER + "_count", error_type="500") == 6
        assert metric_value(samples, UNANSWERED) == 0, text
        assert a.stop() == 0


# -- PostgreSQL -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pg():
    """One PostgreSQL for the module, pg_stat_statements loaded, pgbench tables initialized
    (pgbench -i: not measured, nothing is attached yet); autovacuum off so that no background
    work runs statements."""
    with PostgresServer(preload=("pg_stat_statements",), settings={"autovacuum": "off"}) as server:
        server.pgbench("-i", "-q")
        yield server


# pgbench's built-in (TPC-B like) transaction: its statements, by the table each touches.
PGBENCH_TABLES = {("SELECT", "pgbench_accounts"), ("UPDATE", "pgbench_accounts"), ("UPDATE", "pgbench_tellers"),
                  ("UPDATE", "pgbench_branches"), ("INSERT", "pgbench_history")}


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_postgres_server_side(pg, attach, transport):
    """Attached to the postmaster, glimpse measures the statements of the backends it forks
    for pgbench's 4 clients (processes that did not exist at attach time), over TCP or the
    unix socket. Ground truth: pg_stat_statements' calls, reset before attaching, summed by
    first keyword. The read of pg_stat_statements is one SELECT more that the server runs
    (after the snapshot it reads, which leaves it out): glimpse sees SELECT + 1. pgbench's own
    start-up statements (the scale and partition lookups) are in both. Then one failing
    statement from psql: 1 SELECT with error.type 42P01 (SQLSTATE undefined_table), which
    pg_stat_statements does not record (it keeps successful statements only)."""
    pg.stat_statements_reset()
    a = attach(pg.postmaster_pid)
    out = pg.pgbench("-n", "-c", "4", "-t", "50", unix=transport == "unix")
    assert "number of transactions actually processed: 200/200" in out, out
    ops = Counter(pg.operation_calls())
    assert ops["BEGIN"] == ops["END"] == 200 and ops["UPDATE"] == 600, ops
    ops["SELECT"] += 1  # the read just made
    total = sum(ops.values())

    samples = settled(a, DB_SERVER + "_count", total)
    text = a.scrape_text()
    got = series(samples, DB_SERVER + "_count", "db_operation_name", db_system_name="postgresql")
    assert got == Counter({(op,): n for op, n in ops.items()}), text
    assert series(samples, DB_SERVER + "_count", "db_system_name") == {("postgresql",): total}, text
    for op, table in PGBENCH_TABLES:
        assert metric_value(samples, DB_SERVER + "_count", db_operation_name=op, db_collection_name=table) == 200, \
            f"{op} {table}\n{text}"
    assert metric_value(samples, DB_SERVER + "_count", db_operation_name="BEGIN", db_collection_name="") == 200
    assert sum(v for n, l, v in samples if n == DB_SERVER + "_count" and l.get("error_type")) == 0, text

    with pytest.raises(RuntimeError, match="no_such_table"):
        pg.query("SELECT * FROM no_such_table")
    samples = settled(a, DB_SERVER + "_count", total + 1)
    assert metric_value(samples, DB_SERVER + "_count") == total + 1, a.scrape_text()
    assert metric_value(samples, DB_SERVER + "_count", error_type="42P01") == 1, a.scrape_text()
    assert metric_value(samples, DB_SERVER + "_count", error_type="42P01", db_operation_name="SELECT") == 1
    assert a.stop() == 0


PGBENCH_SCRIPT = """\
\\set n :n + 1
\\if :n = 1
\\shell sh -c 'while [ ! -e {start} ]; do sleep 0.02; done'
\\endif
\\set aid random(1, 100000)
\\set tid random(1, 10)
BEGIN;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = :tid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, 1, :aid, 1, CURRENT_TIMESTAMP);
END;
\\if :n = {transactions}
\\shell sh -c 'while [ ! -e {end} ]; do sleep 0.02; done'
\\endif
"""


def test_postgres_client_side(pg, attach, tmp_path):
    """Attached to pgbench, a client: glimpse measures the statements it sends. pgbench runs a
    script of its own (-f: no start-up statements), one client and one connection, which it
    opens before glimpse attaches (glimpse must recognize PostgreSQL from the messages that
    follow, as when attaching to any running client); the script holds the first transaction
    until the test creates a start file, and the last one until it creates an end file, so
    every statement is sent while glimpse is attached, and pgbench is still alive (and its
    metrics still served) when they are compared. Ground truth: pg_stat_statements' calls at
    the server (reset before; its own read is psql's, not pgbench's), and once pgbench ends,
    its own count of transactions: 40 × the script's 5 statements."""
    n = 40
    start, end = tmp_path / "start", tmp_path / "end"
    script = tmp_path / "txn.sql"
    script.write_text(PGBENCH_SCRIPT.format(start=start, end=end, transactions=n))
    pg.stat_statements_reset()
    bench = subprocess.Popen(pg.pgbench_cmd("-n", "-c", "1", "-t", str(n), "-D", "n=0", "-f", str(script)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=pg.client_env())
    try:
        a = attach(bench.pid)
        start.touch()
        assert wait_for(lambda: sum(pg.operation_calls().values()) >= 5 * n, timeout=20), pg.operation_calls()
        ops = Counter(pg.operation_calls())
        assert ops == Counter({"BEGIN": n, "SELECT": n, "UPDATE": n, "INSERT": n, "END": n}), ops

        samples = settled(a, DB_CLIENT + "_count", 5 * n)
        text = a.scrape_text()
        got = series(samples, DB_CLIENT + "_count", "db_operation_name", db_system_name="postgresql")
        assert got == Counter({(op,): c for op, c in ops.items()}), text
        assert series(samples, DB_CLIENT + "_count", "db_system_name") == {("postgresql",): 5 * n}, text
        for op, table in (("SELECT", "pgbench_accounts"), ("UPDATE", "pgbench_tellers"),
                          ("INSERT", "pgbench_history")):
            assert metric_value(samples, DB_CLIENT + "_count", db_operation_name=op, db_collection_name=table) == n, text
        assert sum(v for n_, l, v in samples if n_ == DB_CLIENT + "_count" and l.get("error_type")) == 0, text
        assert a.stop() == 0
        end.touch()
        out, err = bench.communicate(timeout=30)
        assert f"number of transactions actually processed: {n}/{n}" in out, out + err
    finally:
        end.touch()
        start.touch()
        if bench.poll() is None:
            bench.kill()
        bench.wait()


# -- Redis ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def redis():
    with Redis() as server:
        yield server


def redis_operations(stats):
    """{COMMAND: calls} from Redis.commandstats(), a container command's subcommand after it, as
    glimpse names the operation ("config|get" is CONFIG GET)."""
    out = Counter()
    for name, st in stats.items():
        out[name.replace("|", " ").upper()] += st["calls"] + st["rejected_calls"]
    return out


@pytest.mark.parametrize("pipeline", [1, 16])
def test_redis_server_side(redis, attach, pipeline):
    """Attached to redis-server, glimpse measures the commands redis-benchmark sends (2000 GET,
    2000 SET from 4 clients, each command on its own or 16 in one write), and, unpipelined,
    three more from the test: SET, then LPUSH on that string key (WRONGTYPE) and INCR with too
    many arguments (ERR, rejected before it runs). Ground truth: INFO commandstats (calls +
    rejected_calls per command) and INFO errorstats, reset (CONFIG RESETSTAT) before
    attaching. Exact accounting of the test's own commands: the reset itself shows afterwards
    as config|resetstat 1, sent before glimpse attached: CONFIG RESETSTAT - 1; each INFO read is counted
    by Redis only after its reply, so commandstats shows the errorstats read but not itself:
    INFO + 1."""
    redis.reset_stats()
    a = attach(redis.pid)
    redis.benchmark(2000, tests="get,set", clients=4, pipeline=pipeline)
    errors = Counter()
    if pipeline == 1:
        assert redis.command("SET", "glimpse:k", "v") == "OK"
        assert str(redis.command("LPUSH", "glimpse:k", "x")).startswith("WRONGTYPE")
        assert str(redis.command("INCR", "glimpse:k", "x")).startswith("ERR")
        errors = Counter(redis.errorstats())
        assert errors == Counter({"WRONGTYPE": 1, "ERR": 1}), errors
    ops = redis_operations(redis.commandstats())
    assert ops["GET"] == 2000 and ops["SET"] == 2000 + (pipeline == 1), ops
    ops["CONFIG RESETSTAT"] -= 1  # the reset, before attaching
    ops["INFO"] += 1  # the last read, which Redis counts only after answering it
    ops = +ops
    total = sum(ops.values())

    samples = settled(a, DB_SERVER + "_count", total)
    text = a.scrape_text()
    got = series(samples, DB_SERVER + "_count", "db_operation_name", db_system_name="redis")
    assert got == Counter({(op,): n for op, n in ops.items()}), text
    assert series(samples, DB_SERVER + "_count", "db_system_name") == {("redis",): total}, text
    got_errors = series(samples, DB_SERVER + "_count", "error_type")
    del got_errors[("",)]
    assert got_errors == Counter({(e,): n for e, n in errors.items()}), text
    if pipeline == 1:
        assert metric_value(samples, DB_SERVER + "_count", db_operation_name="LPUSH", error_type="WRONGTYPE") == 1
        assert metric_value(samples, DB_SERVER + "_count", db_operation_name="INCR", error_type="ERR") == 1
    assert metric_value(samples, UNPARSEABLE) == 0, text
    assert a.stop() == 0


# -- hostile bytes --------------------------------------------------------------------------

def _exchange(port, data, read=True, nodelay=False, chunk_delay=None):
    """Sends data on a new connection (one byte per send with chunk_delay), then reads until
    the server closes; the bytes read. Errors from a server that gave up are expected."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    got = b""
    try:
        if nodelay or chunk_delay is not None:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if chunk_delay is not None:
            for i in range(len(data)):
                s.send(data[i:i + 1])
                time.sleep(chunk_delay)
        else:
            s.sendall(data)
        while read:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return got


def hostile_traffic(port):
    """The hostile part of test_hostile_bytes, on its own connections; returns the well-formed
    requests it made as [(method, path, status)], the client's view."""
    well = []
    rnd = random.Random(7)
    # 1. Binary garbage that starts like a TLS ClientHello: nginx answers 400.
    garbage = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) + rnd.randbytes(4085)
    _exchange(port, garbage)
    _exchange(port, rnd.randbytes(512) + b"\r\n\r\n")
    # 2. A 64 KiB request line: nginx answers 414 (or resets the connection).
    _exchange(port, b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    # 3. A request split into 1-byte writes, 5 ms apart, then a normal one on the same connection.
    req = b"GET /users/77 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(req)):
        s.send(req[i:i + 1])
        time.sleep(0.005)
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    resp = b""
    while (b := s.recv(65536)):
        resp += b
    s.close()
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", resp)
    assert statuses == [b"200", b"200"], resp[:300]
    well += [("GET", "/users/77", 200), ("GET", "/index.html", 200)]
    # 4. 10 pipelined requests in one write; the last, /fail (500), makes nginx close.
    batch = [("GET", f"/users/{i}", b"", 200) for i in range(100, 104)] + [
        ("GET", "/missing", b"", 404), ("GET", "/gone", b"", 404), ("GET", "/hello.txt", b"", 200),
        ("POST", "/created", b"hello", 201), ("GET", "/index.html", b"", 200), ("GET", "/fail", b"", 500)]
    data = b"".join(b"%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s"
                    % (m.encode(), p.encode(), len(body), body) for m, p, body, _ in batch)
    resp = _exchange(port, data, nodelay=True)
    statuses = [int(x) for x in re.findall(rb"HTTP/1\.1 (\d{3}) ", resp)]
    assert statuses == [st for *_, st in batch], resp[:500]
    well += [(m, p, st) for m, p, _, st in batch]
    # 5. A client that closes mid-response: 64 KiB of a 16 MiB file, then close.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = 0
    while got < 65536:
        b = s.recv(65536)
        assert b, "closed early"
        got += len(b)
    s.close()
    return well


def well_formed(path, status):
    """An access log entry of a well-formed exchange (see test_hostile_bytes)."""
    return status not in (400, 414) and path != "/big.bin"


def test_hostile_bytes(attach):
    """What no well-behaved client sends, to nginx's workers: binary garbage, a 64 KiB request
    line, a request in 1-byte writes, 10 pipelined requests in one write (the last a 500, after
    which nginx closes), a client closing mid-way through a 16 MiB response; keep-alive
    requests before and after. glimpse keeps running, counts what could not be parsed, and
    counts every well-formed request exactly. Ground truth: nginx's access log, which also
    agrees with the client's view. The garbage and the overlong line (logged 400 and 414) and
    the cut-short download (logged 200 with fewer bytes) are not well-formed exchanges:
    glimpse may count each at most once, under its own status."""
    with Nginx() as ngx:
        a = attach(ngx.master_pid)
        sent = request_all(ngx.port, [("GET", "/index.html", None), ("GET", "/users/5", None)])
        sent += hostile_traffic(ngx.port)
        sent += request_all(ngx.port, [("GET", "/index.html", None), ("POST", "/created", b"{}"),
                                       ("GET", "/users/6", None)])
        n_hostile = 4  # 2 garbage (400), 1 overlong (414), 1 download cut short
        log = wait_log(ngx, len(sent) + n_hostile)
        assert len(log) == len(sent) + n_hostile, log
        odd = [e for e in log if e[2] in (400, 414) or e[1] == "/big.bin"]
        assert sorted(e[2] for e in odd) == [200, 400, 400, 414], odd
        big = [e for e in odd if e[1] == "/big.bin"]
        assert big[0][4] < ngx.big_size, big  # nginx saw the client go
        truth = Counter((m, p, s) for m, p, s, *_ in log if well_formed(p, s))
        assert truth == Counter(sent)
        total = sum(truth.values())

        assert wait_for(lambda: a.value(UNPARSEABLE) > 0, timeout=10), a.scrape_text()
        samples = settled(a, HTTP_SERVER + "_count", total)
        text = a.scrape_text()
        assert a.proc.poll() is None, a.stderr()
        counted = series(samples, HTTP_SERVER + "_count", "http_request_method", "http_response_status_code",
                         "http_route")
        extra = Counter({k: v for k, v in counted.items() if k[1] in ("400", "414") or k[2] == "/big.bin"})
        assert sum(extra.values()) <= 4, text
        want = Counter()
        for (m, p, s), n in truth.items():
            want[(m, str(s), http_route(p, s))] += n
        assert counted - extra == want, text
        assert metric_value(samples, UNPARSEABLE) > 0
        assert metric_value(samples, "glimpse_events_dropped_total") == 0
        assert a.stop() == 0


def test_python_spans_join_the_caller_and_nest_the_call(run_glimpse, tmp_path):
    """Spans at the sockets of a thread-per-connection server: the request's server span joins the
    trace of the traceparent it carried, and the HTTP call the serving thread made meanwhile is
    its child. Ground truth: the header the test sends, the call /fetch makes (one GET to the
    other service's /users/1), and the other service's own counts."""
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with PythonHttpServer() as front, PythonHttpServer() as back:
        spans_path = tmp_path / "spans.jsonl"
        g = run_glimpse("attach", "-p", str(front.pid), "--no-live", "--spans-out", str(spans_path))
        assert "capture=socket" in g.stderr()
        c = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
        c.request("GET", f"/fetch?port={back.port}", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
        r = c.getresponse()
        assert r.status == 200 and r.read() == b"200\n"
        c.close()
        assert back.counts() == Counter({("GET", "/users/1", 200): 1, ("GET", "/counts", 200): 1})

        def spans():
            return [json.loads(line) for line in spans_path.read_text().splitlines() if line.strip()]
        assert wait_for(lambda: len(spans()) == 2, timeout=10), spans_path.read_text()
        assert g.stop() == 0
        server = next(s for s in spans() if s["kind"] == "server")
        client = next(s for s in spans() if s["kind"] == "client")
        assert server["name"] == "GET /fetch" and server["trace_id"] == trace_id, server
        assert server["parent_span_id"] == parent_id, server
        assert server["attributes"]["server.port"] == front.port
        assert "url.path" not in server["attributes"] and "port=" not in json.dumps(server)
        assert client["trace_id"] == trace_id and client["parent_span_id"] == server["span_id"], client
        assert client["attributes"]["server.port"] == back.port
        assert client["attributes"]["http.response.status_code"] == 200
        assert server["start_unix_ns"] <= client["start_unix_ns"] <= client["end_unix_ns"] <= server["end_unix_ns"]


PEEKING_SERVER = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print("ready", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    buf = b""
    while True:
        if not c.recv(4096, socket.MSG_PEEK):  # a look first, as protocol sniffers do
            break
        buf += c.recv(4096)
        while b"\\r\\n\\r\\n" in buf:
            head, buf = buf.split(b"\\r\\n\\r\\n", 1)
            path = head.split(b" ")[1]
            body = b"ok " + path
            c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%s" % (len(body), body))
    c.close()
"""


def test_peeked_bytes_are_not_read_twice(run_glimpse):
    """A server that peeks at each request (recv MSG_PEEK) before reading it: the peeked bytes
    come again in the real read, and a request seen twice would pair every later response with
    the request before its own. Ground truth: three requests to three paths on one keep-alive
    connection, each answered with its own path."""
    srv = subprocess.Popen([sys.executable, "-c", PEEKING_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline().split()[1])
        g = run_glimpse("attach", "-p", str(srv.pid), "--no-live", prometheus=True)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in ("/alpha", "/beta", "/gamma"):
            c.request("GET", path)
            r = c.getresponse()
            assert r.read() == b"ok " + path.encode()
        c.close()
        assert wait_for(lambda: g.value(HTTP_SERVER + "_count") == 3), g.scrape_text()
        for route in ("/alpha", "/beta", "/gamma"):
            assert g.value(HTTP_SERVER + "_count", http_route=route) == 1, g.scrape_text()
        assert g.value(UNANSWERED) == 0
        assert g.stop() == 0
    finally:
        srv.kill()
        srv.wait()
