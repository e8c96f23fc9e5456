/* SPDX-License-Identifier: Apache-2.0 */
/* OpenTelemetry export over OTLP/HTTP (protobuf): spans handed over by the tracer, the
 * metrics registry, and profiles (profiles/v1development), sent by one background thread so
 * that the event reader and the profilers never wait on the network.
 *
 * Configuration follows the OTel SDK environment variables (OTEL_EXPORTER_OTLP_*,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*, OTEL_METRIC_EXPORT_INTERVAL);
 * command-line flags beat them. */
#ifndef GLIMPSE_OTLP_H
#define GLIMPSE_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/registry.h"
#include "agent/resource.h"

/* ---- configuration ---- */

#define OTLP_DEFAULT_ENDPOINT	"http://localhost:4318"
#define OTLP_URL_MAX		1024
#define OTLP_MAX_HEADERS	16
#define OTLP_HEADER_NAME_MAX	128
#define OTLP_HEADER_VALUE_MAX	1024
#define OTLP_MAX_RESOURCE_ATTRS 32
#define OTLP_ATTR_KEY_MAX	128
#define OTLP_ATTR_VALUE_MAX	256

struct otlp_header {
	char name[OTLP_HEADER_NAME_MAX];
	char value[OTLP_HEADER_VALUE_MAX];
};

struct otlp_resource_attr {
	char key[OTLP_ATTR_KEY_MAX];
	char value[OTLP_ATTR_VALUE_MAX];
};

struct otlp_config {
	bool configured;	       /* an endpoint came from the environment or a flag */
	char traces_url[OTLP_URL_MAX]; /* full URLs: <endpoint>/v1/traces unless given per signal */
	char metrics_url[OTLP_URL_MAX];
	char profiles_url[OTLP_URL_MAX]; /* <endpoint>/v1development/profiles */
	char logs_url[OTLP_URL_MAX];	 /* <endpoint>/v1/logs */
	struct otlp_header headers[OTLP_MAX_HEADERS];
	size_t nheaders;
	int timeout_ms;		/* per request (default 10000) */
	bool gzip;		/* Content-Encoding: gzip */
	char service_name[256]; /* "" = each target's own service.name */
	struct otlp_resource_attr resource_attrs[OTLP_MAX_RESOURCE_ATTRS]; /* over each target's */
	size_t nresource_attrs;
	int queue_size;		 /* spans waiting for export (default 2048) */
	int batch_size;		 /* spans per request (default 512) */
	int batch_delay_ms;	 /* a partial batch waits at most this (default 1000) */
	int export_timeout_ms;	 /* retries of one batch give up after this (default 30000) */
	int metrics_interval_ms; /* for the caller's otlp_exporter_add_metrics (default 60000) */
	/* private: where each endpoint came from (a per-signal value beats a base one) */
	uint8_t traces_rank, metrics_rank, profiles_rank, logs_rank;
};

/* The settings, by environment variable:
 *   OTLP_ENDPOINT            OTEL_EXPORTER_OTLP_ENDPOINT: base URL; /v1/traces, /v1/metrics,
 *                            /v1/logs, /v1development/profiles are appended
 *   OTLP_TRACES_ENDPOINT     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: full URL, used as is
 *   OTLP_METRICS_ENDPOINT    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: full URL, used as is
 *   OTLP_PROFILES_ENDPOINT   OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: full URL, used as is
 *   OTLP_HEADERS             OTEL_EXPORTER_OTLP_HEADERS: k=v,k=v, values percent-encoded;
 *                            merged by name (a flag's value wins)
 *   OTLP_TIMEOUT             OTEL_EXPORTER_OTLP_TIMEOUT: milliseconds per request
 *   OTLP_COMPRESSION         OTEL_EXPORTER_OTLP_COMPRESSION: gzip or none
 *   OTLP_SERVICE_NAME        OTEL_SERVICE_NAME: service.name for every target (beats a
 *                            service.name in OTEL_RESOURCE_ATTRIBUTES)
 *   OTLP_RESOURCE_ATTRIBUTES OTEL_RESOURCE_ATTRIBUTES: k=v,k=v added to (or replacing) each
 *                            target's resource attributes; merged by key. Metrics that are
 *                            not per target go out under glimpse's own resource
 *                            (service.name "glimpse", plus these attributes)
 *   OTLP_QUEUE_SIZE          OTEL_BSP_MAX_QUEUE_SIZE
 *   OTLP_BATCH_SIZE          OTEL_BSP_MAX_EXPORT_BATCH_SIZE
 *   OTLP_BATCH_DELAY         OTEL_BSP_SCHEDULE_DELAY (ms)
 *   OTLP_EXPORT_TIMEOUT      OTEL_BSP_EXPORT_TIMEOUT (ms): how long one batch may be retried
 *   OTLP_METRICS_INTERVAL    OTEL_METRIC_EXPORT_INTERVAL (ms)
 *   OTLP_LOGS_ENDPOINT       OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: full URL, used as is
 * Endpoint precedence per signal: flag for the signal > base flag > variable for the signal >
 * OTEL_EXPORTER_OTLP_ENDPOINT > http://localhost:4318. */
enum otlp_setting {
	OTLP_ENDPOINT,
	OTLP_TRACES_ENDPOINT,
	OTLP_METRICS_ENDPOINT,
	OTLP_PROFILES_ENDPOINT,
	OTLP_HEADERS,
	OTLP_TIMEOUT,
	OTLP_COMPRESSION,
	OTLP_SERVICE_NAME,
	OTLP_RESOURCE_ATTRIBUTES,
	OTLP_QUEUE_SIZE,
	OTLP_BATCH_SIZE,
	OTLP_BATCH_DELAY,
	OTLP_EXPORT_TIMEOUT,
	OTLP_METRICS_INTERVAL,
	OTLP_LOGS_ENDPOINT,
	OTLP_SETTINGS
};

/* Defaults (nothing configured). */
void otlp_config_defaults(struct otlp_config *cfg);
/* Defaults, then every variable above that is set and not empty. On a bad value: -EINVAL and
 * one line in err naming the variable and what it expects, e.g.
 * OTEL_EXPORTER_OTLP_TIMEOUT="abc": expected a timeout in milliseconds (an integer from 1 to
 * 3600000). */
int otlp_config_from_env(struct otlp_config *cfg, char *err, size_t errlen);
/* A command-line value, applied after otlp_config_from_env so that it wins; flag is the
 * flag's name for errors ("--otlp-endpoint"). Headers and resource attributes merge by key;
 * a per-signal endpoint flag beats --otlp-endpoint in either order. 0 or -EINVAL. */
int otlp_config_set_flag(struct otlp_config *cfg, enum otlp_setting which, const char *flag,
			 const char *value, char *err, size_t errlen);
/* The environment variable of a setting. */
const char *otlp_setting_env(enum otlp_setting which);

/* ---- spans ---- */

enum otlp_span_kind { /* OTLP's SpanKind values */
	OTLP_SPAN_INTERNAL = 1,
	OTLP_SPAN_SERVER = 2,
	OTLP_SPAN_CLIENT = 3,
	OTLP_SPAN_PRODUCER = 4,
	OTLP_SPAN_CONSUMER = 5,
};

enum otlp_status {
	OTLP_STATUS_UNSET = 0,
	OTLP_STATUS_OK = 1,
	OTLP_STATUS_ERROR = 2
};

enum otlp_attr_type {
	OTLP_ATTR_STRING,
	OTLP_ATTR_INT,
	OTLP_ATTR_DOUBLE,
	OTLP_ATTR_BOOL
};

struct otlp_attr {
	const char *key;
	enum otlp_attr_type type;
	union {
		const char *s;
		int64_t i;
		double d;
		bool b;
	};
};

#define OTLP_SPAN_MAX_ATTRS 16
#define OTLP_STR_MAX	    1024 /* longer names and string values are cut (at a UTF-8 boundary) */

/* A finished span. Everything is copied by otlp_enqueue_span: the caller may reuse its
 * buffers as soon as it returns. */
struct otlp_span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* all zero: a root span */
	const char *name;
	enum otlp_span_kind kind;
	uint64_t start_unix_ns, end_unix_ns;
	enum otlp_status status;
	const char *status_message; /* NULL or "": none */
	struct otlp_attr attrs[OTLP_SPAN_MAX_ATTRS];
	unsigned nattrs;
};

static inline struct otlp_attr otlp_attr_str(const char *key, const char *v)
{
	return (struct otlp_attr){ .key = key, .type = OTLP_ATTR_STRING, .s = v };
}
static inline struct otlp_attr otlp_attr_int(const char *key, int64_t v)
{
	return (struct otlp_attr){ .key = key, .type = OTLP_ATTR_INT, .i = v };
}
static inline struct otlp_attr otlp_attr_double(const char *key, double v)
{
	return (struct otlp_attr){ .key = key, .type = OTLP_ATTR_DOUBLE, .d = v };
}
static inline struct otlp_attr otlp_attr_bool(const char *key, bool v)
{
	return (struct otlp_attr){ .key = key, .type = OTLP_ATTR_BOOL, .b = v };
}

/* ---- the exporter ---- */

struct otlp_exporter;

/* Starts the export thread. NULL with a one-line reason in err (bad config, no memory). */
struct otlp_exporter *otlp_exporter_start(const struct otlp_config *cfg, char *err, size_t errlen);

/* Queues a span of the process res describes; never blocks on the network or on an export
 * in progress. When the queue is full the oldest queued span is dropped and counted
 * (glimpse_spans_dropped_total). 0; -EINVAL without exporter, resource or span (not
 * counted); -ENOMEM or -ESHUTDOWN (after stop), counted as dropped. Safe from any thread. */
int otlp_enqueue_span(struct otlp_exporter *exp, const struct resource *res, const struct otlp_span *s);

/* Exports reg every interval_s seconds (and once more at stop), cumulative: one
 * ResourceMetrics per target, with its resource. One registry per exporter; reg must outlive
 * otlp_exporter_stop. 0, -EINVAL or -EBUSY (a registry is already set). */
int otlp_exporter_add_metrics(struct otlp_exporter *exp, struct metrics_registry *reg, double interval_s);

/* ---- logs ---- */

struct log_record;
/* At most this many encoded batches of log records wait; a new one beyond drops the oldest
 * (its records counted in glimpse_logs_dropped_total). */
#define OTLP_LOGS_QUEUE 16

/* Encodes recs[0..n) now (in the caller's thread: the records may be freed on return), res[i]
 * being recs[i]'s process, and queues them for the logs URL. Never blocks on the network. 0;
 * -EINVAL; -ENOMEM or -ESHUTDOWN (after stop), the records counted as dropped. Any thread. */
int otlp_enqueue_logs(struct otlp_exporter *exp, const struct resource *const *res,
		      const struct log_record *const *recs, size_t n);

/* ---- profiles ---- */

struct prof;
/* At most this many profiles wait for export; a new one beyond drops the oldest (counted). */
#define OTLP_PROFILES_QUEUE 4

/* Encodes p now (in the caller's thread: the profile may be freed on return) and queues it for
 * the profiles URL; res[0..nres) are the resources of its processes (a process without one
 * goes out under its pid and name). Never blocks on the network. 0; -EINVAL; -ENOMEM or
 * -ESHUTDOWN (after stop), counted as dropped. Safe from any thread. */
int otlp_enqueue_profile(struct otlp_exporter *exp, const struct prof *p, const struct resource *res,
			 size_t nres);

struct otlp_stats {
	uint64_t spans_enqueued;	 /* handed to otlp_enqueue_span */
	uint64_t spans_exported;	 /* accepted by the receiver */
	uint64_t spans_dropped;		 /* never sent: queue full, no memory, or still queued at stop */
	uint64_t spans_failed;		 /* sent but not accepted: rejected (4xx, partial success) or
				  * retries gave up */
	uint64_t spans_queued;		 /* waiting now */
	uint64_t export_requests;	 /* HTTP requests made, retries included */
	uint64_t export_errors;		 /* of those, the ones that failed */
	uint64_t metrics_exports;	 /* metrics requests accepted */
	uint64_t metrics_failed;	 /* metrics exports given up */
	uint64_t metric_points_rejected; /* data points a receiver rejected (partial success) */
	uint64_t profiles_enqueued, profiles_exported, profiles_dropped, profiles_failed; /* as spans */
	uint64_t logs_enqueued, logs_exported, logs_dropped, logs_failed; /* log records, as spans */
	uint64_t warnings; /* lines the exporter logged (warnings are limited: see otlp_warn_limited) */
};
/* After otlp_exporter_stop: enqueued = exported + dropped + failed (spans, and profiles). */
void otlp_exporter_stats(struct otlp_exporter *exp, struct otlp_stats *out);

/* Counters of the exporter in reg (not per target): glimpse_spans_dropped_total,
 * glimpse_spans_exported_total, glimpse_spans_failed_total, glimpse_otlp_export_errors_total,
 * glimpse_otlp_metrics_exports_total. exp must outlive every render of reg. 0 or -ENOMEM. */
int otlp_exporter_register_metrics(struct otlp_exporter *exp, struct metrics_registry *reg);
/* How long a stop waits for the collector before dropping what is queued: a dead or hanging
 * collector must not hold glimpse's exit (a second Ctrl-C exits at once). */
#define OTLP_SHUTDOWN_MS 2000
/* The number of spans queued, for the forced-exit report (base/signals.h): read without a lock. */
const volatile size_t *otlp_exporter_queued(const struct otlp_exporter *e);

/* Sends what is queued, then a last metrics export, for at most timeout_ms; stops the thread.
 * Spans still queued at the deadline are counted as dropped, a batch cut short as failed.
 * 0 when everything was sent (whatever the receiver answered: see the stats) in time,
 * -ETIMEDOUT when the deadline cut it short. Stats stay readable until otlp_exporter_free. */
int otlp_exporter_stop(struct otlp_exporter *exp, int timeout_ms);
/* Stops (with no time to flush) if still running, and frees. */
void otlp_exporter_free(struct otlp_exporter *exp);

#endif
