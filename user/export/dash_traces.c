// SPDX-License-Identifier: Apache-2.0
#include "export/dash_traces.h"

#include "base/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TRACES_OFF_NOTE                                                                             \
	"traces are off: give glimpse somewhere to send spans (glimpse attach --spans-out FILE or " \
	"--otlp-endpoint URL; the agent: otlp.endpoint) to see the newest and slowest traces here"

static void put_id64(FILE *f, uint64_t id)
{
	if (id)
		fprintf(f, "\"%016" PRIx64 "\"", id);
	else
		fputs("\"\"", f);
}

static void put_summary(FILE *f, const struct trace_summary *s)
{
	fputs("{\"trace_id\":", f);
	json_hex(f, s->trace_id, sizeof(s->trace_id));
	fprintf(f, ",\"target\":%d,\"name\":", s->target);
	json_str(f, s->name);
	fprintf(f,
		",\"start_unix_ms\":%" PRIu64 ",\"duration_s\":%.9f,\"spans\":%zu,\"spans_left_out\":%zu,"
		"\"error\":%s}",
		s->start_unix_ns / 1000000, (double)(s->end_unix_ns - s->start_unix_ns) / 1e9, s->nspans,
		s->spans_left_out, s->error ? "true" : "false");
}

static void put_list(FILE *f, struct trace_recent *recent, enum trace_recent_order order)
{
	struct trace_summary sums[DASH_TRACES_LISTED];
	size_t n = trace_recent_list(recent, order, sums, DASH_TRACES_LISTED);
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", f);
		put_summary(f, &sums[i]);
	}
	fputc(']', f);
}

void dash_traces_write_lists(FILE *f, struct trace_recent *recent)
{
	if (!recent) {
		fputs(",\"traces\":{\"shown\":false,\"note\":", f);
		json_str(f, TRACES_OFF_NOTE);
		fputc('}', f);
		return;
	}
	fputs(",\"traces\":{\"shown\":true,\"newest\":", f);
	put_list(f, recent, TRACE_NEWEST);
	fputs(",\"slowest\":", f);
	put_list(f, recent, TRACE_SLOWEST);
	fputc('}', f);
}

struct attrs {
	FILE *f;
	bool first;
};

static void attr_str(void *ctx, const char *key, const char *value)
{
	struct attrs *a = ctx;
	if (!value || !*value || !strcmp(key, "url.path") || !strcmp(key, "db.query.text"))
		return;
	fputs(a->first ? "[" : ",[", a->f);
	json_str(a->f, key);
	fputc(',', a->f);
	json_str(a->f, value);
	fputc(']', a->f);
	a->first = false;
}

static void attr_num(void *ctx, const char *key, int64_t value)
{
	struct attrs *a = ctx;
	if (!value)
		return;
	fputs(a->first ? "[" : ",[", a->f);
	json_str(a->f, key);
	fprintf(a->f, ",%" PRId64 "]", value);
	a->first = false;
}

static int parse_hex_id(const char *hex, uint8_t id[16])
{
	if (!hex || strlen(hex) != 32)
		return -EINVAL;
	for (size_t i = 0; i < 16; i++) {
		unsigned v = 0;
		for (size_t j = 0; j < 2; j++) {
			char c = hex[2 * i + j];
			unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
				     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
				     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
							    : 16;
			if (d > 15)
				return -EINVAL;
			v = v * 16 + d;
		}
		id[i] = (uint8_t)v;
	}
	return 0;
}

int dash_traces_render_trace(struct trace_recent *recent, const char *hex_id, char **out, size_t *len)
{
	uint8_t id[16];
	if (parse_hex_id(hex_id, id))
		return -EINVAL;
	if (!recent)
		return -ENOENT;
	struct trace_summary sum;
	struct span_record *spans;
	size_t n;
	int rc = trace_recent_get(recent, id, &sum, &spans, &n);
	if (rc)
		return rc;
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (!f) {
		free(spans);
		return -ENOMEM;
	}
	fputs("{\"trace\":", f);
	put_summary(f, &sum);
	fputs(",\"spans\":[", f);
	static const struct span_attribute_visitor v = { attr_str, attr_num };
	for (size_t i = 0; i < n; i++) {
		const struct span_record *s = &spans[i];
		fputs(i ? ",{\"span_id\":" : "{\"span_id\":", f);
		put_id64(f, s->span_id);
		fputs(",\"parent_span_id\":", f);
		put_id64(f, s->parent_span_id);
		fprintf(f, ",\"remote_parent\":%s,\"kind\":\"%s\",\"target\":%d,\"name\":",
			s->remote_parent ? "true" : "false", s->kind == SPAN_SERVER ? "server" : "client",
			s->target);
		json_str(f, s->name);
		fprintf(f, ",\"start_us\":%.3f,\"duration_us\":%.3f,\"error\":%s,\"attributes\":[",
			(double)(s->start_unix_ns - sum.start_unix_ns) / 1e3,
			(double)(s->end_unix_ns - s->start_unix_ns) / 1e3, s->error ? "true" : "false");
		struct attrs a = { f, true };
		span_visit_attributes(s, &v, &a);
		fputs("]}", f);
	}
	fputs("]}", f);
	free(spans);
	if (ferror(f) | fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = sz;
	return 0;
}
