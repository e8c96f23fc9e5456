// SPDX-License-Identifier: Apache-2.0
/* user/profile/leaf_frames.c: when the frame-pointer walk skipped a caller, it is put back from
 * the word at SP + the leaf's SP delta; otherwise the stack is left alone. Ground truth: the
 * stacks and SP deltas written here (0x1xxx: the leaf, 0x2xxx its caller, 0x3xxx the caller's
 * caller). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "profile/leaf_frames.h"

/* Functions at [0x1000, 0x1100) (delta 0: no frame), [0x1100, 0x1200) (a framed function:
 * delta 8 in its first 16 bytes, 40 after), anything else unknown (not Go). */
static int fake_delta(void *ctx, uint64_t pc, int32_t *delta)
{
	(void)ctx;
	if (pc >= 0x1000 && pc < 0x1100)
		*delta = 0;
	else if (pc >= 0x1100 && pc < 0x1110)
		*delta = 8;
	else if (pc >= 0x1110 && pc < 0x1200)
		*delta = 40;
	else
		return -ENOENT;
	return 0;
}

static void test_frameless_leaf_gets_its_caller_back(void **state)
{
	(void)state;
	uint64_t ips[8] = { 0x1010, 0x3010, 0x4010 };
	int n = 3;
	const uint64_t words[2] = { 0x2044, 0 };
	assert_true(leaf_frames_restore(ips, &n, 8, words, fake_delta, NULL));
	assert_int_equal(n, 4);
	uint64_t want[] = { 0x1010, 0x2044, 0x3010, 0x4010 };
	assert_memory_equal(ips, want, sizeof(want));
}

static void test_prologue_after_push_uses_the_second_word(void **state)
{
	(void)state;
	uint64_t ips[8] = { 0x1104, 0x3010 };
	int n = 2;
	const uint64_t words[2] = { 0, 0x2044 }; /* [SP] is the pushed BP, not code */
	assert_true(leaf_frames_restore(ips, &n, 8, words, fake_delta, NULL));
	assert_int_equal(n, 3);
	assert_int_equal(ips[1], 0x2044);
	assert_int_equal(ips[2], 0x3010);
}

static void test_walk_already_right_is_left_alone(void **state)
{
	(void)state;
	/* BP set up: the walk gave the caller; the same word at SP changes nothing. */
	uint64_t ips[8] = { 0x1104, 0x2044, 0x3010 };
	int n = 3;
	const uint64_t words[2] = { 0, 0x2044 };
	assert_false(leaf_frames_restore(ips, &n, 8, words, fake_delta, NULL));
	assert_int_equal(n, 3);
	/* Deep in a framed function, words at SP are its locals, whatever they look like. */
	uint64_t deep[8] = { 0x1150, 0x2044 };
	n = 2;
	const uint64_t locals[2] = { 0x2999, 0x2998 };
	assert_false(leaf_frames_restore(deep, &n, 8, locals, fake_delta, NULL));
	assert_int_equal(deep[1], 0x2044);
	/* Not Go (no SP delta known), or no code address at SP: nothing to go on. */
	uint64_t c[8] = { 0x9000, 0x3010 };
	n = 2;
	assert_false(leaf_frames_restore(c, &n, 8, words, fake_delta, NULL));
	uint64_t leaf[8] = { 0x1010, 0x3010 };
	const uint64_t none[2] = { 0, 0 };
	assert_false(leaf_frames_restore(leaf, &n, 8, none, fake_delta, NULL));
	/* The right word is not code while the other is: still nothing (delta 0 reads [SP]). */
	const uint64_t wrong[2] = { 0, 0x2044 };
	assert_false(leaf_frames_restore(leaf, &n, 8, wrong, fake_delta, NULL));
	assert_int_equal(n, 2);
}

static void test_full_stack_is_not_overrun(void **state)
{
	(void)state;
	uint64_t ips[3] = { 0x1010, 0x3010, 0x4010 };
	int n = 3;
	const uint64_t words[2] = { 0x2044, 0 };
	assert_false(leaf_frames_restore(ips, &n, 3, words, fake_delta, NULL));
	assert_int_equal(n, 3);
	/* A one-frame stack (the walk found no caller at all) gets its caller. */
	uint64_t one[4] = { 0x1010 };
	n = 1;
	assert_true(leaf_frames_restore(one, &n, 4, words, fake_delta, NULL));
	assert_int_equal(n, 2);
	assert_int_equal(one[1], 0x2044);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frameless_leaf_gets_its_caller_back),
		cmocka_unit_test(test_prologue_after_push_uses_the_second_word),
		cmocka_unit_test(test_walk_already_right_is_left_alone),
		cmocka_unit_test(test_full_stack_is_not_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
