// SPDX-License-Identifier: Apache-2.0
#include "export/dash_json.h"

#include "base/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers that read back exactly (the browser test compares them to /metrics); null for NaN
 * and infinities, which JSON cannot spell. */
static void put_num(FILE *f, double v)
{
	char buf[40];
	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, f);
}

static void put_quantiles(FILE *f, const struct dash_hist *h)
{
	fputs(",\"p50\":", f);
	put_num(f, dash_hist_quantile(h, 0.5));
	fputs(",\"p95\":", f);
	put_num(f, dash_hist_quantile(h, 0.95));
	fputs(",\"p99\":", f);
	put_num(f, dash_hist_quantile(h, 0.99));
}

static double seconds_between(const struct dash_snapshot *a, const struct dash_snapshot *b)
{
	return (double)(b->mono_ns - a->mono_ns) / 1e9;
}

/* The window's stats: counts since the snapshot `before` (a route it lacks had none yet). */
static void put_window(FILE *f, const struct dash_hist *now, uint64_t errors_now,
		       const struct dash_hist *before, uint64_t errors_before, double seconds)
{
	struct dash_hist d;
	dash_hist_delta(&d, now, before);
	uint64_t errors = errors_now >= errors_before ? errors_now - errors_before : 0;
	fprintf(f, ",\"window\":{\"count\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"rps\":", d.count, errors);
	put_num(f, seconds > 0 ? (double)d.count / seconds : NAN);
	put_quantiles(f, &d);
	fputc('}', f);
}

static void put_targets(FILE *f, const struct dash_snapshot *s)
{
	fputs(",\"targets\":[", f);
	for (size_t i = 0; i < s->ntargets; i++) {
		const struct dash_target *t = &s->targets[i];
		fprintf(f, "%s{\"id\":%d,\"pid\":%d,\"service\":", i ? "," : "", t->id, t->pid);
		json_str(f, t->service);
		fputs(",\"executable\":", f);
		json_str(f, t->executable);
		fputs(",\"instance\":", f);
		json_str(f, t->instance);
		fprintf(f, ",\"start_unix_ms\":%" PRIu64 "}", t->start_unix_ns / 1000000);
	}
	fputc(']', f);
}

static void put_routes(FILE *f, const struct dash_snapshot *const *snaps, size_t n,
		       const struct dash_snapshot *base, double window)
{
	const struct dash_snapshot *s = snaps[n - 1];
	fputs(",\"routes\":[", f);
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct dash_route *r = &s->routes[i];
		fprintf(f, "%s{\"target\":%d,\"method\":", i ? "," : "", r->target);
		json_str(f, r->method);
		fputs(",\"route\":", f);
		json_str(f, r->route);
		fprintf(f, ",\"count\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"sum\":", r->h.count, r->errors);
		put_num(f, r->h.sum);
		fputs(",\"statuses\":[", f);
		for (size_t j = 0; j < r->nstatuses; j++)
			fprintf(f, "%s[%u,%" PRIu64 "]", j ? "," : "", r->statuses[j].code,
				r->statuses[j].count);
		/* Per bucket (not cumulative) on "bounds", +Inf last: the page's heatmap. */
		fputs("],\"buckets\":[", f);
		for (size_t j = 0; j <= HIST_EXPORT_BOUNDS; j++)
			fprintf(f, "%s%" PRIu64, j ? "," : "", r->h.counts[j]);
		fputc(']', f);
		put_quantiles(f, &r->h);
		const struct dash_route *old = base ? dash_snapshot_find_route(base, r) : NULL;
		if (base)
			put_window(f, &r->h, r->errors, old ? &old->h : NULL, old ? old->errors : 0, window);
		/* Requests per second, one point per pair of snapshots. */
		fputs(",\"rps_history\":[", f);
		uint64_t prev = 0;
		for (size_t k = 0; k < n; k++) {
			const struct dash_route *h = dash_snapshot_find_route(snaps[k], r);
			uint64_t c = h ? h->h.count : 0;
			if (k) {
				double dt = seconds_between(snaps[k - 1], snaps[k]);
				fputs(k > 1 ? "," : "", f);
				put_num(f, dt > 0 && c >= prev ? (double)(c - prev) / dt : 0);
			}
			prev = c;
		}
		fputs("]}", f);
	}
	fputc(']', f);
}

static void put_db(FILE *f, const struct dash_snapshot *s, const struct dash_snapshot *base, double window)
{
	fputs(",\"db\":[", f);
	for (size_t i = 0; i < s->ndb; i++) {
		const struct dash_db_op *d = &s->db[i];
		fprintf(f, "%s{\"target\":%d,\"side\":\"%s\",\"system\":", i ? "," : "", d->target,
			d->server ? "server" : "client");
		json_str(f, d->system);
		fputs(",\"operation\":", f);
		json_str(f, d->operation);
		fputs(",\"collection\":", f);
		json_str(f, d->collection);
		fprintf(f, ",\"count\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"sum\":", d->h.count, d->errors);
		put_num(f, d->h.sum);
		put_quantiles(f, &d->h);
		const struct dash_db_op *old = base ? dash_snapshot_find_db(base, d) : NULL;
		if (base)
			put_window(f, &d->h, d->errors, old ? &old->h : NULL, old ? old->errors : 0, window);
		fputc('}', f);
	}
	fputc(']', f);
}

static void put_peers(FILE *f, const struct dash_snapshot *s, const struct dash_snapshot *base, double window)
{
	fputs(",\"peers\":[", f);
	for (size_t i = 0; i < s->npeers; i++) {
		const struct dash_peer *p = &s->peers[i];
		fprintf(f, "%s{\"target\":%d,\"method\":", i ? "," : "", p->target);
		json_str(f, p->method);
		fputs(",\"address\":", f);
		json_str(f, p->address);
		fprintf(f, ",\"port\":%u,\"count\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"sum\":", p->port,
			p->h.count, p->errors);
		put_num(f, p->h.sum);
		put_quantiles(f, &p->h);
		const struct dash_peer *old = base ? dash_snapshot_find_peer(base, p) : NULL;
		if (base)
			put_window(f, &p->h, p->errors, old ? &old->h : NULL, old ? old->errors : 0, window);
		fputc('}', f);
	}
	fputc(']', f);
}

static void put_metrics(FILE *f, const struct dash_snapshot *s)
{
	static const char *const types[] = { "gauge", "counter", "histogram", "gauge" };
	fputs(",\"metrics\":[", f);
	for (size_t i = 0; i < s->nmetrics; i++) {
		const struct dash_metric *m = &s->metrics[i];
		fprintf(f, "%s{\"target\":%d,\"type\":\"%s\",\"name\":", i ? "," : "", m->target,
			types[m->type]);
		json_str(f, m->name);
		fputs(",\"unit\":", f);
		json_str(f, m->unit);
		fputs(",\"attr\":", f);
		json_str(f, m->attr);
		if (m->type == METRIC_HISTOGRAM) {
			fprintf(f, ",\"count\":%" PRIu64 ",\"sum\":", m->count);
			put_num(f, m->sum);
			fputs(",\"p50\":", f);
			put_num(f, m->p50);
			fputs(",\"p99\":", f);
			put_num(f, m->p99);
		} else {
			fputs(",\"value\":", f);
			put_num(f, m->value);
		}
		fputc('}', f);
	}
	fputc(']', f);
}

static void put_slos(FILE *f, const struct dash_snapshot *s)
{
	fputs(",\"slos\":[", f);
	for (size_t i = 0; i < s->nslos; i++) {
		const struct dash_slo *o = &s->slos[i];
		fprintf(f, "%s{\"target\":%d,\"name\":", i ? "," : "", o->target);
		json_str(f, o->name);
		fputs(",\"objective\":", f);
		put_num(f, o->objective);
		fputs(",\"budget_left\":", f);
		put_num(f, o->budget_left);
		fputs(",\"burn\":{", f);
		for (int w = 0; w < SLO_RATE_WINDOWS; w++) {
			fprintf(f, "%s\"%s\":", w ? "," : "", slo_rate_windows[w].label);
			put_num(f, o->burn[w]);
		}
		fprintf(f, "},\"firing\":{\"page\":%d,\"ticket\":%d}}", o->firing_page, o->firing_ticket);
	}
	fputc(']', f);
}

int dash_json_render(const struct dash_snapshot *const *snaps, size_t n, const struct dash_json_opts *o,
		     char **out, size_t *len)
{
	if (!n)
		return -EINVAL;
	const struct dash_snapshot *s = snaps[n - 1];
	unsigned window_s = o && o->window_s ? o->window_s : DASH_WINDOW_S;
	/* The window starts at the newest snapshot at least window_s old, else the oldest kept. */
	const struct dash_snapshot *base = NULL;
	for (size_t k = 0; k + 1 < n; k++)
		if (!base || s->mono_ns - snaps[k]->mono_ns >= (uint64_t)window_s * 1000000000ull)
			base = snaps[k];
	double window = base ? seconds_between(base, s) : 0;

	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (!f)
		return -ENOMEM;
	fprintf(f, "{\"time_unix_ms\":%" PRIu64 ",\"window_s\":", s->unix_ns / 1000000);
	put_num(f, window);
	fputs(",\"quantile_rule\":\"histogram_quantile\",\"bounds\":[", f);
	for (size_t i = 0; i < HIST_EXPORT_BOUNDS; i++) {
		fputs(i ? "," : "", f);
		put_num(f, hist_export_bounds[i]);
	}
	fputc(']', f);
	put_targets(f, s);
	put_routes(f, snaps, n, base, window);
	put_db(f, s, base, window);
	put_peers(f, s, base, window);
	put_metrics(f, s);
	put_slos(f, s);
	dash_traces_write_lists(f, o ? o->traces : NULL);
	fputc('}', f);
	if (ferror(f) | fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = sz;
	return 0;
}
