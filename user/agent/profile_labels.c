// SPDX-License-Identifier: Apache-2.0
#include "agent/profile_labels.h"

#include <pthread.h>
#include <stdlib.h>

#include "gotrace/call.h"
#include "metrics/registry.h"

struct profile_labels {
	pthread_mutex_t lock;
	struct request_labels *t;
};

struct profile_labels *profile_labels_new(void)
{
	struct profile_labels *pl = calloc(1, sizeof(*pl));
	if (!pl || !(pl->t = request_labels_new())) {
		free(pl);
		return NULL;
	}
	pthread_mutex_init(&pl->lock, NULL);
	return pl;
}

void profile_labels_call(struct profile_labels *pl, struct metrics_registry *reg, int target,
			 const struct call *c)
{
	if (!pl || c->kind != CALL_HTTP_SERVER)
		return;
	char route[sizeof(c->route)] = "";
	if (c->route[0])
		metrics_registry_cap_route(reg, target, c->route, route, sizeof(route));
	pthread_mutex_lock(&pl->lock);
	request_labels_add(pl->t, c->ev->span_id, route, c->method);
	pthread_mutex_unlock(&pl->lock);
}

void profile_labels_cut(struct profile_labels *pl, struct prof *p, struct request_labels_stats *st)
{
	pthread_mutex_lock(&pl->lock);
	request_labels_apply(pl->t, p, st);
	request_labels_rotate(pl->t);
	pthread_mutex_unlock(&pl->lock);
}

void profile_labels_free(struct profile_labels *pl)
{
	if (!pl)
		return;
	request_labels_free(pl->t);
	pthread_mutex_destroy(&pl->lock);
	free(pl);
}
