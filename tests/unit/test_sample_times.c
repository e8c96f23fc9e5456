// SPDX-License-Identifier: Apache-2.0
/* The CPU samples' times (profile/sample_times.c): records from the profiler's ring, kept by
 * generation and counts key, converted to the wall clock and taken in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "profile/sample_times.h"

#define OFFSET 1700000000000000000LL /* realtime - monotonic */

static void add(struct sample_times *st, uint32_t pid, uint64_t span, uint32_t gen, uint64_t mono)
{
	struct profile_sample_time ev = { .key = { .pid = pid, .tid = pid, .span_id = span },
					  .time_ns = mono,
					  .gen = gen };
	assert_int_equal(sample_times_add(st, &ev, sizeof(ev)), 0);
}

static void test_take_by_key_and_generation(void **state)
{
	(void)state;
	struct sample_times *st = sample_times_new(OFFSET);
	assert_non_null(st);
	/* Two CPUs' records interleaved: taken sorted. */
	add(st, 7, 0, 0, 300);
	add(st, 7, 0, 0, 100);
	add(st, 7, 0, 0, 200);
	add(st, 7, 9, 0, 150); /* same thread, another request: another key */
	add(st, 7, 0, 1, 400); /* the next generation */
	struct profile_key key = { .pid = 7, .tid = 7 };
	size_t n;
	uint64_t *t = sample_times_take(st, 0, &key, &n);
	assert_int_equal(n, 3);
	assert_int_equal(t[0], OFFSET + 100);
	assert_int_equal(t[1], OFFSET + 200);
	assert_int_equal(t[2], OFFSET + 300);
	free(t);
	/* Taken once. */
	assert_null(sample_times_take(st, 0, &key, &n));
	assert_int_equal(n, 0);
	key.span_id = 9;
	t = sample_times_take(st, 0, &key, &n);
	assert_int_equal(n, 1);
	assert_int_equal(t[0], OFFSET + 150);
	free(t);
	/* Clearing one generation leaves the other. */
	add(st, 8, 0, 0, 500);
	sample_times_clear(st, 0);
	key = (struct profile_key){ .pid = 8, .tid = 8 };
	assert_null(sample_times_take(st, 0, &key, &n));
	key = (struct profile_key){ .pid = 7, .tid = 7 };
	t = sample_times_take(st, 1, &key, &n);
	assert_int_equal(n, 1);
	assert_int_equal(t[0], OFFSET + 400);
	free(t);
	sample_times_free(st);
}

static void test_short_or_bad_records_ignored(void **state)
{
	(void)state;
	struct sample_times *st = sample_times_new(0);
	struct profile_sample_time ev = { .key = { .pid = 1 }, .time_ns = 5, .gen = 2 };
	assert_int_equal(sample_times_add(st, &ev, sizeof(ev)), 0); /* no generation 2 */
	ev.gen = 0;
	assert_int_equal(sample_times_add(st, &ev, sizeof(ev) - 1), 0);
	size_t n;
	assert_null(sample_times_take(st, 0, &ev.key, &n));
	sample_times_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_by_key_and_generation),
		cmocka_unit_test(test_short_or_bad_records_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
