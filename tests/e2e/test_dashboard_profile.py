# SPDX-License-Identifier: Apache-2.0
"""The live dashboard's CPU flame graph (attach --profile), read in a real browser (Debian's
Chromium driven by playwright-core: tests/e2e/browser/flamegraph.mjs).

Ground truth: the test service's /burn/hash and /burn/sort burn main.burnHash and main.burnSort
(tests/apps/httpsvc); the page must show each route's function under its own route only, find
it by search, zoom into it, load nothing from another host, break no CSP rule, and say so when
profiling is off."""
import json
import os
import subprocess
import threading

from conftest import SRC

BROWSER_DIR = os.path.join(SRC, "tests/e2e/browser")


def read_flame(port, tmp_path, want):
    assert os.path.exists(os.path.join(BROWSER_DIR, "node_modules/playwright-core")), \
        "playwright-core is not installed: run `make deps` (npm ci in tests/e2e/browser)"
    shot = tmp_path / "flamegraph.png"
    out = subprocess.run(["node", os.path.join(BROWSER_DIR, "flamegraph.mjs"), f"http://127.0.0.1:{port}/",
                          str(shot), want], capture_output=True, text=True, cwd=BROWSER_DIR, timeout=90)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_flame_graph_by_route(tmp_path, http_services, run_glimpse):
    svc = http_services("httpsvc-1.26")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--profile", "--profile-interval", "2",
                    prometheus=True)
    stop = threading.Event()

    def load(route):
        while not stop.is_set():
            svc.get(f"{route}?ms=20")

    threads = [threading.Thread(target=load, args=(r,)) for r in ("/burn/hash", "/burn/sort")]
    for t in threads:
        t.start()
    try:
        page = read_flame(g.port, tmp_path, "main.burnHash")
    finally:
        stop.set()
        for t in threads:
            t.join()
    names = {f["name"] for f in page["whole"]}
    assert {"all", "GET /burn/hash", "GET /burn/sort", "main.burnHash", "main.burnSort"} <= names, names
    assert {"GET /burn/hash", "GET /burn/sort"} <= set(page["routes"]), page["routes"]
    # One route's graph holds its own function and not the other's.
    hash_names = {f["name"] for f in page["by_route"]["GET /burn/hash"]}
    sort_names = {f["name"] for f in page["by_route"]["GET /burn/sort"]}
    assert "main.burnHash" in hash_names and "main.burnSort" not in hash_names, hash_names
    assert "main.burnSort" in sort_names and "main.burnHash" not in sort_names, sort_names
    # The search highlights the function and says its share; a click zooms into it.
    assert page["search_hits"] and set(page["search_hits"]) == {"main.burnHash"}, page["search_hits"]
    assert "% of the shown samples match" in page["search_note"], page["search_note"]
    top = min(page["zoomed"], key=lambda f: f["top"])
    assert top["name"] == "main.burnHash" and top["width"] >= max(f["width"] for f in page["zoomed"]), page["zoomed"]
    assert page["after_reset"] > len(page["zoomed"])
    assert "samples over the" in page["note"], page["note"]
    assert g.stop() == 0, g.stderr()


def test_flame_graph_off(tmp_path, http_services, run_glimpse):
    svc = http_services("httpsvc-1.26")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", prometheus=True)
    page = read_flame(g.port, tmp_path, "main.burnHash")
    assert page["whole"] == [] and "CPU profiling is off" in page["note"], page
    assert g.stop() == 0, g.stderr()
