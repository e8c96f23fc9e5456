// SPDX-License-Identifier: Apache-2.0
/* The render copy: what a render needs, copied under the lock so that formatting (and the
 * callers' callbacks) run without it; a target removed meanwhile waits in the graveyard until
 * the last render ends. And the order of its rows and the parts of their keys. */
#include "metrics/registry_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int registry_copy_state(struct metrics_registry *reg, struct render_copy *c)
{
	int err = 0;
	pthread_mutex_lock(&reg->lock);
	size_t ns = 0, nc = 0, nd = 0, nr = 0;
	reg->readers++;
	c->counted = true;
	for (size_t i = 0; i < reg->ntargets; i++) {
		if (!reg->targets[i])
			continue;
		ns += reg->targets[i]->server.n;
		nc += reg->targets[i]->client.n;
		nd += reg->targets[i]->db.n;
		nr += reg->targets[i]->rpc.n;
	}
	c->ntargets = reg->ntargets;
	c->ngauges = reg->ngauges;
	c->targets = malloc((c->ntargets + 1) * sizeof(*c->targets));
	c->server = malloc((ns + 1) * sizeof(*c->server));
	c->client = malloc((nc + 1) * sizeof(*c->client));
	c->db = malloc((nd + 1) * sizeof(*c->db));
	c->rpc = malloc((nr + 1) * sizeof(*c->rpc));
	c->gauges = malloc((c->ngauges + 1) * sizeof(*c->gauges));
	if (!c->targets || !c->server || !c->client || !c->db || !c->rpc || !c->gauges) {
		err = -ENOMEM;
		goto out;
	}
	if (c->ntargets)
		memcpy(c->targets, reg->targets, c->ntargets * sizeof(*c->targets));
	if (c->ngauges)
		memcpy(c->gauges, reg->gauges, c->ngauges * sizeof(*c->gauges));
	for (size_t i = 0; i < reg->ntargets; i++) {
		const struct target *t = reg->targets[i];
		if (!t)
			continue;
		const struct server_series *s = t->server.p;
		const struct client_series *cs = t->client.p;
		for (size_t j = 0; j < t->server.n; j++)
			c->server[c->nserver++] = (struct server_row){ t, i, s[j] };
		for (size_t j = 0; j < t->client.n; j++)
			c->client[c->nclient++] = (struct client_row){ t, i, cs[j] };
		const struct db_series *ds = t->db.p;
		for (size_t j = 0; j < t->db.n; j++)
			c->db[c->ndb++] = (struct db_row){ t, i, ds[j] };
		const struct rpc_series *rs = t->rpc.p;
		for (size_t j = 0; j < t->rpc.n; j++)
			c->rpc[c->nrpc++] = (struct rpc_row){ t, i, rs[j] };
	}
out:
	pthread_mutex_unlock(&reg->lock);
	return err;
}

/* Ends a render that registry_copy_state began: targets removed meanwhile can go now. */
void registry_release_state(struct metrics_registry *reg, struct render_copy *c)
{
	struct target **graves = NULL;
	size_t n = 0;
	pthread_mutex_lock(&reg->lock);
	if (c->counted && --reg->readers == 0) {
		graves = reg->graveyard;
		n = reg->ngraves;
		reg->graveyard = NULL;
		reg->ngraves = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	for (size_t i = 0; i < n; i++)
		registry_target_free(graves[i]);
	free(graves);
	free(c->targets);
	free(c->server);
	free(c->client);
	free(c->db);
	free(c->rpc);
	free(c->gauges);
}

int registry_cmp_db(const void *a, const void *b)
{
	const struct db_row *x = a, *y = b;
	int c;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	if ((c = strcmp(x->s.key, y->s.key)))
		return c;
	return (int)x->s.error - (int)y->s.error;
}

int registry_cmp_rpc(const void *a, const void *b)
{
	const struct rpc_row *x = a, *y = b;
	int c;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	if ((c = strcmp(x->s.key, y->s.key)))
		return c;
	if (x->s.port != y->s.port)
		return (int)x->s.port - (int)y->s.port;
	return (int)x->s.error - (int)y->s.error;
}

/* A series key's fields after its role ('c' or 's'), separated by \x1f, into n buffers. */
static bool split_key(const char *key, char *const fields[], const size_t sizes[], size_t n)
{
	const char *f = strchr(key, '\x1f');
	for (size_t i = 0; i < n; i++) {
		const char *end = f ? strchr(f + 1, '\x1f') : NULL;
		snprintf(fields[i], sizes[i], "%.*s",
			 f ? (int)(end ? end - f - 1 : (ptrdiff_t)strlen(f + 1)) : 0, f ? f + 1 : "");
		f = end;
	}
	return key[0] == 's';
}

void registry_rpc_split(const char *key, struct rpc_parts *p)
{
	char *const fields[] = { p->system, p->method, p->status, p->address, p->error_type };
	const size_t sizes[] = { sizeof(p->system), sizeof(p->method), sizeof(p->status), sizeof(p->address),
				 sizeof(p->error_type) };
	p->server = split_key(key, fields, sizes, sizeof(fields) / sizeof(fields[0]));
}

void registry_db_split(const char *key, struct db_parts *p)
{
	char *const fields[] = { p->system, p->operation, p->collection, p->error_type };
	const size_t sizes[] = { sizeof(p->system), sizeof(p->operation), sizeof(p->collection),
				 sizeof(p->error_type) };
	p->server = split_key(key, fields, sizes, sizeof(fields) / sizeof(fields[0]));
}

int registry_cmp_server(const void *a, const void *b)
{
	const struct server_row *x = a, *y = b;
	int c;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	if ((c = strcmp(x->s.route, y->s.route)))
		return c;
	if ((c = strcmp(registry_methods[x->s.method], registry_methods[y->s.method])))
		return c;
	return (int)x->s.status - (int)y->s.status;
}

int registry_cmp_client(const void *a, const void *b)
{
	const struct client_row *x = a, *y = b;
	int c;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	if ((c = strcmp(x->s.address, y->s.address)))
		return c;
	if (x->s.port != y->s.port)
		return (int)x->s.port - (int)y->s.port;
	if ((c = strcmp(registry_methods[x->s.method], registry_methods[y->s.method])))
		return c;
	return (int)x->s.status - (int)y->s.status;
}
