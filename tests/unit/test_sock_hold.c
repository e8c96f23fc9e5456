// SPDX-License-Identifier: Apache-2.0
/* sockcap/sock_hold.c: calls of connections whose owner is not known yet. Claimed by
 * database/sql, they are forgotten; unclaimed, they come back after the hold time with their
 * wire call and Go context intact, in order; the bounds hold. Ground truth: the calls each test
 * holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sockcap/sock_hold.h"

struct got {
	int n;
	uint64_t conn[64];
	char op[64][WIRE_OPERATION_LEN + 1];
	uint64_t g[64];
};

static void collect(void *ctx, const struct sock_call *c, int target)
{
	struct got *k = ctx;
	assert_int_equal(target, 3);
	assert_true(k->n < 64);
	k->conn[k->n] = c->conn_id;
	snprintf(k->op[k->n], sizeof(k->op[0]), "%s", c->wire->operation);
	k->g[k->n] = c->go ? c->go->g : 0;
	k->n++;
}

static bool hold(struct sock_hold *h, uint64_t conn, const char *op, uint64_t g, uint64_t now)
{
	struct wire_call w = { .protocol = WIRE_REDIS };
	snprintf(w.operation, sizeof(w.operation), "%s", op);
	struct sockcap_go_ctx go = { .g = g, .flags = SOCKCAP_GO_SEEN };
	struct sock_call c = { .wire = &w, .conn_id = conn, .go = g ? &go : NULL };
	return sock_hold_add(h, &c, 3, now);
}

static void test_claimed_or_released_in_order(void **state)
{
	(void)state;
	struct sock_hold *h = sock_hold_new();
	assert_non_null(h);
	assert_true(hold(h, 1, "PREPARE", 0xa0, 100));
	assert_true(hold(h, 2, "GET", 0xb0, 110));
	assert_true(hold(h, 1, "BEGIN", 0xa0, 120));
	assert_true(hold(h, 2, "SET", 0, 130));
	assert_int_equal(sock_hold_count(h), 4);
	/* Connection 1 turned out to be database/sql's. */
	assert_int_equal(sock_hold_drop(h, 1), 2);
	assert_int_equal(sock_hold_drop(h, 1), 0);
	struct got k = { 0 };
	sock_hold_release(h, 120, collect, &k); /* only what was held before 120 */
	assert_int_equal(k.n, 1);
	assert_string_equal(k.op[0], "GET");
	assert_int_equal(k.g[0], 0xb0);
	sock_hold_release(h, UINT64_MAX, collect, &k);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.op[1], "SET"); /* moved inside its connection: pointers still right */
	assert_int_equal(k.g[1], 0);
	assert_int_equal(sock_hold_count(h), 0);
	sock_hold_free(h);
}

static void test_bounds(void **state)
{
	(void)state;
	struct sock_hold *h = sock_hold_new();
	for (int i = 0; i < SOCK_HOLD_PER_CONN; i++)
		assert_true(hold(h, 1, "GET", 1, (uint64_t)i));
	assert_false(hold(h, 1, "GET", 1, 99)); /* a full connection: recorded at once instead */
	for (uint64_t c = 2; c <= SOCK_HOLD_CONNS; c++)
		assert_true(hold(h, c, "GET", 1, 100));
	assert_false(hold(h, SOCK_HOLD_CONNS + 1, "GET", 1, 100));
	struct got k = { 0 };
	sock_hold_release(h, 5, collect, &k);
	assert_int_equal(k.n, 5);
	assert_int_equal(sock_hold_count(h), SOCK_HOLD_PER_CONN - 5 + SOCK_HOLD_CONNS - 1);
	sock_hold_free(h); /* frees what is still held */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claimed_or_released_in_order),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
