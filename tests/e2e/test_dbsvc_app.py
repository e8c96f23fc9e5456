# SPDX-License-Identifier: Apache-2.0
"""Sanity of the database test harness itself, no glimpse involved: tests/apps/dbsvc answers
every route as documented on SQLite and on a throw-away PostgreSQL (pg.py), and the rows it
creates are really in the database. One Go build per backend, to stay fast."""
import http.server
import os
import sqlite3
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from conftest import APPS
from pg import PostgresServer

BUILD = {"sqlite": "dbsvc-1.19-stripped", "postgres": "dbsvc-1.23"}
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
SEED_ORDERS = 3


class DbSvc:
    def __init__(self, binary, dsn, *args):
        self.proc = subprocess.Popen([os.path.join(APPS, binary), "-db", dsn, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            self.proc.kill()
            raise AssertionError(f"{binary} did not start: {line!r} {self.proc.communicate()[1]}")
        _, pid, self.addr = line.split()
        assert int(pid) == self.proc.pid

    def get(self, path, headers=None):
        req = urllib.request.Request(f"http://{self.addr}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    """(build, dsn, query): query(sql) returns the rows as lists of strings."""
    if request.param == "sqlite":
        path = tmp_path / "dbsvc.db"

        def query(sql):
            with sqlite3.connect(path) as c:
                return [[str(v) for v in row] for row in c.execute(sql)]
        return BUILD["sqlite"], f"sqlite:{path}", query
    pg = request.getfixturevalue("postgres")
    pg.query("DROP TABLE IF EXISTS users, orders")  # each test starts from an empty database
    return BUILD["postgres"], pg.dsn, pg.query


@pytest.fixture
def services():
    started = []

    def start(*args):
        started.append(DbSvc(*args))
        return started[-1]
    yield start
    for s in started:
        s.stop()


def test_routes(backend, services):
    build, dsn, query = backend
    a = services(build, dsn)
    b = services(build, dsn, "-peer", f"http://{a.addr}")  # same database: setup is idempotent
    assert query("SELECT id, name FROM users ORDER BY id") == [["1", "alice"], ["2", "bob"], ["3", "carol"]]
    assert query("SELECT COUNT(*) FROM orders") == [[str(SEED_ORDERS)]]

    assert a.get("/one") == (200, "alice")
    assert a.get("/many") == (200, str(SEED_ORDERS + 1))
    assert b.get("/many") == (200, str(SEED_ORDERS + 2))
    assert a.get("/spawn") == (200, "bob")
    status, body = a.get("/fail")
    assert status == 500 and "missing_table" in body
    assert b.get("/call") == (200, "alice")
    assert a.get("/call")[0] == 502  # no -peer

    rows = query("SELECT id, user_id, total FROM orders ORDER BY id")
    assert len(rows) == SEED_ORDERS + 2
    assert rows[-2:] == [[str(SEED_ORDERS + 1), "1", "42"], [str(SEED_ORDERS + 2), "1", "42"]]

    # A restart on the existing database keeps the data and seeds nothing more.
    a.stop()
    c = services(build, dsn)
    assert c.get("/many") == (200, str(SEED_ORDERS + 3))
    assert query("SELECT COUNT(*) FROM users") == [["3"]]


def test_call_forwards_traceparent(tmp_path, services):
    seen = []

    class Peer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("traceparent"), self.headers.get("tracestate")))
            self.send_response(418)
            self.end_headers()
            self.wfile.write(b"teapot")

        def log_message(self, *a):
            pass

    peer = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    try:
        dsn = f"sqlite:{tmp_path / 'dbsvc.db'}"
        svc = services(BUILD["sqlite"], dsn, "-peer", f"http://127.0.0.1:{peer.server_address[1]}/")
        assert svc.get("/call", {"traceparent": TRACEPARENT, "tracestate": "k=v"}) == (418, "teapot")
        assert svc.get("/call") == (418, "teapot")
        assert seen == [("/one", TRACEPARENT, "k=v"), ("/one", None, None)]
    finally:
        peer.shutdown()
        peer.server_close()
    assert svc.get("/call")[0] == 502  # peer gone
