// TEMPORARY: replaced by h1's parsers
#include "sockcap/wire.h"
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
struct wire_parser {
	int x;
};
static struct wire_parser *o(void)
{
	return calloc(1, sizeof(struct wire_parser));
}
static void f(struct wire_parser *p, const struct wire_chunk *c, struct wire_stats *st, wire_call_fn fn,
	      void *ctx)
{
	(void)p;
	(void)st;
	static struct wire_call call;
	static uint64_t start;
	if (c->from_client) {
		start = c->start_ns;
		memset(&call, 0, sizeof call);
		sscanf((const char *)c->data, "%15s %255s", call.method, call.path);
		call.version_minor = 1;
		return;
	}
	if (c->len > 12 && !memcmp(c->data, "HTTP/1.", 7)) {
		call.protocol = WIRE_HTTP1;
		call.status = atoi((const char *)c->data + 9);
		call.start_ns = start;
		call.end_ns = c->end_ns;
		fn(ctx, &call);
	}
}
static void cl(struct wire_parser *p, struct wire_stats *s)
{
	(void)s;
	free(p);
}
const struct wire_parser_ops http1_wire_ops = { WIRE_HTTP1, "http1", o, f, cl };
enum wire_protocol wire_detect(const uint8_t *d, size_t len)
{
	return len > 4 && (!memcmp(d, "GET ", 4) || !memcmp(d, "POST", 4)) ? WIRE_HTTP1 : WIRE_UNKNOWN;
}
const struct wire_parser_ops *wire_parser_ops_for(enum wire_protocol p)
{
	return p == WIRE_HTTP1 ? &http1_wire_ops : NULL;
}
