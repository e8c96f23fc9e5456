// SPDX-License-Identifier: Apache-2.0
/* The dashboard's flame graph JSON (export/dash_profile.c): route kinds under the root, stacks
 * root first with inlined calls as frames, small nodes left out and counted, the off state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "export/dash_profile.h"

static const struct prof_inline inl[] = { { "inlinedLeaf", "m.go", 3 } };
/* Leaf first, as profiles hold them. */
static struct prof_frame hash[] = { { .func = "main.burnHash", .mapping = 0 },
				    { .func = "main.handler", .mapping = 0, .ninlined = 1, .inlined = inl },
				    { .func = "runtime.goexit", .mapping = 0 } };
static struct prof_frame sort[] = { { .func = "main.burnSort", .mapping = 0 },
				    { .func = "runtime.goexit", .mapping = 0 } };
static struct prof_frame tiny[] = { { .func = NULL, .mapping = -1 },
				    { .func = "runtime.goexit", .mapping = 0 } };

static char *render(struct prof_sample *smp, size_t n)
{
	struct prof p = {
		.kind = PROF_CPU, .time_ns = 5, .duration_ns = 2000000000, .nsamples = n, .samples = smp
	};
	struct dash_profile *dp = dash_profile_new();
	char *json;
	size_t len;
	assert_int_equal(dash_profile_json(dp, &json, &len), 0);
	assert_string_equal(json, "{\"enabled\":true,\"samples\":0,\"waiting\":true}");
	free(json);
	assert_int_equal(dash_profile_update(dp, &p), 0);
	assert_int_equal(dash_profile_json(dp, &json, &len), 0);
	assert_int_equal(strlen(json), len);
	dash_profile_free(dp);
	return json;
}

static void test_tree(void **state)
{
	(void)state;
	struct prof_sample smp[] = {
		{ .nframes = 3,
		  .frames = hash,
		  .count = 3000,
		  .request = { .span_id = 1, .route = "/h", .method = "GET" } },
		{ .nframes = 3,
		  .frames = hash,
		  .count = 1000,
		  .request = { .span_id = 2, .route = "/h", .method = "GET" } },
		{ .nframes = 2,
		  .frames = sort,
		  .count = 2000,
		  .request = { .span_id = 3, .route = "/s", .method = "GET" } },
		{ .nframes = 2, .frames = tiny, .count = 1 }, /* under 1/2000 of 6001: left out */
	};
	char *json = render(smp, sizeof(smp) / sizeof(smp[0]));
	assert_string_equal(
		json,
		"{\"enabled\":true,\"time_unix_ns\":5,\"duration_ns\":2000000000,\"samples\":6001,\"tree\":"
		"{\"n\":\"all\",\"v\":6001,\"c\":["
		"{\"n\":\"GET /h\",\"v\":4000,\"c\":[{\"n\":\"runtime.goexit\",\"v\":4000,\"c\":["
		"{\"n\":\"main.handler\",\"v\":4000,\"c\":[{\"n\":\"inlinedLeaf\",\"v\":4000,\"c\":["
		"{\"n\":\"main.burnHash\",\"v\":4000}]}]}]}]},"
		"{\"n\":\"GET /s\",\"v\":2000,\"c\":[{\"n\":\"runtime.goexit\",\"v\":2000,\"c\":["
		"{\"n\":\"main.burnSort\",\"v\":2000}]}]}]},\"left_out\":1}");
	free(json);
}

static void test_off(void **state)
{
	(void)state;
	char *json;
	size_t len;
	assert_int_equal(dash_profile_json(NULL, &json, &len), 0);
	assert_non_null(strstr(json, "\"enabled\":false"));
	assert_non_null(strstr(json, "--profile"));
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
