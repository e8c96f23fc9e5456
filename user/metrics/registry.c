// SPDX-License-Identifier: Apache-2.0
#include "metrics/registry.h"
#include "metrics/registry_internal.h"
#include "metrics/semconv.h"

#include "base/clock.h"
#include "base/histogram.h"
#include "gotrace/route.h"
#include "base/utf8.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const registry_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
};

/* The series past the cap: rpc.method and rpc.response.status_code _OTHER. */
#define RPC_OVERFLOW(role) role "\x1fgrpc\x1f_OTHER\x1f_OTHER\x1f\x1f"

static int method_index(const char *m)
{
	for (int i = 0; m && i < METHOD_OTHER; i++)
		if (!strcmp(m, registry_methods[i]))
			return i;
	return METHOD_OTHER;
}

const char *http_method_normalize(const char *method)
{
	return registry_methods[method_index(method)];
}

static void *vec_push(struct vec *v, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *p = realloc(v->p, cap * size);
		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	void *e = (char *)v->p + v->n++ * size;
	memset(e, 0, size);
	return e;
}

static struct key_bytes key_pack(const struct key *k)
{
	struct key_bytes b;
	memset(&b, 0, sizeof(b));
	b.str = (uint64_t)(uintptr_t)k->str;
	b.kind = (uint8_t)k->kind;
	b.method = k->method;
	b.port = k->port;
	b.status = k->status;
	b.proto = k->proto;
	return b;
}

static struct vec *entry_vec(struct target *t, enum entry_kind kind, size_t *size)
{
	switch (kind) {
	case E_SERVER:
		*size = sizeof(struct server_series);
		return &t->server;
	case E_CLIENT:
		*size = sizeof(struct client_series);
		return &t->client;
	case E_DB:
		*size = sizeof(struct db_series);
		return &t->db;
	case E_RPC:
		*size = sizeof(struct rpc_series);
		return &t->rpc;
	default:
		*size = sizeof(struct route_stat);
		return &t->stats;
	}
}

/* The entry for k, created zeroed (*created set) if new; NULL when out of memory. */
static void *entry_get(struct target *t, const struct key *k, bool *created)
{
	size_t size;
	struct vec *v = entry_vec(t, k->kind, &size);
	struct key_bytes kb = key_pack(k);
	struct index_entry *e;
	*created = false;
	HASH_FIND(hh, t->index, &kb, sizeof(kb), e);
	if (e)
		return (char *)v->p + e->idx * size;
	if (!(e = calloc(1, sizeof(*e))))
		return NULL;
	void *item = vec_push(v, size);
	if (!item) {
		free(e);
		return NULL;
	}
	e->k = kb;
	e->idx = (uint32_t)(v->n - 1);
	HASH_ADD(hh, t->index, k, sizeof(e->k), e);
	*created = true;
	return item;
}

struct metrics_registry *metrics_registry_new(int max_routes)
{
	struct metrics_registry *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return NULL;
	pthread_mutex_init(&reg->lock, NULL);
	reg->start_unix_ns = clock_real_ns();
	reg->max_routes = max_routes > 0 ? max_routes : ROUTE_DEFAULT_MAX;
	return reg;
}

void registry_target_free(struct target *t)
{
	if (!t)
		return;
	route_table_free(t->routes);
	route_table_free(t->peers);
	route_table_free(t->dbops);
	route_table_free(t->rpc_server_ops);
	route_table_free(t->rpc_client_ops);
	free(t->db.p);
	free(t->rpc.p);
	free(t->server.p);
	free(t->client.p);
	free(t->stats.p);
	struct index_entry *e, *tmp;
	HASH_ITER (hh, t->index, e, tmp) {
		HASH_DEL(t->index, e);
		free(e);
	}
	free(t);
}

void metrics_registry_free(struct metrics_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->ntargets; i++)
		if (reg->targets[i])
			registry_target_free(reg->targets[i]);
	for (size_t i = 0; i < reg->ngraves; i++)
		registry_target_free(reg->graveyard[i]);
	free(reg->graveyard);
	for (size_t i = 0; i < reg->ngauges; i++) {
		free(reg->gauges[i].name);
		free(reg->gauges[i].help);
		free(reg->gauges[i].otel_name);
		free(reg->gauges[i].unit);
	}
	free(reg->targets);
	free(reg->gauges);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

void metrics_instance_label(const struct resource *res, char *out, size_t len)
{
	snprintf(out, len, "%s:%d", res->host_name, (int)res->pid);
}

int metrics_registry_add_target(struct metrics_registry *reg, const struct resource *res)
{
	struct target *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->res = *res;
	t->start_unix_ns = clock_real_ns();
	t->routes = route_table_new(reg->max_routes, ROUTE_OVERFLOW);
	t->peers = route_table_new(reg->max_routes, "_OTHER");
	t->dbops = route_table_new(reg->max_routes, "other_sql\x1f_OTHER\x1f");
	t->rpc_server_ops = route_table_new(reg->max_routes, RPC_OVERFLOW("s"));
	t->rpc_client_ops = route_table_new(reg->max_routes, RPC_OVERFLOW("c"));
	if (!t->routes || !t->peers || !t->dbops || !t->rpc_server_ops || !t->rpc_client_ops) {
		registry_target_free(t);
		return -ENOMEM;
	}
	pthread_mutex_lock(&reg->lock);
	int id = -ENOMEM;
	/* The same process added twice would render every series twice, which Prometheus
	 * rejects as duplicate samples: hand back the existing target instead. */
	for (size_t i = 0; i < reg->ntargets; i++) {
		if (!reg->targets[i])
			continue;
		const struct resource *r = &reg->targets[i]->res;
		if (r->pid == res->pid && !strcmp(r->executable_name, res->executable_name) &&
		    !strcmp(r->service_name, res->service_name) && !strcmp(r->host_name, res->host_name)) {
			pthread_mutex_unlock(&reg->lock);
			registry_target_free(t);
			return (int)i;
		}
	}
	if (reg->ntargets == reg->tcap) {
		size_t cap = reg->tcap ? reg->tcap * 2 : 4;
		struct target **p = realloc(reg->targets, cap * sizeof(*p));
		if (p) {
			reg->targets = p;
			reg->tcap = cap;
		}
	}
	if (reg->ntargets < reg->tcap) {
		id = (int)reg->ntargets;
		reg->targets[reg->ntargets++] = t;
	}
	pthread_mutex_unlock(&reg->lock);
	if (id < 0)
		registry_target_free(t);
	return id;
}

/* network.protocol.version as a small number for the series key, and back. */
static const char *const protocol_versions[] = { "", "1.0", "1.1", "2", "3" };

static uint16_t protocol_index(const char *version)
{
	for (uint16_t i = 1; version && i < sizeof(protocol_versions) / sizeof(protocol_versions[0]); i++)
		if (!strcmp(version, protocol_versions[i]))
			return i;
	return 0;
}

static void record_server(struct target *t, const char *route, int method, uint16_t status,
			  const struct http_record *rec)
{
	bool created;
	/* No route (nothing matched) is no route: it takes no place under the cap. */
	const char *r = route[0] ? route_table_intern(t->routes, route) : "";
	if (!r)
		return;
	uint16_t proto = protocol_index(rec->protocol_version);
	struct key k = { .kind = E_SERVER,
			 .str = r,
			 .port = rec->server_port,
			 .status = status,
			 .proto = proto,
			 .method = (uint8_t)method };
	struct server_series *s = entry_get(t, &k, &created);
	if (!s)
		return;
	if (created)
		*s = (struct server_series){ .route = r,
					     .protocol_version = protocol_versions[proto],
					     .port = rec->server_port,
					     .method = (uint8_t)method,
					     .status = status };
	export_hist_record(&s->h, rec->duration_ns);

	k = (struct key){ .kind = E_STAT, .str = r, .method = (uint8_t)method };
	struct route_stat *st = entry_get(t, &k, &created);
	if (!st)
		return;
	if (created) {
		st->route = r;
		st->method = (uint8_t)method;
	}
	fine_hist_record(&st->fine, rec->duration_ns);
	st->errors += semconv_http_server_error(status);
}

static void record_client(struct target *t, const struct http_record *r, int method)
{
	bool created;
	const char *addr = "";
	uint16_t port = r->server_port;
	if (r->server_address && *r->server_address) {
		uint64_t before = route_table_overflowed(t->peers);
		if (!(addr = route_table_intern(t->peers, r->server_address)))
			return;
		if (route_table_overflowed(t->peers) != before)
			port = 0; /* the port alone would still multiply series */
	}
	struct key k = {
		.kind = E_CLIENT, .str = addr, .port = port, .status = r->status, .method = (uint8_t)method
	};
	struct client_series *s = entry_get(t, &k, &created);
	if (!s)
		return;
	if (created)
		*s = (struct client_series){
			.address = addr, .port = port, .method = (uint8_t)method, .status = r->status
		};
	export_hist_record(&s->h, r->duration_ns);
}

void metrics_registry_cap_route(struct metrics_registry *reg, int target, const char *route, char *out,
				size_t len)
{
	const char *r = NULL;
	pthread_mutex_lock(&reg->lock);
	if (target >= 0 && (size_t)target < reg->ntargets && reg->targets[target])
		r = route_table_intern(reg->targets[target]->routes, route);
	snprintf(out, len, "%s", r ? r : ROUTE_OVERFLOW);
	pthread_mutex_unlock(&reg->lock);
}

void metrics_registry_record(struct metrics_registry *reg, int target, const struct http_record *r)
{
	char route[ROUTE_MAX];
	if (!reg || !r)
		return;
	int method = method_index(r->method);
	/* Normalising is the costly part and needs no shared state: do it before locking. */
	unsigned status = r->kind == HTTP_SERVER ? semconv_http_server_status(r->status) : r->status;
	if (r->kind == HTTP_SERVER && r->route)
		snprintf(route, sizeof(route), "%s", r->route);
	else if (r->kind == HTTP_SERVER)
		route_for_request(r->pattern, r->path, status, route, sizeof(route));
	pthread_mutex_lock(&reg->lock);
	if (target >= 0 && (size_t)target < reg->ntargets && reg->targets[target]) {
		struct target *t = reg->targets[target];
		if (r->kind == HTTP_SERVER)
			record_server(t, route, method, (uint16_t)status, r);
		else
			record_client(t, r, method);
	}
	pthread_mutex_unlock(&reg->lock);
}

void metrics_registry_record_db(struct metrics_registry *reg, int target, const struct db_record *r)
{
	char key[4 * 128];
	if (!reg || !r)
		return;
	/* One interned string per series: role, system, operation, collection, error.type. */
	const char *error_type =
		r->error ? (r->error_type && r->error_type[0] ? r->error_type : SEMCONV_DB_ERROR_TYPE) : "";
	snprintf(key, sizeof(key), "%c\x1f%.127s\x1f%.127s\x1f%.127s\x1f%.31s", r->server ? 's' : 'c',
		 r->system ? r->system : "", r->operation ? r->operation : "",
		 r->collection ? r->collection : "", error_type);
	pthread_mutex_lock(&reg->lock);
	struct target *t = target >= 0 && (size_t)target < reg->ntargets ? reg->targets[target] : NULL;
	const char *interned = t ? route_table_intern(t->dbops, key) : NULL;
	if (interned) {
		bool created;
		struct key k = { .kind = E_DB, .str = interned, .status = r->error };
		struct db_series *ds = entry_get(t, &k, &created);
		if (ds && created)
			*ds = (struct db_series){ .key = interned, .error = r->error };
		if (ds)
			export_hist_record(&ds->h, r->duration_ns);
	}
	pthread_mutex_unlock(&reg->lock);
}

void metrics_registry_record_rpc(struct metrics_registry *reg, int target, const struct rpc_record *r)
{
	char key[640];
	if (!reg || !r)
		return;
	snprintf(key, sizeof(key), "%c\x1f%.15s\x1f%.255s\x1f%.23s\x1f%.127s\x1f%.23s", r->server ? 's' : 'c',
		 r->system ? r->system : "", r->method ? r->method : "", r->status ? r->status : "",
		 r->server_address ? r->server_address : "", r->error && r->error_type ? r->error_type : "");
	pthread_mutex_lock(&reg->lock);
	struct target *t = target >= 0 && (size_t)target < reg->ntargets ? reg->targets[target] : NULL;
	/* Past the cap, series fall into one overflow key per side, which keeps totals right. */
	const char *interned =
		t ? route_table_intern(r->server ? t->rpc_server_ops : t->rpc_client_ops, key) : NULL;
	if (interned) {
		bool created;
		uint16_t port = strcmp(interned, key) ? 0 : r->server_port;
		struct key k = { .kind = E_RPC, .str = interned, .port = port, .status = r->error };
		struct rpc_series *rs = entry_get(t, &k, &created);
		if (rs && created)
			*rs = (struct rpc_series){ .key = interned, .port = port, .error = r->error };
		if (rs)
			export_hist_record(&rs->h, r->duration_ns);
	}
	pthread_mutex_unlock(&reg->lock);
}

int metrics_registry_remove_target(struct metrics_registry *reg, int target)
{
	struct target *t = NULL;
	pthread_mutex_lock(&reg->lock);
	if (target >= 0 && (size_t)target < reg->ntargets) {
		t = reg->targets[target];
		reg->targets[target] = NULL;
	}
	if (t && reg->readers) {
		struct target **g = realloc(reg->graveyard, (reg->ngraves + 1) * sizeof(*g));
		if (g) {
			reg->graveyard = g;
			reg->graveyard[reg->ngraves++] = t;
			t = NULL;
		} else {
			/* Cannot defer: keep it in place rather than free it under a reader. */
			reg->targets[target] = t;
			t = NULL;
			target = -1;
		}
	}
	pthread_mutex_unlock(&reg->lock);
	if (t)
		registry_target_free(t);
	return target >= 0 ? 0 : -ENOENT;
}
