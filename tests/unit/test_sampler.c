// SPDX-License-Identifier: Apache-2.0
/* user/trace/sampler.c: the OTEL_TRACES_SAMPLER settings and the head decision. Ground truth:
 * the OpenTelemetry SDK specification's sampler names and parent-based rules, and trace ids
 * built here with known last 8 bytes (the ratio sampler keeps ids below ratio × 2^64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/sampler.h"

static void trace_id_with_low(uint8_t id[16], uint64_t low)
{
	memset(id, 0xab, 8);
	for (int i = 15; i >= 8; i--, low >>= 8)
		id[i] = (uint8_t)low;
}

static const char *const kind_names[] = { "always_on",
					  "always_off",
					  "traceidratio",
					  "parentbased_always_on",
					  "parentbased_always_off",
					  "parentbased_traceidratio" };

static void test_kind_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		enum sampler_kind k;
		assert_int_equal(sampler_parse_kind(kind_names[i], &k), 0);
		assert_int_equal(k, (int)i); /* kind_names is in enum order */
	}
	enum sampler_kind k = SAMPLER_ALWAYS_ON;
	assert_int_equal(sampler_parse_kind("Always_On", &k), -EINVAL);
	assert_int_equal(sampler_parse_kind("", &k), -EINVAL);
	assert_int_equal(sampler_parse_kind("jaeger_remote", &k), -EINVAL);
	assert_int_equal(k, SAMPLER_ALWAYS_ON);
}

struct env_case {
	const char *sampler, *arg; /* NULL: unset */
	int ret;
	enum sampler_kind kind;
	double ratio;
	const char *err;
};

static const struct env_case env_cases[] = {
	{ NULL, NULL, 0, SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, "" },
	{ "", "", 0, SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, "" },
	{ "always_off", NULL, 0, SAMPLER_ALWAYS_OFF, 1.0, "" },
	{ "traceidratio", "0.25", 0, SAMPLER_TRACEIDRATIO, 0.25, "" },
	{ "parentbased_traceidratio", "0", 0, SAMPLER_PARENTBASED_TRACEIDRATIO, 0.0, "" },
	{ "traceidratio", NULL, 0, SAMPLER_TRACEIDRATIO, 1.0, "" },
	/* the argument belongs to the ratio samplers only */
	{ "always_on", "banana", 0, SAMPLER_ALWAYS_ON, 1.0, "" },
	{ "sometimes", NULL, -EINVAL, 0, 0,
	  "OTEL_TRACES_SAMPLER='sometimes' is not a sampler glimpse knows" },
	{ "traceidratio", "1.5", -EINVAL, 0, 0, "OTEL_TRACES_SAMPLER_ARG='1.5' is not a ratio from 0 to 1" },
	{ "traceidratio", "-0.1", -EINVAL, 0, 0,
	  "OTEL_TRACES_SAMPLER_ARG='-0.1' is not a ratio from 0 to 1" },
	{ "traceidratio", "0.5x", -EINVAL, 0, 0,
	  "OTEL_TRACES_SAMPLER_ARG='0.5x' is not a ratio from 0 to 1" },
	{ "traceidratio", "nan", -EINVAL, 0, 0, "OTEL_TRACES_SAMPLER_ARG='nan' is not a ratio from 0 to 1" },
};

static void set_or_unset(const char *name, const char *value)
{
	if (value)
		assert_int_equal(setenv(name, value, 1), 0);
	else
		assert_int_equal(unsetenv(name), 0);
}

static void test_config_from_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
		const struct env_case *c = &env_cases[i];
		set_or_unset("OTEL_TRACES_SAMPLER", c->sampler);
		set_or_unset("OTEL_TRACES_SAMPLER_ARG", c->arg);
		struct sampler_config cfg;
		char err[256] = "";
		int ret = sampler_config_from_env(&cfg, err, sizeof(err));
		if (ret != c->ret || strncmp(err, c->err, strlen(c->err)) || (!c->err[0] && err[0])) {
			print_error("case %zu: %s / %s: got %d '%s'\n", i, c->sampler, c->arg, ret, err);
			fail();
		}
		if (ret)
			continue;
		assert_int_equal(cfg.kind, c->kind);
		assert_true(cfg.ratio == c->ratio);
		assert_true(cfg.keep_errors);
		assert_int_equal(cfg.keep_slower_than_ns, 0);
	}
	unsetenv("OTEL_TRACES_SAMPLER");
	unsetenv("OTEL_TRACES_SAMPLER_ARG");
}

/* Parent-based kinds follow a remote parent's sampled flag; with none they use their root
 * sampler. The id here is one traceidratio 0.5 keeps. */
struct head_case {
	enum sampler_kind kind;
	bool remote, parent_sampled, want;
};

static const struct head_case head_cases[] = {
	{ SAMPLER_ALWAYS_ON, false, false, true },
	{ SAMPLER_ALWAYS_ON, true, false, true },
	{ SAMPLER_ALWAYS_OFF, false, false, false },
	{ SAMPLER_ALWAYS_OFF, true, true, false },
	{ SAMPLER_TRACEIDRATIO, false, false, true },
	{ SAMPLER_TRACEIDRATIO, true, false, true }, /* not parent-based: ignores the parent */
	{ SAMPLER_PARENTBASED_ALWAYS_ON, false, false, true },
	{ SAMPLER_PARENTBASED_ALWAYS_ON, true, false, false },
	{ SAMPLER_PARENTBASED_ALWAYS_ON, true, true, true },
	{ SAMPLER_PARENTBASED_ALWAYS_OFF, false, false, false },
	{ SAMPLER_PARENTBASED_ALWAYS_OFF, true, true, true },
	{ SAMPLER_PARENTBASED_ALWAYS_OFF, true, false, false },
	{ SAMPLER_PARENTBASED_TRACEIDRATIO, false, false, true },
	{ SAMPLER_PARENTBASED_TRACEIDRATIO, true, false, false },
	{ SAMPLER_PARENTBASED_TRACEIDRATIO, true, true, true },
};

static void test_head_rules(void **state)
{
	(void)state;
	uint8_t id[16];
	trace_id_with_low(id, 1);
	for (size_t i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++) {
		const struct head_case *c = &head_cases[i];
		struct sampler_config cfg = { .kind = c->kind, .ratio = 0.5 };
		if (sampler_head(&cfg, id, c->remote, c->parent_sampled) != c->want) {
			print_error("case %zu: kind=%d remote=%d sampled=%d: want %d\n", i, (int)c->kind,
				    c->remote, c->parent_sampled, c->want);
			fail();
		}
	}
}

/* The ratio decision is exact at the boundary: ids below ratio × 2^64 are kept, others not. */
static void test_ratio_boundary(void **state)
{
	(void)state;
	struct sampler_config cfg = { .kind = SAMPLER_TRACEIDRATIO, .ratio = 0.25 };
	uint8_t id[16];
	trace_id_with_low(id, (1ULL << 62) - 1);
	assert_true(sampler_head(&cfg, id, false, false));
	trace_id_with_low(id, 1ULL << 62);
	assert_false(sampler_head(&cfg, id, false, false));
	trace_id_with_low(id, 0);
	cfg.ratio = 0;
	assert_false(sampler_head(&cfg, id, false, false));
	trace_id_with_low(id, UINT64_MAX);
	cfg.ratio = 1;
	assert_true(sampler_head(&cfg, id, false, false));
	cfg.ratio = 0.9999999999999999;
	assert_false(sampler_head(&cfg, id, false, false));
}

/* 256 ids spread evenly over the range (low byte-aligned steps of 2^56): ratio r keeps
 * exactly 256 × r of them, and only the first 8 bytes never matter. */
static void test_ratio_counts(void **state)
{
	(void)state;
	static const double ratios[] = { 0.0, 0.125, 0.25, 0.5, 0.75, 1.0 };
	for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++) {
		struct sampler_config cfg = { .kind = SAMPLER_TRACEIDRATIO, .ratio = ratios[r] };
		int kept = 0;
		for (uint64_t k = 0; k < 256; k++) {
			uint8_t id[16];
			trace_id_with_low(id, k << 56);
			bool keep = sampler_head(&cfg, id, false, false);
			id[0] ^= 0xff;
			assert_int_equal(sampler_head(&cfg, id, false, false), keep);
			kept += keep;
		}
		assert_int_equal(kept, (int)(256 * ratios[r]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),   cmocka_unit_test(test_config_from_env),
		cmocka_unit_test(test_head_rules),   cmocka_unit_test(test_ratio_boundary),
		cmocka_unit_test(test_ratio_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
