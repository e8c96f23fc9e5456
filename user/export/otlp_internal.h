/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the OTLP exporter, for its unit tests: span copies, the drop-oldest queue, protobuf
 * encoding, gzip, Retry-After and backoff. */
#ifndef GLIMPSE_OTLP_INTERNAL_H
#define GLIMPSE_OTLP_INTERNAL_H

#include <stddef.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "export/otlp.h"

#define OTLP_SCOPE_NAME "glimpse"

/* A span as queued: the caller's span with every string copied into data (one allocation). */
struct otlp_qspan {
	uint32_t res; /* index in the exporter's resource table */
	struct otlp_span s;
	char data[];
};

/* NULL when out of memory. Strings longer than OTLP_STR_MAX are cut at a UTF-8 boundary; NULL
 * strings become ""; attributes past OTLP_SPAN_MAX_ATTRS or without a key are left out. */
struct otlp_qspan *otlp_qspan_new(const struct otlp_span *s, uint32_t res);

/* Ring of queued spans; not locked (the exporter holds its lock around it). */
struct otlp_queue {
	struct otlp_qspan **slots;
	size_t cap, head, n;
};

int otlp_queue_init(struct otlp_queue *q, size_t cap);
/* Appends s. When the queue is full the oldest span is taken out and returned, for the caller
 * to count and free; NULL otherwise. */
struct otlp_qspan *otlp_queue_push(struct otlp_queue *q, struct otlp_qspan *s);
/* Takes up to max of the oldest spans; how many. */
size_t otlp_queue_pop(struct otlp_queue *q, struct otlp_qspan **out, size_t max);
/* Frees the queued spans too. */
void otlp_queue_free(struct otlp_queue *q);

/* ExportTraceServiceRequest of spans (resources[span->res] is each one's process), one
 * ResourceSpans per resource in order of first appearance, scope "glimpse". Malloc'd *out.
 * 0 or -ENOMEM. */
int otlp_encode_traces(const struct otlp_config *cfg, const struct resource *const *resources,
		       struct otlp_qspan *const *spans, size_t n, uint8_t **out, size_t *len);

/* ExportMetricsServiceRequest of everything in reg at now_ns (cumulative), one
 * ResourceMetrics per target with at least one metric; *npoints data points. 0 or -ENOMEM. */
int otlp_encode_metrics(const struct otlp_config *cfg, struct metrics_registry *reg, uint64_t now_ns,
			uint8_t **out, size_t *len, size_t *npoints);

/* The message building blocks both encoders share (otlp_encode.c): every message of a request
 * lives in one arena, freed after packing. */
struct arena_chunk;
struct otlp_arena {
	struct arena_chunk *head;
};
/* Zeroed memory; NULL when out of memory. */
void *otlp_arena_alloc(struct otlp_arena *a, size_t n);
/* A copy repaired to UTF-8 and cut at OTLP_STR_MAX; NULL when out of memory. */
char *otlp_arena_str(struct otlp_arena *a, const char *s);
void otlp_arena_free(struct otlp_arena *a);
/* KeyValues; key and string values must be clean UTF-8 that outlives packing. NULL: no memory. */
struct Opentelemetry__Proto__Common__V1__KeyValue *otlp_kv_str(struct otlp_arena *a, const char *key,
							       const char *v);
struct Opentelemetry__Proto__Common__V1__KeyValue *otlp_kv_int(struct otlp_arena *a, const char *key,
							       int64_t v);
/* The resource of a process (res NULL: glimpse itself) with the configured attributes and
 * service name over its own; NULL when out of memory. */
struct Opentelemetry__Proto__Resource__V1__Resource *otlp_resource_new(struct otlp_arena *a,
								       const struct otlp_config *cfg,
								       const struct resource *res);
/* Scope "glimpse" and its version. */
struct Opentelemetry__Proto__Common__V1__InstrumentationScope *otlp_scope_new(struct otlp_arena *a);
/* A request's items grouped by their resource, in order of first appearance (one
 * ResourceSpans, ResourceLogs or ResourceProfiles per resource): group[i] is item i's group,
 * first[g] the first item of group g and count[g] how many it has. */
struct otlp_groups {
	size_t n, *group, *first, *count;
};
/* Groups n items by keys[i] (the arena holds the arrays); 0 or -ENOMEM. */
int otlp_group_by_key(struct otlp_arena *a, const uint64_t *keys, size_t n, struct otlp_groups *out);

/* ExportProfilesServiceRequest of p: one ResourceProfiles per process (res[i] describes
 * process res[i].pid; a process without one gets a resource of its pid and name), each with a
 * Profile per value type (samples/count, then cpu or offcpu in nanoseconds) over the same
 * samples, and one dictionary (export/otlp_profiles_encode.c). 0 or -ENOMEM. */
struct prof;
int otlp_encode_profiles(const struct otlp_config *cfg, const struct prof *p, const struct resource *res,
			 size_t nres, uint8_t **out, size_t *len);

/* ExportLogsServiceRequest of recs (res[i] is recs[i]'s process), one ResourceLogs per
 * resource in order of first appearance, scope "glimpse" (export/otlp_logs_encode.c). 0 or
 * -ENOMEM. */
struct log_record;
int otlp_encode_logs(const struct otlp_config *cfg, const struct resource *const *res,
		     const struct log_record *const *recs, size_t n, uint8_t **out, size_t *len);

/* gzip (RFC 1952) of in into a malloc'd *out. 0 or -ENOMEM. */
int otlp_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);

/* Retry-After: delay-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime), relative to
 * now; a date in the past gives 0. 0, or -EINVAL if unparsable. */
int otlp_parse_retry_after(const char *value, time_t now, int64_t *delay_ms);

/* Backoff before retry number attempt (0 = the first retry): exponential from
 * OTLP_BACKOFF_BASE_MS, doubling up to OTLP_BACKOFF_MAX_MS, with jitter from rnd: in
 * [d/2, d] for that attempt's d. */
#define OTLP_BACKOFF_BASE_MS 500
#define OTLP_BACKOFF_MAX_MS  5000
int64_t otlp_backoff_ms(unsigned attempt, uint32_t rnd);

/* Whether an HTTP status is worth retrying (429, 502, 503, 504). */
bool otlp_status_retryable(long status);

/* The exporter's state, shared by its thread and lifecycle (otlp_exporter.c) and its HTTP
 * session (otlp_http.c). */
#define WARN_EVERY_MS 60000
#define RESPONSE_MAX  (64 * 1024)

/* Warnings are limited per kind and per signal (a kind + W_METRICS for metrics, + W_PROFILES
 * for profiles). */
enum warn_kind {
	W_NETWORK,
	W_RETRY,
	W_REJECTED,
	W_GAVE_UP,
	W_PARTIAL,
	W_DROPPED,
	W_ENCODE,
	W_METRICS
};

#define W_PROFILES (2 * W_METRICS)
#define W_LOGS	   (3 * W_METRICS)
#define W_SIGNALS  4

struct warn_state {
	int64_t last_ms;
	uint64_t suppressed;
};

/* An encoded request waiting to be sent (otlp_bodies.c). */
struct otlp_body {
	uint8_t *body; /* as sent: gzip'd when configured */
	size_t len;
	size_t items;  /* what the signal's drop counter counts of it: records, or 1 profile */
	size_t detail; /* profiles: stacks, for messages */
};

#define OTLP_FIFO_MAX 16
_Static_assert(OTLP_PROFILES_QUEUE <= OTLP_FIFO_MAX && OTLP_LOGS_QUEUE <= OTLP_FIFO_MAX, "queue caps");
/* Bodies waiting, oldest first, cap of them at most (<= OTLP_FIFO_MAX); under the lock. */
struct otlp_fifo {
	struct otlp_body *slot[OTLP_FIFO_MAX];
	size_t n, cap;
};

struct otlp_exporter {
	struct otlp_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	pthread_t thread;
	bool running; /* thread not yet joined */

	/* under lock */
	struct otlp_queue q;
	/* Resources of queued and in-flight spans, by index. A slot is rewritten only when no
	 * span refers to it (refs 0), so the export thread reads the ones of its batch without
	 * the lock; queue + batch + 1 slots are always enough. */
	struct resource **res;
	uint32_t *refs;
	uint32_t nres, res_cap, last_res;
	bool stopping;
	struct metrics_registry *reg;
	int64_t metrics_interval_ms;

	int64_t stop_deadline_ns; /* CLOCK_MONOTONIC; atomic: read by the curl progress callback */
	int stop_rc;

	/* export thread only */
	CURL *curl;
	struct curl_slist *headers;
	struct otlp_qspan **batch;
	uint32_t rng;
	struct warn_state warns[W_SIGNALS * W_METRICS];
	uint64_t dropped_reported, prof_dropped_reported;
	bool failing[W_SIGNALS]; /* per signal, since its last success: to say when it works again */

	/* Encoded requests waiting (under lock): profiles (otlp_profiles.c) and batches of log
	 * records (otlp_logs.c). */
	struct otlp_fifo profiles, logs;

	/* atomics */
	uint64_t prof_enqueued, prof_exported, prof_dropped, prof_failed, warnings;
	uint64_t logs_enqueued, logs_exported, logs_dropped, logs_failed;
	uint64_t logs_dropped_reported; /* export thread only */
	uint64_t enqueued, exported, dropped, failed, requests, errors, metrics_ok, metrics_failed;
	uint64_t metric_points_rejected;
};

/* Deadlines are kept in nanoseconds: whole milliseconds would make a 2 s wait end up to 1 ms
 * early, before what Retry-After asked for. */
#define NS_PER_MS 1000000LL

int64_t otlp_now_ns(void); /* CLOCK_MONOTONIC */
int64_t otlp_now_ms(void);
uint64_t otlp_unix_ns(void);
void otlp_stat_add(uint64_t *c, uint64_t n);
uint64_t otlp_load(const uint64_t *c);
uint32_t otlp_next_rand(struct otlp_exporter *e);
/* The first of a kind is logged; then at most one per minute, saying how many were not. */
void otlp_warn_limited(struct otlp_exporter *e, unsigned kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void otlp_deadline_ts(int64_t ns, struct timespec *ts);
/* s[0..n) as one printable line (the receiver's words: controls and non-ASCII bytes become one
 * space), at most len - 1 bytes, or "no message". */
const char *otlp_printable(const uint8_t *s, size_t n, char *buf, size_t len);
/* A receiver's partial success (rejected of total items, in unit: "spans"): said, rate-limited per
 * signal (kind: 0, W_METRICS, W_PROFILES or W_LOGS), with its message; the rejected count,
 * capped at total (a receiver claiming more is not believed). */
uint64_t otlp_partial_rejected(struct otlp_exporter *e, unsigned kind, int64_t rejected, uint64_t total,
			       const char *unit, const char *message);
/* Sleeps until until_ns; a stop cuts it short at the stop deadline. False if stopped. */
bool otlp_sleep_until(struct otlp_exporter *e, int64_t until_ns);

/* The HTTP session (otlp_http.c): one curl handle; POSTs with retries that honour Retry-After,
 * backoff and the stop deadline. */
struct http_result {
	long status; /* 0: no response */
	CURLcode code;
	char curl_err[CURL_ERROR_SIZE];
	int64_t retry_after_ms; /* -1: none */
	uint8_t *body;
	size_t len;
};

enum send_result {
	SENT,
	REJECTED,
	GAVE_UP,
	STOPPED /* the stop deadline passed (otlp_exporter_stop returns -ETIMEDOUT) */
};

/* Profiles (otlp_profiles.c) and log records (otlp_logs.c): the thread pops the oldest queued
 * body (otlp_fifo_pop, under the lock), sends it without the lock and frees it; stop drops
 * what is left (otlp_fifo_drop_all), counted. The export thread warns (rate-limited) when
 * bodies were dropped since last time, as it does for spans (otlp_exporter.c). */
/* Queues b (its items counted in *dropped when refused at stop, or when it or an older body is
 * pushed out); wakes the export thread. 0 or -ESHUTDOWN. Takes the lock. */
int otlp_fifo_push(struct otlp_exporter *e, struct otlp_fifo *q, struct otlp_body *b, uint64_t *dropped);
struct otlp_body *otlp_fifo_pop(struct otlp_fifo *q); /* under the lock; NULL if empty */
void otlp_fifo_drop_all(struct otlp_exporter *e, struct otlp_fifo *q, uint64_t *dropped);
void otlp_body_free(struct otlp_body *b);
void otlp_export_profile(struct otlp_exporter *e, struct otlp_body *qp);
void otlp_export_logs(struct otlp_exporter *e, struct otlp_body *ql);

int otlp_setup_http(struct otlp_exporter *e, char *err, size_t errlen);
enum send_result otlp_send_with_retry(struct otlp_exporter *e, const char *url, const uint8_t *body,
				      size_t len, int64_t budget_ms, const char *what,
				      struct http_result *resp);
int otlp_maybe_gzip(struct otlp_exporter *e, uint8_t *raw, size_t len, uint8_t **body, size_t *blen);

#endif
