// SPDX-License-Identifier: Apache-2.0
/* The exporter's span queue: spans copied out of the caller's buffers (strings made valid
 * UTF-8 and bounded), kept in a ring that drops its oldest entry rather than ever making the
 * event reader wait. */
#include "export/otlp.h"
#include "export/otlp_internal.h"

#include "base/utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *put_str(char **cursor, const char *s)
{
	char *d = *cursor;
	*cursor += utf8_repair(d, s, OTLP_STR_MAX) + 1;
	return d;
}

struct otlp_qspan *otlp_qspan_new(const struct otlp_span *s, uint32_t res)
{
	size_t need = 0;
	unsigned nattrs = s->nattrs < OTLP_SPAN_MAX_ATTRS ? s->nattrs : OTLP_SPAN_MAX_ATTRS;
	need += utf8_repair(NULL, s->name, OTLP_STR_MAX) + 1;
	need += utf8_repair(NULL, s->status_message, OTLP_STR_MAX) + 1;
	for (unsigned i = 0; i < nattrs; i++) {
		need += utf8_repair(NULL, s->attrs[i].key, OTLP_STR_MAX) + 1;
		if (s->attrs[i].type == OTLP_ATTR_STRING)
			need += utf8_repair(NULL, s->attrs[i].s, OTLP_STR_MAX) + 1;
	}
	struct otlp_qspan *q = malloc(sizeof(*q) + need);
	if (!q)
		return NULL;
	char *c = q->data;
	q->res = res;
	q->s = *s;
	q->s.nattrs = 0;
	q->s.name = put_str(&c, s->name);
	q->s.status_message = put_str(&c, s->status_message);
	for (unsigned i = 0; i < nattrs; i++) {
		const struct otlp_attr *a = &s->attrs[i];
		if (!a->key || !*a->key)
			continue;
		struct otlp_attr *d = &q->s.attrs[q->s.nattrs++];
		*d = *a;
		d->key = put_str(&c, a->key);
		if (a->type == OTLP_ATTR_STRING)
			d->s = put_str(&c, a->s);
	}
	return q;
}

int otlp_queue_init(struct otlp_queue *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->slots = calloc(cap ? cap : 1, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	q->cap = cap ? cap : 1;
	return 0;
}

struct otlp_qspan *otlp_queue_push(struct otlp_queue *q, struct otlp_qspan *s)
{
	struct otlp_qspan *old = NULL;
	if (q->n == q->cap) {
		old = q->slots[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	q->slots[(q->head + q->n) % q->cap] = s;
	q->n++;
	return old;
}

size_t otlp_queue_pop(struct otlp_queue *q, struct otlp_qspan **out, size_t max)
{
	size_t n = 0;
	while (n < max && q->n) {
		out[n++] = q->slots[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	return n;
}

void otlp_queue_free(struct otlp_queue *q)
{
	struct otlp_qspan *s;
	while (otlp_queue_pop(q, &s, 1))
		free(s);
	free(q->slots);
	memset(q, 0, sizeof(*q));
}
