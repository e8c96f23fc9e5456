// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for the socket-capture protocol parsers (user/sockcap, HTTP/1, PostgreSQL
 * and Redis) and wire_detect. The first byte picks the parser; the rest is a sequence of chunks, each
 *   flags (bit 0: from the client; bit 1/2: bytes uncaptured, few/many; bit 3: +768 bytes),
 *   length, uncaptured count, then length captured bytes,
 * each copied into a buffer of exactly its size so that ASan sees any read past len.
 * Checked besides memory safety: every call has its parser's protocol, ends after it starts,
 * and every string field is NUL-terminated within its array; a Redis operation holds only
 * command-name characters (no key or value); the parser is closed (LeakSanitizer). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wire_parser_ops *const all[] = { &http1_wire_ops, &postgres_wire_ops,
							     &redis_wire_ops };
	if (size < 1)
		return 0;
	const struct wire_parser_ops *ops = all[data[0] % 3];
	if (wire_parser_ops_for(ops->protocol) != ops)
		abort();
	struct wire_parser *p = ops->open();
	if (p == NULL)
		return 0;
	struct wire_stats stats = { 0, 0, 0 };
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
		uint8_t *buf = malloc(len ? len : 1);
		if (buf == NULL)
			break;
		memcpy(buf, data + off, len);
		off += len;
		(void)wire_detect(buf, len);
		struct wire_chunk c = { (flags & 1) != 0, buf, len, total, t, t + 1 };
		t += 2;
		ops->feed(p, &c, &stats, check_call, (void *)ops);
		free(buf);
	}
	ops->close(p, &stats);
	return 0;
}
