// SPDX-License-Identifier: Apache-2.0
#include "metrics/slo_rules.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/registry.h"

/* A number as Prometheus and glimpse's exposition print it: the shortest that reads back. */
static void fmt_num(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

/* The objective's series: glimpse's HTTP and gRPC server durations (suffix "_count" or
 * "_bucket"; gRPC calls carry no http_route, so a route's objective judges HTTP alone), of its
 * service and route when it names them, and extra. */
static void selector(const struct slo_objective *o, const char *const metrics[2], const char *suffix,
		     const char *extra, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "{__name__=~\"%s%s|%s%s\"", metrics[0], suffix, metrics[1],
				    suffix);
	if (o->service[0] && n < len)
		n += (size_t)snprintf(buf + n, len - n, ",job=\"%s\"", o->service);
	if (o->route[0] && n < len)
		n += (size_t)snprintf(buf + n, len - n, ",http_route=\"%s\"", o->route);
	if (extra && n < len)
		n += (size_t)snprintf(buf + n, len - n, ",%s", extra);
	if (n < len)
		snprintf(buf + n, len - n, "}");
}

static void write_recording(FILE *out, const struct slo_objective *o, const char *const metrics[2])
{
	char all[900], bad[1000], le[64], extra[96];
	selector(o, metrics, "_count", NULL, all, sizeof(all));
	if (slo_is_latency(o)) {
		fmt_num((double)o->threshold_ms / 1e3, le, sizeof(le));
		snprintf(extra, sizeof(extra), "le=\"%s\"", le);
		selector(o, metrics, "_bucket", extra, bad, sizeof(bad));
	} else {
		/* Failed by the semantic conventions: a 5xx, a gRPC server error code. */
		selector(o, metrics, "_count", "error_type!=\"\"", bad, sizeof(bad));
	}
	for (int w = 0; w < SLO_RATE_WINDOWS; w++) {
		const char *win = slo_rate_windows[w].label;
		fprintf(out,
			"      - record: %s%s\n        labels:\n          slo: \"%s\"\n        expr: |\n",
			SLO_RULE_PREFIX, win, o->name);
		if (slo_is_latency(o))
			/* Bad: slower than the threshold, which is a bucket bound of every series. */
			fprintf(out,
				"          (sum by (job) (rate(%s[%s]))\n"
				"            - sum by (job) (rate(%s[%s])))\n",
				all, win, bad, win);
		else
			/* With no failed series at all the bad share is 0, not absent. */
			fprintf(out,
				"          (sum by (job) (rate(%s[%s]))\n"
				"            or 0 * sum by (job) (rate(%s[%s])))\n",
				bad, win, all, win);
		fprintf(out, "          /\n          sum by (job) (rate(%s[%s]))\n", all, win);
	}
}

static void write_alert(FILE *out, const struct slo_objective *o, const char *severity)
{
	char target[32];
	fmt_num(o->target, target, sizeof(target));
	fprintf(out, "      - alert: GlimpseSLOBurn%s\n        expr: |\n",
		!strcmp(severity, "page") ? "Page" : "Ticket");
	bool first = true;
	for (int a = 0; a < SLO_ALERTS; a++) {
		const struct slo_alert *al = &slo_alerts[a];
		if (strcmp(al->severity, severity))
			continue;
		char rate[32];
		fmt_num(slo_alert_burn_rate(al, o), rate, sizeof(rate));
		fprintf(out,
			"          %s(%s%s{slo=\"%s\"} > %s * (1 - %s)\n"
			"            and %s%s{slo=\"%s\"} > %s * (1 - %s))\n",
			first ? "" : "or ", SLO_RULE_PREFIX, slo_rate_windows[al->long_window].label, o->name,
			rate, target, SLO_RULE_PREFIX, slo_rate_windows[al->short_window].label, o->name,
			rate, target);
		first = false;
	}
	char good[64] = "without a 5xx", when[32], pct[32];
	snprintf(pct, sizeof(pct), "%.10g%%", o->target * 100);
	if (slo_is_latency(o)) {
		char t[32];
		fmt_num((double)o->threshold_ms / 1e3, t, sizeof(t));
		snprintf(good, sizeof(good), "within %ss", t);
	}
	if (o->window_ms % 86400000u)
		snprintf(when, sizeof(when), "%u hours", o->window_ms / 3600000u);
	else
		snprintf(when, sizeof(when), "%u days", o->window_ms / 86400000u);
	fprintf(out,
		"        labels:\n          severity: %s\n          slo: \"%s\"\n"
		"        annotations:\n"
		"          summary: \"SLO %s of {{ $labels.job }}: error budget burning %s\"\n"
		"          description: \"Objective: %s of requests%s%s %s over %s.\"\n",
		severity, o->name, o->name, !strcmp(severity, "page") ? "fast" : "steadily", pct,
		o->route[0] ? " to " : "", o->route, good, when);
}

int slo_rules_write(FILE *out, const struct slo_objective *objs, int n)
{
	char http[128], rpc[128];
	prom_metric_name("http.server.request.duration", "s", false, http, sizeof(http));
	prom_metric_name("rpc.server.call.duration", "s", false, rpc, sizeof(rpc));
	const char *const metrics[2] = { http, rpc };
	fprintf(out,
		"# Service level objectives: recording and alerting rules written by glimpse slo rules.\n"
		"# Multiwindow, multi-burn-rate alerts (Google SRE workbook, chapter 5). glimpse's\n"
		"# series carry the service in `job`: scrape glimpse with honor_labels: true.\n"
		"groups:\n");
	for (int i = 0; i < n; i++) {
		fprintf(out, "  - name: glimpse-slo-%s\n    rules:\n", objs[i].name);
		write_recording(out, &objs[i], metrics);
		write_alert(out, &objs[i], "page");
		write_alert(out, &objs[i], "ticket");
	}
	return ferror(out) ? -EIO : 0;
}
