/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP request metrics of traced processes (OpenTelemetry semantic conventions), kept in one
 * registry that a tracer feeds and the Prometheus exporter and the live view read.
 *
 * Thread-safe: records may arrive on one thread while another renders or polls. */
#ifndef GLIMPSE_HTTP_METRICS_H
#define GLIMPSE_HTTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/resource.h"

enum http_kind {
	HTTP_SERVER,
	HTTP_CLIENT
};

/* One finished request. Strings are only read during metrics_registry_record. */
struct http_record {
	enum http_kind kind;
	const char *method;
	uint16_t status;	      /* 0 = unknown: a server handler that wrote nothing (Go sends
				     * 200), or a client request that got no response */
	const char *path;	      /* server: URL path */
	const char *pattern;	      /* server: ServeMux pattern, or NULL */
	const char *route;	      /* server: the route already decided (gotrace/call.h), or NULL
				     * to derive it from pattern and path */
	const char *protocol_version; /* server: network.protocol.version ("1.1", "2"), or NULL */
	const char *server_address;   /* client: host the request went to */
	uint16_t server_port;	      /* client: the peer's; server: the local listener's (0 = unknown) */
	uint64_t duration_ns;
};

struct metrics_registry;

/* One finished database call: db.client.operation.duration, or for a call the database
 * itself served (seen from its side of the socket) db.server.operation.duration. */
struct db_record {
	const char *system, *operation, *collection; /* db.system.name etc.; "" when unknown */
	bool error;
	const char *error_type; /* error.type when error: "" or NULL for _OTHER */
	bool server;
	uint64_t duration_ns;
};

/* One finished RPC (gRPC): rpc.server.call.duration or rpc.client.call.duration. */
struct rpc_record {
	bool server;
	const char *system;	    /* rpc.system.name: "grpc" */
	const char *method;	    /* rpc.method: "pkg.Service/Method" or "_OTHER" */
	const char *status;	    /* rpc.response.status_code: "OK", "NOT_FOUND", … */
	bool error;		    /* by the semconv rule of the side (metrics/semconv.h) */
	const char *error_type;	    /* error.type when error */
	const char *server_address; /* client: the target's host; NULL on the server */
	uint16_t server_port;	    /* client: the target's; server: the local listener's (0 = unknown) */
	uint64_t duration_ns;
};

/* max_routes caps distinct http.route values (and client server.address values) per target;
 * <= 0 means ROUTE_DEFAULT_MAX. NULL when out of memory. */
struct metrics_registry *metrics_registry_new(int max_routes);
void metrics_registry_free(struct metrics_registry *reg);

/* A target process; its resource labels its series. Returns the target id (the existing one
 * if the same resource was added before), or -ENOMEM. */
int metrics_registry_add_target(struct metrics_registry *reg, const struct resource *res);
void metrics_registry_record_db(struct metrics_registry *reg, int target, const struct db_record *r);
/* Distinct (method, status, address) series are capped per side like routes; the rest are
 * counted under rpc.method "_OTHER". */
void metrics_registry_record_rpc(struct metrics_registry *reg, int target, const struct rpc_record *r);
/* The target's process is gone: its series stop and its memory is freed (once no render
 * in progress uses it). Its id is not reused. 0 or -ENOENT. */
int metrics_registry_remove_target(struct metrics_registry *reg, int target);
/* Records that fail (unknown target, out of memory) are dropped silently: metrics are best
 * effort and the caller's hot path has nobody to report to. */
void metrics_registry_record(struct metrics_registry *reg, int target, const struct http_record *r);
/* route (already normalized) as the target's series spell it: the route itself while the
 * per-target cap allows, else the overflow route; span names use it so that they are capped
 * exactly like http.route. */
void metrics_registry_cap_route(struct metrics_registry *reg, int target, const char *route, char *out,
				size_t len);

/* A value the caller owns (active requests from a BPF map, events dropped), read at render
 * time on the renderer's thread (the exporter's), outside the registry lock. target is -1
 * for a metric that is not per target. */
typedef double (*metric_value_fn)(void *ctx, int target);
/* name is the OTel name ("http.server.active_requests"), unit an OTel unit ("s", "By",
 * "{request}"); the Prometheus name is derived from both (counters get "_total").
 * 0, -EINVAL without name or fn, or -ENOMEM. */
int metrics_registry_add_gauge(struct metrics_registry *reg, const char *name, const char *unit,
			       const char *help, bool is_counter, metric_value_fn fn, void *ctx,
			       bool per_target);
/* A counter (is_counter) or gauge whose value is a word another thread keeps current (probe
 * hits, drops copied on an event thread): read at render time, no callback to write. value
 * must outlive the registry's renders. */
int metrics_registry_add_value_at(struct metrics_registry *reg, const char *name, const char *unit,
				  const char *help, bool is_counter, const _Atomic uint64_t *value);
/* The same for a value semconv defines as an UpDownCounter (http.server.active_requests):
 * exported as METRIC_UPDOWN. */
int metrics_registry_add_updown(struct metrics_registry *reg, const char *name, const char *unit,
				const char *help, metric_value_fn fn, void *ctx, bool per_target);

/* Metrics whose data points the caller produces at render time (runtime, process and
 * scheduler metrics): fn fills up to max points for a target and returns how many (0 if the
 * metric does not apply to it). Called on the renderer's thread, outside the registry lock. */
enum metric_type {
	METRIC_GAUGE,
	METRIC_COUNTER,
	METRIC_HISTOGRAM,
	/* A value that goes up and down but is a sum (OTel UpDownCounter: a non-monotonic
	 * cumulative Sum over OTLP, a gauge in Prometheus), as semconv defines go.goroutine.count
	 * and go.memory.used: the SDK's runtime instrumentation exports them so. */
	METRIC_UPDOWN
};
#define METRIC_MAX_BUCKETS 32
#define METRIC_MAX_POINTS  64

struct metric_point {
	const char *attr_name, *attr_value;	 /* an optional attribute (OTel name), NULL for none */
	const char *attr2_name, *attr2_value;	 /* and a second one */
	double value;				 /* gauge, counter */
	const double *bounds;			 /* histogram: nbounds explicit upper bounds, inclusive */
	size_t nbounds;				 /* at most METRIC_MAX_BUCKETS */
	uint64_t counts[METRIC_MAX_BUCKETS + 1]; /* per bucket (not cumulative); [nbounds] is +Inf */
	uint64_t count;
	double sum;
};

typedef int (*metric_points_fn)(void *ctx, int target, struct metric_point *points, int max);
/* 0, -EINVAL without name or fn, or -ENOMEM. */
int metrics_registry_add_observer(struct metrics_registry *reg, const char *name, const char *unit,
				  const char *help, enum metric_type type, metric_points_fn fn, void *ctx);

/* Prometheus text exposition format 0.0.4 into a malloc'd *out. 0, or -ENOMEM. */
int metrics_registry_render_prometheus(struct metrics_registry *reg, char **out, size_t *len);

/* Everything the registry holds, with OTel names and typed attributes (OTLP export). Values
 * are cumulative since the target was added (counters, histograms). */
enum metric_attr_type {
	METRIC_ATTR_STRING,
	METRIC_ATTR_INT
};

struct metric_attr {
	const char *key; /* OTel attribute name ("http.route") */
	enum metric_attr_type type;
	const char *str; /* METRIC_ATTR_STRING */
	int64_t num;	 /* METRIC_ATTR_INT (http.response.status_code, server.port) */
};

#define METRIC_MAX_ATTRS 8 /* target_info: the resource's eight */

/* One data point. */
struct metric_sample {
	struct metric_attr attrs[METRIC_MAX_ATTRS];
	size_t nattrs;
	double value;	      /* gauge, counter */
	const double *bounds; /* histogram: nbounds explicit upper bounds (inclusive), seconds for
				* the HTTP durations */
	size_t nbounds;
	const uint64_t *counts; /* nbounds + 1 per-bucket (not cumulative) counts; last is +Inf */
	uint64_t count;
	double sum;
};

struct metric_info {
	const char *name; /* OTel name ("http.server.request.duration") */
	const char *unit; /* OTel unit ("s", "{request}"), "" for none */
	const char *description;
	enum metric_type
		type; /* METRIC_COUNTER: a monotonic cumulative sum; METRIC_UPDOWN: a non-monotonic one */
};

struct metrics_visitor {
	/* A target (its id, resource, and when it was added: the start of its cumulative
	 * values); then, last, target -1 with res NULL for the metrics that are not per target
	 * (start = registry creation). */
	void (*target)(void *ctx, int target, const struct resource *res, uint64_t start_unix_ns);
	/* One metric of the current target with all its points (n >= 1). */
	void (*metric)(void *ctx, const struct metric_info *m, const struct metric_sample *samples, size_t n);
};

/* Walks every target: HTTP server then client duration histograms (one sample per series,
 * with http.request.method, http.response.status_code, http.route / server.address,
 * server.port, error.type as in the Prometheus output), then gauges and observers in the
 * order they were added. Pointers are valid only during a callback. The callbacks and the
 * caller's value functions run without the registry lock, on the caller's thread.
 * 0, or -ENOMEM. */
int metrics_registry_visit(struct metrics_registry *reg, const struct metrics_visitor *v, void *ctx);

/* What a service level objective counts (metrics/slo.h): a target's server requests since it
 * was added — HTTP, and gRPC calls served — on one route (NULL: every request and call; gRPC
 * calls have no route), how many failed (semconv: 5xx, gRPC's server error codes) and how many
 * took at most the export histogram's bound bound_index (export_hist_bound_index; -1: none). */
struct http_server_totals {
	uint64_t requests, errors, within;
};
/* 0, or -ENOENT for a target that is not (or no longer) there. */
int metrics_registry_server_totals(struct metrics_registry *reg, int target, const char *route,
				   int bound_index, struct http_server_totals *out);

/* The http.request.method value for a method: itself if well known, else "_OTHER". */
const char *http_method_normalize(const char *method);
/* The Prometheus instance label of a target: "host:pid", so that several targets' series stay
 * apart as a scrape of each would keep them. */
void metrics_instance_label(const struct resource *res, char *out, size_t len);
/* Prometheus metric name for an OTel name and unit ("http.server.request.duration", "s" ->
 * "http_server_request_duration_seconds"). */
void prom_metric_name(const char *otel_name, const char *unit, bool is_counter, char *out, size_t outlen);

/* Live view: per-route server statistics of one target, as deltas between polls. Each view
 * keeps its own previous state, so several readers don't steal each other's intervals. */
struct http_route_row {
	const char *route;			  /* valid until metrics_registry_free */
	const char *method;			  /* a static string */
	uint64_t count, errors;			  /* since the target was added; errors = 5xx */
	uint64_t interval_count, interval_errors; /* since the previous poll */
	double p50, p95, p99;			  /* seconds, over the interval; 0 if no requests */
};

struct http_view_snapshot {
	const struct http_route_row *rows; /* sorted by route, then method; owned by the view,
					    * valid until the next poll or http_view_free */
	size_t n;
	double interval_s;	    /* what the interval columns cover */
	uint64_t overflow_requests; /* requests recorded under ROUTE_OVERFLOW so far */
};

/* The run's totals for the attach summary: server requests by status class and every
 * client peer, since the target was added. */
#define HTTP_SUMMARY_MAX_PEERS 32
struct http_peer_row {
	char address[64];
	uint16_t port;
	const char *method;	/* a static string */
	uint64_t count, errors; /* errors: no response, or 4xx/5xx (semconv client rule) */
	double mean_s;
};

#define HTTP_SUMMARY_MAX_DB_OPS 32

/* Database operations, one row per system, operation, collection and side. */
struct db_op_row {
	bool server; /* the database's side (db.server.operation.duration) */
	char system[24], operation[32], collection[64];
	uint64_t count, errors;
	double mean_s;
};

struct http_summary {
	uint64_t by_class[6]; /* [1..5]: 1xx..5xx; [0]: anything else */
	struct http_peer_row peers[HTTP_SUMMARY_MAX_PEERS];
	size_t npeers, peers_left_out; /* rows past HTTP_SUMMARY_MAX_PEERS are only counted */
	struct db_op_row db_ops[HTTP_SUMMARY_MAX_DB_OPS];
	size_t ndb_ops, db_ops_left_out; /* calls past HTTP_SUMMARY_MAX_DB_OPS rows are only counted */
};

int metrics_registry_summary(struct metrics_registry *reg, int target, struct http_summary *out);

/* gRPC calls of a target since it was added, served then made, by method and status. */
#define RPC_SUMMARY_MAX_ROWS 32
struct rpc_op_row {
	bool server;
	bool error; /* the status is an error by its side's semconv rule */
	char method[256], status[24];
	uint64_t count;
	double mean_s;
};

struct rpc_summary {
	struct rpc_op_row rows[RPC_SUMMARY_MAX_ROWS];
	size_t n, left_out; /* calls past RPC_SUMMARY_MAX_ROWS rows are only counted */
};

int metrics_registry_rpc_summary(struct metrics_registry *reg, int target, struct rpc_summary *out);

struct http_view;
/* The first poll reports what happened after this call. NULL on bad target or no memory. */
struct http_view *http_view_new(struct metrics_registry *reg, int target);
int http_view_poll(struct http_view *v, struct http_view_snapshot *out);
void http_view_free(struct http_view *v);

#endif
