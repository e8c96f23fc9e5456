# SPDX-License-Identifier: Apache-2.0
"""The OpenTelemetry Go SDK as the judge of glimpse (test_otel_judge.py): what the test OTLP
receiver (tests/tools/otlp_receiver) decoded from the SDK-instrumented build of a test app, and
from glimpse attached to its plain build, reduced to comparable facts, and the differences
between the two as one line each. The README's "glimpse against the OpenTelemetry Go SDK" table
lists the lines expected for each app, with their reasons."""
import re
from collections import Counter

SERVER, CLIENT = 2, 3
KIND = {1: "internal", SERVER: "server", CLIENT: "client", 4: "producer", 5: "consumer"}


def last_points(rows, metric_names=None):
    """{(metric name, attributes): the last data point}: the SDK and glimpse both export
    cumulative points, so the last one of a series holds its totals."""
    out = {}
    for r in rows:
        if r["signal"] != "metric" or (metric_names is not None and r["name"] not in metric_names):
            continue
        out[(r["name"], tuple(sorted(r["attributes"].items())))] = r
    return out


class Side:
    """One side's telemetry (the SDK's or glimpse's) about one service: its metrics by name
    (only those the comparison covers) and its spans, with run-specific values (the ports the
    service and its peers listened on) replaced by placeholders so that two runs compare."""

    def __init__(self, rows, ports, metric_filter):
        self.ports = {str(p): name for p, name in ports.items()}
        self.metrics = {}
        for (name, _), r in last_points(rows).items():
            if metric_filter(r):
                attrs = {k: self.norm(v) for k, v in r["attributes"].items()}
                self.metrics.setdefault(name, []).append((attrs, r))
        self.spans = [s for s in rows if s["signal"] == "span"]
        self.resource = next((r["resource"] for r in rows if r["signal"] in ("span", "metric")
                              and metric_filter(r)), {})

    def norm(self, v):
        if isinstance(v, int) and str(v) in self.ports:
            return self.ports[str(v)]
        if isinstance(v, str):
            return re.sub(r"(?<=:)(\d+)\b", lambda m: self.ports.get(m.group(1), m.group(1)), v)
        return v


def _keys(series):
    return set(k for attrs, _ in series for k in attrs)


def _project(series, keys):
    """{projected attributes: [points]} of a metric's series on the given attribute keys."""
    out = {}
    for attrs, r in series:
        key = tuple(sorted((k, v) for k, v in attrs.items() if k in keys))
        out.setdefault(key, []).append(r)
    return out


def _fmt(attrs):
    return "{" + ", ".join(f"{k}={v}" for k, v in attrs) + "}"


def _placement(points):
    """{upper bound: count} of a histogram series' non-empty buckets (inf for the last)."""
    out = Counter()
    for r in points:
        bounds = r["bounds"] + [float("inf")]
        for b, n in zip(bounds, r["bucket_counts"]):
            if n:
                out[b] += n
    return dict(out)


def compare_metrics(sdk, glimpse, out, bucket_keys=()):
    """Metric names, types, units, attribute keys, per-series counts (exact) and, for the series
    whose projected attributes contain one of bucket_keys' (key, value) pairs, bucket placement.
    Returns how many series had their buckets compared."""
    compared = 0
    for name in sorted(set(sdk.metrics) | set(glimpse.metrics)):
        if name not in glimpse.metrics:
            out.append(f"metric {name}: only SDK")
            continue
        if name not in sdk.metrics:
            out.append(f"metric {name}: only glimpse")
            continue
        s, g = sdk.metrics[name], glimpse.metrics[name]
        for what in ("type", "unit"):
            if s[0][1][what] != g[0][1][what]:
                out.append(f"metric {name}: {what} SDK {s[0][1][what]!r}, glimpse {g[0][1][what]!r}")
        sk, gk = _keys(s), _keys(g)
        for k in sorted(sk - gk):
            out.append(f"metric {name}: attribute {k} only SDK")
        for k in sorted(gk - sk):
            out.append(f"metric {name}: attribute {k} only glimpse")
        common = sk & gk
        ps, pg = _project(s, common), _project(g, common)
        histogram = s[0][1]["type"] == "histogram"
        for key in sorted(set(ps) | set(pg), key=str):
            if not histogram:
                if key not in ps or key not in pg:
                    out.append(f"metric {name}: series {_fmt(key)} only {'SDK' if key in ps else 'glimpse'}")
                continue
            ns = sum(r["count"] for r in ps.get(key, []))
            ng = sum(r["count"] for r in pg.get(key, []))
            if ns != ng:
                out.append(f"metric {name}: series {_fmt(key)} count SDK {ns}, glimpse {ng}")
            elif any(pair in key for pair in bucket_keys):
                compared += 1
                bs, bg = _placement(ps[key]), _placement(pg[key])
                if bs != bg:
                    out.append(f"metric {name}: series {_fmt(key)} buckets SDK {bs}, glimpse {bg}")
    return compared


def _parent(span, by_id):
    pid = span["parent_span_id"]
    if not pid:
        return "root"
    if pid in by_id:
        p = by_id[pid]
        return f"{KIND[p['kind']]} {p['name']!r}"
    return f"remote {pid}"


def _status(span):
    return {0: "unset", 1: "ok", 2: "error"}[span["status"]["code"]]


def compare_spans(sdk, glimpse, out, volatile=()):
    """Span names and kinds (with counts), status, parent (root, a span of the same side by kind
    and name, or a remote parent by id); attribute keys per kind; for the spans of a name and
    kind both sides have, attribute values outside volatile keys (None: absent)."""
    sides = []
    for side in (sdk, glimpse):
        by_id = {s["span_id"]: s for s in side.spans}
        shapes = Counter((KIND[s["kind"]], s["name"], _status(s), _parent(s, by_id)) for s in side.spans)
        groups = {}
        for s in side.spans:
            groups.setdefault((KIND[s["kind"]], s["name"]), []).append(s)
        sides.append((shapes, groups))
    (ss, sg), (gs, gg) = sides
    for shape in sorted(set(ss) | set(gs)):
        if ss[shape] != gs[shape]:
            kind, name, status, parent = shape
            out.append(f"span {kind} {name!r} status {status} parent {parent}: SDK {ss[shape]}, glimpse {gs[shape]}")
    matched = sorted(set(sg) & set(gg))
    for kind in sorted(set(k for k, _ in sg) & set(k for k, _ in gg)):
        groups = [g for g in matched if g[0] == kind]
        ks = set(k for g in sg if g[0] == kind for s in sg[g] for k in s["attributes"])
        kg = set(k for g in gg if g[0] == kind for s in gg[g] for k in s["attributes"])
        for k in sorted(ks - kg):
            out.append(f"span {kind}: attribute {k} only SDK")
        for k in sorted(kg - ks):
            out.append(f"span {kind}: attribute {k} only glimpse")
        for group in groups:
            for k in sorted((ks & kg) - set(volatile)):
                vs = Counter(str(sdk.norm(s["attributes"].get(k))) for s in sg[group])
                vg = Counter(str(glimpse.norm(s["attributes"].get(k))) for s in gg[group])
                if vs != vg:
                    out.append(f"span {kind} {group[1]!r}: attribute {k} values SDK {dict(vs)}, "
                               f"glimpse {dict(vg)}")


def compare_resources(sdk, glimpse, out):
    for k in sorted(set(sdk.resource) - set(glimpse.resource)):
        out.append(f"resource: attribute {k} only SDK")
    for k in sorted(set(glimpse.resource) - set(sdk.resource)):
        out.append(f"resource: attribute {k} only glimpse")


TABLE = "### Every difference, and why"


def readme_table(path, app):
    """The differences the README lists for app under TABLE: each row names the apps it holds
    for (comma-separated; "every app" for all) and its differences, each between backticks."""
    rows = []
    inside = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                inside = line.strip() == TABLE
            if inside and line.startswith("| ") and not line.startswith("| apps"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                apps = [a.strip() for a in cells[0].split(",")]
                if app in apps or "every app" in apps:
                    rows += re.findall(r"`([^`]+)`", cells[1])
    return rows
