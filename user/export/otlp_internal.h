/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the OTLP exporter, for its unit tests: span copies, the drop-oldest queue, protobuf
 * encoding, gzip, Retry-After and backoff. */
#ifndef GLIMPSE_OTLP_INTERNAL_H
#define GLIMPSE_OTLP_INTERNAL_H

#include <stddef.h>
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

#endif
