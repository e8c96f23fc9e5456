// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for the socket-capture protocol parsers (user/sockcap: HTTP/1, PostgreSQL,
 * Redis) and wire_detect. The first byte picks the parser; the rest is a sequence of chunks:
 *   flags (bit 0: from the client; bits 1, 2: some or many bytes not captured; bit 3: 768 more
 *   captured), captured length, uncaptured count, then the captured bytes,
 * each copied into a buffer of exactly its size so that ASan sees any read past len.
 * Checked besides memory safety: every call has its parser's protocol, ends after it starts,
 * and every string field is NUL-terminated within its array; a Redis operation holds only
 * command-name characters (no key or value); parsers are closed (LeakSanitizer); and where
 * chunks end does not change the calls: the same bytes fed one per chunk report the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockcap/wire.h"

static void check_str(const char *s, size_t size, const char *what)
{
	if (memchr(s, 0, size) == NULL) {
		fprintf(stderr, "%s not NUL-terminated\n", what);
		abort();
	}
}

static void check_call(void *ctx, const struct wire_call *k)
{
	const struct wire_parser_ops *ops = ctx;
	if (k->protocol != ops->protocol || k->end_ns < k->start_ns) {
		fprintf(stderr, "bad call: protocol %d, %llu..%llu\n", (int)k->protocol,
			(unsigned long long)k->start_ns, (unsigned long long)k->end_ns);
		abort();
	}
	check_str(k->method, sizeof(k->method), "method");
	check_str(k->path, sizeof(k->path), "path");
	check_str(k->traceparent, sizeof(k->traceparent), "traceparent");
	check_str(k->operation, sizeof(k->operation), "operation");
	check_str(k->query, sizeof(k->query), "query");
	check_str(k->error_type, sizeof(k->error_type), "error_type");
	if (k->protocol != WIRE_POSTGRES && k->query[0] != '\0')
		abort();
	for (const char *o = k->operation; *o != '\0'; o++) {
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-| ", *o)) {
			fprintf(stderr, "operation %s\n", k->operation);
			abort();
		}
	}
}

/* What a run reported, times aside: a hash of every call's fields, in order. */
struct run {
	const struct wire_parser_ops *ops;
	uint64_t hash;
	size_t calls;
	bool gaps; /* some chunk was not captured whole */
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 1099511628211ULL;
}

static void on_call(void *ctx, const struct wire_call *k)
{
	struct run *r = ctx;
	check_call((void *)r->ops, k);
	mix(&r->hash, k->method, strlen(k->method) + 1);
	mix(&r->hash, k->path, strlen(k->path) + 1);
	mix(&r->hash, &k->status, sizeof(k->status));
	mix(&r->hash, &k->version_minor, sizeof(k->version_minor));
	mix(&r->hash, k->traceparent, strlen(k->traceparent) + 1);
	mix(&r->hash, k->operation, strlen(k->operation) + 1);
	mix(&r->hash, k->query, strlen(k->query) + 1);
	mix(&r->hash, &k->query_truncated, sizeof(k->query_truncated));
	mix(&r->hash, &k->error, sizeof(k->error));
	mix(&r->hash, k->error_type, strlen(k->error_type) + 1);
	r->calls++;
}

static void feed_copy(struct wire_parser *p, struct run *r, struct wire_stats *stats, bool from_client,
		      const uint8_t *data, size_t len, size_t total, uint64_t *t)
{
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, len);
	(void)wire_detect(buf, len);
	struct wire_chunk c = { from_client, buf, len, total, *t, *t + 1 };
	*t += 2;
	r->ops->feed(p, &c, stats, on_call, r);
	free(buf);
}

/* Feeds the chunks the input describes; split: each captured byte as a chunk of its own. */
static void run(struct run *r, const uint8_t *data, size_t size, bool split, struct wire_stats *stats)
{
	struct wire_parser *p = r->ops->open();
	if (p == NULL)
		abort();
	uint64_t t = 1;
	size_t off = 1;
	while (off + 3 <= size) {
		uint8_t flags = data[off], extra = data[off + 2];
		size_t len = data[off + 1] + ((flags & 8) ? 768u : 0u);
		off += 3;
		if (len > size - off)
			len = size - off;
		size_t total = len;
		if (flags & 2)
			total += extra;
		if (flags & 4)
			total += (size_t)extra << 16;
		r->gaps |= total > len;
		if (!split) {
			feed_copy(p, r, stats, flags & 1, data + off, len, total, &t);
		} else {
			for (size_t i = 0; i < len; i++)
				feed_copy(p, r, stats, flags & 1, data + off + i, 1, 1, &t);
		}
		off += len;
	}
	r->ops->close(p, stats);
}

/* Where a chunk boundary falls must not change what is reported, as long as nothing was
 * refused (a refusal is judged at a chunk's start) and everything was captured. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wire_parser_ops *const all[] = { &http1_wire_ops, &postgres_wire_ops,
							     &redis_wire_ops };
	if (size < 1)
		return 0;
	const struct wire_parser_ops *ops = all[data[0] % 3];
	if (wire_parser_ops_for(ops->protocol) != ops)
		abort();
	struct run whole = { ops, 14695981039346656037ULL, 0, false }, split = whole;
	struct wire_stats ws = { 0, 0, 0 }, ss = { 0, 0, 0 };
	run(&whole, data, size, false, &ws);
	if (whole.gaps || ws.unparseable > 0)
		return 0;
	run(&split, data, size, true, &ss);
	if (ss.unparseable == 0 && (split.hash != whole.hash || split.calls != whole.calls)) {
		fprintf(stderr, "%zu calls whole, %zu split byte by byte\n", whole.calls, split.calls);
		abort();
	}
	return 0;
}
