/* SPDX-License-Identifier: Apache-2.0 */
/* Latency histograms for HTTP metrics.
 *
 * Two shapes because they serve two readers: the export histogram has the fixed OTel default
 * bounds so every exported series is comparable across scrapes and services; the fine
 * histogram has narrow log-scale buckets so the live view can estimate p50/p95/p99 of any
 * interval (by subtracting two copies) within a couple of percent. Neither is thread-safe. */
#ifndef GLIMPSE_HISTOGRAM_H
#define GLIMPSE_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

/* Explicit bounds (seconds), inclusive upper edges ("le"); +Inf is implicit after them. The
 * OTel defaults (HIST_EXPORT_BOUNDS of them), plus up to HIST_EXPORT_EXTRA_BOUNDS that the user's
 * latency objectives add before anything is recorded: a latency SLO counts the requests at or
 * under its threshold, which is exact only when the threshold is a bound (metrics/slo.h). */
#define HIST_EXPORT_BOUNDS	 15
#define HIST_EXPORT_EXTRA_BOUNDS 8
#define HIST_EXPORT_MAX_BOUNDS	 (HIST_EXPORT_BOUNDS + HIST_EXPORT_EXTRA_BOUNDS)
extern const double *const hist_export_bounds; /* hist_export_nbounds of them, ascending */
extern size_t hist_export_nbounds;

/* Adds a bound (ns, whole milliseconds or more) in order; an existing one is kept. Only before
 * the first record: buckets already counted would shift. 0, or -E2BIG when full. */
int export_hist_add_bound(uint64_t ns);
/* Index of the bound equal to ns, or -1. */
int export_hist_bound_index(uint64_t ns);

struct export_hist {
	uint64_t buckets[HIST_EXPORT_MAX_BOUNDS + 1]; /* per bucket, not cumulative; [nbounds] is +Inf */
	uint64_t count;
	uint64_t sum_ns;
};

/* Bucket index a duration falls into: the first bound >= it (le is inclusive). */
int export_hist_bucket(uint64_t ns);
void export_hist_record(struct export_hist *h, uint64_t ns);

/* 16 buckets per power of two (each 2^(1/16) ≈ 4.4 % wide) from 1 µs to 2^30 µs (~1074 s),
 * plus one below 1 µs and one above the top. */
#define FINE_SUBBUCKETS 16
#define FINE_OCTAVES	30
#define FINE_BUCKETS	(FINE_OCTAVES * FINE_SUBBUCKETS + 2)

struct fine_hist {
	uint64_t buckets[FINE_BUCKETS];
	uint64_t count;
	uint64_t sum_ns;
};

int fine_hist_bucket(uint64_t ns);
void fine_hist_record(struct fine_hist *h, uint64_t ns);
/* out = now - before: the requests recorded in between (before must be an earlier copy). */
void fine_hist_delta(struct fine_hist *out, const struct fine_hist *now, const struct fine_hist *before);
/* Estimated q-quantile (0 <= q <= 1) in seconds; 0 when empty. */
double fine_hist_quantile(const struct fine_hist *h, double q);

#endif
