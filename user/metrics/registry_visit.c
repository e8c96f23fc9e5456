// SPDX-License-Identifier: Apache-2.0
/* The registry's series as attribute sets for a visitor (the OTLP exporter). */
#include "metrics/registry.h"
#include "metrics/registry_internal.h"
#include "metrics/semconv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void attr_str(struct metric_sample *s, const char *key, const char *value)
{
	s->attrs[s->nattrs++] = (struct metric_attr){ .key = key, .type = METRIC_ATTR_STRING, .str = value };
}

static void attr_int(struct metric_sample *s, const char *key, int64_t value)
{
	s->attrs[s->nattrs++] = (struct metric_attr){ .key = key, .type = METRIC_ATTR_INT, .num = value };
}

static void hist_sample(struct metric_sample *s, const struct export_hist *h)
{
	s->bounds = hist_export_bounds;
	s->nbounds = hist_export_nbounds;
	s->counts = h->buckets;
	s->count = h->count;
	s->sum = (double)h->sum_ns / 1e9;
}

/* The same attributes as server_labels / client_labels, with status codes and ports as
 * integers (their OTel type). status_txt holds error.type's text. */
static void server_sample(struct metric_sample *s, const struct server_series *ss, char *status_txt,
			  size_t txtlen)
{
	memset(s, 0, sizeof(*s));
	snprintf(status_txt, txtlen, "%u", ss->status);
	if (semconv_http_server_error(ss->status))
		attr_str(s, "error.type", status_txt);
	attr_str(s, "http.request.method", registry_methods[ss->method]);
	attr_int(s, "http.response.status_code", ss->status);
	if (ss->route[0]) /* nothing matched: http.route is left unset */
		attr_str(s, "http.route", ss->route);
	if (ss->protocol_version[0])
		attr_str(s, "network.protocol.version", ss->protocol_version);
	if (ss->port)
		attr_int(s, "server.port", ss->port);
	hist_sample(s, &ss->h);
}

static void client_sample(struct metric_sample *s, const struct client_series *cs, char *status_txt,
			  size_t txtlen)
{
	memset(s, 0, sizeof(*s));
	snprintf(status_txt, txtlen, "%u", cs->status);
	if (semconv_http_client_error(cs->status)) {
		semconv_http_error_type(cs->status, status_txt, txtlen);
		attr_str(s, "error.type", status_txt);
	}
	attr_str(s, "http.request.method", registry_methods[cs->method]);
	if (cs->status)
		attr_int(s, "http.response.status_code", cs->status);
	if (cs->address[0])
		attr_str(s, "server.address", cs->address);
	if (cs->port)
		attr_int(s, "server.port", cs->port);
	hist_sample(s, &cs->h);
}

static void db_sample(struct metric_sample *s, const struct db_series *ds, struct db_parts *p)
{
	memset(s, 0, sizeof(*s));
	registry_db_split(ds->key, p);
	attr_str(s, "db.system.name", p->system);
	if (p->operation[0])
		attr_str(s, "db.operation.name", p->operation);
	if (p->collection[0])
		attr_str(s, "db.collection.name", p->collection);
	if (ds->error)
		attr_str(s, "error.type", p->error_type);
	hist_sample(s, &ds->h);
}

static void rpc_sample(struct metric_sample *s, const struct rpc_series *rs, struct rpc_parts *p)
{
	memset(s, 0, sizeof(*s));
	registry_rpc_split(rs->key, p);
	attr_str(s, "rpc.system.name", p->system);
	attr_str(s, "rpc.method", p->method);
	attr_str(s, "rpc.response.status_code", p->status);
	if (p->address[0])
		attr_str(s, "server.address", p->address);
	if (rs->port)
		attr_int(s, "server.port", rs->port);
	if (rs->error)
		attr_str(s, "error.type", p->error_type);
	hist_sample(s, &rs->h);
}

/* RPC series of target t from c->rpc[*ri], client ones then server ones (sorted by key, whose
 * first byte is the role). */
static int visit_rpc(const struct metrics_visitor *v, void *ctx, struct render_copy *c, size_t t, size_t *ri)
{
	static const struct metric_info info[2] = {
		{ "rpc.client.call.duration", "s", "Duration of outgoing RPCs.", METRIC_HISTOGRAM },
		{ "rpc.server.call.duration", "s", "Duration of incoming RPCs.", METRIC_HISTOGRAM },
	};
	size_t first = *ri, last = first;
	while (last < c->nrpc && c->rpc[last].ti == t)
		last++;
	if (last == first)
		return 0;
	struct metric_sample *samples = malloc((last - first) * sizeof(*samples));
	struct rpc_parts *parts = malloc((last - first) * sizeof(*parts));
	if (!samples || !parts) {
		free(samples);
		free(parts);
		*ri = last;
		return -ENOMEM;
	}
	for (int server = 0; server <= 1; server++) {
		size_t n = 0;
		for (; *ri < last && (c->rpc[*ri].s.key[0] == 's') == server; (*ri)++, n++)
			rpc_sample(&samples[n], &c->rpc[*ri].s, &parts[n]);
		if (n)
			v->metric(ctx, &info[server], samples, n);
	}
	*ri = last;
	free(samples);
	free(parts);
	return 0;
}

static void visit_gauge(const struct metrics_visitor *v, void *ctx, const struct gauge *g, int target)
{
	struct metric_info info = {
		.name = g->otel_name, .unit = g->unit, .description = g->help, .type = g->type
	};
	struct metric_sample samples[METRIC_MAX_POINTS];
	if (!g->points) {
		memset(samples, 0, sizeof(samples[0]));
		samples[0].value = g->fn(g->ctx, target);
		v->metric(ctx, &info, samples, 1);
		return;
	}
	struct metric_point points[METRIC_MAX_POINTS];
	memset(points, 0, sizeof(points));
	int n = g->points(g->ctx, target, points, METRIC_MAX_POINTS);
	if (n > METRIC_MAX_POINTS)
		n = METRIC_MAX_POINTS;
	for (int j = 0; j < n; j++) {
		const struct metric_point *p = &points[j];
		struct metric_sample *s = &samples[j];
		memset(s, 0, sizeof(*s));
		if (p->attr_name && p->attr_value)
			attr_str(s, p->attr_name, p->attr_value);
		if (p->attr2_name && p->attr2_value)
			attr_str(s, p->attr2_name, p->attr2_value);
		s->value = p->value;
		if (g->type == METRIC_HISTOGRAM) {
			s->bounds = p->bounds;
			s->nbounds = p->nbounds < METRIC_MAX_BUCKETS ? p->nbounds : METRIC_MAX_BUCKETS;
			s->counts = p->counts;
			s->count = p->count;
			s->sum = p->sum;
		}
	}
	if (n > 0)
		v->metric(ctx, &info, samples, (size_t)n);
}

int metrics_registry_visit(struct metrics_registry *reg, const struct metrics_visitor *v, void *ctx)
{
	static const struct metric_info server_info = { "http.server.request.duration", "s",
							"Duration of HTTP server requests.",
							METRIC_HISTOGRAM };
	static const struct metric_info client_info = { "http.client.request.duration", "s",
							"Duration of HTTP client requests.",
							METRIC_HISTOGRAM };
	static const struct metric_info db_info = { "db.client.operation.duration", "s",
						    "Duration of database client operations.",
						    METRIC_HISTOGRAM };
	static const struct metric_info db_server_info = {
		"db.server.operation.duration", "s",
		"Duration of operations a database served (measured at its sockets; not an OpenTelemetry "
		"convention).",
		METRIC_HISTOGRAM
	};
	struct render_copy c = { 0 };
	size_t nmax = 0;
	int err = registry_copy_state(reg, &c);
	if (!err)
		nmax = c.nserver > c.nclient ? c.nserver : c.nclient;
	if (!err && c.ndb > nmax)
		nmax = c.ndb;
	struct db_parts *parts = err ? NULL : malloc((nmax + 1) * sizeof(*parts));
	struct metric_sample *samples = err ? NULL : malloc((nmax + 1) * sizeof(*samples));
	char(*txt)[8] = err ? NULL : malloc((nmax + 1) * sizeof(*txt));
	if (!samples || !txt || !parts) {
		err = -ENOMEM;
		goto out;
	}
	qsort(c.server, c.nserver, sizeof(*c.server), registry_cmp_server);
	qsort(c.client, c.nclient, sizeof(*c.client), registry_cmp_client);
	qsort(c.db, c.ndb, sizeof(*c.db), registry_cmp_db);
	qsort(c.rpc, c.nrpc, sizeof(*c.rpc), registry_cmp_rpc);
	size_t si = 0, ci = 0, di = 0, ri = 0;
	for (size_t t = 0; t < c.ntargets; t++) {
		if (!c.targets[t])
			continue;
		v->target(ctx, (int)t, &c.targets[t]->res, c.targets[t]->start_unix_ns);
		size_t n = 0;
		for (; si < c.nserver && c.server[si].ti == t; si++, n++)
			server_sample(&samples[n], &c.server[si].s, txt[n], sizeof(txt[n]));
		if (n)
			v->metric(ctx, &server_info, samples, n);
		n = 0;
		for (; ci < c.nclient && c.client[ci].ti == t; ci++, n++)
			client_sample(&samples[n], &c.client[ci].s, txt[n], sizeof(txt[n]));
		if (n)
			v->metric(ctx, &client_info, samples, n);
		/* Sorted by key, whose first byte is the role: client series, then server ones. */
		for (int server = 0; server <= 1; server++) {
			n = 0;
			for (; di < c.ndb && c.db[di].ti == t && (c.db[di].s.key[0] == 's') == server;
			     di++, n++)
				db_sample(&samples[n], &c.db[di].s, &parts[n]);
			if (n)
				v->metric(ctx, server ? &db_server_info : &db_info, samples, n);
		}
		if (visit_rpc(v, ctx, &c, t, &ri))
			err = -ENOMEM;
		for (size_t i = 0; i < c.ngauges; i++)
			if (c.gauges[i].per_target)
				visit_gauge(v, ctx, &c.gauges[i], (int)t);
	}
	v->target(ctx, -1, NULL, reg->start_unix_ns); /* set once at creation */
	for (size_t i = 0; i < c.ngauges; i++)
		if (!c.gauges[i].per_target)
			visit_gauge(v, ctx, &c.gauges[i], -1);
out:
	free(samples);
	free(txt);
	free(parts);
	registry_release_state(reg, &c);
	return err;
}
