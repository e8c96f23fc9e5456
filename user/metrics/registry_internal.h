/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the metrics registry: its storage, shared by the files that make it up — the
 * registry itself (registry.c: targets, series, recording), its caller-owned metrics
 * (registry_gauges.c: gauges, values, observers), the render copy (registry_copy.c), the visit
 * that both exporters read (registry_visit.c: OTLP, and Prometheus text in export/prom_text.c)
 * and the live HTTP view (http_view.c). Nothing outside metrics/ includes this. */
#ifndef GLIMPSE_METRICS_REGISTRY_INTERNAL_H
#define GLIMPSE_METRICS_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "base/histogram.h"
#include "metrics/registry.h"

/* The registry_methods semconv names; anything else becomes _OTHER so that a client sending made-up
 * registry_methods cannot create series. Methods are case-sensitive in HTTP. */
extern const char *const registry_methods[];
#define METHOD_OTHER 9

/* Series are keyed by interned strings, so pointer equality is string equality. */
struct server_series {
	const char *route;
	const char *protocol_version; /* a static string ("1.1"), "" when unknown */
	uint16_t port;		      /* the local listener's, 0 = unknown */
	uint8_t method;
	uint16_t status;
	struct export_hist h;
};

struct client_series {
	const char *address;
	uint16_t port;
	uint8_t method;
	uint16_t status;
	struct export_hist h;
};

/* db.client.operation.duration and db.server.operation.duration: key is
 * "role\x1fsystem\x1foperation\x1fcollection\x1ferror.type" (role 'c' or 's'), interned. */
struct db_series {
	const char *key;
	bool error;
	struct export_hist h;
};

/* rpc.server.call.duration and rpc.client.call.duration: key is
 * "role\x1fsystem\x1fmethod\x1fstatus\x1faddress\x1ferror.type" (role 'c' or 's'), interned. */
struct rpc_series {
	const char *key;
	uint16_t port;
	bool error;
	struct export_hist h;
};

/* What the live view needs, per (route, method) rather than per status: the fine histogram
 * is ~4 KiB, too big to keep for every status code. */
struct route_stat {
	const char *route;
	uint8_t method;
	uint64_t errors;
	struct fine_hist fine;
};

enum entry_kind {
	E_SERVER,
	E_CLIENT,
	E_STAT,
	E_DB,
	E_RPC
};

struct key {
	enum entry_kind kind;
	const char *str;
	uint16_t port, status, proto;
	uint8_t method;
};

/* A key as the index hashes it: fixed width and without padding, so its bytes are the key. */
struct key_bytes {
	uint64_t str; /* the interned string's address */
	uint8_t kind, method;
	uint16_t port, status, proto;
};

/* The index over a target's series: key → position in its vector (uthash). */
struct index_entry {
	struct key_bytes k;
	uint32_t idx;
	UT_hash_handle hh;
};

struct vec {
	void *p;
	size_t n, cap;
};

struct target {
	struct resource res;
	struct route_table *routes, *peers, *dbops, *rpc_server_ops, *rpc_client_ops;
	struct vec server, client, stats, db; /* append-only: indices stay valid */
	struct vec rpc;
	struct index_entry *index; /* one index over every vector */
	uint64_t start_unix_ns;	   /* when added: cumulative values start here */
};

/* A caller-owned metric: a single value (fn) or data points (points). */
struct gauge {
	char *name, *help;
	char *otel_name, *unit; /* as given, for OTLP */
	bool is_counter, per_target;
	metric_value_fn fn;
	metric_points_fn points;
	enum metric_type type;
	void *ctx;
};

struct metrics_registry {
	pthread_mutex_t lock;
	int max_routes;
	struct target **targets; /* each allocated once, so pointers outlive a realloc */
	size_t ntargets, tcap;
	struct gauge *gauges;
	size_t ngauges, gcap;
	uint64_t start_unix_ns;
	/* Renders copy target pointers and use them unlocked: a target removed meanwhile waits
	 * here until the last render in progress ends. */
	int readers;
	struct target **graveyard;
	size_t ngraves;
};

struct server_row {
	const struct target *t;
	size_t ti;
	struct server_series s;
};

struct client_row {
	const struct target *t;
	size_t ti;
	struct client_series s;
};

struct db_row {
	const struct target *t;
	size_t ti;
	struct db_series s;
};

struct rpc_row {
	const struct target *t;
	size_t ti;
	struct rpc_series s;
};

/* The parts of an rpc series key. */
struct rpc_parts {
	bool server;
	char system[16], method[256], status[24], address[128], error_type[24];
};

/* The three parts of a db series key. */
struct db_parts {
	bool server;
	char system[128], operation[128], collection[128], error_type[32];
};

/* Everything render needs, copied under the lock so formatting (and the caller's callbacks)
 * run without it. Targets and interned strings are immutable once created. */
struct render_copy {
	struct target **targets;
	size_t ntargets;
	struct server_row *server;
	size_t nserver;
	struct client_row *client;
	size_t nclient;
	struct db_row *db;
	size_t ndb;
	struct rpc_row *rpc;
	size_t nrpc;
	struct gauge *gauges;
	size_t ngauges;
	bool counted; /* registered as a reader: registry_release_state must undo it */
};

/* Frees a target and its series (NULL: nothing); no render may still read it. */
void registry_target_free(struct target *t);
int registry_cmp_server(const void *a, const void *b);
int registry_cmp_client(const void *a, const void *b);
int registry_cmp_db(const void *a, const void *b);
int registry_cmp_rpc(const void *a, const void *b);
void registry_rpc_split(const char *key, struct rpc_parts *p);
void registry_db_split(const char *key, struct db_parts *p);
/* Copies what a render needs under the lock, so that formatting runs without it. */
int registry_copy_state(struct metrics_registry *reg, struct render_copy *c);
/* Ends a render that registry_copy_state began: targets removed meanwhile can go now. */
void registry_release_state(struct metrics_registry *reg, struct render_copy *c);

#endif
