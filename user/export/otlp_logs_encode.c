// SPDX-License-Identifier: Apache-2.0
/* ExportLogsServiceRequest from log records (export/proto/logs.proto): one ResourceLogs per
 * process in order of first appearance, scope "glimpse", each record's trace context as its
 * trace_id, span_id and flags. */
#include "export/otlp.h"
#include "export/otlp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "logs/log_record.h"
#include "otlp/logs_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;

/* Record strings are valid UTF-8 already (logs/log_parse.c repaired them): copied whole, not cut
 * at OTLP_STR_MAX like names. */
static char *arena_copy(struct otlp_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *d = otlp_arena_alloc(a, n + 1);
	if (d)
		memcpy(d, s, n + 1);
	return d;
}

static KeyValue *attr_new(struct otlp_arena *a, const struct log_attr *at)
{
	char *key = arena_copy(a, at->key);
	if (!key)
		return NULL;
	KeyValue *kv;
	switch (at->type) {
	case LOG_VALUE_INT:
		return otlp_kv_int(a, key, at->i);
	case LOG_VALUE_DOUBLE:
		if ((kv = otlp_kv_int(a, key, 0))) {
			kv->value->value_case =
				OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
			kv->value->double_value = at->d;
		}
		return kv;
	case LOG_VALUE_BOOL:
		if ((kv = otlp_kv_int(a, key, 0))) {
			kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
			kv->value->bool_value = at->b;
		}
		return kv;
	default: {
		char *v = arena_copy(a, at->s ? at->s : "");
		return v ? otlp_kv_str(a, key, v) : NULL;
	}
	}
}

static LogRecord *record_new(struct otlp_arena *a, const struct log_record *r)
{
	LogRecord *lr = otlp_arena_alloc(a, sizeof(*lr));
	AnyValue *body = otlp_arena_alloc(a, sizeof(*body));
	KeyValue **attrs = otlp_arena_alloc(a, (r->nattrs + 2) * sizeof(*attrs));
	char *text = arena_copy(a, r->body), *sev = arena_copy(a, r->severity_text);
	if (!lr || !body || !attrs || !text || !sev)
		return NULL;
	opentelemetry__proto__logs__v1__log_record__init(lr);
	opentelemetry__proto__common__v1__any_value__init(body);
	body->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	body->string_value = text;
	lr->time_unix_nano = r->time_unix_ns;
	lr->observed_time_unix_nano = r->observed_unix_ns;
	lr->severity_number = r->severity_number;
	lr->severity_text = sev;
	lr->body = body;
	size_t n = 0;
	for (unsigned i = 0; i < r->nattrs; i++)
		if (!(attrs[n++] = attr_new(a, &r->attrs[i])))
			return NULL;
	if (!(attrs[n++] = otlp_kv_str(a, "log.iostream", log_iostream(r->fd))))
		return NULL;
	if (r->truncated) { /* the line was longer than glimpse keeps or sees */
		if (!(attrs[n++] = otlp_kv_int(a, "glimpse.log.truncated", 0)))
			return NULL;
		attrs[n - 1]->value->value_case =
			OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		attrs[n - 1]->value->bool_value = 1;
	}
	lr->attributes = attrs;
	lr->n_attributes = n;
	lr->dropped_attributes_count = r->dropped_attrs;
	if (r->has_trace) {
		uint8_t *ids = otlp_arena_alloc(a, 24);
		if (!ids)
			return NULL;
		memcpy(ids, r->trace_id, 16);
		memcpy(ids + 16, r->span_id, 8);
		lr->trace_id = (ProtobufCBinaryData){ 16, ids };
		lr->span_id = (ProtobufCBinaryData){ 8, ids + 16 };
		lr->flags = r->trace_flags;
	}
	return lr;
}

int otlp_encode_logs(const struct otlp_config *cfg, const struct resource *const *res,
		     const struct log_record *const *recs, size_t n, uint8_t **out, size_t *len)
{
	struct otlp_arena a = { 0 };
	int err = -ENOMEM;
	*out = NULL;
	*len = 0;
	uint64_t *keys = otlp_arena_alloc(&a, (n + 1) * sizeof(*keys));
	LogsRequest *req = otlp_arena_alloc(&a, sizeof(*req));
	if (!keys || !req)
		goto out;
	for (size_t i = 0; i < n; i++)
		keys[i] = (uintptr_t)res[i];
	struct otlp_groups gr;
	if (otlp_group_by_key(&a, keys, n, &gr))
		goto out;
	size_t ngroups = gr.n;
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(req);
	ResourceLogs **rl = otlp_arena_alloc(&a, (ngroups + 1) * sizeof(*rl));
	Opentelemetry__Proto__Common__V1__InstrumentationScope *scope = otlp_scope_new(&a);
	if (!rl || !scope)
		goto out;
	for (size_t g = 0; g < ngroups; g++) {
		ResourceLogs *r = otlp_arena_alloc(&a, sizeof(*r));
		ScopeLogs *sl = otlp_arena_alloc(&a, sizeof(*sl));
		ScopeLogs **slv = otlp_arena_alloc(&a, sizeof(*slv));
		LogRecord **lv = otlp_arena_alloc(&a, gr.count[g] * sizeof(*lv));
		if (!r || !sl || !slv || !lv)
			goto out;
		opentelemetry__proto__logs__v1__resource_logs__init(r);
		opentelemetry__proto__logs__v1__scope_logs__init(sl);
		if (!(r->resource = otlp_resource_new(&a, cfg, res[gr.first[g]])))
			goto out;
		sl->scope = scope;
		sl->log_records = lv;
		slv[0] = sl;
		r->scope_logs = slv;
		r->n_scope_logs = 1;
		rl[g] = r;
	}
	for (size_t i = 0; i < n; i++) {
		ScopeLogs *sl = rl[gr.group[i]]->scope_logs[0];
		if (!(sl->log_records[sl->n_log_records++] = record_new(&a, recs[i])))
			goto out;
	}
	req->resource_logs = rl;
	req->n_resource_logs = ngroups;
	*len = opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(req);
	if (!(*out = malloc(*len + 1)))
		goto out;
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(req, *out);
	err = 0;
out:
	otlp_arena_free(&a);
	if (err)
		*len = 0;
	return err;
}
