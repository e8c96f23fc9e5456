/* SPDX-License-Identifier: Apache-2.0 */
/* What the live dashboard shows, copied out of the metrics registry through its visit (the walk
 * the Prometheus and OTLP exporters read): per-route server totals by status with their
 * duration buckets, database operations, and every other metric of a target (runtime,
 * process, scheduler). A snapshot owns its memory; the dashboard keeps the last minutes of
 * them (dashboard.c) and writes them as JSON (dash_json.c). */
#ifndef GLIMPSE_DASH_SNAPSHOT_H
#define GLIMPSE_DASH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/histogram.h"
#include "metrics/registry.h"
#include "metrics/slo.h"

/* Duration buckets on hist_export_bounds, the bounds of every HTTP and DB histogram. */
struct dash_hist {
	uint64_t counts[HIST_EXPORT_BOUNDS + 1]; /* per bucket; last is +Inf */
	uint64_t count;
	double sum; /* seconds */
};

struct dash_status {
	unsigned code; /* http.response.status_code */
	uint64_t count;
};

/* One (target, method, route): every series of it (statuses, protocol versions, ports) added. */
struct dash_route {
	int target;
	char method[16];
	char *route;		      /* "" when no route matched */
	struct dash_status *statuses; /* by code */
	size_t nstatuses;
	uint64_t errors; /* 5xx, error.type set (semconv server rule) */
	struct dash_hist h;
};

/* Outgoing HTTP calls to one peer (http.client.request.duration): method, server.address and
 * server.port; every status added. */
struct dash_peer {
	int target;
	char method[16], address[128];
	unsigned port;
	uint64_t errors; /* no response, or 4xx/5xx (semconv client rule, as error.type) */
	struct dash_hist h;
};

struct dash_db_op {
	int target;
	bool server; /* db.server.operation.duration */
	char system[32], operation[48], collection[96];
	uint64_t errors;
	struct dash_hist h;
};

/* Any other metric point of a target: a gauge or counter value, or a histogram's count, sum
 * and quantiles (its own bounds). */
struct dash_metric {
	int target;
	enum metric_type type;
	char name[96], unit[32], attr[160]; /* attr: "key=value, key=value", or "" */
	double value;			    /* gauge, counter */
	uint64_t count;			    /* histogram */
	double sum, p50, p99;		    /* histogram; NaN when empty */
};

/* One service level objective of a target, from the SLO tracker's gauges (glimpse.slo.*):
 * what /metrics says of it, nothing recomputed. NaN where a gauge has no point yet. */
struct dash_slo {
	int target;
	char name[SLO_NAME_LEN];
	double objective;		/* glimpse.slo.target: share that must be good */
	double budget_left;		/* glimpse.slo.error_budget.remaining */
	double burn[SLO_RATE_WINDOWS];	/* glimpse.slo.burn_rate, by slo_rate_windows */
	int firing_page, firing_ticket; /* glimpse.slo.alerts.firing, by severity */
};

struct dash_target {
	int id;
	int pid;
	char service[256], executable[256], instance[300];
	uint64_t start_unix_ns;
};

struct dash_snapshot {
	uint64_t unix_ns, mono_ns; /* when it was taken */
	struct dash_target *targets;
	size_t ntargets;
	struct dash_route *routes; /* sorted by dash_route_cmp */
	size_t nroutes;
	struct dash_db_op *db; /* sorted by dash_db_cmp */
	size_t ndb;
	struct dash_peer *peers; /* sorted by dash_peer_cmp */
	size_t npeers;
	struct dash_metric *metrics; /* in visit order */
	size_t nmetrics;
	struct dash_slo *slos; /* in visit order */
	size_t nslos;
};

/* A snapshot of reg now. NULL when out of memory. */
struct dash_snapshot *dash_snapshot_take(struct metrics_registry *reg);
void dash_snapshot_free(struct dash_snapshot *s);

/* Order of routes (target, route, method) and of DB operations; also the keys history is
 * matched on. */
int dash_route_cmp(const void *a, const void *b);
int dash_db_cmp(const void *a, const void *b);
int dash_peer_cmp(const void *a, const void *b);
const struct dash_route *dash_snapshot_find_route(const struct dash_snapshot *s,
						  const struct dash_route *key);
const struct dash_db_op *dash_snapshot_find_db(const struct dash_snapshot *s, const struct dash_db_op *key);
const struct dash_peer *dash_snapshot_find_peer(const struct dash_snapshot *s, const struct dash_peer *key);

/* The q-quantile (0..1) of a histogram with nbounds inclusive upper bounds and nbounds + 1
 * per-bucket counts, by Prometheus' histogram_quantile rule, so that the dashboard and a
 * PromQL query over /metrics agree: rank = q * count; the first bucket whose cumulative count
 * reaches rank holds it; the value is interpolated linearly between that bucket's lower bound
 * (the previous bound, 0 for the first bucket) and its upper bound; a rank in the +Inf bucket
 * gives the highest finite bound; a first bound <= 0 gives that bound. NaN when empty. */
double dash_quantile(const double *bounds, size_t nbounds, const uint64_t *counts, double q);
double dash_hist_quantile(const struct dash_hist *h, double q);
/* out = now - before (before may be NULL: out = now). */
void dash_hist_delta(struct dash_hist *out, const struct dash_hist *now, const struct dash_hist *before);

#endif
