// SPDX-License-Identifier: Apache-2.0
#include "base/histogram.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static double bounds_s[HIST_EXPORT_MAX_BOUNDS] = {
	0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
};
const double *const hist_export_bounds = bounds_s;
size_t hist_export_nbounds = HIST_EXPORT_BOUNDS;

/* The same bounds in integer nanoseconds, so an exact bound compares equal instead of
 * depending on how 0.005 rounds in binary. */
static uint64_t export_bounds_ns[HIST_EXPORT_MAX_BOUNDS] = {
	0,	   5000000,   10000000,	  25000000,   50000000,	  75000000,   100000000,   250000000,
	500000000, 750000000, 1000000000, 2500000000, 5000000000, 7500000000, 10000000000,
};

int export_hist_bound_index(uint64_t ns)
{
	for (size_t i = 0; i < hist_export_nbounds; i++)
		if (export_bounds_ns[i] == ns)
			return (int)i;
	return -1;
}

int export_hist_add_bound(uint64_t ns)
{
	if (export_hist_bound_index(ns) >= 0)
		return 0;
	if (hist_export_nbounds == HIST_EXPORT_MAX_BOUNDS)
		return -E2BIG;
	size_t i = hist_export_nbounds;
	for (; i > 0 && export_bounds_ns[i - 1] > ns; i--) {
		export_bounds_ns[i] = export_bounds_ns[i - 1];
		bounds_s[i] = bounds_s[i - 1];
	}
	export_bounds_ns[i] = ns;
	/* Whole milliseconds print exactly ("0.3", not "0.30000000000000004"). */
	bounds_s[i] = (double)(ns / 1000000) / 1e3 + (double)(ns % 1000000) / 1e9;
	hist_export_nbounds++;
	return 0;
}

int export_hist_bucket(uint64_t ns)
{
	int i = 0;
	while ((size_t)i < hist_export_nbounds && ns > export_bounds_ns[i])
		i++;
	return i;
}

void export_hist_record(struct export_hist *h, uint64_t ns)
{
	h->buckets[export_hist_bucket(ns)]++;
	h->count++;
	h->sum_ns += ns;
}

#define FINE_MIN_NS 1000.0

int fine_hist_bucket(uint64_t ns)
{
	if (ns < (uint64_t)FINE_MIN_NS)
		return 0;
	double k = floor(log2((double)ns / FINE_MIN_NS) * FINE_SUBBUCKETS);
	if (k >= FINE_OCTAVES * FINE_SUBBUCKETS)
		return FINE_BUCKETS - 1;
	return 1 + (int)k;
}

void fine_hist_record(struct fine_hist *h, uint64_t ns)
{
	h->buckets[fine_hist_bucket(ns)]++;
	h->count++;
	h->sum_ns += ns;
}

void fine_hist_delta(struct fine_hist *out, const struct fine_hist *now, const struct fine_hist *before)
{
	for (int i = 0; i < FINE_BUCKETS; i++)
		out->buckets[i] = now->buckets[i] - before->buckets[i];
	out->count = now->count - before->count;
	out->sum_ns = now->sum_ns - before->sum_ns;
}

/* Lower edge of bucket i in nanoseconds (bucket 0 starts at 0). */
static double fine_lower_ns(int i)
{
	if (i == 0)
		return 0;
	return FINE_MIN_NS * exp2((double)(i - 1) / FINE_SUBBUCKETS);
}

double fine_hist_quantile(const struct fine_hist *h, double q)
{
	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	double rank = q * (double)h->count, cum = 0;
	for (int i = 0; i < FINE_BUCKETS; i++) {
		double n = (double)h->buckets[i];
		if (!n || cum + n < rank) {
			cum += n;
			continue;
		}
		double frac = (rank - cum) / n, ns;
		/* Values inside a bucket are assumed spread evenly on the bucket's own scale:
		 * linear below 1 µs, logarithmic above; the open top bucket reports its floor. */
		if (i == 0)
			ns = frac * FINE_MIN_NS;
		else if (i == FINE_BUCKETS - 1)
			ns = fine_lower_ns(i);
		else
			ns = fine_lower_ns(i) * exp2(frac / FINE_SUBBUCKETS);
		return ns / 1e9;
	}
	return fine_lower_ns(FINE_BUCKETS - 1) / 1e9;
}
