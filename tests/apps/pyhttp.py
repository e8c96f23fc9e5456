#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small HTTP/1.1 service on Python's standard library, a non-Go target for glimpse's socket
capture (tests/e2e/test_sockcap.py).

    python3 tests/apps/pyhttp.py PORT        # PORT 0: any free port

Prints "ready PID 127.0.0.1:PORT" once it listens on loopback. ThreadingHTTPServer (a thread
per connection) with protocol_version HTTP/1.1, so connections are kept alive; every response
carries Content-Length.

    GET  /users/<id>   200  a small JSON body
    GET  /pages/<name> 200  (a site of many pages: each plain-word name is a route of its own)
    GET  /fail         500
    GET  /missing      404  (as is every other unknown path)
    POST /created      201  reads the Content-Length body
    GET  /counts      200  the accounting below, as JSON
    GET  /fetch?port=P 200  first GETs http://127.0.0.1:P/users/1 (a new connection, from the
                            thread serving this request), then answers with that status

Ground truth: the service counts every request it answers by (method, path without the query,
status), the moment before it writes the response. GET /counts is counted too, including the
very request that reads the counts (it is counted before the JSON is made), so the answer
accounts for every request the service saw up to and including that one: nothing to subtract.
The answer is a JSON list of [method, path, status, count]. Other methods get the standard
library's 501 and are not counted (the tests send none).
"""
import json
import os
import sys
import threading
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_counts = Counter()
_lock = threading.Lock()


def _count(method, path, status):
    with _lock:
        _counts[(method, path, status)] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pyhttp/1"

    def log_message(self, fmt, *args):  # no line on stderr per request
        pass

    def _reply(self, status, body, ctype="text/plain"):
        path = self.path.split("?", 1)[0]
        _count(self.command, path, status)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        parts = path.split("/")
        if len(parts) == 3 and parts[1] == "users" and parts[2]:
            self._reply(200, json.dumps({"id": parts[2], "name": "user " + parts[2]}), "application/json")
        elif len(parts) == 3 and parts[1] == "pages" and parts[2]:
            self._reply(200, "page\n")
        elif path == "/fail":
            self._reply(500, "failed\n")
        elif path == "/fetch":
            port = int(self.path.split("port=", 1)[1])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/users/1", timeout=10) as r:
                r.read()
                self._reply(200, f"{r.status}\n")
        elif path == "/counts":
            _count("GET", "/counts", 200)  # this request too, before the snapshot
            with _lock:
                rows = [[m, p, s, n] for (m, p, s), n in sorted(_counts.items())]
            body = json.dumps(rows).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self._reply(404, "not found\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path.split("?", 1)[0] == "/created":
            self._reply(201, "created\n")
        else:
            self._reply(404, "not found\n")


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"ready {os.getpid()} 127.0.0.1:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
