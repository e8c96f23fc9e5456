# SPDX-License-Identifier: Apache-2.0
"""Service level objectives: the Prometheus rules `glimpse slo rules` writes, proven with
promtool (check rules, and unit tests that make each alert fire at a minute computed here from
the synthetic traffic), and the live burn rates and budgets of `glimpse attach --slo`, exact
against the error ratio and slow share the test injects into the real Go service."""
import subprocess

import pytest
import yaml

from conftest import glimpse, metric_value, wait_for

DURATION = "http_server_request_duration_seconds"
SLO_AVAIL = "objective=availability,target=99.9%"
RATE_WINDOWS = {"5m": 5, "30m": 30, "1h": 60, "2h": 120, "6h": 360, "1d": 1440, "3d": 4320}
# The SRE workbook's alerts for a 30-day window: (severity, burn rate, long window, short window).
ALERTS = [("page", 14.4, "1h", "5m"), ("page", 6, "6h", "30m"),
          ("ticket", 3, "1d", "2h"), ("ticket", 1, "3d", "6h")]


def write_rules(tmp_path, *args):
    path = tmp_path / "slo-rules.yml"
    r = glimpse("slo", "rules", *args, "-o", str(path))
    assert r.returncode == 0, r.stderr
    check = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return path


def promtool_test(tmp_path, rules, input_series, **checks):
    """promtool test rules over series sampled every minute; checks: alert_rule_test or
    promql_expr_test."""
    test = {"rule_files": [str(rules)], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": input_series, **checks}]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test))
    r = subprocess.run(["promtool", "test", "rules", str(tmp_path / "test.yml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def bad_share(bad, total, minute, window):
    """The recording rule's value at a minute, as Prometheus 2.x computes it on counters sampled
    every minute from minute 0: the range [t - window, t] holds both ends, the samples sit on
    its edges (no extrapolation), and before minute 0 there is nothing (both counters start at
    0, so rate() extrapolates neither back)."""
    start = max(0, minute - window)
    d_total = total[minute] - total[start]
    return (bad[minute] - bad[start]) / d_total if d_total else None


def first_firing(severity, target, bad, total, minutes):
    """(minute, the ALERTS condition that fired first), or (None, None)."""
    budget = 1 - target
    for t in range(1, minutes + 1):
        for i, (sev, rate, long_w, short_w) in enumerate(ALERTS):
            if sev != severity:
                continue
            long_r = bad_share(bad, total, t, RATE_WINDOWS[long_w])
            short_r = bad_share(bad, total, t, RATE_WINDOWS[short_w])
            if long_r is not None and short_r is not None and long_r > rate * budget and short_r > rate * budget:
                return t, i
    return None, None


def scenario(good_per_min, bad_per_min, bad_from, minutes):
    good = [good_per_min * t for t in range(minutes + 1)]
    bad = [0 if t <= bad_from else bad_per_min * (t - bad_from) for t in range(minutes + 1)]
    return good, bad


# After 400 clean minutes (more than the longest page window), errors begin at a steady share;
# which condition fires first (index into ALERTS) is part of what each case checks.
@pytest.mark.parametrize("name, good_per_min, bad_per_min, page_by, ticket_by", [
    # 5 of every 105 requests fail (47.6x the budget): the 1 h / 5 m page fires first.
    ("fast burn", 100, 5, 0, 3),
    # 8 of every 1008 (7.9x): too slow for the 1 h page, the 6 h / 30 m one fires.
    ("medium burn", 1000, 8, 1, 3),
    # 1 of every 201 (5x): never pages; the ticket over 3 d and 6 h fires.
    ("slow burn", 200, 1, None, 3),
])
def test_rules_fire_at_the_computed_minute(tmp_path, name, good_per_min, bad_per_min, page_by, ticket_by):
    rules = write_rules(tmp_path, "--slo", SLO_AVAIL + ",route=/pay", "--service", "shop")
    minutes = 800
    good, bad = scenario(good_per_min, bad_per_min, 400, minutes)
    total = [g + b for g, b in zip(good, bad)]
    sel = 'job="shop",instance="h:1",http_request_method="POST",http_route="/pay"'
    groups = yaml.safe_load(rules.read_text())["groups"]
    annotations = {r["alert"]: r["annotations"] for g in groups for r in g["rules"] if "alert" in r}
    alert_tests = []
    for severity, alertname in (("page", "GlimpseSLOBurnPage"), ("ticket", "GlimpseSLOBurnTicket")):
        fire, by = first_firing(severity, 0.999, bad, total, minutes)
        assert by == (page_by if severity == "page" else ticket_by), (name, severity, fire, by)
        labels = {"job": "shop", "slo": "availability-/pay", "severity": severity}
        rendered = {k: v.replace("{{ $labels.job }}", "shop") for k, v in annotations[alertname].items()}
        if fire is None:
            alert_tests.append({"eval_time": f"{minutes}m", "alertname": alertname, "exp_alerts": []})
            continue
        alert_tests += [
            {"eval_time": f"{fire - 1}m", "alertname": alertname, "exp_alerts": []},
            {"eval_time": f"{fire}m", "alertname": alertname,
             "exp_alerts": [{"exp_labels": labels, "exp_annotations": rendered}]},
        ]
    promtool_test(tmp_path, rules, [
        {"series": f'{DURATION}_count{{{sel},http_response_status_code="200"}}',
         "values": " ".join(str(v) for v in good)},
        {"series": f'{DURATION}_count{{{sel},http_response_status_code="503",error_type="503"}}',
         "values": " ".join(str(v) for v in bad)},
    ], alert_rule_test=alert_tests)


def test_latency_rules_count_slow_requests(tmp_path):
    """A latency objective's bad share is the count above its threshold's bucket: checked with a
    recording-rule test (3 of every 10 requests slower than 300 ms)."""
    rules = write_rules(tmp_path, "--slo", "objective=latency,target=99%,threshold=300ms,name=lat",
                        "--service", "shop")
    sel = 'job="shop",instance="h:1",http_request_method="GET",http_route="/a",http_response_status_code="200"'
    promtool_test(tmp_path, rules, [
        {"series": f'{DURATION}_count{{{sel}}}', "values": "0+10x60"},
        {"series": f'{DURATION}_bucket{{{sel},le="0.3"}}', "values": "0+7x60"},
        {"series": f'{DURATION}_bucket{{{sel},le="+Inf"}}', "values": "0+10x60"},
    ], promql_expr_test=[{
        # In thousandths: 0.3 itself comes out of the division as 0.29999999999999993.
        "expr": 'round(glimpse:slo_bad:ratio_rate30m{slo="lat"} * 1000)',
        "eval_time": "60m",
        "exp_samples": [{"labels": '{job="shop",slo="lat"}', "value": 300}],
    }])


def test_availability_rules_count_grpc_server_errors(tmp_path):
    """gRPC calls served count beside HTTP requests: 5 failed calls of every 20 requests and
    calls (error.type set by the RPC conventions' server rules, as glimpse exports it)."""
    rules = write_rules(tmp_path, "--slo", "objective=availability,target=99%,name=avail", "--service", "shop")
    http = 'job="shop",instance="h:1",http_request_method="GET",http_route="/a",http_response_status_code="200"'
    rpc = 'job="shop",instance="h:1",rpc_system_name="grpc",rpc_method="p.S/M"'
    promtool_test(tmp_path, rules, [
        {"series": f'{DURATION}_count{{{http}}}', "values": "0+10x60"},
        {"series": f'rpc_server_call_duration_seconds_count{{{rpc},rpc_response_status_code="OK"}}',
         "values": "0+5x60"},
        {"series": f'rpc_server_call_duration_seconds_count{{{rpc},rpc_response_status_code="UNAVAILABLE",'
                   f'error_type="UNAVAILABLE"}}', "values": "0+5x60"},
    ], promql_expr_test=[{
        "expr": 'round(glimpse:slo_bad:ratio_rate30m{slo="avail"} * 1000)',
        "eval_time": "60m",
        "exp_samples": [{"labels": '{job="shop",slo="avail"}', "value": 250}],
    }])


def test_rules_from_agent_config_equal_flags(tmp_path):
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("slos:\n"
                   "  - name: checkout\n    service: shop\n    route: /pay\n    target: 0.999\n"
                   "  - name: fast\n    service: shop\n    objective: latency\n    threshold: 250ms\n"
                   "    target: 0.99\n    window: 28d\n")
    from_config = write_rules(tmp_path, "--config", str(cfg)).read_text()
    from_flags = write_rules(tmp_path, "--force", "--service", "shop",
                             "--slo", "name=checkout,route=/pay,objective=availability,target=99.9%",
                             "--slo", "name=fast,objective=latency,threshold=250ms,target=0.99,window=28d").read_text()
    assert from_config == from_flags
    # 28 days: the page threshold is 2 % of the budget within an hour, 0.02 * 672 h = 13.44.
    assert "13.44 * (1 - 0.99)" in from_config
    printed = glimpse("agent", "--config", str(cfg), "--print-config")
    assert printed.returncode == 0, printed.stderr
    assert "window: 28d" in printed.stdout and "threshold: 250ms" in printed.stdout


@pytest.mark.parametrize("config, message", [
    ("slos:\n  - name: a\n    target: 99.9\n", "expected a number from 0 to 1"),
    ("slos:\n  - name: a\n    objective: latency\n", "a latency SLO needs a threshold"),
    ("slos:\n  - name: a\n  - name: a\n", "two SLOs are named 'a'"),
    ("slos:\n  - name: a\n    objective: speed\n", "objective"),
])
def test_bad_config_is_one_line(tmp_path, config, message):
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(config)
    r = glimpse("slo", "rules", "--config", str(cfg))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("spec, message", [
    ("objective=availability,target=100%", "between 0 and 1"),
    ("objective=latency,target=99%", "needs a threshold"),
    ("objective=availability,target=99%,threshold=1s", "only a latency SLO"),
    ("objective=availability,target=99%,window=10m", "at least 1h"),
    ("objective=availability,target=99%,colour=red", "unknown SLO key 'colour'"),
])
def test_bad_slo_flag_is_one_line(spec, message):
    r = glimpse("slo", "rules", "--slo", spec)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_live_burn_rates_exact(http_services, run_glimpse):
    """10 of 104 requests fail (9.6 % against a 1 % budget) and 1 of 4 /sleep requests takes
    longer than 300 ms (25 % against 10 %): every window glimpse has watched says so exactly,
    the threshold is a bucket bound of /metrics, and the summary names the firing alerts."""
    svc = http_services("httpsvc-1.26")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live",
                    "--slo", "objective=availability,target=99%",
                    "--slo", "objective=latency,target=90%,threshold=300ms,route=/sleep,name=sleep-latency",
                    prometheus=True)
    for _ in range(90):
        assert svc.get("/fast") == 200
    for _ in range(10):
        assert svc.get("/status/503") == 503
    for ms in (50, 50, 50, 400):
        assert svc.get(f"/sleep?ms={ms}") == 200

    def settled():
        s = g.scrape()
        return s and metric_value(s, "glimpse_slo_target_ratio", slo="availability") == 0.99 and \
            metric_value(s, f"{DURATION}_count") == 104 and \
            abs(metric_value(s, "glimpse_slo_burn_rate", slo="availability", window="3d") - 10 / 104 / 0.01) < 1e-9
    assert wait_for(settled, timeout=10), g.scrape_text()
    s = g.scrape()
    for w in RATE_WINDOWS:
        assert abs(metric_value(s, "glimpse_slo_burn_rate", slo="availability", window=w) - 10 / 104 / 0.01) < 1e-9
        assert abs(metric_value(s, "glimpse_slo_burn_rate", slo="sleep-latency", window=w) - 0.25 / 0.1) < 1e-9
    assert abs(metric_value(s, "glimpse_slo_error_budget_remaining_ratio", slo="availability")
               - (1 - 10 / 104 / 0.01)) < 1e-9
    assert abs(metric_value(s, "glimpse_slo_error_budget_remaining_ratio", slo="sleep-latency") - (1 - 2.5)) < 1e-9
    assert metric_value(s, f"{DURATION}_bucket", http_route="/sleep", le="0.3") == 3
    assert metric_value(s, f"{DURATION}_bucket", http_route="/sleep", le="0.5") == 4
    # The alerts of a 30-day objective fire above burn rates 14.4 and 6 (page: 1h/5m, 6h/30m)
    # and 3 and 1 (ticket: 1d/2h, 3d/6h): 9.62 fires one page and both tickets, 2.5 one ticket.
    firing = lambda slo, sev: metric_value(s, "glimpse_slo_alerts_firing", slo=slo, severity=sev)
    assert (firing("availability", "page"), firing("availability", "ticket")) == (1, 2)
    assert (firing("sleep-latency", "page"), firing("sleep-latency", "ticket")) == (0, 1)
    g.stop()
    out = g.stdout()
    assert "SLO availability (availability, target 99%): 10 of 104 requests bad" in out, out
    assert "burn rate 9.62, alert firing: page" in out, out
    assert "SLO sleep-latency (latency of /sleep, target 90%): 1 of 4 requests bad" in out, out
    assert "burn rate 2.50, alert firing: ticket" in out, out
