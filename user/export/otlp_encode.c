// SPDX-License-Identifier: Apache-2.0
/* OTLP protobuf messages from queued spans and from the metrics registry's visit: every
 * message lives in one arena, freed after packing. */
#include "export/otlp.h"
#include "export/otlp_internal.h"

#include "base/array.h"
#include "base/utf8.h"
#include "otlp/metrics_service.pb-c.h"
#include "otlp/trace_service.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse TraceResponse;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Metrics__V1__Sum Sum;
typedef Opentelemetry__Proto__Metrics__V1__Histogram Histogram;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse MetricsResponse;

#define CUMULATIVE \
	OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *otlp_arena_alloc(struct otlp_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct arena_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 64 * 1024 ? n : 64 * 1024;
		if (!(c = malloc(sizeof(*c) + cap)))
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return memset(p, 0, n);
}

char *otlp_arena_str(struct otlp_arena *a, const char *s)
{
	size_t n = utf8_repair(NULL, s, OTLP_STR_MAX);
	char *d = otlp_arena_alloc(a, n + 1);
	if (d)
		utf8_repair(d, s, OTLP_STR_MAX);
	return d;
}

void otlp_arena_free(struct otlp_arena *a)
{
	while (a->head) {
		struct arena_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

/* A KeyValue and its value in one allocation; key and string values must already be clean
 * UTF-8 that outlives packing. */
static KeyValue *kv_new(struct otlp_arena *a, const char *key)
{
	struct {
		KeyValue kv;
		AnyValue v;
	} *p = otlp_arena_alloc(a, sizeof(*p));
	if (!p)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(&p->kv);
	opentelemetry__proto__common__v1__any_value__init(&p->v);
	p->kv.key = (char *)key;
	p->kv.value = &p->v;
	return &p->kv;
}

KeyValue *otlp_kv_str(struct otlp_arena *a, const char *key, const char *v)
{
	KeyValue *kv = kv_new(a, key);
	if (kv) {
		kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		kv->value->string_value = (char *)v;
	}
	return kv;
}

KeyValue *otlp_kv_int(struct otlp_arena *a, const char *key, int64_t v)
{
	KeyValue *kv = kv_new(a, key);
	if (kv) {
		kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		kv->value->int_value = v;
	}
	return kv;
}

/* A list of attributes where a later key replaces an earlier one. */
struct kv_list {
	KeyValue **v;
	size_t n, cap;
};

static int kv_put(struct kv_list *l, KeyValue *kv)
{
	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i]->key, kv->key)) {
			l->v[i] = kv;
			return 0;
		}
	if (l->n == l->cap)
		return -ENOMEM;
	l->v[l->n++] = kv;
	return 0;
}

int otlp_group_by_key(struct otlp_arena *a, const uint64_t *keys, size_t n, struct otlp_groups *out)
{
	out->n = 0;
	out->group = otlp_arena_alloc(a, (n + 1) * sizeof(*out->group));
	out->first = otlp_arena_alloc(a, (n + 1) * sizeof(*out->first));
	out->count = otlp_arena_alloc(a, (n + 1) * sizeof(*out->count));
	if (!out->group || !out->first || !out->count)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t g = 0;
		while (g < out->n && keys[out->first[g]] != keys[i])
			g++;
		if (g == out->n)
			out->first[out->n++] = i;
		out->count[g]++;
		out->group[i] = g;
	}
	return 0;
}

/* The process's own attributes, then OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME (the
 * spec's precedence). res NULL is glimpse itself, which keeps its own service.name. */
Resource *otlp_resource_new(struct otlp_arena *a, const struct otlp_config *cfg, const struct resource *res)
{
	Resource *r = otlp_arena_alloc(a, sizeof(*r));
	struct kv_list l = { .cap = 9 + OTLP_MAX_RESOURCE_ATTRS };
	if (!r || !(l.v = otlp_arena_alloc(a, l.cap * sizeof(*l.v))))
		return NULL;
	opentelemetry__proto__resource__v1__resource__init(r);
	int err = 0;
	if (res) {
		if (res->service_name[0])
			err |= kv_put(&l,
				      otlp_kv_str(a, "service.name", otlp_arena_str(a, res->service_name)));
		err |= kv_put(&l, otlp_kv_int(a, "process.pid", res->pid));
		if (res->executable_name[0])
			err |= kv_put(&l, otlp_kv_str(a, "process.executable.name",
						      otlp_arena_str(a, res->executable_name)));
		if (res->host_name[0])
			err |= kv_put(&l, otlp_kv_str(a, "host.name", otlp_arena_str(a, res->host_name)));
		if (res->container_id[0])
			err |= kv_put(&l,
				      otlp_kv_str(a, "container.id", otlp_arena_str(a, res->container_id)));
		if (res->k8s_pod_uid[0])
			err |= kv_put(&l, otlp_kv_str(a, "k8s.pod.uid", otlp_arena_str(a, res->k8s_pod_uid)));
		if (res->k8s_pod_name[0])
			err |= kv_put(&l,
				      otlp_kv_str(a, "k8s.pod.name", otlp_arena_str(a, res->k8s_pod_name)));
		if (res->k8s_namespace_name[0])
			err |= kv_put(&l, otlp_kv_str(a, "k8s.namespace.name",
						      otlp_arena_str(a, res->k8s_namespace_name)));
	} else {
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		err |= kv_put(&l, otlp_kv_str(a, "service.name", "glimpse"));
		err |= kv_put(&l, otlp_kv_str(a, "service.version", GLIMPSE_VERSION));
		err |= kv_put(&l, otlp_kv_int(a, "process.pid", getpid()));
		err |= kv_put(&l, otlp_kv_str(a, "process.executable.name", "glimpse"));
		if (host[0])
			err |= kv_put(&l, otlp_kv_str(a, "host.name", otlp_arena_str(a, host)));
	}
	for (size_t i = 0; i < cfg->nresource_attrs; i++) {
		const struct otlp_resource_attr *ra = &cfg->resource_attrs[i];
		if (!res && !strcmp(ra->key, "service.name"))
			continue;
		err |= kv_put(&l, otlp_kv_str(a, otlp_arena_str(a, ra->key), otlp_arena_str(a, ra->value)));
	}
	if (res && cfg->service_name[0])
		err |= kv_put(&l, otlp_kv_str(a, "service.name", otlp_arena_str(a, cfg->service_name)));
	if (err)
		return NULL;
	r->attributes = l.v;
	r->n_attributes = l.n;
	return r;
}

Scope *otlp_scope_new(struct otlp_arena *a)
{
	Scope *s = otlp_arena_alloc(a, sizeof(*s));
	if (s) {
		opentelemetry__proto__common__v1__instrumentation_scope__init(s);
		s->name = OTLP_SCOPE_NAME;
		s->version = GLIMPSE_VERSION;
	}
	return s;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static Span *span_new(struct otlp_arena *a, struct otlp_qspan *q)
{
	struct otlp_span *s = &q->s;
	Span *sp = otlp_arena_alloc(a, sizeof(*sp));
	KeyValue **attrs = otlp_arena_alloc(a, (s->nattrs + 1) * sizeof(*attrs));
	if (!sp || !attrs)
		return NULL;
	opentelemetry__proto__trace__v1__span__init(sp);
	sp->trace_id = (ProtobufCBinaryData){ sizeof(s->trace_id), s->trace_id };
	sp->span_id = (ProtobufCBinaryData){ sizeof(s->span_id), s->span_id };
	if (!all_zero(s->parent_span_id, sizeof(s->parent_span_id)))
		sp->parent_span_id = (ProtobufCBinaryData){ sizeof(s->parent_span_id), s->parent_span_id };
	sp->name = (char *)s->name;
	sp->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
	sp->start_time_unix_nano = s->start_unix_ns;
	sp->end_time_unix_nano = s->end_unix_ns;
	for (unsigned i = 0; i < s->nattrs; i++) {
		const struct otlp_attr *at = &s->attrs[i];
		KeyValue *kv = kv_new(a, at->key);
		if (!kv)
			return NULL;
		AnyValue *v = kv->value;
		switch (at->type) {
		case OTLP_ATTR_STRING:
			v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
			v->string_value = (char *)at->s;
			break;
		case OTLP_ATTR_INT:
			v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
			v->int_value = at->i;
			break;
		case OTLP_ATTR_DOUBLE:
			v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
			v->double_value = at->d;
			break;
		case OTLP_ATTR_BOOL:
			v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
			v->bool_value = at->b;
			break;
		}
		attrs[sp->n_attributes++] = kv;
	}
	sp->attributes = attrs;
	if (s->status != OTLP_STATUS_UNSET) {
		Status *st = otlp_arena_alloc(a, sizeof(*st));
		if (!st)
			return NULL;
		opentelemetry__proto__trace__v1__status__init(st);
		st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)s->status;
		/* The spec keeps a description for errors only. */
		if (s->status == OTLP_STATUS_ERROR)
			st->message = (char *)s->status_message;
		sp->status = st;
	}
	return sp;
}

int otlp_encode_traces(const struct otlp_config *cfg, const struct resource *const *resources,
		       struct otlp_qspan *const *spans, size_t n, uint8_t **out, size_t *len)
{
	struct otlp_arena a = { 0 };
	int err = -ENOMEM;
	*out = NULL;
	*len = 0;
	uint64_t *keys = otlp_arena_alloc(&a, (n + 1) * sizeof(*keys));
	TraceRequest *req = otlp_arena_alloc(&a, sizeof(*req));
	if (!keys || !req)
		goto out;
	for (size_t i = 0; i < n; i++)
		keys[i] = spans[i]->res;
	struct otlp_groups gr;
	if (otlp_group_by_key(&a, keys, n, &gr))
		goto out;
	size_t ngroups = gr.n;
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
	ResourceSpans **rs = otlp_arena_alloc(&a, (ngroups + 1) * sizeof(*rs));
	Scope *scope = otlp_scope_new(&a);
	if (!rs || !scope)
		goto out;
	for (size_t g = 0; g < ngroups; g++) {
		ResourceSpans *r = otlp_arena_alloc(&a, sizeof(*r));
		ScopeSpans *ss = otlp_arena_alloc(&a, sizeof(*ss));
		ScopeSpans **ssv = otlp_arena_alloc(&a, sizeof(*ssv));
		Span **sv = otlp_arena_alloc(&a, gr.count[g] * sizeof(*sv));
		if (!r || !ss || !ssv || !sv)
			goto out;
		opentelemetry__proto__trace__v1__resource_spans__init(r);
		opentelemetry__proto__trace__v1__scope_spans__init(ss);
		if (!(r->resource = otlp_resource_new(&a, cfg, resources[spans[gr.first[g]]->res])))
			goto out;
		ss->scope = scope;
		ss->spans = sv;
		ssv[0] = ss;
		r->scope_spans = ssv;
		r->n_scope_spans = 1;
		rs[g] = r;
	}
	for (size_t i = 0; i < n; i++) {
		ScopeSpans *ss = rs[gr.group[i]]->scope_spans[0];
		if (!(ss->spans[ss->n_spans++] = span_new(&a, spans[i])))
			goto out;
	}
	req->resource_spans = rs;
	req->n_resource_spans = ngroups;
	*len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(req);
	if (!(*out = malloc(*len + 1)))
		goto out;
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, *out);
	err = 0;
out:
	otlp_arena_free(&a);
	if (err)
		*len = 0;
	return err;
}

struct metrics_build {
	struct otlp_arena a;
	const struct otlp_config *cfg;
	uint64_t now_ns, start_ns;
	ResourceMetrics **rms; /* malloc'd, grows */
	size_t nrms, caprms;
	Metric **metrics; /* of the current target, malloc'd, grows */
	size_t nmetrics, capmetrics;
	ResourceMetrics *cur;
	size_t npoints;
	int err;
};

/* Closes the current target: its metrics into its ResourceMetrics (kept only if any). */
static void build_finish_target(struct metrics_build *b)
{
	if (!b->cur || b->err)
		goto done;
	if (!b->nmetrics)
		goto done;
	ScopeMetrics *sm = otlp_arena_alloc(&b->a, sizeof(*sm));
	ScopeMetrics **smv = otlp_arena_alloc(&b->a, sizeof(*smv));
	Metric **mv = otlp_arena_alloc(&b->a, b->nmetrics * sizeof(*mv));
	if (!sm || !smv || !mv || array_grow((void **)&b->rms, &b->caprms, b->nrms, sizeof(*b->rms))) {
		b->err = -ENOMEM;
		goto done;
	}
	opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
	if (!(sm->scope = otlp_scope_new(&b->a))) {
		b->err = -ENOMEM;
		goto done;
	}
	memcpy(mv, b->metrics, b->nmetrics * sizeof(*mv));
	sm->metrics = mv;
	sm->n_metrics = b->nmetrics;
	smv[0] = sm;
	b->cur->scope_metrics = smv;
	b->cur->n_scope_metrics = 1;
	b->rms[b->nrms++] = b->cur;
done:
	b->cur = NULL;
	b->nmetrics = 0;
}

static void visit_target(void *ctx, int target, const struct resource *res, uint64_t start_unix_ns)
{
	struct metrics_build *b = ctx;
	(void)target;
	build_finish_target(b);
	if (b->err)
		return;
	ResourceMetrics *rm = otlp_arena_alloc(&b->a, sizeof(*rm));
	if (rm)
		opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
	if (!rm || !(rm->resource = otlp_resource_new(&b->a, b->cfg, res))) {
		b->err = -ENOMEM;
		return;
	}
	b->cur = rm;
	b->start_ns = start_unix_ns;
}

static KeyValue **sample_attrs(struct otlp_arena *a, const struct metric_sample *s)
{
	KeyValue **v = otlp_arena_alloc(a, (s->nattrs + 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->nattrs; i++) {
		const struct metric_attr *at = &s->attrs[i];
		const char *key = otlp_arena_str(a, at->key);
		if (!key)
			return NULL;
		if (at->type == METRIC_ATTR_INT)
			v[i] = otlp_kv_int(a, key, at->num);
		else
			v[i] = otlp_kv_str(a, key, otlp_arena_str(a, at->str));
		if (!v[i] || (at->type != METRIC_ATTR_INT && !v[i]->value->string_value))
			return NULL;
	}
	return v;
}

static void visit_metric(void *ctx, const struct metric_info *m, const struct metric_sample *samples,
			 size_t n)
{
	struct metrics_build *b = ctx;
	struct otlp_arena *a = &b->a;
	if (b->err || !b->cur)
		return;
	Metric *mt = otlp_arena_alloc(a, sizeof(*mt));
	if (!mt || array_grow((void **)&b->metrics, &b->capmetrics, b->nmetrics, sizeof(*b->metrics)))
		goto nomem;
	opentelemetry__proto__metrics__v1__metric__init(mt);
	if (!(mt->name = otlp_arena_str(a, m->name)) ||
	    !(mt->unit = otlp_arena_str(a, m->unit ? m->unit : "")) ||
	    !(mt->description = otlp_arena_str(a, m->description ? m->description : "")))
		goto nomem;
	if (m->type == METRIC_HISTOGRAM) {
		Histogram *h = otlp_arena_alloc(a, sizeof(*h));
		HistogramDataPoint **pts = otlp_arena_alloc(a, n * sizeof(*pts));
		if (!h || !pts)
			goto nomem;
		opentelemetry__proto__metrics__v1__histogram__init(h);
		h->aggregation_temporality = CUMULATIVE;
		for (size_t i = 0; i < n; i++) {
			const struct metric_sample *s = &samples[i];
			HistogramDataPoint *p = otlp_arena_alloc(a, sizeof(*p));
			if (!p)
				goto nomem;
			opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
			p->start_time_unix_nano = b->start_ns;
			p->time_unix_nano = b->now_ns;
			p->count = s->count;
			p->sum = s->sum;
			if (s->counts) {
				p->bucket_counts = otlp_arena_alloc(a, (s->nbounds + 1) * sizeof(uint64_t));
				p->explicit_bounds = otlp_arena_alloc(a, (s->nbounds + 1) * sizeof(double));
				if (!p->bucket_counts || !p->explicit_bounds)
					goto nomem;
				memcpy(p->bucket_counts, s->counts, (s->nbounds + 1) * sizeof(uint64_t));
				if (s->nbounds)
					memcpy(p->explicit_bounds, s->bounds, s->nbounds * sizeof(double));
				p->n_bucket_counts = s->nbounds + 1;
				p->n_explicit_bounds = s->nbounds;
			}
			if (!(p->attributes = sample_attrs(a, s)))
				goto nomem;
			p->n_attributes = s->nattrs;
			pts[i] = p;
		}
		h->data_points = pts;
		h->n_data_points = n;
		mt->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		mt->histogram = h;
	} else {
		NumberDataPoint **pts = otlp_arena_alloc(a, n * sizeof(*pts));
		if (!pts)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			NumberDataPoint *p = otlp_arena_alloc(a, sizeof(*p));
			if (!p)
				goto nomem;
			opentelemetry__proto__metrics__v1__number_data_point__init(p);
			p->start_time_unix_nano = b->start_ns;
			p->time_unix_nano = b->now_ns;
			p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
			p->as_double = samples[i].value;
			if (!(p->attributes = sample_attrs(a, &samples[i])))
				goto nomem;
			p->n_attributes = samples[i].nattrs;
			pts[i] = p;
		}
		if (m->type == METRIC_COUNTER || m->type == METRIC_UPDOWN) {
			Sum *s = otlp_arena_alloc(a, sizeof(*s));
			if (!s)
				goto nomem;
			opentelemetry__proto__metrics__v1__sum__init(s);
			s->aggregation_temporality = CUMULATIVE;
			s->is_monotonic = m->type == METRIC_COUNTER;
			s->data_points = pts;
			s->n_data_points = n;
			mt->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
			mt->sum = s;
		} else {
			Gauge *g = otlp_arena_alloc(a, sizeof(*g));
			if (!g)
				goto nomem;
			opentelemetry__proto__metrics__v1__gauge__init(g);
			g->data_points = pts;
			g->n_data_points = n;
			mt->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
			mt->gauge = g;
		}
	}
	b->metrics[b->nmetrics++] = mt;
	b->npoints += n;
	return;
nomem:
	b->err = -ENOMEM;
}

int otlp_encode_metrics(const struct otlp_config *cfg, struct metrics_registry *reg, uint64_t now_ns,
			uint8_t **out, size_t *len, size_t *npoints)
{
	static const struct metrics_visitor visitor = { .target = visit_target, .metric = visit_metric };
	struct metrics_build b = { .cfg = cfg, .now_ns = now_ns };
	MetricsRequest req =
		OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	*out = NULL;
	*len = 0;
	*npoints = 0;
	int err = metrics_registry_visit(reg, &visitor, &b);
	build_finish_target(&b);
	if (!err)
		err = b.err;
	if (!err) {
		req.resource_metrics = b.rms;
		req.n_resource_metrics = b.nrms;
		*len = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(
			&req);
		if ((*out = malloc(*len + 1)))
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(
				&req, *out);
		else
			err = -ENOMEM;
	}
	*npoints = err ? 0 : b.npoints;
	if (err)
		*len = 0;
	free(b.rms);
	free(b.metrics);
	otlp_arena_free(&b.a);
	return err;
}
