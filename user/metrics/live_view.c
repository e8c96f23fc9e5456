// SPDX-License-Identifier: Apache-2.0
#include "metrics/live_view.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/run_loop.h"

struct live_view {
	struct http_view *interval; /* polled every update */
	struct http_view *whole;    /* polled once, at the summary: its interval is the run */
	struct metrics_registry *reg;
	int target;
	const char *title;
	FILE *out;
	bool tty;
};

struct live_view *live_view_new(struct metrics_registry *reg, int target, const char *title, FILE *out)
{
	struct live_view *lv = calloc(1, sizeof(*lv));
	if (lv) {
		lv->reg = reg;
		lv->target = target;
	}
	if (!lv)
		return NULL;
	lv->interval = http_view_new(reg, target);
	lv->whole = http_view_new(reg, target);
	if (!lv->interval || !lv->whole) {
		live_view_free(lv);
		return NULL;
	}
	lv->title = title;
	lv->out = out;
	lv->tty = isatty(fileno(out));
	return lv;
}

static void format_seconds(double s, char *buf, size_t len)
{
	if (s <= 0)
		snprintf(buf, len, "-");
	else if (s < 1e-3)
		snprintf(buf, len, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.1fms", s * 1e3);
	else
		snprintf(buf, len, "%.2fs", s);
}

static double error_pct(uint64_t errors, uint64_t count)
{
	return count ? 100.0 * errors / count : 0;
}

#define TABLE_HEADER "%-32s %-7s %8s %7s %9s %9s %9s %9s\n"
#define TABLE_ROW    "%-32s %-7s %8s %6.1f%% %9s %9s %9s %9llu\n"

/* Requests no route matched (404/405 without a pattern) carry no http.route. */
static const char *route_shown(const char *route)
{
	return route[0] ? route : "(no route)";
}

static void print_row(FILE *out, const char *route, const char *method, const char *count, uint64_t errors,
		      uint64_t n, double p50, double p95, double p99, uint64_t total)
{
	char a[16], b[16], c[16];
	format_seconds(p50, a, sizeof(a));
	format_seconds(p95, b, sizeof(b));
	format_seconds(p99, c, sizeof(c));
	fprintf(out, TABLE_ROW, route_shown(route), method, count, error_pct(errors, n), a, b, c,
		(unsigned long long)total);
}

void live_view_update(struct live_view *lv, const struct live_view_status *st)
{
	struct http_view_snapshot snap;
	if (http_view_poll(lv->interval, &snap))
		return;
	char now[16];
	run_clock_text(now, sizeof(now));
	const char *process = st->process && *st->process ? st->process : NULL;
	const char *slo = st->slo && *st->slo ? st->slo : NULL;
	if (lv->tty) {
		fprintf(lv->out, "\033[H\033[2J%s  %s  active %lld  dropped %llu\n%s\n%s%s\n", lv->title, now,
			(long long)st->active_requests, (unsigned long long)st->events_dropped,
			process ? process : "", slo ? slo : "", slo ? "\n" : "");
		fprintf(lv->out, TABLE_HEADER, "ROUTE", "METHOD", "RPS", "ERR%", "P50", "P95", "P99",
			"TOTAL");
	}
	if (!lv->tty && process)
		fprintf(lv->out, "%s process %s\n", now, process);
	if (!lv->tty && slo)
		fprintf(lv->out, "%s %s\n", now, slo);
	for (size_t i = 0; i < snap.n; i++) {
		const struct http_route_row *r = &snap.rows[i];
		double rps = snap.interval_s > 0 ? r->interval_count / snap.interval_s : 0;
		if (lv->tty) {
			char rate[16];
			snprintf(rate, sizeof(rate), "%.1f", rps);
			print_row(lv->out, r->route, r->method, rate, r->interval_errors, r->interval_count,
				  r->p50, r->p95, r->p99, r->count);
		} else if (r->interval_count) {
			char a[16], b[16], c[16];
			format_seconds(r->p50, a, sizeof(a));
			format_seconds(r->p95, b, sizeof(b));
			format_seconds(r->p99, c, sizeof(c));
			fprintf(lv->out, "%s %s %s rps=%.1f err=%.1f%% p50=%s p95=%s p99=%s total=%llu\n",
				now, r->method, route_shown(r->route), rps,
				error_pct(r->interval_errors, r->interval_count), a, b, c,
				(unsigned long long)r->count);
		}
	}
	fflush(lv->out);
}

/* Database operations, the client's (calls it made) and the server's (calls it served). */
static void print_db_ops(struct live_view *lv, const struct http_summary *sum)
{
	for (int server = 0; server <= 1; server++) {
		bool header = false;
		for (size_t i = 0; i < sum->ndb_ops; i++) {
			const struct db_op_row *r = &sum->db_ops[i];
			if (r->server != server)
				continue;
			if (!header) {
				fprintf(lv->out, "%s:\n%-12s %-16s %-24s %9s %7s %9s\n",
					server ? "Database operations served" : "Database calls", "SYSTEM",
					"OPERATION", "COLLECTION", "COUNT", "ERR%", "MEAN");
				header = true;
			}
			char mean[16];
			format_seconds(r->mean_s, mean, sizeof(mean));
			fprintf(lv->out, "%-12s %-16s %-24s %9llu %6.1f%% %9s\n", r->system,
				r->operation[0] ? r->operation : "-", r->collection[0] ? r->collection : "-",
				(unsigned long long)r->count, error_pct(r->errors, r->count), mean);
		}
	}
	if (sum->db_ops_left_out)
		fprintf(lv->out, "(%llu more database calls of other operations)\n",
			(unsigned long long)sum->db_ops_left_out);
}

/* Server requests by status class, database operations, then every client peer called. */
static void print_totals(struct live_view *lv)
{
	struct http_summary sum;
	if (metrics_registry_summary(lv->reg, lv->target, &sum))
		return;
	uint64_t all = 0;
	for (int c = 0; c < 6; c++)
		all += sum.by_class[c];
	if (all) {
		fprintf(lv->out, "Status classes:");
		for (int c = 1; c <= 5; c++)
			if (sum.by_class[c])
				fprintf(lv->out, " %dxx=%llu (%.1f%%)", c,
					(unsigned long long)sum.by_class[c], error_pct(sum.by_class[c], all));
		if (sum.by_class[0])
			fprintf(lv->out, " other=%llu", (unsigned long long)sum.by_class[0]);
		fputc('\n', lv->out);
	}
	print_db_ops(lv, &sum);
	if (!sum.npeers)
		return;
	fprintf(lv->out, "Client calls:\n%-40s %-7s %9s %7s %9s\n", "PEER", "METHOD", "COUNT", "ERR%",
		"MEAN");
	for (size_t i = 0; i < sum.npeers; i++) {
		const struct http_peer_row *r = &sum.peers[i];
		char peer[96], mean[16];
		snprintf(peer, sizeof(peer), r->port ? "%s:%u" : "%s", r->address[0] ? r->address : "?",
			 (unsigned)r->port);
		format_seconds(r->mean_s, mean, sizeof(mean));
		fprintf(lv->out, "%-40s %-7s %9llu %6.1f%% %9s\n", peer, r->method,
			(unsigned long long)r->count, error_pct(r->errors, r->count), mean);
	}
	if (sum.peers_left_out)
		fprintf(lv->out, "(%llu more calls to other peers)\n",
			(unsigned long long)sum.peers_left_out);
}

/* gRPC calls served and made, by method and status. */
static void print_rpc_ops(struct live_view *lv)
{
	struct rpc_summary sum;
	if (metrics_registry_rpc_summary(lv->reg, lv->target, &sum))
		return;
	for (int server = 1; server >= 0; server--) {
		bool header = false;
		for (size_t i = 0; i < sum.n; i++) {
			const struct rpc_op_row *r = &sum.rows[i];
			if (r->server != server)
				continue;
			if (!header) {
				fprintf(lv->out, "%s:\n%-44s %-20s %9s %9s\n",
					server ? "gRPC calls served" : "gRPC calls made", "METHOD", "STATUS",
					"COUNT", "MEAN");
				header = true;
			}
			char mean[16];
			format_seconds(r->mean_s, mean, sizeof(mean));
			fprintf(lv->out, "%-44s %-20s %9llu %9s%s\n", r->method, r->status,
				(unsigned long long)r->count, mean, r->error ? "  error" : "");
		}
	}
	if (sum.left_out)
		fprintf(lv->out, "(%llu more gRPC calls of other methods)\n",
			(unsigned long long)sum.left_out);
}

void live_view_summary(struct live_view *lv)
{
	struct http_view_snapshot snap;
	if (http_view_poll(lv->whole, &snap))
		return;
	uint64_t total = 0, errors = 0;
	for (size_t i = 0; i < snap.n; i++) {
		total += snap.rows[i].interval_count;
		errors += snap.rows[i].interval_errors;
	}
	fprintf(lv->out, "\nSummary: %s, %.1f s, %llu server requests, %.1f%% errors\n", lv->title,
		snap.interval_s, (unsigned long long)total, error_pct(errors, total));
	if (snap.n) {
		fprintf(lv->out, TABLE_HEADER, "ROUTE", "METHOD", "COUNT", "ERR%", "P50", "P95", "P99",
			"ERRORS");
		for (size_t i = 0; i < snap.n; i++) {
			const struct http_route_row *r = &snap.rows[i];
			char count[24];
			snprintf(count, sizeof(count), "%llu", (unsigned long long)r->interval_count);
			print_row(lv->out, r->route, r->method, count, r->interval_errors, r->interval_count,
				  r->p50, r->p95, r->p99, r->interval_errors);
		}
	}
	if (snap.overflow_requests)
		fprintf(lv->out, "(%llu requests beyond the route cap were counted under /{overflow})\n",
			(unsigned long long)snap.overflow_requests);
	print_totals(lv);
	print_rpc_ops(lv);
	fflush(lv->out);
}

void live_view_free(struct live_view *lv)
{
	if (!lv)
		return;
	http_view_free(lv->interval);
	http_view_free(lv->whole);
	free(lv);
}
