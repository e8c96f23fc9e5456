// SPDX-License-Identifier: Apache-2.0
/* user/sockcap/mux_read.c: a ServeMux's routing tree read with process_vm_readv — here from this
 * test's own memory, where the tree is laid out as Go 1.26 lays it out (routingNode: pattern 0,
 * handler 8, children 24 (mapping: s 24, m 48), multiChild 56, emptyChild 64; pattern.str 0), its
 * children in slices, in a Swiss-table group and in a bucket map; then the same tree broken in
 * each way a foreign or changing memory could be: every one refused, none guessed at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "gotrace.h"
#include "sockcap/mux_read.h"

struct go_str {
	uint64_t ptr, len;
};

struct node { /* routingNode */
	uint64_t pattern, handler[2];
	uint64_t s_ptr, s_len, s_cap, m;
	uint64_t multi, empty;
};

struct entry {
	struct go_str key;
	uint64_t value;
};

static struct go_http_offsets offsets(void)
{
	struct go_http_offsets o;
	memset(&o, 0xff, sizeof(o)); /* -1 everywhere */
	o.pattern_str = 0;
	o.servemux_tree = 24;
	o.node_pattern = 0;
	o.node_children = 24;
	o.node_multi = 56;
	o.node_empty = 64;
	o.mapping_s = 0;
	o.mapping_m = 24;
	o.entry_key = 0;
	o.entry_value = 16;
	return o;
}

static struct go_str str(const char *s)
{
	return (struct go_str){ (uint64_t)(uintptr_t)s, strlen(s) };
}

#define U(p) ((uint64_t)(uintptr_t)(p))

/* The tree of "/a", "/c/" (any method, any host) and "GET /b/{x}". */
struct tree {
	uint64_t mux[3 + sizeof(struct node) / 8]; /* mu, then tree at 24 */
	struct node host, any, get, a, b, bx, c, cm;
	struct go_str pa, pc, pb;
	struct entry host_kids[1], any_kids[2], get_kids[1];
};

static struct node *root(struct tree *t)
{
	return (struct node *)&t->mux[3];
}

static void build(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	t->pa = str("/a");
	t->pc = str("/c/");
	t->pb = str("GET /b/{x}");
	root(t)->empty = U(&t->host);
	t->host_kids[0] = (struct entry){ str("GET"), U(&t->get) };
	t->host.s_ptr = U(t->host_kids);
	t->host.s_len = t->host.s_cap = 1;
	t->host.empty = U(&t->any);
	t->any_kids[0] = (struct entry){ str("a"), U(&t->a) };
	t->any_kids[1] = (struct entry){ str("c"), U(&t->c) };
	t->any.s_ptr = U(t->any_kids);
	t->any.s_len = t->any.s_cap = 2;
	t->a.pattern = U(&t->pa);
	t->c.multi = U(&t->cm);
	t->cm.pattern = U(&t->pc);
	t->get_kids[0] = (struct entry){ str("b"), U(&t->b) };
	t->get.s_ptr = U(t->get_kids);
	t->get.s_len = t->get.s_cap = 1;
	t->b.empty = U(&t->bx);
	t->bx.pattern = U(&t->pb);
}

static int read_tree(struct tree *t, uint32_t layout, struct mux_routes **r)
{
	struct go_http_offsets o = offsets();
	return mux_read(getpid(), U(t->mux), &o, layout, MUX_SYNTAX_GO123, r);
}

static void check_routes(struct mux_routes *r)
{
	assert_int_equal(mux_routes_count(r), 3);
	assert_string_equal(mux_routes_match(r, "GET", "h", "/a"), "/a");
	assert_string_equal(mux_routes_match(r, "POST", "h", "/c/d/e"), "/c/");
	assert_string_equal(mux_routes_match(r, "HEAD", "h", "/b/1"), "GET /b/{x}");
	assert_null(mux_routes_match(r, "POST", "h", "/b/1"));
}

static void slices(void **state)
{
	(void)state;
	static struct tree t;
	struct mux_routes *r;
	build(&t);
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), 0);
	check_routes(r);
	mux_routes_free(r);
}

/* The any-method node's children in a Go 1.24+ small Swiss map (one group, no directory). */
static void swiss_group(void **state)
{
	(void)state;
	static struct tree t;
	static struct {
		uint64_t used, seed, dir_ptr, dir_len;
	} m;
	static struct {
		uint64_t ctrl;
		struct entry slots[8];
	} g;
	struct mux_routes *r;
	build(&t);
	memset(&g, 0, sizeof(g));
	g.ctrl = 0x8080808080808080ull;
	g.ctrl &= ~(0xffull << 16) & ~(0xffull << 40); /* slots 2 and 5 full (h2 bits: 0) */
	g.slots[2] = t.any_kids[0];
	g.slots[5] = t.any_kids[1];
	m = (typeof(m)){ .used = 2, .dir_ptr = U(&g) };
	t.any.s_len = t.any.s_cap = 0;
	t.any.m = U(&m);
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), 0);
	check_routes(r);
	mux_routes_free(r);
	m.used = 3; /* the count disagrees with the slots: changed under the walk */
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EINVAL);
	assert_null(r);
}

/* The same in a Go 1.17-1.23 map: one bucket and an overflow bucket. */
static void buckets(void **state)
{
	(void)state;
	static struct tree t;
	static struct {
		uint64_t count;
		uint8_t flags, b;
		uint16_t noverflow;
		uint32_t hash0;
		uint64_t buckets, oldbuckets;
	} h;
	static struct {
		uint8_t tophash[8];
		struct entry_kv {
			struct go_str keys[8];
			uint64_t values[8];
		} kv;
		uint64_t overflow;
	} b[2];
	struct mux_routes *r;
	build(&t);
	memset(b, 0, sizeof(b));
	b[0].tophash[3] = 9;
	b[0].kv.keys[3] = t.any_kids[0].key;
	b[0].kv.values[3] = t.any_kids[0].value;
	b[0].overflow = U(&b[1]);
	b[1].tophash[0] = 200;
	b[1].kv.keys[0] = t.any_kids[1].key;
	b[1].kv.values[0] = t.any_kids[1].value;
	b[1].tophash[1] = 2; /* evacuated: not an entry */
	h = (typeof(h)){ .count = 2, .buckets = U(&b[0]) };
	t.any.s_len = t.any.s_cap = 0;
	t.any.m = U(&h);
	assert_int_equal(read_tree(&t, GOTRACE_MAP_BUCKETS, &r), 0);
	check_routes(r);
	mux_routes_free(r);
	h.b = 40; /* absurd */
	assert_int_equal(read_tree(&t, GOTRACE_MAP_BUCKETS, &r), -E2BIG);
}

/* Memory that is not a tree of patterns: each case refused. */
static void refused(void **state)
{
	(void)state;
	static struct tree t;
	static char bad_utf8[] = "/\xff";
	static char long_pattern[2000];
	struct mux_routes *r;

	build(&t);
	t.a.empty = U(root(&t)); /* a cycle */
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EINVAL);

	build(&t);
	t.pa = str(bad_utf8);
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EINVAL);

	build(&t);
	memset(long_pattern, 'a', sizeof(long_pattern) - 1);
	long_pattern[0] = '/';
	t.pa = str(long_pattern);
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EINVAL);

	build(&t);
	t.pa = str("no slash"); /* not a pattern */
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EINVAL);

	build(&t);
	t.pc = str("/a"); /* two nodes, one pattern: not Go's tree */
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EINVAL);

	build(&t);
	t.any.s_len = 5; /* past its capacity */
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EINVAL);

	build(&t);
	t.a.pattern = 16; /* not a user-space address */
	assert_int_equal(read_tree(&t, GOTRACE_MAP_SWISS, &r), -EFAULT);

	build(&t);
	struct go_http_offsets o = offsets();
	o.entry_value = 8; /* an entry layout Go does not make */
	assert_false(mux_read_supported(&o, GOTRACE_MAP_SWISS));
	assert_int_equal(mux_read(getpid(), U(t.mux), &o, GOTRACE_MAP_SWISS, MUX_SYNTAX_GO123, &r), -ENOTSUP);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slices),
		cmocka_unit_test(swiss_group),
		cmocka_unit_test(buckets),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
