// SPDX-License-Identifier: Apache-2.0
#include "profile/sample_times.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct times_entry {
	struct profile_key key;
	uint64_t *t;
	size_t n, cap;
	UT_hash_handle hh;
};

struct sample_times {
	int64_t offset_ns;
	struct times_entry *gens[2];
};

struct sample_times *sample_times_new(int64_t realtime_offset_ns)
{
	struct sample_times *st = calloc(1, sizeof(*st));
	if (st)
		st->offset_ns = realtime_offset_ns;
	return st;
}

int sample_times_add(void *ctx, void *data, size_t len)
{
	struct sample_times *st = ctx;
	const struct profile_sample_time *ev = data;
	if (len < sizeof(*ev) || ev->gen > 1)
		return 0;
	struct times_entry *e;
	HASH_FIND(hh, st->gens[ev->gen], &ev->key, sizeof(ev->key), e);
	if (!e) {
		if (!(e = calloc(1, sizeof(*e))))
			return 0; /* that key's times are then incomplete: not used */
		e->key = ev->key;
		HASH_ADD(hh, st->gens[ev->gen], key, sizeof(e->key), e);
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 4;
		uint64_t *grown = realloc(e->t, cap * sizeof(*grown));
		if (!grown)
			return 0;
		e->t = grown;
		e->cap = cap;
	}
	e->t[e->n++] = (uint64_t)((int64_t)ev->time_ns + st->offset_ns);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t *sample_times_take(struct sample_times *st, uint32_t gen, const struct profile_key *key, size_t *n)
{
	struct times_entry *e;
	*n = 0;
	HASH_FIND(hh, st->gens[gen & 1], key, sizeof(*key), e);
	if (!e)
		return NULL;
	HASH_DEL(st->gens[gen & 1], e);
	uint64_t *t = e->t;
	*n = e->n;
	free(e);
	/* Each CPU's records arrive in order; the CPUs' interleave. */
	qsort(t, *n, sizeof(*t), cmp_u64);
	return t;
}

void sample_times_clear(struct sample_times *st, uint32_t gen)
{
	struct times_entry *e, *tmp;
	HASH_ITER (hh, st->gens[gen & 1], e, tmp) {
		HASH_DEL(st->gens[gen & 1], e);
		free(e->t);
		free(e);
	}
}

void sample_times_free(struct sample_times *st)
{
	if (!st)
		return;
	sample_times_clear(st, 0);
	sample_times_clear(st, 1);
	free(st);
}
