# SPDX-License-Identifier: Apache-2.0
"""The Grafana dashboards (helm/glimpse/dashboards) and the laptop stack (helm/compose). Ground
truths: the fields Grafana requires of a dashboard model, the chart as `helm template` renders it,
and a real Prometheus (Debian's) that scrapes glimpse attached to a real Go service and
evaluates `glimpse slo rules`' rules: every panel's query must return data there."""
import glob
import json
import os
import re
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

from conftest import SRC, HttpService, free_port, glimpse, wait_for
from test_helm_chart import CHART, render, renderer  # noqa: F401 (the renderer fixture)

DASHBOARDS = sorted(glob.glob(os.path.join(CHART, "dashboards", "*.json")))
COMPOSE = os.path.join(SRC, "helm", "compose")
BUILTIN_VARS = {"__rate_interval", "__interval", "__range"}


def load(path):
    with open(path) as f:
        return json.load(f)


def targets(dashboard):
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            yield panel, t


def test_dashboards_are_grafana_models():
    assert [os.path.basename(p) for p in DASHBOARDS] == \
        ["glimpse-db.json", "glimpse-red.json", "glimpse-runtime.json", "glimpse-slo.json"]
    uids = set()
    for path in DASHBOARDS:
        d = load(path)
        name = os.path.basename(path)
        for key in ("uid", "title", "schemaVersion", "panels", "templating", "time"):
            assert key in d, f"{name}: no {key}"
        assert d["uid"] not in uids and len(d["uid"]) <= 40
        uids.add(d["uid"])
        variables = {v["name"]: v for v in d["templating"]["list"]}
        # The datasource is chosen on import, never a uid from someone else's Grafana.
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        ids = [p["id"] for p in d["panels"]]
        assert len(ids) == len(set(ids)), name
        cells = set()
        for p in d["panels"]:
            g = p["gridPos"]
            assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, (name, p["title"])
            area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not area & cells, f"{name}: {p['title']} overlaps another panel"
            cells |= area
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert p["type"] in ("timeseries", "stat", "heatmap", "table")
            assert p["targets"], (name, p["title"])
        for panel, t in targets(d):
            assert re.fullmatch(r"[A-Z]", t["refId"]) and t["expr"], (name, panel["title"])
            used = set(re.findall(r"\$(\w+)", t["expr"]))
            assert used <= set(variables) | BUILTIN_VARS, (name, panel["title"], used)


def test_chart_ships_them_for_the_sidecar(renderer):  # noqa: F811
    default = render(renderer)
    assert "ConfigMap" in default.kinds() and not any(
        "dashboard" in d["metadata"]["name"] for d in default.docs)  # off by default
    on = render(renderer, "--set", "dashboards.enabled=true")
    maps = {d["metadata"]["name"]: d for d in on.docs if d["metadata"]["name"].startswith("glimpse-dashboard-")}
    assert sorted(maps) == ["glimpse-dashboard-db", "glimpse-dashboard-red", "glimpse-dashboard-runtime",
                            "glimpse-dashboard-slo"]
    for path in DASHBOARDS:
        name = os.path.basename(path)
        cm = maps["glimpse-dashboard-" + name[len("glimpse-"):-len(".json")]]
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["namespace"] == "glimpse"
        assert json.loads(cm["data"][name]) == load(path)


def prom_query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?query=" + urllib.parse.quote(expr)
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_every_panel_returns_data_from_a_real_prometheus(tmp_path, run_glimpse):
    peer = HttpService("dbsvc-1.26", "-db", f"sqlite:{tmp_path}/peer.db")
    svc = HttpService("dbsvc-1.26", "-db", f"sqlite:{tmp_path}/svc.db", "-peer", f"http://{peer.addr}")
    prom = None
    stop = threading.Event()
    try:
        service = "dbsvc-1.26"
        slo = "objective=availability,target=99%"
        g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--slo", slo, prometheus=True)
        rules = tmp_path / "slo.yml"
        r = glimpse("slo", "rules", "--slo", slo, "--service", service, "-o", str(rules))
        assert r.returncode == 0, r.stderr
        prom_port = free_port()
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{"job_name": "glimpse", "honor_labels": True,
                                "static_configs": [{"targets": [f"127.0.0.1:{g.port}"]}]}],
        }))
        prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path}/prometheus.yml",
                                 f"--storage.tsdb.path={tmp_path}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def traffic():
            # Every signal the dashboards show: queries, a failing one (a 5xx, a DB error), an
            # outgoing call; a third of requests fail, so the SLO's page alert fires at once.
            while not stop.is_set():
                for path in ("/one", "/stmt", "/call", "/fail"):
                    svc.get(path)
                stop.wait(0.05)
        t = threading.Thread(target=traffic, daemon=True)
        t.start()

        def scraped():
            try:
                return len(prom_query(prom_port, f'{{job="{service}"}}')) > 0 and \
                    float(prom_query(prom_port, 'count_over_time(go_goroutines[1m])')[0]["value"][1]) >= 5
            except (urllib.error.URLError, ConnectionError, IndexError, KeyError):
                return False
        assert wait_for(scraped, timeout=60, interval=0.5)
        empty = {}
        for path in DASHBOARDS:
            d = load(path)
            for panel, tgt in targets(d):
                expr = (tgt["expr"].replace("$service", service).replace("$route", ".*")
                        .replace("$__rate_interval", "5s"))

                def answers(expr=expr):
                    return len(prom_query(prom_port, expr)) > 0
                if not wait_for(answers, timeout=15, interval=0.5):
                    empty[(os.path.basename(path), panel["title"], tgt["refId"])] = expr
        assert not empty, empty
    finally:
        stop.set()
        if prom:
            prom.terminate()
            prom.wait()
        svc.stop()
        peer.stop()


def test_compose_stack_files(tmp_path):
    """Docker cannot run here: the stack's files are checked by the tools that read them."""
    with open(os.path.join(COMPOSE, "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    assert set(compose["services"]) == {"glimpse", "prometheus", "grafana", "otel-collector", "jaeger"}
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert os.path.exists(os.path.join(COMPOSE, source)), (name, source)
    r = subprocess.run(["promtool", "check", "config", "prometheus.yml"], cwd=COMPOSE, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(os.path.join(COMPOSE, "prometheus.yml")) as f:
        assert yaml.safe_load(f)["scrape_configs"][0]["honor_labels"] is True
    # The rules Prometheus loads are what glimpse writes for the agent's own objectives.
    r = glimpse("slo", "rules", "--config", os.path.join(COMPOSE, "glimpse.yaml"))
    assert r.returncode == 0, r.stderr
    with open(os.path.join(COMPOSE, "slo-rules.yml")) as f:
        assert f.read() == r.stdout, "regenerate: glimpse slo rules --config helm/compose/glimpse.yaml -o helm/compose/slo-rules.yml"
    r = glimpse("agent", "--config", os.path.join(COMPOSE, "glimpse.yaml"), "--print-config")
    assert r.returncode == 0, r.stderr
    with open(os.path.join(COMPOSE, "grafana", "dashboards.yaml")) as f:
        path = yaml.safe_load(f)["providers"][0]["options"]["path"]
    assert f"../glimpse/dashboards:{path}:ro" in compose["services"]["grafana"]["volumes"]
