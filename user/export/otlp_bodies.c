// SPDX-License-Identifier: Apache-2.0
/* The queues of encoded requests waiting for the export thread (profiles, log records): one
 * bounded FIFO under the exporter's lock, whose oldest body goes when it is full, counted. */
#include "export/otlp_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void otlp_body_free(struct otlp_body *b)
{
	if (b) {
		free(b->body);
		free(b);
	}
}

struct otlp_body *otlp_fifo_pop(struct otlp_fifo *q)
{
	if (!q->n)
		return NULL;
	struct otlp_body *b = q->slot[0];
	memmove(q->slot, q->slot + 1, (--q->n) * sizeof(*q->slot));
	return b;
}

int otlp_fifo_push(struct otlp_exporter *e, struct otlp_fifo *q, struct otlp_body *b, uint64_t *dropped)
{
	struct otlp_body *old = NULL;
	int err = 0;
	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		err = -ESHUTDOWN;
		old = b;
	} else {
		if (q->n == q->cap) /* the oldest goes: the newer bodies cover now */
			old = otlp_fifo_pop(q);
		q->slot[q->n++] = b;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	if (old) { /* the export thread says so (its warnings are its own) */
		otlp_stat_add(dropped, old->items);
		otlp_body_free(old);
	}
	return err;
}

void otlp_fifo_drop_all(struct otlp_exporter *e, struct otlp_fifo *q, uint64_t *dropped)
{
	struct otlp_body *b;
	pthread_mutex_lock(&e->lock);
	while ((b = otlp_fifo_pop(q))) {
		otlp_stat_add(dropped, b->items);
		otlp_body_free(b);
	}
	pthread_mutex_unlock(&e->lock);
}
