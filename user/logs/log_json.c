// SPDX-License-Identifier: Apache-2.0
#include "logs/log_json.h"

#include <inttypes.h>
#include <time.h>

#include "base/json.h"

/* RFC 3339 in UTC with nanoseconds. */
static void timestamp(FILE *out, uint64_t unix_ns)
{
	time_t s = (time_t)(unix_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	char buf[40];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "\"%s.%09" PRIu64 "Z\"", buf, unix_ns % 1000000000u);
}

static void value(FILE *out, const struct log_attr *a)
{
	switch (a->type) {
	case LOG_VALUE_INT:
		fprintf(out, "%" PRId64, a->i);
		break;
	case LOG_VALUE_DOUBLE:
		fprintf(out, "%.17g", a->d);
		break;
	case LOG_VALUE_BOOL:
		fputs(a->b ? "true" : "false", out);
		break;
	default:
		json_str(out, a->s ? a->s : "");
	}
}

void log_json_write(FILE *out, const struct resource *res, const struct log_record *r)
{
	fputc('{', out);
	if (r->time_unix_ns) {
		fputs("\"time\":", out);
		timestamp(out, r->time_unix_ns);
		fputc(',', out);
	}
	fputs("\"observed_time\":", out);
	timestamp(out, r->observed_unix_ns);
	fprintf(out, ",\"severity_number\":%d,\"severity_text\":", r->severity_number);
	json_str(out, r->severity_text);
	fputs(",\"body\":", out);
	json_str(out, r->body);
	if (r->has_trace) {
		fputs(",\"trace_id\":", out);
		json_hex(out, r->trace_id, sizeof(r->trace_id));
		fputs(",\"span_id\":", out);
		json_hex(out, r->span_id, sizeof(r->span_id));
		fprintf(out, ",\"trace_flags\":%u", r->trace_flags);
	}
	fputs(",\"attributes\":{\"log.iostream\":", out);
	json_str(out, log_iostream(r->fd));
	for (unsigned i = 0; i < r->nattrs; i++) {
		fputc(',', out);
		json_str(out, r->attrs[i].key);
		fputc(':', out);
		value(out, &r->attrs[i]);
	}
	fputc('}', out);
	if (r->dropped_attrs)
		fprintf(out, ",\"dropped_attributes_count\":%u", r->dropped_attrs);
	if (r->truncated)
		fputs(",\"truncated\":true", out);
	fputs(",\"resource\":{\"service.name\":", out);
	json_str(out, res->service_name);
	fprintf(out, ",\"process.pid\":%d", (int)res->pid);
	fputs("}}\n", out);
}
