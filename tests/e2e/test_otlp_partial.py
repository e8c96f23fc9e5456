# SPDX-License-Identifier: Apache-2.0
"""An OTLP receiver's partial success (HTTP 200 whose Export*ServiceResponse says it rejected
some spans or data points): counted as not accepted and said once per signal, with the
receiver's message as one printable line — a hostile or broken receiver's control bytes never
reach glimpse's log. Ground truth: the receiver (build/tools/otlp_receiver --reject N) rejects N
items of every request it accepts; the driver's exporter stats count them."""
import re

from test_otlp_exporter import run_driver, receiver  # noqa: F401 (the fixture)


def test_partial_success_is_counted_and_said_once(receiver):  # noqa: F811
    rcv = receiver("--reject", "2")
    stats, err = run_driver(rcv.port, "--spans", "40", "--rate", "400", "--metrics-interval", "0.3",
                            "--linger-ms", "1000", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="10",
                            OTEL_BSP_SCHEDULE_DELAY="50")
    requests = rcv.lines("request")
    span_requests = [r for r in requests if r["path"] == "/v1/traces"]
    metric_requests = [r for r in requests if r["path"] == "/v1/metrics"]
    assert span_requests and metric_requests, requests
    # 2 items of each request rejected (all of a request of fewer), the rest accepted; nothing dropped.
    assert stats["failed"] == sum(min(2, r["items"]) for r in span_requests), (stats, span_requests)
    assert stats["exported"] == 40 - stats["failed"] and stats["dropped"] == 0, stats
    assert stats["metric_points_rejected"] == sum(min(2, r["items"]) for r in metric_requests), stats
    assert stats["metrics_exports"] == len(metric_requests), stats
    said = [line for line in err.splitlines() if "rejected" in line]
    # Once per signal (warnings are rate-limited to one a minute), with the batch's size.
    assert len(said) == 2, err
    spans_line = next(line for line in said if " spans: " in line)
    points_line = next(line for line in said if " data points: " in line)
    first = span_requests[0]["items"]
    assert spans_line.endswith(f"OTLP receiver rejected {min(2, first)} of {first} spans: "
                               "test rejection [31mred [0m"), spans_line
    first = metric_requests[0]["items"]
    assert re.search(rf"OTLP receiver rejected {min(2, first)} of {first} data points: "
                     r"test rejection \[31mred \[0m$", points_line), points_line
    assert "\x1b" not in err and "\a" not in err
