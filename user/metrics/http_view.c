// SPDX-License-Identifier: Apache-2.0
/* The live HTTP view (per route rates, errors, percentiles over an interval) and the run summary. */
#include "metrics/registry.h"
#include "metrics/registry_internal.h"
#include "metrics/semconv.h"
#include "base/clock.h"
#include "gotrace/route.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct view_prev {
	uint64_t errors;
	struct fine_hist fine;
};

struct http_view {
	struct metrics_registry *reg;
	int target;
	struct view_prev *prev;	 /* per route_stat index, as of the last poll */
	struct fine_hist *delta; /* scratch, same indexing */
	struct http_route_row *rows;
	size_t n, cap;
	double last_s; /* CLOCK_MONOTONIC */
};

static int view_reserve(struct http_view *v, size_t n)
{
	if (n <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 16;
	while (cap < n)
		cap *= 2;
	struct view_prev *prev = realloc(v->prev, cap * sizeof(*prev));
	if (prev)
		v->prev = prev;
	struct fine_hist *delta = realloc(v->delta, cap * sizeof(*delta));
	if (delta)
		v->delta = delta;
	struct http_route_row *rows = realloc(v->rows, cap * sizeof(*rows));
	if (rows)
		v->rows = rows;
	if (!prev || !delta || !rows)
		return -ENOMEM;
	/* Routes first seen now start from zero: all their requests are in this interval. */
	memset(v->prev + v->cap, 0, (cap - v->cap) * sizeof(*prev));
	v->cap = cap;
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct http_route_row *x = a, *y = b;
	int c = strcmp(x->route, y->route);
	return c ? c : strcmp(x->method, y->method);
}

static double elapsed(double *since_s)
{
	double now = clock_mono_s(), s = now - *since_s;
	*since_s = now;
	return s;
}

/* One row per series key without its error type: errors and successes of an operation add up. */
static void summarize_db(const struct target *t, struct http_summary *out)
{
	const struct db_series *ds = t->db.p;
	for (size_t i = 0; i < t->db.n; i++) {
		struct db_parts p;
		registry_db_split(ds[i].key, &p);
		struct db_op_row *row = NULL;
		for (size_t j = 0; j < out->ndb_ops && !row; j++)
			if (out->db_ops[j].server == p.server && !strcmp(out->db_ops[j].system, p.system) &&
			    !strcmp(out->db_ops[j].operation, p.operation) &&
			    !strcmp(out->db_ops[j].collection, p.collection))
				row = &out->db_ops[j];
		if (!row && out->ndb_ops == HTTP_SUMMARY_MAX_DB_OPS) {
			out->db_ops_left_out += ds[i].h.count;
			continue;
		}
		if (!row) {
			row = &out->db_ops[out->ndb_ops++];
			row->server = p.server;
			snprintf(row->system, sizeof(row->system), "%.23s", p.system);
			snprintf(row->operation, sizeof(row->operation), "%.31s", p.operation);
			snprintf(row->collection, sizeof(row->collection), "%.63s", p.collection);
		}
		row->mean_s += (double)ds[i].h.sum_ns / 1e9; /* the sum until the division */
		row->count += ds[i].h.count;
		if (ds[i].error)
			row->errors += ds[i].h.count;
	}
}

int metrics_registry_summary(struct metrics_registry *reg, int target, struct http_summary *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&reg->lock);
	struct target *t = target >= 0 && (size_t)target < reg->ntargets ? reg->targets[target] : NULL;
	if (!t) {
		pthread_mutex_unlock(&reg->lock);
		return -ENOENT;
	}
	const struct server_series *ss = t->server.p;
	for (size_t i = 0; i < t->server.n; i++) {
		unsigned cls = ss[i].status / 100;
		out->by_class[cls >= 1 && cls <= 5 ? cls : 0] += ss[i].h.count;
	}
	/* One row per peer and method: statuses summed. */
	const struct client_series *cs = t->client.p;
	for (size_t i = 0; i < t->client.n; i++) {
		struct http_peer_row *row = NULL;
		for (size_t j = 0; j < out->npeers && !row; j++)
			if (out->peers[j].port == cs[i].port &&
			    out->peers[j].method == registry_methods[cs[i].method] &&
			    !strcmp(out->peers[j].address, cs[i].address))
				row = &out->peers[j];
		if (!row && out->npeers == HTTP_SUMMARY_MAX_PEERS) {
			out->peers_left_out += cs[i].h.count;
			continue;
		}
		if (!row) {
			row = &out->peers[out->npeers++];
			snprintf(row->address, sizeof(row->address), "%s", cs[i].address);
			row->port = cs[i].port;
			row->method = registry_methods[cs[i].method];
		}
		/* mean_s holds the sum until the division below */
		row->mean_s += (double)cs[i].h.sum_ns / 1e9;
		row->count += cs[i].h.count;
		if (semconv_http_client_error(cs[i].status))
			row->errors += cs[i].h.count;
	}
	summarize_db(t, out);
	pthread_mutex_unlock(&reg->lock);
	for (size_t j = 0; j < out->npeers; j++)
		out->peers[j].mean_s = out->peers[j].count ? out->peers[j].mean_s / out->peers[j].count : 0;
	for (size_t j = 0; j < out->ndb_ops; j++)
		out->db_ops[j].mean_s =
			out->db_ops[j].count ? out->db_ops[j].mean_s / out->db_ops[j].count : 0;
	return 0;
}

int http_view_poll(struct http_view *v, struct http_view_snapshot *out)
{
	int err = 0;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&v->reg->lock);
	struct target *t = v->reg->targets[v->target];
	if (!t) {
		pthread_mutex_unlock(&v->reg->lock);
		return -ENOENT;
	}
	const struct route_stat *st = t->stats.p;
	size_t n = t->stats.n;
	if ((err = view_reserve(v, n))) {
		pthread_mutex_unlock(&v->reg->lock);
		return err;
	}
	/* Only the subtraction happens under the lock; percentiles and sorting come after. */
	for (size_t i = 0; i < n; i++) {
		fine_hist_delta(&v->delta[i], &st[i].fine, &v->prev[i].fine);
		v->rows[i] = (struct http_route_row){
			.route = st[i].route,
			.method = registry_methods[st[i].method],
			.count = st[i].fine.count,
			.errors = st[i].errors,
			.interval_count = v->delta[i].count,
			.interval_errors = st[i].errors - v->prev[i].errors,
		};
		v->prev[i].fine = st[i].fine;
		v->prev[i].errors = st[i].errors;
	}
	out->overflow_requests = route_table_overflowed(t->routes);
	pthread_mutex_unlock(&v->reg->lock);

	for (size_t i = 0; i < n; i++) {
		v->rows[i].p50 = fine_hist_quantile(&v->delta[i], 0.50);
		v->rows[i].p95 = fine_hist_quantile(&v->delta[i], 0.95);
		v->rows[i].p99 = fine_hist_quantile(&v->delta[i], 0.99);
	}
	if (n)
		qsort(v->rows, n, sizeof(*v->rows), cmp_row);
	v->n = n;
	out->rows = v->rows;
	out->n = n;
	out->interval_s = elapsed(&v->last_s);
	return 0;
}

struct http_view *http_view_new(struct metrics_registry *reg, int target)
{
	struct http_view_snapshot discard;
	pthread_mutex_lock(&reg->lock);
	bool ok = target >= 0 && (size_t)target < reg->ntargets;
	pthread_mutex_unlock(&reg->lock);
	struct http_view *v = ok ? calloc(1, sizeof(*v)) : NULL;
	if (!v)
		return NULL;
	v->reg = reg;
	v->target = target;
	v->last_s = clock_mono_s();
	/* The baseline: the first real poll reports only what came after creation. */
	if (http_view_poll(v, &discard)) {
		http_view_free(v);
		return NULL;
	}
	return v;
}

void http_view_free(struct http_view *v)
{
	if (!v)
		return;
	free(v->prev);
	free(v->delta);
	free(v->rows);
	free(v);
}
