// SPDX-License-Identifier: Apache-2.0
/* base/array.h: the one growth rule of the growable arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "base/array.h"

static void test_doubles_when_full(void **state)
{
	(void)state;
	uint32_t *v = NULL;
	size_t cap = 0, n = 0;
	for (; n < 40; n++) {
		assert_int_equal(array_grow((void **)&v, &cap, n, sizeof(*v)), 0);
		v[n] = (uint32_t)n; /* the room is there (ASan would say otherwise) */
	}
	assert_int_equal(cap, 64); /* 16, 32, 64 */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], i);
	/* Room left: nothing moves. */
	uint32_t *before = v;
	assert_int_equal(array_grow((void **)&v, &cap, 41, sizeof(*v)), 0);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 64);
	free(v);
}

static void test_too_large_is_refused(void **state)
{
	(void)state;
	char *v = NULL;
	size_t cap = SIZE_MAX / 2 + 1, n = cap;
	assert_int_equal(array_grow((void **)&v, &cap, n, 1), -ENOMEM);
	assert_null(v);
	assert_int_equal(cap, SIZE_MAX / 2 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_when_full),
		cmocka_unit_test(test_too_large_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
