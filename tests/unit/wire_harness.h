/* SPDX-License-Identifier: Apache-2.0 */
/* What the three wire-parser tests (test_wire_*.c) share: a connection fed chunk by chunk, the
 * calls it completed, its counters. The includer defines WIRE_OPS (http1_wire_ops, ...) first;
 * every chunk starts at t and ends at t + 1, t growing by 10, so times are known exactly. */
#ifndef GLIMPSE_TESTS_WIRE_HARNESS_H
#define GLIMPSE_TESTS_WIRE_HARNESS_H

#ifndef WIRE_OPS
#error "define WIRE_OPS (the parser under test) before including wire_harness.h"
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockcap/wire.h"

#define MAX_CALLS 64

struct conn {
	struct wire_parser *p;
	struct wire_stats stats;
	struct wire_call calls[MAX_CALLS];
	size_t n;
	uint64_t t; /* each chunk starts at t and ends at t + 1; t grows by 10 */
};

static void collect(void *ctx, const struct wire_call *call)
{
	struct conn *c = ctx;
	assert_true(c->n < MAX_CALLS);
	c->calls[c->n++] = *call;
}

static void conn_open(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->p = WIRE_OPS.open();
	assert_non_null(c->p);
	c->t = 100;
}

/* One chunk of len captured bytes out of total; returns its start time. */
static uint64_t feed_n(struct conn *c, bool from_client, const char *s, size_t len, size_t total)
{
	struct wire_chunk ch = { from_client, (const uint8_t *)s, len, total, c->t, c->t + 1 };
	uint64_t start = c->t;
	c->t += 10;
	WIRE_OPS.feed(c->p, &ch, &c->stats, collect, c);
	return start;
}

static uint64_t feed(struct conn *c, bool from_client, const char *s)
{
	return feed_n(c, from_client, s, strlen(s), strlen(s));
}

static void conn_close(struct conn *c)
{
	WIRE_OPS.close(c->p, &c->stats);
	c->p = NULL;
}

static void assert_stats(const struct conn *c, uint64_t unparseable, uint64_t unanswered, uint64_t truncated)
{
	assert_int_equal(c->stats.unparseable, unparseable);
	assert_int_equal(c->stats.unanswered, unanswered);
	assert_int_equal(c->stats.truncated, truncated);
}

#endif
