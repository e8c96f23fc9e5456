// SPDX-License-Identifier: Apache-2.0
/* bpf/traceparent.h, the parser the BPF program runs, against the W3C Trace Context rules
 * (https://www.w3.org/TR/trace-context/#traceparent-header). Ground truth: the spec's own
 * example value and, for each case, the rule that accepts or rejects it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "traceparent.h"

/* The spec's example: trace-id 4bf92f…4736, parent-id 00f067aa0ba902b7, sampled. */
#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PID "00f067aa0ba902b7"
static const uint8_t want_tid[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };

struct tp_case {
	const char *value;
	int valid;
	uint8_t flags;
	const char *rule;
};

static const struct tp_case cases[] = {
	{ "00-" TID "-" PID "-01", 1, 0x01, "the spec's example" },
	{ "00-" TID "-" PID "-00", 1, 0x00, "not sampled" },
	{ "00-" TID "-" PID "-ff", 1, 0xff, "unknown flags are kept" },
	{ "00-" TID "-" PID "-01-extra", 0, 0, "version 00 is exactly 55 characters" },
	{ "00-" TID "-" PID "-01 ", 0, 0, "version 00: nothing after the flags" },
	{ "00-" TID "-" PID "-0", 0, 0, "too short" },
	{ "", 0, 0, "empty" },
	{ "cc-" TID "-" PID "-01", 1, 0x01, "a higher version, same length" },
	{ "cc-" TID "-" PID "-01-what-the-future-holds", 1, 0x01, "a higher version may add '-' fields" },
	{ "cc-" TID "-" PID "-01extra", 0, 0, "a higher version: char 55 must be '-'" },
	{ "ff-" TID "-" PID "-01", 0, 0, "version ff is forbidden" },
	{ "0g-" TID "-" PID "-01", 0, 0, "version is hex" },
	{ "0A-" TID "-" PID "-01", 0, 0, "version is lowercase hex" },
	{ "00-"
	  "4BF92F3577B34DA6A3CE929D0E0E4736"
	  "-" PID "-01",
	  0, 0, "trace-id is lowercase" },
	{ "00-" TID "-"
	  "00F067AA0BA902B7"
	  "-01",
	  0, 0, "parent-id is lowercase" },
	{ "00-" TID "-" PID "-0A", 0, 0, "flags are lowercase" },
	{ "00-00000000000000000000000000000000-" PID "-01", 0, 0, "trace-id all zero" },
	{ "00-" TID "-0000000000000000-01", 0, 0, "parent-id all zero" },
	{ "00_" TID "-" PID "-01", 0, 0, "separator after version" },
	{ "00-" TID "_" PID "-01", 0, 0, "separator after trace-id" },
	{ "00-" TID "-" PID "_01", 0, 0, "separator after parent-id" },
	{ "00-4bf92f3577b34da6a3ce929d0e0e473-" PID "-01x", 0, 0, "trace-id one digit short" },
	{ "00-" TID "-" PID "-0x", 0, 0, "flags are hex" },
	{ "00-" TID "-00f067aa0ba902bz-01", 0, 0, "parent-id is hex" },
};

static void test_w3c_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tp_case *c = &cases[i];
		/* As the BPF side hands it over: at most TRACEPARENT_READ_LEN bytes, whole length. */
		char buf[TRACEPARENT_READ_LEN];
		size_t len = strlen(c->value);
		memset(buf, '#', sizeof(buf));
		memcpy(buf, c->value, len < sizeof(buf) ? len : sizeof(buf));
		struct traceparent tp;
		memset(&tp, 0xa5, sizeof(tp));
		int got = traceparent_parse(buf, len, &tp);
		if (got != c->valid) {
			print_error("case %zu (%s): %s: got %d, want %d\n", i, c->rule, c->value, got,
				    c->valid);
			fail();
		}
		if (!c->valid)
			continue;
		assert_memory_equal(tp.trace_id, want_tid, sizeof(want_tid));
		assert_int_equal(tp.parent_id, 0x00f067aa0ba902b7ULL);
		assert_int_equal(tp.flags, c->flags);
	}
}

/* Every one-character change of the example at a position the grammar fixes is rejected,
 * and no buffer byte past the value's length decides anything. */
static void test_each_position(void **state)
{
	(void)state;
	const char *ok = "00-" TID "-" PID "-01";
	for (size_t pos = 0; pos < TRACEPARENT_LEN; pos++) {
		char buf[TRACEPARENT_READ_LEN];
		memcpy(buf, ok, TRACEPARENT_LEN);
		buf[TRACEPARENT_LEN] = 'x'; /* beyond len: must not matter */
		struct traceparent tp;
		assert_int_equal(traceparent_parse(buf, TRACEPARENT_LEN, &tp), 1);
		buf[pos] = 'G';
		if (traceparent_parse(buf, TRACEPARENT_LEN, &tp)) {
			print_error("'G' at %zu accepted\n", pos);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w3c_cases),
		cmocka_unit_test(test_each_position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
