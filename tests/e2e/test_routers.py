# SPDX-License-Identifier: Apache-2.0
"""http.route from the routers' own templates (gin, chi, echo, gorilla/mux, httprouter), against
tests/apps/routersvc: the same routes served by each router on its own port. Ground truth: the
service's own accounting — every handler counts its request under the template its router
reports to it (gin c.FullPath(), chi RoutePattern(), echo c.Path(), gorilla
mux.CurrentRoute(r).GetPathTemplate(); httprouter v1.3.0 reports none: each handler is registered
with its template), the method and the status it answers; requests no route matched count under
route "" (/counts returns them)."""
import json
import re
import subprocess
import urllib.error
import urllib.request
from collections import Counter

import pytest

from conftest import APPS, metric_value, parse_prometheus, wait_for

ROUTERS = ("gin", "chi", "echo", "mux", "httprouter")
TEMPLATES = ROUTERS  # routers whose templates glimpse reads
DURATION = "http_server_request_duration_seconds"

# The same requests to every router: parameterised routes, a group/mount/subrouter route, a
# handler's own 404 on a matched route, paths no route matches, and a method none allows.
TRAFFIC = [("GET", "/health", 3), ("GET", "/users/7", 2), ("GET", "/users/42", 1), ("GET", "/users/missing", 2),
           ("POST", "/users", 2), ("GET", "/api/v1/items/3", 2), ("GET", "/api/v1/items/abc-9", 1),
           ("GET", "/nope", 2), ("GET", "/api/v1/nope", 1), ("GET", "/users/7/extra", 1), ("GET", "/health/", 1),
           ("DELETE", "/health", 1)]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None  # the 301 itself is the answer under test


OPENER = urllib.request.build_opener(NoRedirects)

# Answers the routers give without calling any handler (so the service cannot count them): the
# trailing-slash redirect of gin and httprouter. No route matched: no http.route.
UNHANDLED = {"gin": {("", "GET", "301"): 1}, "httprouter": {("", "GET", "301"): 1}}


class RouterService:
    def __init__(self, binary, routers=ROUTERS):
        args = [a for r in routers for a in (f"-{r}", "127.0.0.1:0")]
        path = binary if binary.startswith("/") else f"{APPS}/{binary}"
        self.proc = subprocess.Popen([path, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        words = self.proc.stdout.readline().split()
        assert words and words[0] == "ready", words
        self.pid = int(words[1])
        self.addr = dict(w.split("=", 1) for w in words[2:])

    def request(self, router, method, path):
        req = urllib.request.Request(f"http://{self.addr[router]}{path}", method=method)
        try:
            with OPENER.open(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def first(self):
        """The router /counts is asked through."""
        return next(iter(self.addr))

    def counts(self):
        """The service's own counts, {router: Counter{(route, method, status): n}}, this request
        included (counted before it answers)."""
        status, body = self.request(self.first(), "GET", "/counts")
        assert status == 200
        out = {}
        for router, by in json.loads(body).items():
            c = Counter()
            for key, n in by.items():
                route, method, code = key.rsplit(" ", 2)
                c[(route, method, code)] += n
            c.update(UNHANDLED.get(router, {}))
            out[router] = c
        return out

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def router_service():
    started = []

    def start(binary, routers=ROUTERS):
        s = RouterService(binary, routers)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def drive(svc):
    sent = 0
    for router in svc.addr:
        for method, path, n in TRAFFIC:
            for _ in range(n):
                svc.request(router, method, path)
                sent += 1
    return sent + 1  # + the /counts request


def series(samples, port):
    """glimpse's request counts for one listener: {(route, method, status): n}."""
    out = Counter()
    for name, labels, value in samples:
        if name == DURATION + "_count" and labels.get("server_port") == str(port) and value:
            out[(labels.get("http_route", ""), labels["http_request_method"],
                 labels["http_response_status_code"])] += int(value)
    return out


def by_method_status(c):
    out = Counter()
    for (_, method, status), n in c.items():
        out[(method, status)] += n
    return out


# Each build: the routers it serves, and those whose templates glimpse reads: all with DWARF;
# stripped, those whose module version is in glimpse's generated table (echo's not-found handler
# variables found through the functions its row names). routersvc-legacy (Go 1.23: maps in
# buckets) has two routers.
LEGACY = ("mux", "httprouter")
BUILDS = {"routersvc-1.26": (ROUTERS, ROUTERS), "routersvc-1.27": (ROUTERS, ROUTERS),
          "routersvc-1.27-stripped": (ROUTERS, ROUTERS),
          "routersvc-legacy-1.23": (LEGACY, LEGACY), "routersvc-legacy-1.23-stripped": (LEGACY, LEGACY)}


@pytest.mark.parametrize("binary", list(BUILDS))
def test_router_templates_exact(binary, router_service, run_glimpse):
    """Each (route, method, status) series equals the service's own count, spelled as the router
    spells it; requests no route matched have no route; the probes cost exactly one uprobe hit
    per request more than net/http's two. What is not read is said once, with the path
    heuristic's series adding up to the same totals."""
    routers, templated = BUILDS[binary]
    svc = router_service(binary, routers)
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
    warned = [line for line in g.stderr().splitlines() if "route templates" in line]
    if templated == routers:
        assert not warned, warned
    else:
        assert len(warned) == 1, warned
        assert not any(f"{r} (" in warned[0] for r in templated), warned
    total = drive(svc)
    truth = svc.counts()
    assert sum(sum(c.values()) for c in truth.values()) == total
    assert wait_for(lambda: g.value(DURATION + "_count") == total), g.scrape_text()
    text = g.scrape_text()
    samples = parse_prometheus(text)
    got = {r: series(samples, svc.addr[r].rsplit(":", 1)[1]) for r in routers}
    for router in routers:
        if router in templated:
            assert got[router] == truth[router], f"{router}\n{text}"
        else:
            assert by_method_status(got[router]) == by_method_status(truth[router]), f"{router}\n{text}"
    # The templates as each router's OTel instrumentation spells them, nested routes included.
    assert got["mux"][("/api/v1/items/{id}", "GET", "200")] == 3
    assert got["httprouter"][("/api/v1/items/:id", "GET", "200")] == 3
    if "gin" in routers:
        assert got["chi"][("/api/v1/items/{id}", "GET", "200")] == 3
        assert got["gin"][("/users/:id", "GET", "404")] == 2 and got["gin"][("", "GET", "404")] == 4
    per_router = sum(n for _, _, n in TRAFFIC)
    hits = 2 * total + per_router * len(templated) + (svc.first() in templated)  # + /counts
    assert wait_for(lambda: g.value("glimpse_probe_hits_total") == hits), g.scrape_text()


def test_router_templates_no_table(router_service, run_glimpse, tmp_path):
    """A stripped binary whose router versions glimpse's table lacks: said once, naming each
    router and its version; the path heuristic's series add up to the service's totals, at
    net/http's two hits per request. (The binary is a copy of a stripped build whose build info
    says v9.x.y for each router module, a version no table has.)"""
    src = open(f"{APPS}/routersvc-1.27-stripped", "rb").read()
    patched = src
    for module in (b"github.com/gin-gonic/gin", b"github.com/go-chi/chi/v5", b"github.com/gorilla/mux",
                   b"github.com/julienschmidt/httprouter", b"github.com/labstack/echo/v4"):
        patched, n = re.subn(rb"(dep\t" + re.escape(module) + rb"\tv)\d", rb"\g<1>9", patched)
        assert n, module
    binary = tmp_path / "routersvc-unknown"
    binary.write_bytes(patched)
    binary.chmod(0o755)
    svc = router_service(str(binary))
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
    lines = [line for line in g.stderr().splitlines() if "route templates" in line]
    assert len(lines) == 1, g.stderr()
    for name in ("gin (no DWARF, and github.com/gin-gonic/gin v9.12.0 is not in glimpse's table",
                 "chi (no DWARF, and github.com/go-chi/chi/v5 v9.5.0 is not",
                 "echo (no DWARF, and github.com/labstack/echo/v4 v9.16.0 is not",
                 "gorilla/mux (no DWARF, and github.com/gorilla/mux v9.8.1 is not",
                 "httprouter (no DWARF, and github.com/julienschmidt/httprouter v9.3.0 is not"):
        assert name in lines[0], lines[0]
    total = drive(svc)
    truth = svc.counts()
    assert wait_for(lambda: g.value(DURATION + "_count") == total), g.scrape_text()
    samples = parse_prometheus(g.scrape_text())
    for router in ROUTERS:
        port = svc.addr[router].rsplit(":", 1)[1]
        assert by_method_status(series(samples, port)) == by_method_status(truth[router]), router
    assert wait_for(lambda: g.value("glimpse_probe_hits_total") == 2 * total)


@pytest.mark.parametrize("go", ["1.26", "1.27"])
def test_echo_stripped_same_as_normal(go, router_service, run_glimpse, tmp_path):
    """echo on a stripped build (no symbols, no DWARF: offsets and its not-found handlers'
    variables through its version's table row) gives exactly the normal build's series and spans
    for the same traffic, at the same 3 uprobe hits per request; both equal echo's own counts."""
    def run(binary):
        svc = router_service(binary, ("echo",))
        out = tmp_path / f"{binary}.jsonl"
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--spans-out", str(out), prometheus=True)
        assert not [line for line in g.stderr().splitlines() if "route templates" in line], g.stderr()
        total = drive(svc)
        truth = svc.counts()["echo"]
        assert wait_for(lambda: g.value(DURATION + "_count") == total), g.scrape_text()
        # Spans add the goroutine-lineage probe's hits: the same for both builds (the 3 per
        # request without them are counted by test_router_templates_exact).
        assert wait_for(lambda: g.value("glimpse_probe_hits_total") >= 3 * total), g.scrape_text()
        port = svc.addr["echo"].rsplit(":", 1)[1]
        got = series(parse_prometheus(g.scrape_text()), port)
        assert got == truth, f"{binary}\n{got}\n{truth}"

        def spans():
            return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []

        assert wait_for(lambda: len(spans()) == total), g.stderr()
        shapes = Counter()
        for sp in spans():
            attrs = {k: v for k, v in sp["attributes"].items()
                     if k not in ("server.port", "client.port", "network.peer.port")}
            shapes[(sp["name"], sp["kind"], sp["status"], json.dumps(attrs, sort_keys=True))] += 1
        return got, shapes, g.value("glimpse_probe_hits_total")

    normal, normal_spans, normal_hits = run(f"routersvc-{go}")
    stripped, stripped_spans, stripped_hits = run(f"routersvc-{go}-stripped")
    assert stripped == normal
    assert stripped_spans == normal_spans
    assert stripped_hits == normal_hits
    assert normal[("/api/v1/items/:id", "GET", "200")] == 3 and normal[("", "DELETE", "405")] == 1


def test_router_span_names(router_service, run_glimpse, tmp_path):
    """SERVER spans are named `METHOD template` with the router's template, as each router's OTel
    instrumentation names them; a request no route matched is named by its method alone."""
    svc = router_service("routersvc-1.26")
    out = tmp_path / "spans.jsonl"
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--no-prometheus", "--spans-out", str(out))
    for router in ROUTERS:
        for path in ("/users/7", "/api/v1/items/3", "/nope"):
            svc.request(router, "GET", path)

    def spans():
        return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []

    assert wait_for(lambda: len(spans()) == 3 * len(ROUTERS)), g.stderr()
    names = {}
    for s in spans():
        names.setdefault(s["attributes"]["server.port"], set()).add(s["name"])
    colon = {"GET /users/:id", "GET /api/v1/items/:id", "GET"}
    braces = {"GET /users/{id}", "GET /api/v1/items/{id}", "GET"}
    want = {"gin": colon, "echo": colon, "httprouter": colon, "chi": braces, "mux": braces}
    for router in ROUTERS:
        assert names[int(svc.addr[router].rsplit(":", 1)[1])] == want[router], router
