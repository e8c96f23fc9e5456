// SPDX-License-Identifier: Apache-2.0
/* user/gotrace/go_map_read.c: a Go map[string]*T walked in another process's memory — here this
 * test's own, laid out as the Go runtime lays it out: a Swiss map with a directory (a table
 * spanning two directory slots, deleted slots), a bucket map that is growing (old buckets and
 * an overflow chain); then the limits, a count that disagrees with the slots, an unknown layout
 * and a visitor's error. (The small Swiss map and a bucket map with an overflow bucket are read
 * by test_mux_read.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "gotrace.h"
#include "gotrace/go_map_read.h"

#define U(p) ((uint64_t)(uintptr_t)(p))

struct seen {
	char keys[16][8];
	uint64_t values[16];
	int n, fail_at;
};

static int collect(void *ctx, struct go_str key, uint64_t value)
{
	struct seen *s = ctx;
	if (s->n == s->fail_at)
		return -ECANCELED;
	if (s->n < 16) { /* counted beyond: a cycle is walked until the chain bound */
		memcpy(s->keys[s->n], (const char *)(uintptr_t)key.ptr, key.len < 7 ? key.len : 7);
		s->values[s->n] = value;
	}
	s->n++;
	return 0;
}

static struct go_str str(const char *s)
{
	return (struct go_str){ U(s), strlen(s) };
}

struct group {
	uint64_t ctrl;
	struct {
		struct go_str key;
		uint64_t value;
	} slots[8];
};

struct table {
	uint16_t used, capacity, growth_left;
	uint8_t local_depth, pad;
	int64_t index;
	uint64_t data, length_mask;
};

static const uint64_t EMPTY_CTRL = 0x8080808080808080ull;

static void test_swiss_directory(void **state)
{
	(void)state;
	static struct group g1[2], g2[1];
	static struct table t1, t2;
	static uint64_t dir[3];
	static struct {
		uint64_t used, seed, dir_ptr;
		int64_t dir_len;
	} m;
	g1[0].ctrl = g1[1].ctrl = g2[0].ctrl = EMPTY_CTRL;
	/* t1: slot 0 of group 0 and slot 7 of group 1 full; slot 3 deleted (0xfe: high bit set) */
	g1[0].ctrl = (EMPTY_CTRL & ~0xffull) | 0x11;
	g1[0].ctrl = (g1[0].ctrl & ~(0xffull << 24)) | (0xfeull << 24);
	g1[0].slots[0].key = str("GET");
	g1[0].slots[0].value = 1;
	g1[1].ctrl = (EMPTY_CTRL & ~(0xffull << 56)) | (0x22ull << 56);
	g1[1].slots[7].key = str("POST");
	g1[1].slots[7].value = 2;
	g2[0].ctrl = (EMPTY_CTRL & ~(0xffull << 8)) | (0x33ull << 8);
	g2[0].slots[1].key = str("PUT");
	g2[0].slots[1].value = 3;
	t1 = (struct table){ .used = 2, .data = U(g1), .length_mask = 1 };
	t2 = (struct table){ .used = 1, .data = U(g2), .length_mask = 0 };
	dir[0] = dir[1] = U(&t1); /* a table of local depth 1 in a directory of depth 2 */
	dir[2] = U(&t2);
	m.used = 3;
	m.dir_ptr = U(dir);
	m.dir_len = 3;
	struct seen s = { .fail_at = -1 };
	assert_int_equal(go_map_each(getpid(), U(&m), GOTRACE_MAP_SWISS, 64, collect, &s), 0);
	assert_int_equal(s.n, 3); /* t1 once, though two slots name it */
	assert_string_equal(s.keys[0], "GET");
	assert_string_equal(s.keys[1], "POST");
	assert_string_equal(s.keys[2], "PUT");
	assert_int_equal(s.values[0] + 10 * s.values[1] + 100 * s.values[2], 321);

	s = (struct seen){ .fail_at = -1 };
	assert_int_equal(go_map_each(getpid(), U(&m), GOTRACE_MAP_SWISS, 2, collect, &s), -E2BIG);
	m.used = 4; /* more than the slots say: it changed under the walk */
	s = (struct seen){ .fail_at = -1 };
	assert_int_equal(go_map_each(getpid(), U(&m), GOTRACE_MAP_SWISS, 64, collect, &s), -EINVAL);
	m.used = 3;
	s = (struct seen){ .fail_at = 1 };
	assert_int_equal(go_map_each(getpid(), U(&m), GOTRACE_MAP_SWISS, 64, collect, &s), -ECANCELED);
	assert_int_equal(s.n, 1);
	m.dir_len = -1;
	assert_int_equal(go_map_each(getpid(), U(&m), GOTRACE_MAP_SWISS, 64, collect, &s), -E2BIG);
}

struct bucket {
	uint8_t tophash[8];
	struct go_str keys[8];
	uint64_t values[8];
	uint64_t overflow;
};

static void test_buckets_growing(void **state)
{
	(void)state;
	static struct bucket now[2], old[1], over[1];
	static struct {
		uint64_t count;
		uint8_t flags, b;
		uint16_t noverflow;
		uint32_t hash0;
		uint64_t buckets, oldbuckets;
	} h;
	memset(now, 0, sizeof(now));
	memset(old, 0, sizeof(old));
	memset(over, 0, sizeof(over));
	now[1].tophash[2] = 9;
	now[1].keys[2] = str("GET");
	now[1].values[2] = 1;
	now[1].overflow = U(over);
	over[0].tophash[0] = 200;
	over[0].keys[0] = str("HEAD");
	over[0].values[0] = 2;
	old[0].tophash[5] = 77;
	old[0].keys[5] = str("PATCH"); /* not yet evacuated */
	old[0].values[5] = 3;
	old[0].tophash[6] = 2; /* evacuated: below the smallest tophash of an entry */
	h = (typeof(h)){ .count = 3, .b = 1, .buckets = U(now), .oldbuckets = U(old) };
	struct seen s = { .fail_at = -1 };
	assert_int_equal(go_map_each(getpid(), U(&h), GOTRACE_MAP_BUCKETS, 64, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "GET");
	assert_string_equal(s.keys[1], "HEAD");
	assert_string_equal(s.keys[2], "PATCH");
	s = (struct seen){ .fail_at = -1 };
	assert_int_equal(go_map_each(getpid(), U(&h), GOTRACE_MAP_BUCKETS, 2, collect, &s), -E2BIG);
	h.count = 2;
	s = (struct seen){ .fail_at = -1 };
	assert_int_equal(go_map_each(getpid(), U(&h), GOTRACE_MAP_BUCKETS, 64, collect, &s), -EINVAL);
	over[0].overflow = U(over); /* a cycle: the chain is bounded */
	h.count = 3;
	s = (struct seen){ .fail_at = -1 };
	assert_int_equal(go_map_each(getpid(), U(&h), GOTRACE_MAP_BUCKETS, 1000, collect, &s), -E2BIG);
	assert_int_equal(go_map_each(getpid(), 16, GOTRACE_MAP_BUCKETS, 64, collect, &s), -EFAULT);
	assert_int_equal(go_map_each(getpid(), U(&h), GOTRACE_MAP_UNKNOWN, 64, collect, &s), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swiss_directory),
		cmocka_unit_test(test_buckets_growing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
