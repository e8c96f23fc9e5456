// SPDX-License-Identifier: Apache-2.0
#include "trace/trace_recent.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Room for the newest and the slowest: a trace evicted from one list may still be in the other. */
#define POOL (TRACE_RECENT_MAX + TRACE_SLOWEST_MAX)

struct kept {
	struct trace_summary sum;
	struct span_record *spans; /* sum.nspans of them */
	size_t cap;
	bool used;
};

struct trace_recent {
	pthread_mutex_t lock;
	struct kept pool[POOL];
	uint64_t seq;
};

struct trace_recent *trace_recent_new(void)
{
	struct trace_recent *tr = calloc(1, sizeof(*tr));
	if (tr)
		pthread_mutex_init(&tr->lock, NULL);
	return tr;
}

void trace_recent_free(struct trace_recent *tr)
{
	if (!tr)
		return;
	for (size_t i = 0; i < POOL; i++)
		free(tr->pool[i].spans);
	pthread_mutex_destroy(&tr->lock);
	free(tr);
}

static uint64_t duration(const struct trace_summary *s)
{
	return s->end_unix_ns > s->start_unix_ns ? s->end_unix_ns - s->start_unix_ns : 0;
}

/* How many kept traces rank before k by that order (ties: newer first). */
static size_t rank(const struct trace_recent *tr, const struct kept *k, enum trace_recent_order order)
{
	size_t r = 0;
	for (size_t i = 0; i < POOL; i++) {
		const struct kept *o = &tr->pool[i];
		if (!o->used || o == k)
			continue;
		bool before = order == TRACE_NEWEST ? o->sum.seq > k->sum.seq
						    : duration(&o->sum) > duration(&k->sum) ||
							      (duration(&o->sum) == duration(&k->sum) &&
							       o->sum.seq > k->sum.seq);
		r += before;
	}
	return r;
}

static int by_duration_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x < y) - (x > y);
}

/* A free slot, else the oldest trace that is not among the slowest. */
static struct kept *slot_for_new(struct trace_recent *tr)
{
	uint64_t d[POOL];
	for (size_t i = 0; i < POOL; i++) {
		if (!tr->pool[i].used)
			return &tr->pool[i];
		d[i] = duration(&tr->pool[i].sum);
	}
	qsort(d, POOL, sizeof(d[0]), by_duration_desc);
	uint64_t slow = d[TRACE_SLOWEST_MAX - 1];
	struct kept *victim = NULL;
	for (size_t i = 0; i < POOL; i++) {
		struct kept *k = &tr->pool[i];
		if (duration(&k->sum) >= slow && rank(tr, k, TRACE_SLOWEST) < TRACE_SLOWEST_MAX)
			continue;
		if (!victim || k->sum.seq < victim->sum.seq)
			victim = k;
	}
	return victim;
}

void trace_recent_add(struct trace_recent *tr, const struct span_record *s)
{
	pthread_mutex_lock(&tr->lock);
	struct kept *k = NULL;
	for (size_t i = 0; i < POOL && !k; i++)
		if (tr->pool[i].used && !memcmp(tr->pool[i].sum.trace_id, s->trace_id, 16))
			k = &tr->pool[i];
	if (!k) {
		if (!(k = slot_for_new(tr)))
			goto out;
		memset(&k->sum, 0, sizeof(k->sum));
		memcpy(k->sum.trace_id, s->trace_id, 16);
		k->sum.start_unix_ns = s->start_unix_ns;
		k->sum.end_unix_ns = s->end_unix_ns;
		k->used = true;
	}
	k->sum.seq = ++tr->seq;
	if (s->start_unix_ns < k->sum.start_unix_ns)
		k->sum.start_unix_ns = s->start_unix_ns;
	if (s->end_unix_ns > k->sum.end_unix_ns)
		k->sum.end_unix_ns = s->end_unix_ns;
	k->sum.error |= s->error;
	bool root = !s->parent_span_id || s->remote_parent;
	if (!k->sum.nspans || root) {
		memcpy(k->sum.name, s->name, sizeof(k->sum.name));
		k->sum.target = s->target;
	}
	if (k->sum.nspans == k->cap && k->cap < TRACE_RECENT_SPANS) {
		size_t cap = k->cap ? 2 * k->cap : 4;
		struct span_record *p = realloc(k->spans, cap * sizeof(*p));
		if (p)
			k->spans = p, k->cap = cap;
	}
	if (k->sum.nspans < k->cap)
		k->spans[k->sum.nspans++] = *s;
	else
		k->sum.spans_left_out++;
out:
	pthread_mutex_unlock(&tr->lock);
}

size_t trace_recent_list(struct trace_recent *tr, enum trace_recent_order order, struct trace_summary *out,
			 size_t max)
{
	size_t n = 0, cap = order == TRACE_NEWEST ? TRACE_RECENT_MAX : TRACE_SLOWEST_MAX;
	if (max > cap)
		max = cap;
	pthread_mutex_lock(&tr->lock);
	for (size_t i = 0; i < POOL; i++) {
		const struct kept *k = &tr->pool[i];
		size_t r;
		if (k->used && (r = rank(tr, k, order)) < max) {
			out[r] = k->sum;
			n++;
		}
	}
	pthread_mutex_unlock(&tr->lock);
	return n;
}

static int by_start(const void *a, const void *b)
{
	const struct span_record *x = a, *y = b;
	if (x->start_unix_ns != y->start_unix_ns)
		return x->start_unix_ns < y->start_unix_ns ? -1 : 1;
	return (x->end_unix_ns < y->end_unix_ns) - (x->end_unix_ns > y->end_unix_ns); /* enclosing first */
}

int trace_recent_get(struct trace_recent *tr, const uint8_t trace_id[16], struct trace_summary *sum,
		     struct span_record **spans, size_t *n)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&tr->lock);
	for (size_t i = 0; i < POOL; i++) {
		const struct kept *k = &tr->pool[i];
		if (!k->used || memcmp(k->sum.trace_id, trace_id, 16))
			continue;
		*spans = malloc((k->sum.nspans ? k->sum.nspans : 1) * sizeof(**spans));
		if (!*spans) {
			rc = -ENOMEM;
			break;
		}
		if (k->sum.nspans) /* none when memory ran out at its first span */
			memcpy(*spans, k->spans, k->sum.nspans * sizeof(**spans));
		*n = k->sum.nspans;
		*sum = k->sum;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&tr->lock);
	if (!rc)
		qsort(*spans, *n, sizeof(**spans), by_start);
	return rc;
}
