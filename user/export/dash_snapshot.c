// SPDX-License-Identifier: Apache-2.0
#include "export/dash_snapshot.h"

#include "base/array.h"
#include "base/clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double dash_quantile(const double *bounds, size_t nbounds, const uint64_t *counts, double q)
{
	uint64_t total = 0;
	for (size_t i = 0; i <= nbounds; i++)
		total += counts[i];
	if (!total || nbounds == 0 || isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	double rank = q * (double)total;
	uint64_t cum = 0;
	size_t b = 0;
	/* The first finite bucket whose cumulative count reaches rank; past them all, +Inf. */
	for (; b < nbounds; b++) {
		if ((double)(cum + counts[b]) >= rank)
			break;
		cum += counts[b];
	}
	if (b == nbounds)
		return bounds[nbounds - 1];
	if (b == 0 && bounds[0] <= 0)
		return bounds[0];
	double lower = b ? bounds[b - 1] : 0, upper = bounds[b];
	return lower + (upper - lower) * ((rank - (double)cum) / (double)counts[b]);
}

double dash_hist_quantile(const struct dash_hist *h, double q)
{
	return dash_quantile(hist_export_bounds, HIST_EXPORT_BOUNDS, h->counts, q);
}

void dash_hist_delta(struct dash_hist *out, const struct dash_hist *now, const struct dash_hist *before)
{
	*out = *now;
	if (!before)
		return;
	for (size_t i = 0; i <= HIST_EXPORT_BOUNDS; i++)
		out->counts[i] = now->counts[i] >= before->counts[i] ? now->counts[i] - before->counts[i] : 0;
	out->count = now->count >= before->count ? now->count - before->count : 0;
	out->sum = now->sum - before->sum;
}

int dash_route_cmp(const void *a, const void *b)
{
	const struct dash_route *x = a, *y = b;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	int c = strcmp(x->route, y->route);
	return c ? c : strcmp(x->method, y->method);
}

int dash_db_cmp(const void *a, const void *b)
{
	const struct dash_db_op *x = a, *y = b;
	int c;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	if (x->server != y->server)
		return x->server ? 1 : -1;
	if ((c = strcmp(x->system, y->system)) || (c = strcmp(x->operation, y->operation)))
		return c;
	return strcmp(x->collection, y->collection);
}

int dash_peer_cmp(const void *a, const void *b)
{
	const struct dash_peer *x = a, *y = b;
	int c;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	if ((c = strcmp(x->address, y->address)))
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->method, y->method);
}

const struct dash_peer *dash_snapshot_find_peer(const struct dash_snapshot *s, const struct dash_peer *key)
{
	return s->npeers ? bsearch(key, s->peers, s->npeers, sizeof(*s->peers), dash_peer_cmp) : NULL;
}

const struct dash_route *dash_snapshot_find_route(const struct dash_snapshot *s, const struct dash_route *key)
{
	return s->nroutes ? bsearch(key, s->routes, s->nroutes, sizeof(*s->routes), dash_route_cmp) : NULL;
}

const struct dash_db_op *dash_snapshot_find_db(const struct dash_snapshot *s, const struct dash_db_op *key)
{
	return s->ndb ? bsearch(key, s->db, s->ndb, sizeof(*s->db), dash_db_cmp) : NULL;
}

void dash_snapshot_free(struct dash_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nroutes; i++) {
		free(s->routes[i].route);
		free(s->routes[i].statuses);
	}
	free(s->routes);
	free(s->targets);
	free(s->db);
	free(s->peers);
	free(s->metrics);
	free(s->slos);
	free(s);
}

struct builder {
	struct dash_snapshot *s;
	size_t cap_targets, cap_routes, cap_db, cap_peers, cap_metrics, cap_slos;
	int target;	    /* the visit's current target */
	size_t first_route; /* this target's first route, first DB op */
	size_t first_db, first_peer, first_slo;
	int err;
};

static const struct metric_attr *find_attr(const struct metric_sample *s, const char *key)
{
	for (size_t i = 0; i < s->nattrs; i++)
		if (!strcmp(s->attrs[i].key, key))
			return &s->attrs[i];
	return NULL;
}

static const char *attr_str(const struct metric_sample *s, const char *key)
{
	const struct metric_attr *a = find_attr(s, key);
	return a && a->type == METRIC_ATTR_STRING && a->str ? a->str : "";
}

static bool export_buckets(const struct metric_sample *s)
{
	return s->nbounds == HIST_EXPORT_BOUNDS && s->counts &&
	       (s->bounds == hist_export_bounds ||
		(s->bounds && !memcmp(s->bounds, hist_export_bounds, sizeof(hist_export_bounds))));
}

static void hist_add(struct dash_hist *h, const struct metric_sample *s)
{
	for (size_t i = 0; i <= HIST_EXPORT_BOUNDS; i++)
		h->counts[i] += s->counts[i];
	h->count += s->count;
	h->sum += s->sum;
}

static int add_status(struct dash_route *r, unsigned code, uint64_t count)
{
	size_t i = 0;
	while (i < r->nstatuses && r->statuses[i].code < code)
		i++;
	if (i < r->nstatuses && r->statuses[i].code == code) {
		r->statuses[i].count += count;
		return 0;
	}
	struct dash_status *p = realloc(r->statuses, (r->nstatuses + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memmove(p + i + 1, p + i, (r->nstatuses - i) * sizeof(*p));
	p[i] = (struct dash_status){ code, count };
	r->statuses = p;
	r->nstatuses++;
	return 0;
}

static int add_server_sample(struct builder *b, const struct metric_sample *smp)
{
	struct dash_snapshot *s = b->s;
	if (!export_buckets(smp))
		return 0;
	const char *method = attr_str(smp, "http.request.method"), *route = attr_str(smp, "http.route");
	const struct metric_attr *status = find_attr(smp, "http.response.status_code");
	struct dash_route *r = NULL;
	for (size_t i = b->first_route; i < s->nroutes && !r; i++)
		if (!strcmp(s->routes[i].route, route) && !strcmp(s->routes[i].method, method))
			r = &s->routes[i];
	if (!r) {
		if (array_grow((void **)&s->routes, &b->cap_routes, s->nroutes, sizeof(*s->routes)))
			return -ENOMEM;
		r = &s->routes[s->nroutes];
		memset(r, 0, sizeof(*r));
		if (!(r->route = strdup(route)))
			return -ENOMEM;
		s->nroutes++;
		r->target = b->target;
		snprintf(r->method, sizeof(r->method), "%s", method);
	}
	if (add_status(r, status && status->type == METRIC_ATTR_INT ? (unsigned)status->num : 0, smp->count))
		return -ENOMEM;
	if (find_attr(smp, "error.type"))
		r->errors += smp->count;
	hist_add(&r->h, smp);
	return 0;
}

static int add_db_sample(struct builder *b, bool server, const struct metric_sample *smp)
{
	struct dash_snapshot *s = b->s;
	if (!export_buckets(smp))
		return 0;
	struct dash_db_op key = { .target = b->target, .server = server };
	snprintf(key.system, sizeof(key.system), "%s", attr_str(smp, "db.system.name"));
	snprintf(key.operation, sizeof(key.operation), "%s", attr_str(smp, "db.operation.name"));
	snprintf(key.collection, sizeof(key.collection), "%s", attr_str(smp, "db.collection.name"));
	struct dash_db_op *d = NULL;
	for (size_t i = b->first_db; i < s->ndb && !d; i++)
		if (!dash_db_cmp(&s->db[i], &key))
			d = &s->db[i];
	if (!d) {
		if (array_grow((void **)&s->db, &b->cap_db, s->ndb, sizeof(*s->db)))
			return -ENOMEM;
		d = &s->db[s->ndb++];
		*d = key;
	}
	if (find_attr(smp, "error.type"))
		d->errors += smp->count;
	hist_add(&d->h, smp);
	return 0;
}

static int add_peer_sample(struct builder *b, const struct metric_sample *smp)
{
	struct dash_snapshot *s = b->s;
	if (!export_buckets(smp))
		return 0;
	struct dash_peer key = { .target = b->target };
	snprintf(key.method, sizeof(key.method), "%s", attr_str(smp, "http.request.method"));
	snprintf(key.address, sizeof(key.address), "%s", attr_str(smp, "server.address"));
	const struct metric_attr *port = find_attr(smp, "server.port");
	key.port = port && port->type == METRIC_ATTR_INT ? (unsigned)port->num : 0;
	struct dash_peer *p = NULL;
	for (size_t i = b->first_peer; i < s->npeers && !p; i++)
		if (!dash_peer_cmp(&s->peers[i], &key))
			p = &s->peers[i];
	if (!p) {
		if (array_grow((void **)&s->peers, &b->cap_peers, s->npeers, sizeof(*s->peers)))
			return -ENOMEM;
		p = &s->peers[s->npeers++];
		*p = key;
	}
	if (find_attr(smp, "error.type"))
		p->errors += smp->count;
	hist_add(&p->h, smp);
	return 0;
}

static int add_metric_sample(struct builder *b, const struct metric_info *m, const struct metric_sample *smp)
{
	struct dash_snapshot *s = b->s;
	if (array_grow((void **)&s->metrics, &b->cap_metrics, s->nmetrics, sizeof(*s->metrics)))
		return -ENOMEM;
	struct dash_metric *d = &s->metrics[s->nmetrics++];
	memset(d, 0, sizeof(*d));
	d->target = b->target;
	d->type = m->type;
	snprintf(d->name, sizeof(d->name), "%s", m->name);
	snprintf(d->unit, sizeof(d->unit), "%s", m->unit ? m->unit : "");
	/* Every attribute: a point is told from its siblings by all of them (an SLO's burn rate by
	 * slo and window). Cut at the field's end, which the page shows as it is. */
	size_t used = 0;
	for (size_t i = 0; i < smp->nattrs && used + 1 < sizeof(d->attr); i++) {
		const struct metric_attr *a = &smp->attrs[i];
		int w = a->type == METRIC_ATTR_INT
				? snprintf(d->attr + used, sizeof(d->attr) - used, "%s%s=%lld", i ? ", " : "",
					   a->key, (long long)a->num)
				: snprintf(d->attr + used, sizeof(d->attr) - used, "%s%s=%s", i ? ", " : "",
					   a->key, a->str ? a->str : "");
		if (w < 0)
			break;
		used += (size_t)w;
	}
	d->value = smp->value;
	if (m->type == METRIC_HISTOGRAM && smp->counts) {
		d->count = smp->count;
		d->sum = smp->sum;
		d->p50 = dash_quantile(smp->bounds, smp->nbounds, smp->counts, 0.5);
		d->p99 = dash_quantile(smp->bounds, smp->nbounds, smp->counts, 0.99);
	}
	return 0;
}

/* The SLO tracker's gauges, gathered per objective (the slo attribute) of the target. */
static int add_slo_sample(struct builder *b, const char *metric, const struct metric_sample *smp)
{
	struct dash_snapshot *s = b->s;
	const char *name = attr_str(smp, "slo");
	struct dash_slo *o = NULL;
	for (size_t i = b->first_slo; i < s->nslos && !o; i++)
		if (!strcmp(s->slos[i].name, name))
			o = &s->slos[i];
	if (!o) {
		if (array_grow((void **)&s->slos, &b->cap_slos, s->nslos, sizeof(*s->slos)))
			return -ENOMEM;
		o = &s->slos[s->nslos++];
		o->target = b->target;
		snprintf(o->name, sizeof(o->name), "%s", name);
		o->objective = o->budget_left = NAN;
		o->firing_page = o->firing_ticket = 0;
		for (int w = 0; w < SLO_RATE_WINDOWS; w++)
			o->burn[w] = NAN;
	}
	if (!strcmp(metric, "glimpse.slo.target")) {
		o->objective = smp->value;
	} else if (!strcmp(metric, "glimpse.slo.error_budget.remaining")) {
		o->budget_left = smp->value;
	} else if (!strcmp(metric, "glimpse.slo.alerts.firing")) {
		const char *severity = attr_str(smp, "severity");
		if (!strcmp(severity, "page"))
			o->firing_page = (int)smp->value;
		else if (!strcmp(severity, "ticket"))
			o->firing_ticket = (int)smp->value;
	} else if (!strcmp(metric, "glimpse.slo.burn_rate")) {
		const char *window = attr_str(smp, "window");
		for (int w = 0; w < SLO_RATE_WINDOWS; w++)
			if (!strcmp(slo_rate_windows[w].label, window))
				o->burn[w] = smp->value;
	}
	return 0;
}

static void on_target(void *ctx, int target, const struct resource *res, uint64_t start_unix_ns)
{
	struct builder *b = ctx;
	struct dash_snapshot *s = b->s;
	b->target = target;
	b->first_route = s->nroutes;
	b->first_db = s->ndb;
	b->first_peer = s->npeers;
	b->first_slo = s->nslos;
	if (target < 0 || !res || b->err)
		return;
	if ((b->err = array_grow((void **)&s->targets, &b->cap_targets, s->ntargets, sizeof(*s->targets))))
		return;
	struct dash_target *t = &s->targets[s->ntargets++];
	memset(t, 0, sizeof(*t));
	t->id = target;
	t->pid = (int)res->pid;
	t->start_unix_ns = start_unix_ns;
	snprintf(t->service, sizeof(t->service), "%s", res->service_name);
	snprintf(t->executable, sizeof(t->executable), "%s", res->executable_name);
	metrics_instance_label(res, t->instance, sizeof(t->instance));
}

static void on_metric(void *ctx, const struct metric_info *m, const struct metric_sample *samples, size_t n)
{
	struct builder *b = ctx;
	bool server = !strcmp(m->name, "http.server.request.duration");
	bool db_client = !strcmp(m->name, "db.client.operation.duration");
	bool db_server = !strcmp(m->name, "db.server.operation.duration");
	bool client = !strcmp(m->name, "http.client.request.duration");
	bool slo = !strncmp(m->name, "glimpse.slo.", strlen("glimpse.slo."));
	for (size_t i = 0; i < n && !b->err; i++) {
		if (server)
			b->err = add_server_sample(b, &samples[i]);
		else if (client)
			b->err = add_peer_sample(b, &samples[i]);
		else if (db_client || db_server)
			b->err = add_db_sample(b, db_server, &samples[i]);
		else if (slo)
			b->err = add_slo_sample(b, m->name, &samples[i]);
		else
			b->err = add_metric_sample(b, m, &samples[i]);
	}
}

struct dash_snapshot *dash_snapshot_take(struct metrics_registry *reg)
{
	struct dash_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct builder b = { .s = s, .target = -1 };
	const struct metrics_visitor v = { on_target, on_metric };
	s->unix_ns = clock_real_ns();
	s->mono_ns = clock_mono_ns();
	int err = metrics_registry_visit(reg, &v, &b);
	if (err || b.err) {
		dash_snapshot_free(s);
		return NULL;
	}
	if (s->nroutes) /* an empty array may be NULL, which qsort must not see */
		qsort(s->routes, s->nroutes, sizeof(*s->routes), dash_route_cmp);
	if (s->ndb)
		qsort(s->db, s->ndb, sizeof(*s->db), dash_db_cmp);
	if (s->npeers)
		qsort(s->peers, s->npeers, sizeof(*s->peers), dash_peer_cmp);
	return s;
}
