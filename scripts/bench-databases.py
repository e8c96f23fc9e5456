#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The databases a benchmark's services need, started the way the tests start them
(tests/e2e/pg.py, tests/e2e/servers.py): a private PostgreSQL and redis-server on free ports.
Prints one line "pg=DSN redis=HOST:PORT", then keeps them until its stdin closes, and stops
them (nothing left behind). Used by scripts/bench-frameworks.sh."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from pg import PostgresServer  # noqa: E402
from servers import Redis  # noqa: E402

# SIGTERM (the benchmark's cleanup) unwinds through the with blocks, which stop the servers.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with PostgresServer() as pg, Redis() as redis:
    print(f"pg={pg.dsn} redis=127.0.0.1:{redis.port}", flush=True)
    sys.stdin.read()
