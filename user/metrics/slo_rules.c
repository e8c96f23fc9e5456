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

/* The objective's series: its service and route, when it names them. */
static void selector(const struct slo_objective *o, const char *extra, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "{");
	const char *sep = "";
	if (o->service[0] && n < len) {
		n += (size_t)snprintf(buf + n, len - n, "job=\"%s\"", o->service);
		sep = ",";
	}
	if (o->route[0] && n < len) {
		n += (size_t)snprintf(buf + n, len - n, "%shttp_route=\"%s\"", sep, o->route);
		sep = ",";
	}
	if (extra && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, extra);
	if (n < len)
		snprintf(buf + n, len - n, "}");
}

static void write_recording(FILE *out, const struct slo_objective *o, const char *metric)
{
	char all[700], bad[800], le[64], extra[96];
	selector(o, NULL, all, sizeof(all));
	if (slo_is_latency(o)) {
		fmt_num((double)o->threshold_ms / 1e3, le, sizeof(le));
		snprintf(extra, sizeof(extra), "le=\"%s\"", le);
	} else {
		snprintf(extra, sizeof(extra), "http_response_status_code=~\"5..\"");
	}
	selector(o, extra, bad, sizeof(bad));
	for (int w = 0; w < SLO_RATE_WINDOWS; w++) {
		const char *win = slo_rate_windows[w].label;
		fprintf(out,
			"      - record: %s%s\n        labels:\n          slo: \"%s\"\n        expr: |\n",
			SLO_RULE_PREFIX, win, o->name);
		if (slo_is_latency(o))
			/* Bad: slower than the threshold, which is a bucket bound of every series. */
			fprintf(out,
				"          (sum by (job) (rate(%s_count%s[%s]))\n"
				"            - sum by (job) (rate(%s_bucket%s[%s])))\n",
				metric, all, win, metric, bad, win);
		else
			/* With no 5xx series at all the bad share is 0, not absent. */
			fprintf(out,
				"          (sum by (job) (rate(%s_count%s[%s]))\n"
				"            or 0 * sum by (job) (rate(%s_count%s[%s])))\n",
				metric, bad, win, metric, all, win);
		fprintf(out, "          /\n          sum by (job) (rate(%s_count%s[%s]))\n", metric, all,
			win);
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
	char metric[128];
	prom_metric_name("http.server.request.duration", "s", false, metric, sizeof(metric));
	fprintf(out,
		"# Service level objectives: recording and alerting rules written by glimpse slo rules.\n"
		"# Multiwindow, multi-burn-rate alerts (Google SRE workbook, chapter 5). glimpse's\n"
		"# series carry the service in `job`: scrape glimpse with honor_labels: true.\n"
		"groups:\n");
	for (int i = 0; i < n; i++) {
		fprintf(out, "  - name: glimpse-slo-%s\n    rules:\n", objs[i].name);
		write_recording(out, &objs[i], metric);
		write_alert(out, &objs[i], "page");
		write_alert(out, &objs[i], "ticket");
	}
	return ferror(out) ? -EIO : 0;
}
