// SPDX-License-Identifier: Apache-2.0
#include "trace/span_json.h"

#include <inttypes.h>

#include "base/json.h"

static void hex(FILE *out, const uint8_t *b, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", b[i]);
	fputc('"', out);
}

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

void span_json_write(FILE *out, const struct resource *res, const struct span_record *s)
{
	fputs("{\"trace_id\":", out);
	hex(out, s->trace_id, sizeof(s->trace_id));
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
	first = true;
	attr_str(out, &first, "http.request.method", s->method);
	attr_int(out, &first, "http.response.status_code", s->status);
	attr_str(out, &first, "http.route", s->route);
	attr_str(out, &first, "url.path", s->url_path);
	attr_str(out, &first, "network.protocol.version", s->protocol_version);
	attr_str(out, &first, "server.address", s->server_address);
	attr_int(out, &first, "server.port", s->server_port);
	attr_str(out, &first, "db.system.name", s->db_system);
	attr_str(out, &first, "db.operation.name", s->db_operation);
	attr_str(out, &first, "db.collection.name", s->db_collection);
	attr_str(out, &first, "db.query.text", s->db_query);
	attr_str(out, &first, "error.type", s->error_type);
	fputs("}}\n", out);
}
