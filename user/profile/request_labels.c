// SPDX-License-Identifier: Apache-2.0
#include "profile/request_labels.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing, linear probing, twice as many slots as entries: a span id is random, its
 * low bits spread evenly. Span id 0 marks an empty slot (the tracer never makes it). */
#define SLOTS (2 * REQUEST_LABELS_PER_INTERVAL)

struct slot {
	uint64_t span_id;
	uint32_t route, method; /* indices into strings */
};

struct interval {
	struct slot *slots;
	size_t n;
};

struct request_labels {
	struct interval cur, prev;
	char **strings; /* interned routes and methods */
	size_t nstrings, strings_cap;
	uint64_t full;
};

struct request_labels *request_labels_new(void)
{
	struct request_labels *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cur.slots = calloc(SLOTS, sizeof(struct slot));
	t->prev.slots = calloc(SLOTS, sizeof(struct slot));
	if (!t->cur.slots || !t->prev.slots) {
		request_labels_free(t);
		return NULL;
	}
	return t;
}

/* The index of s among the interned strings, added if new; -1 without memory. Few distinct
 * values (capped routes, normalized methods): a scan is enough. */
static long intern(struct request_labels *t, const char *s)
{
	for (size_t i = 0; i < t->nstrings; i++)
		if (!strcmp(t->strings[i], s))
			return (long)i;
	if (t->nstrings == t->strings_cap) {
		size_t cap = t->strings_cap ? 2 * t->strings_cap : 32;
		char **grown = realloc(t->strings, cap * sizeof(*grown));
		if (!grown)
			return -1;
		t->strings = grown;
		t->strings_cap = cap;
	}
	if (!(t->strings[t->nstrings] = strdup(s)))
		return -1;
	return (long)t->nstrings++;
}

static struct slot *find(struct interval *in, uint64_t span_id, bool *found)
{
	size_t i = (size_t)(span_id ^ span_id >> 29) & (SLOTS - 1);
	while (in->slots[i].span_id && in->slots[i].span_id != span_id)
		i = (i + 1) & (SLOTS - 1);
	*found = in->slots[i].span_id == span_id;
	return &in->slots[i];
}

int request_labels_add(struct request_labels *t, uint64_t span_id, const char *route, const char *method)
{
	if (!span_id)
		return 0;
	bool found;
	struct slot *s = find(&t->cur, span_id, &found);
	if (!found && t->cur.n == REQUEST_LABELS_PER_INTERVAL) {
		t->full++;
		return -ENOSPC;
	}
	long r = intern(t, route), m = intern(t, method);
	if (r < 0 || m < 0)
		return -ENOMEM;
	if (!found)
		t->cur.n++;
	*s = (struct slot){ span_id, (uint32_t)r, (uint32_t)m };
	return 0;
}

void request_labels_apply(struct request_labels *t, struct prof *p, struct request_labels_stats *st)
{
	for (size_t i = 0; i < p->nsamples; i++) {
		struct prof_request *rq = &p->samples[i].request;
		if (!rq->span_id)
			continue;
		bool found;
		struct slot *s = find(&t->cur, rq->span_id, &found);
		if (!found)
			s = find(&t->prev, rq->span_id, &found);
		if (!found) {
			st->unresolved += p->samples[i].count;
			continue;
		}
		rq->route = t->strings[s->route];
		rq->method = t->strings[s->method];
		st->labelled += p->samples[i].count;
	}
	st->full = t->full;
}

void request_labels_rotate(struct request_labels *t)
{
	struct interval old = t->prev;
	t->prev = t->cur;
	memset(old.slots, 0, SLOTS * sizeof(struct slot));
	t->cur = (struct interval){ old.slots, 0 };
}

void request_labels_free(struct request_labels *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nstrings; i++)
		free(t->strings[i]);
	free(t->strings);
	free(t->cur.slots);
	free(t->prev.slots);
	free(t);
}
