// SPDX-License-Identifier: Apache-2.0
#include "trace/span_json.h"

#include <inttypes.h>

#include "base/json.h"

struct json_attrs {
	FILE *out;
	bool first;
};

static void attr_str(FILE *out, bool *first, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	fprintf(out, "%s\"%s\":", *first ? "" : ",", key);
	json_str(out, value);
	*first = false;
}

static void attr_int(FILE *out, bool *first, const char *key, long long value)
{
	if (!value)
		return;
	fprintf(out, "%s\"%s\":%lld", *first ? "" : ",", key, value);
	*first = false;
}

static void visit_str(void *ctx, const char *key, const char *value)
{
	struct json_attrs *a = ctx;
	attr_str(a->out, &a->first, key, value);
}

static void visit_num(void *ctx, const char *key, int64_t value)
{
	struct json_attrs *a = ctx;
	attr_int(a->out, &a->first, key, value);
}

void span_json_write(FILE *out, const struct resource *res, const struct span_record *s)
{
	fputs("{\"trace_id\":", out);
	json_hex(out, s->trace_id, sizeof(s->trace_id));
	fprintf(out, ",\"span_id\":\"%016" PRIx64 "\"", s->span_id);
	if (s->parent_span_id)
		fprintf(out, ",\"parent_span_id\":\"%016" PRIx64 "\"", s->parent_span_id);
	fputs(",\"name\":", out);
	json_str(out, s->name);
	fprintf(out,
		",\"kind\":\"%s\",\"start_unix_ns\":%" PRIu64 ",\"end_unix_ns\":%" PRIu64
		",\"status\":\"%s\",\"resource\":{",
		s->kind == SPAN_SERVER ? "server" : "client", s->start_unix_ns, s->end_unix_ns,
		s->error ? "error" : "unset");
	bool first = true;
	attr_str(out, &first, "service.name", res->service_name);
	attr_int(out, &first, "process.pid", res->pid);
	attr_str(out, &first, "process.executable.name", res->executable_name);
	attr_str(out, &first, "host.name", res->host_name);
	fputs("},\"attributes\":{", out);
	static const struct span_attribute_visitor json = { visit_str, visit_num };
	struct json_attrs attrs = { out, true };
	span_visit_attributes(s, &json, &attrs);
	fputs("}}\n", out);
}
