// SPDX-License-Identifier: Apache-2.0
/* OTLP/HTTP exporter: a bounded span queue that drops its oldest entry rather than ever
 * making the event reader wait, and one thread that batches, encodes (protobuf, optionally
 * gzip), POSTs with retries, and exports the metrics registry on an interval. */
#define _GNU_SOURCE /* strptime, timegm */
#include "export/otlp.h"
#include "base/utf8.h"
#include "export/otlp_internal.h"

#include "base/log.h"
#include "otlp/metrics_service.pb-c.h"
#include "otlp/trace_service.pb-c.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#ifndef GLIMPSE_VERSION
#define GLIMPSE_VERSION "0.1.0"
#endif

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

/* ---- UTF-8: protobuf strings must be valid, and URL paths are arbitrary bytes ---- */

/* Copies src as valid UTF-8 (each bad byte becomes U+FFFD), at most max bytes and never half
 * a character. dst NULL only measures; else it needs max + 1 bytes. Returns the length. */
static size_t utf8_clean(char *dst, const char *src, size_t max)
{
	const unsigned char *p = (const unsigned char *)(src ? src : "");
	size_t o = 0;
	while (*p) {
		size_t n = utf8_decode(p, SIZE_MAX, NULL);
		const char *from = (const char *)p;
		size_t take = n;
		if (!n)
			from = "\xEF\xBF\xBD", take = 3;
		if (o + take > max)
			break;
		if (dst)
			memcpy(dst + o, from, take);
		o += take;
		p += n ? n : 1;
	}
	if (dst)
		dst[o] = '\0';
	return o;
}

/* ---- queued spans ---- */

static char *put_str(char **cursor, const char *s)
{
	char *d = *cursor;
	*cursor += utf8_clean(d, s, OTLP_STR_MAX) + 1;
	return d;
}

struct otlp_qspan *otlp_qspan_new(const struct otlp_span *s, uint32_t res)
{
	size_t need = 0;
	unsigned nattrs = s->nattrs < OTLP_SPAN_MAX_ATTRS ? s->nattrs : OTLP_SPAN_MAX_ATTRS;
	need += utf8_clean(NULL, s->name, OTLP_STR_MAX) + 1;
	need += utf8_clean(NULL, s->status_message, OTLP_STR_MAX) + 1;
	for (unsigned i = 0; i < nattrs; i++) {
		need += utf8_clean(NULL, s->attrs[i].key, OTLP_STR_MAX) + 1;
		if (s->attrs[i].type == OTLP_ATTR_STRING)
			need += utf8_clean(NULL, s->attrs[i].s, OTLP_STR_MAX) + 1;
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

/* ---- building messages: everything lives in one arena, freed after packing ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
};

static void *arena_alloc(struct arena *a, size_t n)
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

static char *arena_str(struct arena *a, const char *s)
{
	size_t n = utf8_clean(NULL, s, OTLP_STR_MAX);
	char *d = arena_alloc(a, n + 1);
	if (d)
		utf8_clean(d, s, OTLP_STR_MAX);
	return d;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

/* A KeyValue and its value in one allocation; key and string values must already be clean
 * UTF-8 that outlives packing. */
static KeyValue *kv_new(struct arena *a, const char *key)
{
	struct {
		KeyValue kv;
		AnyValue v;
	} *p = arena_alloc(a, sizeof(*p));
	if (!p)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(&p->kv);
	opentelemetry__proto__common__v1__any_value__init(&p->v);
	p->kv.key = (char *)key;
	p->kv.value = &p->v;
	return &p->kv;
}

static KeyValue *kv_str(struct arena *a, const char *key, const char *v)
{
	KeyValue *kv = kv_new(a, key);
	if (kv) {
		kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		kv->value->string_value = (char *)v;
	}
	return kv;
}

static KeyValue *kv_int(struct arena *a, const char *key, int64_t v)
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

/* The process's own attributes, then OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME (the
 * spec's precedence). res NULL is glimpse itself, which keeps its own service.name. */
static Resource *resource_new(struct arena *a, const struct otlp_config *cfg, const struct resource *res)
{
	Resource *r = arena_alloc(a, sizeof(*r));
	struct kv_list l = { .cap = 9 + OTLP_MAX_RESOURCE_ATTRS };
	if (!r || !(l.v = arena_alloc(a, l.cap * sizeof(*l.v))))
		return NULL;
	opentelemetry__proto__resource__v1__resource__init(r);
	int err = 0;
	if (res) {
		if (res->service_name[0])
			err |= kv_put(&l, kv_str(a, "service.name", arena_str(a, res->service_name)));
		err |= kv_put(&l, kv_int(a, "process.pid", res->pid));
		if (res->executable_name[0])
			err |= kv_put(
				&l, kv_str(a, "process.executable.name", arena_str(a, res->executable_name)));
		if (res->host_name[0])
			err |= kv_put(&l, kv_str(a, "host.name", arena_str(a, res->host_name)));
		if (res->container_id[0])
			err |= kv_put(&l, kv_str(a, "container.id", arena_str(a, res->container_id)));
		if (res->k8s_pod_uid[0])
			err |= kv_put(&l, kv_str(a, "k8s.pod.uid", arena_str(a, res->k8s_pod_uid)));
		if (res->k8s_pod_name[0])
			err |= kv_put(&l, kv_str(a, "k8s.pod.name", arena_str(a, res->k8s_pod_name)));
		if (res->k8s_namespace_name[0])
			err |= kv_put(&l,
				      kv_str(a, "k8s.namespace.name", arena_str(a, res->k8s_namespace_name)));
	} else {
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		err |= kv_put(&l, kv_str(a, "service.name", "glimpse"));
		err |= kv_put(&l, kv_str(a, "service.version", GLIMPSE_VERSION));
		err |= kv_put(&l, kv_int(a, "process.pid", getpid()));
		err |= kv_put(&l, kv_str(a, "process.executable.name", "glimpse"));
		if (host[0])
			err |= kv_put(&l, kv_str(a, "host.name", arena_str(a, host)));
	}
	for (size_t i = 0; i < cfg->nresource_attrs; i++) {
		const struct otlp_resource_attr *ra = &cfg->resource_attrs[i];
		if (!res && !strcmp(ra->key, "service.name"))
			continue;
		err |= kv_put(&l, kv_str(a, arena_str(a, ra->key), arena_str(a, ra->value)));
	}
	if (res && cfg->service_name[0])
		err |= kv_put(&l, kv_str(a, "service.name", arena_str(a, cfg->service_name)));
	if (err)
		return NULL;
	r->attributes = l.v;
	r->n_attributes = l.n;
	return r;
}

static Scope *scope_new(struct arena *a)
{
	Scope *s = arena_alloc(a, sizeof(*s));
	if (s) {
		opentelemetry__proto__common__v1__instrumentation_scope__init(s);
		s->name = OTLP_SCOPE_NAME;
		s->version = GLIMPSE_VERSION;
	}
	return s;
}

/* ---- traces ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static Span *span_new(struct arena *a, struct otlp_qspan *q)
{
	struct otlp_span *s = &q->s;
	Span *sp = arena_alloc(a, sizeof(*sp));
	KeyValue **attrs = arena_alloc(a, (s->nattrs + 1) * sizeof(*attrs));
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
		Status *st = arena_alloc(a, sizeof(*st));
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
	struct arena a = { 0 };
	int err = -ENOMEM;
	*out = NULL;
	*len = 0;
	/* Resources in order of first appearance, and how many spans each has. */
	uint32_t *res = arena_alloc(&a, (n + 1) * sizeof(*res));
	size_t *count = arena_alloc(&a, (n + 1) * sizeof(*count));
	size_t *group = arena_alloc(&a, (n + 1) * sizeof(*group));
	TraceRequest *req = arena_alloc(&a, sizeof(*req));
	if (!res || !count || !group || !req)
		goto out;
	size_t ngroups = 0;
	for (size_t i = 0; i < n; i++) {
		size_t g = 0;
		while (g < ngroups && res[g] != spans[i]->res)
			g++;
		if (g == ngroups)
			res[ngroups++] = spans[i]->res;
		count[g]++;
		group[i] = g;
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
	ResourceSpans **rs = arena_alloc(&a, (ngroups + 1) * sizeof(*rs));
	Scope *scope = scope_new(&a);
	if (!rs || !scope)
		goto out;
	for (size_t g = 0; g < ngroups; g++) {
		ResourceSpans *r = arena_alloc(&a, sizeof(*r));
		ScopeSpans *ss = arena_alloc(&a, sizeof(*ss));
		ScopeSpans **ssv = arena_alloc(&a, sizeof(*ssv));
		Span **sv = arena_alloc(&a, count[g] * sizeof(*sv));
		if (!r || !ss || !ssv || !sv)
			goto out;
		opentelemetry__proto__trace__v1__resource_spans__init(r);
		opentelemetry__proto__trace__v1__scope_spans__init(ss);
		if (!(r->resource = resource_new(&a, cfg, resources[res[g]])))
			goto out;
		ss->scope = scope;
		ss->spans = sv;
		ssv[0] = ss;
		r->scope_spans = ssv;
		r->n_scope_spans = 1;
		rs[g] = r;
	}
	for (size_t i = 0; i < n; i++) {
		ScopeSpans *ss = rs[group[i]]->scope_spans[0];
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
	arena_free(&a);
	if (err)
		*len = 0;
	return err;
}

/* ---- metrics ---- */

struct metrics_build {
	struct arena a;
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

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Closes the current target: its metrics into its ResourceMetrics (kept only if any). */
static void build_finish_target(struct metrics_build *b)
{
	if (!b->cur || b->err)
		goto done;
	if (!b->nmetrics)
		goto done;
	ScopeMetrics *sm = arena_alloc(&b->a, sizeof(*sm));
	ScopeMetrics **smv = arena_alloc(&b->a, sizeof(*smv));
	Metric **mv = arena_alloc(&b->a, b->nmetrics * sizeof(*mv));
	if (!sm || !smv || !mv || grow((void **)&b->rms, &b->caprms, b->nrms, sizeof(*b->rms))) {
		b->err = -ENOMEM;
		goto done;
	}
	opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
	if (!(sm->scope = scope_new(&b->a))) {
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
	ResourceMetrics *rm = arena_alloc(&b->a, sizeof(*rm));
	if (rm)
		opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
	if (!rm || !(rm->resource = resource_new(&b->a, b->cfg, res))) {
		b->err = -ENOMEM;
		return;
	}
	b->cur = rm;
	b->start_ns = start_unix_ns;
}

static KeyValue **sample_attrs(struct arena *a, const struct metric_sample *s)
{
	KeyValue **v = arena_alloc(a, (s->nattrs + 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->nattrs; i++) {
		const struct metric_attr *at = &s->attrs[i];
		const char *key = arena_str(a, at->key);
		if (!key)
			return NULL;
		if (at->type == METRIC_ATTR_INT)
			v[i] = kv_int(a, key, at->num);
		else
			v[i] = kv_str(a, key, arena_str(a, at->str));
		if (!v[i] || (at->type != METRIC_ATTR_INT && !v[i]->value->string_value))
			return NULL;
	}
	return v;
}

static void visit_metric(void *ctx, const struct metric_info *m, const struct metric_sample *samples,
			 size_t n)
{
	struct metrics_build *b = ctx;
	struct arena *a = &b->a;
	if (b->err || !b->cur)
		return;
	Metric *mt = arena_alloc(a, sizeof(*mt));
	if (!mt || grow((void **)&b->metrics, &b->capmetrics, b->nmetrics, sizeof(*b->metrics)))
		goto nomem;
	opentelemetry__proto__metrics__v1__metric__init(mt);
	if (!(mt->name = arena_str(a, m->name)) || !(mt->unit = arena_str(a, m->unit ? m->unit : "")) ||
	    !(mt->description = arena_str(a, m->description ? m->description : "")))
		goto nomem;
	if (m->type == METRIC_HISTOGRAM) {
		Histogram *h = arena_alloc(a, sizeof(*h));
		HistogramDataPoint **pts = arena_alloc(a, n * sizeof(*pts));
		if (!h || !pts)
			goto nomem;
		opentelemetry__proto__metrics__v1__histogram__init(h);
		h->aggregation_temporality = CUMULATIVE;
		for (size_t i = 0; i < n; i++) {
			const struct metric_sample *s = &samples[i];
			HistogramDataPoint *p = arena_alloc(a, sizeof(*p));
			if (!p)
				goto nomem;
			opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
			p->start_time_unix_nano = b->start_ns;
			p->time_unix_nano = b->now_ns;
			p->count = s->count;
			p->sum = s->sum;
			if (s->counts) {
				p->bucket_counts = arena_alloc(a, (s->nbounds + 1) * sizeof(uint64_t));
				p->explicit_bounds = arena_alloc(a, (s->nbounds + 1) * sizeof(double));
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
		NumberDataPoint **pts = arena_alloc(a, n * sizeof(*pts));
		if (!pts)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			NumberDataPoint *p = arena_alloc(a, sizeof(*p));
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
		if (m->type == METRIC_COUNTER) {
			Sum *s = arena_alloc(a, sizeof(*s));
			if (!s)
				goto nomem;
			opentelemetry__proto__metrics__v1__sum__init(s);
			s->aggregation_temporality = CUMULATIVE;
			s->is_monotonic = 1;
			s->data_points = pts;
			s->n_data_points = n;
			mt->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
			mt->sum = s;
		} else {
			Gauge *g = arena_alloc(a, sizeof(*g));
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
	arena_free(&b.a);
	return err;
}

/* ---- gzip, Retry-After, backoff ---- */

int otlp_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream z = { 0 };
	*out = NULL;
	*outlen = 0;
	/* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	size_t cap = deflateBound(&z, (uLong)len);
	uint8_t *buf = malloc(cap);
	int rc = Z_MEM_ERROR;
	if (buf) {
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)len;
		z.next_out = buf;
		z.avail_out = (uInt)cap;
		rc = deflate(&z, Z_FINISH);
	}
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*outlen = cap - z.avail_out;
	return 0;
}

int otlp_parse_retry_after(const char *value, time_t now, int64_t *delay_ms)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		"%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		"%a %b %e %H:%M:%S %Y",	     /* asctime: Sun Nov  6 08:49:37 1994 */
	};
	if (!value)
		return -EINVAL;
	while (isspace((unsigned char)*value))
		value++;
	if (isdigit((unsigned char)*value)) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(value, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || *end)
			return -EINVAL;
		*delay_ms = s > 86400ULL * 365 ? 86400LL * 365 * 1000 : (int64_t)s * 1000;
		return 0;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm = { 0 };
		const char *end = strptime(value, formats[i], &tm);
		if (!end)
			continue;
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			continue;
		time_t t = timegm(&tm);
		if (t == (time_t)-1)
			continue;
		*delay_ms = t > now ? (int64_t)(t - now) * 1000 : 0;
		return 0;
	}
	return -EINVAL;
}

int64_t otlp_backoff_ms(unsigned attempt, uint32_t rnd)
{
	int64_t d = OTLP_BACKOFF_BASE_MS;
	for (unsigned i = 0; i < attempt && d < OTLP_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > OTLP_BACKOFF_MAX_MS)
		d = OTLP_BACKOFF_MAX_MS;
	/* "Equal jitter": never less than half the step, so retries still back off. */
	return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

bool otlp_status_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* ---- the exporter ---- */

#define WARN_EVERY_MS 60000
#define RESPONSE_MAX  (64 * 1024)

/* Warnings are limited per kind and per signal (a kind + W_METRICS for metrics). */
enum warn_kind {
	W_NETWORK,
	W_RETRY,
	W_REJECTED,
	W_GAVE_UP,
	W_PARTIAL,
	W_DROPPED,
	W_ENCODE,
	W_METRICS
};

struct warn_state {
	int64_t last_ms;
	uint64_t suppressed;
};

struct otlp_exporter {
	struct otlp_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	pthread_t thread;
	bool running; /* thread not yet joined */

	/* under lock */
	struct otlp_queue q;
	/* Resources of queued and in-flight spans, by index. A slot is rewritten only when no
	 * span refers to it (refs 0), so the export thread reads the ones of its batch without
	 * the lock; queue + batch + 1 slots are always enough. */
	struct resource **res;
	uint32_t *refs;
	uint32_t nres, res_cap, last_res;
	bool stopping;
	struct metrics_registry *reg;
	int64_t metrics_interval_ms;

	int64_t stop_deadline_ns; /* CLOCK_MONOTONIC; atomic: read by the curl progress callback */
	int stop_rc;

	/* export thread only */
	CURL *curl;
	struct curl_slist *headers;
	struct otlp_qspan **batch;
	uint32_t rng;
	struct warn_state warns[2 * W_METRICS];
	uint64_t dropped_reported;
	bool failing[2]; /* per signal, since its last success: to say when it works again */

	/* atomics */
	uint64_t enqueued, exported, dropped, failed, requests, errors, metrics_ok, metrics_failed;
};

/* Deadlines are kept in nanoseconds: whole milliseconds would make a 2 s wait end up to 1 ms
 * early, before what Retry-After asked for. */
#define NS_PER_MS 1000000LL

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t now_ms(void)
{
	return now_ns() / NS_PER_MS;
}

static uint64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static uint32_t next_rand(struct otlp_exporter *e)
{
	uint32_t x = e->rng; /* xorshift32 */
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return e->rng = x;
}

/* The first of a kind is logged; then at most one per minute, saying how many were not. */
static void warn_limited(struct otlp_exporter *e, unsigned kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn_limited(struct otlp_exporter *e, unsigned kind, const char *fmt, ...)
{
	struct warn_state *w = &e->warns[kind];
	int64_t now = now_ms();
	if (w->last_ms && now - w->last_ms < WARN_EVERY_MS) {
		w->suppressed++;
		return;
	}
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->suppressed)
		log_warn("%s (%llu more like it in the last minute)", msg, (unsigned long long)w->suppressed);
	else
		log_warn("%s", msg);
	w->last_ms = now;
	w->suppressed = 0;
}

static void deadline_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000LL;
	ts->tv_nsec = ns % 1000000000LL;
}

/* Sleeps until until_ns; a stop cuts it short at the stop deadline. False if stopped. */
static bool sleep_until(struct otlp_exporter *e, int64_t until_ns)
{
	struct timespec ts;
	bool ok = true;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		int64_t now = now_ns(), end = until_ns;
		if (e->stopping && e->stop_deadline_ns < end)
			end = e->stop_deadline_ns;
		if (now >= end) {
			ok = now >= until_ns;
			break;
		}
		deadline_ts(end, &ts);
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return ok;
}

struct http_result {
	long status; /* 0: no response */
	CURLcode code;
	char curl_err[CURL_ERROR_SIZE];
	int64_t retry_after_ms; /* -1: none */
	uint8_t *body;
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct http_result *r = ctx;
	size_t len = size * n;
	if (r->len + len > RESPONSE_MAX)
		return len; /* only the start matters */
	uint8_t *p = realloc(r->body, r->len + len + 1);
	if (!p)
		return len;
	memcpy(p + r->len, data, len);
	r->body = p;
	r->len += len;
	r->body[r->len] = 0;
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct http_result *r = ctx;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1)) {
		char value[128];
		size_t vn = len - (sizeof(name) - 1);
		if (vn >= sizeof(value))
			vn = sizeof(value) - 1;
		memcpy(value, data + sizeof(name) - 1, vn);
		value[vn] = '\0';
		char *e = value + strlen(value);
		while (e > value && isspace((unsigned char)e[-1]))
			*--e = '\0';
		int64_t ms;
		if (!otlp_parse_retry_after(value, time(NULL), &ms))
			r->retry_after_ms = ms;
	}
	return len;
}

/* Aborts a transfer that would outlast the stop deadline. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct otlp_exporter *e = ctx;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	int64_t deadline = __atomic_load_n(&e->stop_deadline_ns, __ATOMIC_RELAXED);
	return deadline && now_ns() > deadline;
}

static void http_post(struct otlp_exporter *e, const char *url, const uint8_t *body, size_t len,
		      int64_t timeout_ms, struct http_result *r)
{
	CURL *c = e->curl;
	memset(r, 0, sizeof(*r));
	r->retry_after_ms = -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, e->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
	stat_add(&e->requests, 1);
	r->code = curl_easy_perform(c);
	if (r->code == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->code != CURLE_OK || r->status < 200 || r->status > 299)
		stat_add(&e->errors, 1);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
}

enum send_result {
	SENT,
	REJECTED,
	GAVE_UP,
	STOPPED
};

#define RETRY_MIN_MS 100

/* The start of an error response as one printable line, for a log message. */
static const char *body_text(const struct http_result *r, char *buf, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < r->len && o + 1 < len; i++) {
		unsigned char c = r->body[i];
		if (c < 0x20 || c >= 0x7f) {
			if (o && buf[o - 1] != ' ')
				buf[o++] = ' ';
		} else {
			buf[o++] = (char)c;
		}
	}
	while (o && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	return o ? buf : "no message";
}

/* POSTs body (already compressed if configured) until it is accepted, rejected, or budget_ms
 * has passed; retries network errors and 429/502/503/504 with backoff or Retry-After. On SENT
 * the response body is left in *resp (caller frees). */
static enum send_result send_with_retry(struct otlp_exporter *e, const char *url, const uint8_t *body,
					size_t len, int64_t budget_ms, const char *what,
					struct http_result *resp)
{
	int64_t start = now_ns(), give_up = start + budget_ms * NS_PER_MS;
	unsigned w = url == e->cfg.metrics_url ? W_METRICS : 0;
	for (unsigned attempt = 0;; attempt++) {
		int64_t now = now_ns(), end = give_up;
		pthread_mutex_lock(&e->lock);
		if (e->stopping && e->stop_deadline_ns < end)
			end = e->stop_deadline_ns;
		bool stopping = e->stopping;
		pthread_mutex_unlock(&e->lock);
		if (now >= end)
			return stopping && end < give_up ? STOPPED : GAVE_UP;
		int64_t left_ms = (end - now + NS_PER_MS - 1) / NS_PER_MS;
		int64_t timeout = e->cfg.timeout_ms < left_ms ? e->cfg.timeout_ms : left_ms;
		struct http_result r;
		http_post(e, url, body, len, timeout, &r);
		if (r.code == CURLE_OK && r.status >= 200 && r.status <= 299) {
			if (e->failing[!!w])
				log_info("OTLP export to %s works again", url);
			e->failing[!!w] = false;
			*resp = r;
			return SENT;
		}
		if (r.code == CURLE_ABORTED_BY_CALLBACK) { /* on_progress: the stop deadline passed */
			free(r.body);
			return STOPPED;
		}
		e->failing[!!w] = true;
		int64_t wait;
		if (r.code != CURLE_OK) {
			warn_limited(e, w + W_NETWORK, "OTLP export of %s to %s failed: %s; retrying", what,
				     url, r.curl_err[0] ? r.curl_err : curl_easy_strerror(r.code));
			wait = otlp_backoff_ms(attempt, next_rand(e));
		} else if (otlp_status_retryable(r.status)) {
			warn_limited(e, w + W_RETRY, "OTLP receiver %s answered %ld to %s; retrying%s", url,
				     r.status, what, r.retry_after_ms >= 0 ? " as its Retry-After says" : "");
			wait = r.retry_after_ms >= 0 ? r.retry_after_ms
						     : otlp_backoff_ms(attempt, next_rand(e));
			if (wait < RETRY_MIN_MS) /* "Retry-After: 0" must not make a busy loop */
				wait = RETRY_MIN_MS;
		} else {
			/* Anything else will not get better by sending it again. */
			char text[160];
			warn_limited(e, w + W_REJECTED,
				     "OTLP receiver %s rejected %s with HTTP %ld (%s); "
				     "dropped: check the endpoint, headers and the receiver's logs",
				     url, what, r.status, body_text(&r, text, sizeof(text)));
			free(r.body);
			return REJECTED;
		}
		free(r.body);
		if (now_ns() + wait * NS_PER_MS > give_up) {
			warn_limited(e, w + W_GAVE_UP,
				     "OTLP export of %s to %s gave up after %u "
				     "attempt%s in %.1f s",
				     what, url, attempt + 1, attempt ? "s" : "", (now_ns() - start) / 1e9);
			return GAVE_UP;
		}
		if (!sleep_until(e, now_ns() + wait * NS_PER_MS))
			return STOPPED;
	}
}

/* *body is raw, or its gzip when configured (raw is then freed); the caller frees *body. */
static int maybe_gzip(struct otlp_exporter *e, uint8_t *raw, size_t len, uint8_t **body, size_t *blen)
{
	if (!e->cfg.gzip) {
		*body = raw;
		*blen = len;
		return 0;
	}
	int err = otlp_gzip(raw, len, body, blen);
	free(raw);
	return err;
}

static void export_spans(struct otlp_exporter *e, size_t n)
{
	uint8_t *raw, *body;
	size_t len, blen;
	struct http_result resp;
	char what[64];
	snprintf(what, sizeof(what), "%zu spans", n);
	if (otlp_encode_traces(&e->cfg, (const struct resource *const *)e->res, e->batch, n, &raw, &len) ||
	    maybe_gzip(e, raw, len, &body, &blen)) {
		warn_limited(e, W_ENCODE, "OTLP: out of memory encoding %s; dropped", what);
		stat_add(&e->failed, n);
		goto out;
	}
	switch (send_with_retry(e, e->cfg.traces_url, body, blen, e->cfg.export_timeout_ms, what, &resp)) {
	case SENT: {
		uint64_t rejected = 0;
		TraceResponse *tr =
			resp.len
				? opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
					  NULL, resp.len, resp.body)
				: NULL;
		if (tr && tr->partial_success && tr->partial_success->rejected_spans > 0) {
			rejected = (uint64_t)tr->partial_success->rejected_spans;
			if (rejected > n)
				rejected = n;
			warn_limited(e, W_PARTIAL, "OTLP receiver rejected %llu of %zu spans: %.200s",
				     (unsigned long long)rejected, n, tr->partial_success->error_message);
		}
		if (tr)
			opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
				tr, NULL);
		free(resp.body);
		stat_add(&e->exported, n - rejected);
		stat_add(&e->failed, rejected);
		break;
	}
	case STOPPED:
		pthread_mutex_lock(&e->lock);
		e->stop_rc = -ETIMEDOUT;
		pthread_mutex_unlock(&e->lock);
		/* fall through */
	default:
		stat_add(&e->failed, n);
		break;
	}
	free(body);
out:
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < n; i++)
		e->refs[e->batch[i]->res]--;
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; i < n; i++)
		free(e->batch[i]);
}

static void export_metrics(struct otlp_exporter *e, struct metrics_registry *reg, int64_t budget_ms)
{
	uint8_t *raw, *body;
	size_t len, blen, npoints;
	struct http_result resp;
	if (otlp_encode_metrics(&e->cfg, reg, unix_ns(), &raw, &len, &npoints)) {
		warn_limited(e, W_METRICS + W_ENCODE, "OTLP: out of memory encoding metrics; skipped");
		stat_add(&e->metrics_failed, 1);
		return;
	}
	if (!npoints) { /* nothing recorded yet */
		free(raw);
		return;
	}
	if (maybe_gzip(e, raw, len, &body, &blen)) {
		warn_limited(e, W_METRICS + W_ENCODE, "OTLP: out of memory compressing metrics; skipped");
		stat_add(&e->metrics_failed, 1);
		return;
	}
	char what[64];
	snprintf(what, sizeof(what), "metrics (%zu points)", npoints);
	/* Cumulative values: a lost export is made good by the next one, so retries stop there. */
	enum send_result r = send_with_retry(e, e->cfg.metrics_url, body, blen, budget_ms, what, &resp);
	if (r == SENT) {
		free(resp.body);
		stat_add(&e->metrics_ok, 1);
	} else {
		stat_add(&e->metrics_failed, 1);
	}
	if (r == STOPPED) {
		pthread_mutex_lock(&e->lock);
		e->stop_rc = -ETIMEDOUT;
		pthread_mutex_unlock(&e->lock);
	}
	free(body);
}

static void report_drops(struct otlp_exporter *e)
{
	uint64_t d = load(&e->dropped);
	if (d != e->dropped_reported) {
		warn_limited(e, W_DROPPED,
			     "OTLP span queue full (%d spans): %llu spans dropped so far; "
			     "the receiver is slower than the traffic or unreachable",
			     e->cfg.queue_size, (unsigned long long)d);
		e->dropped_reported = d;
	}
}

static void *export_thread(void *arg)
{
	struct otlp_exporter *e = arg;
	struct timespec ts;
	/* A batch thread: when the enqueuer wakes it, it must not preempt the enqueuer (the
	 * event reader) on its CPU to encode a batch. */
	struct sched_param sp = { 0 };
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
	const int64_t delay = e->cfg.batch_delay_ms * NS_PER_MS;
	int64_t next_flush = now_ns() + delay, next_metrics = 0;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		int64_t now = now_ns();
		if (e->reg && !next_metrics)
			next_metrics = now + e->metrics_interval_ms * NS_PER_MS;
		bool past_deadline = e->stopping && now >= e->stop_deadline_ns;
		if (e->stopping && (!e->q.n || past_deadline))
			break;
		bool spans_due =
			e->q.n && (e->q.n >= (size_t)e->cfg.batch_size || now >= next_flush || e->stopping);
		bool metrics_due = e->reg && now >= next_metrics && !e->stopping;
		if (!spans_due && !metrics_due) {
			int64_t wake = next_flush;
			if (!e->q.n && now >= next_flush)
				wake = next_flush = now + delay;
			if (e->reg && next_metrics < wake)
				wake = next_metrics;
			deadline_ts(wake, &ts);
			pthread_cond_timedwait(&e->cond, &e->lock, &ts);
			continue;
		}
		struct metrics_registry *reg = e->reg;
		size_t n = spans_due ? otlp_queue_pop(&e->q, e->batch, (size_t)e->cfg.batch_size) : 0;
		pthread_mutex_unlock(&e->lock);
		if (n) {
			export_spans(e, n);
			next_flush = now_ns() + delay;
		}
		if (metrics_due) {
			int64_t budget = e->metrics_interval_ms < e->cfg.export_timeout_ms
						 ? e->metrics_interval_ms
						 : e->cfg.export_timeout_ms;
			export_metrics(e, reg, budget);
			next_metrics = now_ns() + e->metrics_interval_ms * NS_PER_MS;
		}
		report_drops(e);
		pthread_mutex_lock(&e->lock);
	}
	/* Stopping: the metrics as they are at the end, if there is time left. */
	struct metrics_registry *reg = e->reg;
	int64_t left = (e->stop_deadline_ns - now_ns()) / NS_PER_MS;
	if (e->q.n || (reg && left <= 0))
		e->stop_rc = -ETIMEDOUT;
	pthread_mutex_unlock(&e->lock);
	if (reg && left > 0)
		export_metrics(e, reg, left);
	report_drops(e);
	return NULL;
}

static bool same_resource(const struct resource *a, const struct resource *b)
{
	return a->pid == b->pid && !strcmp(a->service_name, b->service_name) &&
	       !strcmp(a->executable_name, b->executable_name) && !strcmp(a->host_name, b->host_name);
}

/* Slot of res in the resource table (under the lock), taking a reference: the same one as
 * before if it is there, else a slot no queued span uses any more (processes come and go in
 * a long-running agent), else a new one. -1 when out of memory. */
static int64_t resource_ref(struct otlp_exporter *e, const struct resource *res)
{
	uint32_t i = e->last_res, free_slot = UINT32_MAX;
	if (!(i < e->nres && same_resource(e->res[i], res))) {
		for (i = 0; i < e->nres && !same_resource(e->res[i], res); i++)
			if (!e->refs[i] && free_slot == UINT32_MAX)
				free_slot = i;
	}
	if (i == e->nres) {
		if (free_slot != UINT32_MAX) {
			i = free_slot;
		} else {
			if (e->nres == e->res_cap || !(e->res[e->nres] = malloc(sizeof(struct resource))))
				return -1;
			i = e->nres++;
		}
		*e->res[i] = *res;
	}
	e->refs[i]++;
	return e->last_res = i;
}

int otlp_enqueue_span(struct otlp_exporter *e, const struct resource *res, const struct otlp_span *s)
{
	if (!e || !res || !s)
		return -EINVAL;
	stat_add(&e->enqueued, 1);
	/* Copy before locking: the lock is only held for the queue itself. */
	struct otlp_qspan *q = otlp_qspan_new(s, 0);
	if (!q) {
		stat_add(&e->dropped, 1);
		return -ENOMEM;
	}
	int err = 0;
	bool full_batch = false;
	struct otlp_qspan *old = NULL;
	pthread_mutex_lock(&e->lock);
	int64_t idx = e->stopping ? -1 : resource_ref(e, res);
	if (e->stopping) {
		err = -ESHUTDOWN;
	} else if (idx < 0) {
		err = -ENOMEM;
	} else {
		q->res = (uint32_t)idx;
		old = otlp_queue_push(&e->q, q);
		q = NULL;
		if (old)
			e->refs[old->res]--;
		full_batch = e->q.n == (size_t)e->cfg.batch_size;
	}
	pthread_mutex_unlock(&e->lock);
	/* After unlocking, so that the woken thread does not block on the lock we hold. */
	if (full_batch)
		pthread_cond_signal(&e->cond);
	if (q || old)
		stat_add(&e->dropped, 1);
	free(q);
	free(old);
	return err;
}

int otlp_exporter_add_metrics(struct otlp_exporter *e, struct metrics_registry *reg, double interval_s)
{
	if (!e || !reg || !(interval_s > 0) || interval_s > 86400)
		return -EINVAL;
	int err = 0;
	pthread_mutex_lock(&e->lock);
	if (e->reg) {
		err = -EBUSY;
	} else {
		e->reg = reg;
		e->metrics_interval_ms = (int64_t)(interval_s * 1000 + 0.5);
		if (e->metrics_interval_ms < 1)
			e->metrics_interval_ms = 1;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	return err;
}

void otlp_exporter_stats(struct otlp_exporter *e, struct otlp_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!e)
		return;
	out->spans_enqueued = load(&e->enqueued);
	out->spans_exported = load(&e->exported);
	out->spans_dropped = load(&e->dropped);
	out->spans_failed = load(&e->failed);
	out->export_requests = load(&e->requests);
	out->export_errors = load(&e->errors);
	out->metrics_exports = load(&e->metrics_ok);
	out->metrics_failed = load(&e->metrics_failed);
	pthread_mutex_lock(&e->lock);
	out->spans_queued = e->q.n;
	pthread_mutex_unlock(&e->lock);
}

/* A metric_value_fn over one of the exporter's counters (ctx points at it). */
static double read_counter(void *ctx, int target)
{
	(void)target;
	return (double)load(ctx);
}

int otlp_exporter_register_metrics(struct otlp_exporter *e, struct metrics_registry *reg)
{
	const struct {
		const char *name, *unit, *help;
		uint64_t *counter;
	} m[] = {
		{ "glimpse.spans.dropped", "{span}",
		  "Spans never sent over OTLP: queue full (the oldest go first) or still queued at exit.",
		  &e->dropped },
		{ "glimpse.spans.exported", "{span}", "Spans the OTLP receiver accepted.", &e->exported },
		{ "glimpse.spans.failed", "{span}",
		  "Spans sent over OTLP but not accepted: rejected, or retries gave up.", &e->failed },
		{ "glimpse.otlp.export.errors", "{request}", "OTLP requests that failed (retries included).",
		  &e->errors },
		{ "glimpse.otlp.metrics.exports", "{request}", "OTLP metrics exports accepted.",
		  &e->metrics_ok },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int err = metrics_registry_add_gauge(reg, m[i].name, m[i].unit, m[i].help, true, read_counter,
						     m[i].counter, false);
		if (err)
			return err;
	}
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int setup_http(struct otlp_exporter *e, char *err, size_t errlen)
{
	char line[OTLP_HEADER_NAME_MAX + OTLP_HEADER_VALUE_MAX + 4];
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK || !(e->curl = curl_easy_init())) {
		snprintf(err, errlen, "cannot start the OTLP exporter: libcurl failed to initialise");
		return -ENOMEM;
	}
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	/* No "Expect: 100-continue" round trip before each body. */
	if (h)
		h = curl_slist_append(h, "Expect:");
	if (h && e->cfg.gzip)
		h = curl_slist_append(h, "Content-Encoding: gzip");
	for (size_t i = 0; h && i < e->cfg.nheaders; i++) {
		snprintf(line, sizeof(line), "%s: %s", e->cfg.headers[i].name, e->cfg.headers[i].value);
		struct curl_slist *n = curl_slist_append(h, line);
		if (!n)
			curl_slist_free_all(h);
		h = n;
	}
	if (!h) {
		snprintf(err, errlen, "cannot start the OTLP exporter: out of memory");
		return -ENOMEM;
	}
	e->headers = h;
	CURL *c = e->curl;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "glimpse/" GLIMPSE_VERSION);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, e);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	return 0;
}

struct otlp_exporter *otlp_exporter_start(const struct otlp_config *cfg, char *err, size_t errlen)
{
	struct otlp_exporter *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	if (!e) {
		snprintf(err, errlen, "cannot start the OTLP exporter: out of memory");
		return NULL;
	}
	e->cfg = *cfg;
	if (e->cfg.queue_size < 1)
		e->cfg.queue_size = 1;
	if (e->cfg.batch_size < 1 || e->cfg.batch_size > e->cfg.queue_size)
		e->cfg.batch_size = e->cfg.queue_size;
	if (e->cfg.batch_delay_ms < 1)
		e->cfg.batch_delay_ms = 1;
	if (e->cfg.timeout_ms < 1)
		e->cfg.timeout_ms = 10000;
	if (e->cfg.export_timeout_ms < 1)
		e->cfg.export_timeout_ms = 30000;
	e->rng = (uint32_t)(unix_ns() ^ ((uint64_t)getpid() << 16)) | 1;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	e->res_cap = (uint32_t)e->cfg.queue_size + (uint32_t)e->cfg.batch_size + 1;
	e->res = calloc(e->res_cap, sizeof(*e->res));
	e->refs = calloc(e->res_cap, sizeof(*e->refs));
	e->batch = calloc((size_t)e->cfg.batch_size, sizeof(*e->batch));
	if (!e->res || !e->refs || !e->batch || otlp_queue_init(&e->q, (size_t)e->cfg.queue_size)) {
		snprintf(err, errlen, "cannot start the OTLP exporter: out of memory");
		goto fail;
	}
	if (setup_http(e, err, errlen))
		goto fail;
	int rc = pthread_create(&e->thread, NULL, export_thread, e);
	if (rc) {
		snprintf(err, errlen, "cannot start the OTLP exporter thread: %s", strerror(rc));
		goto fail;
	}
	e->running = true;
	return e;
fail:
	otlp_exporter_free(e);
	return NULL;
}

const volatile size_t *otlp_exporter_queued(const struct otlp_exporter *e)
{
	return &e->q.n;
}

int otlp_exporter_stop(struct otlp_exporter *e, int timeout_ms)
{
	if (!e)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (!e->stopping) {
		e->stopping = true;
		__atomic_store_n(&e->stop_deadline_ns,
				 now_ns() + (timeout_ms > 0 ? timeout_ms : 0) * NS_PER_MS, __ATOMIC_RELAXED);
	}
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (e->running) {
		pthread_join(e->thread, NULL);
		e->running = false;
	}
	/* What the deadline left in the queue never leaves. */
	struct otlp_qspan *s;
	pthread_mutex_lock(&e->lock);
	while (otlp_queue_pop(&e->q, &s, 1)) {
		e->refs[s->res]--;
		free(s);
		stat_add(&e->dropped, 1);
	}
	int rc = e->stop_rc;
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void otlp_exporter_free(struct otlp_exporter *e)
{
	if (!e)
		return;
	otlp_exporter_stop(e, 0);
	otlp_queue_free(&e->q);
	if (e->res)
		for (uint32_t i = 0; i < e->nres; i++)
			free(e->res[i]);
	free(e->res);
	free(e->refs);
	free(e->batch);
	curl_slist_free_all(e->headers);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
