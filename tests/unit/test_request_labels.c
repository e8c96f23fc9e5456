// SPDX-License-Identifier: Apache-2.0
/* The labels CPU samples get from the requests they served (profile/request_labels.c) and the
 * by-route view of a profile (profile/profile_data.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_data.h"
#include "profile/request_labels.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct prof_frame leaf_a[] = { { .func = "burnHash", .mapping = 0 },
				      { .func = "main", .mapping = 0 } };
static struct prof_frame leaf_b[] = { { .func = "burnSort", .mapping = 0 } };

static struct prof make_prof(struct prof_sample *smp, size_t n)
{
	return (struct prof){ .kind = PROF_CPU, .period_ns = 10000000, .nsamples = n, .samples = smp };
}

static void test_apply_and_rotate(void **state)
{
	(void)state;
	struct request_labels *t = request_labels_new();
	assert_non_null(t);
	assert_int_equal(request_labels_add(t, 11, "/burn/hash", "GET"), 0);
	assert_int_equal(request_labels_add(t, 22, "/burn/sort", "POST"), 0);
	assert_int_equal(request_labels_add(t, 0, "/ignored", "GET"), 0); /* no span: nothing kept */
	struct prof_sample smp[] = {
		{ .nframes = 2, .frames = leaf_a, .count = 3, .request = { .span_id = 11 } },
		{ .nframes = 1, .frames = leaf_b, .count = 5, .request = { .span_id = 22 } },
		{ .nframes = 1, .frames = leaf_b, .count = 7, .request = { .span_id = 33 } }, /* running */
		{ .nframes = 1, .frames = leaf_b, .count = 1 },				      /* no request */
	};
	struct prof p = make_prof(smp, N(smp));
	struct request_labels_stats st = { 0 };
	request_labels_apply(t, &p, &st);
	assert_string_equal(smp[0].request.route, "/burn/hash");
	assert_string_equal(smp[0].request.method, "GET");
	assert_string_equal(smp[1].request.route, "/burn/sort");
	assert_string_equal(smp[1].request.method, "POST");
	assert_null(smp[2].request.route);
	assert_null(smp[2].request.method);
	assert_null(smp[3].request.route);
	assert_int_equal(st.labelled, 8);
	assert_int_equal(st.unresolved, 7);
	assert_int_equal(st.full, 0);

	/* Span 33 ends after the cut: the next profile's samples of it find it, and those of the
	 * requests of the interval before are still found one cut later. */
	request_labels_rotate(t);
	assert_int_equal(request_labels_add(t, 33, "/burn/sort", "GET"), 0);
	smp[0].request.route = smp[0].request.method = NULL;
	smp[2].request.route = smp[2].request.method = NULL;
	memset(&st, 0, sizeof(st));
	request_labels_apply(t, &p, &st);
	assert_string_equal(smp[0].request.route, "/burn/hash");
	assert_string_equal(smp[2].request.route, "/burn/sort");
	assert_int_equal(st.labelled, 15);
	assert_int_equal(st.unresolved, 0);

	/* Two rotations later the first interval's requests are forgotten. */
	request_labels_rotate(t);
	request_labels_rotate(t);
	smp[0].request.route = smp[0].request.method = NULL;
	memset(&st, 0, sizeof(st));
	request_labels_apply(t, &p, &st);
	assert_null(smp[0].request.route);
	assert_int_equal(st.unresolved, 15);
	request_labels_free(t);
}

/* Routes and methods are interned: one copy each, however many requests. */
static void test_interned(void **state)
{
	(void)state;
	struct request_labels *t = request_labels_new();
	for (uint64_t id = 1; id <= 1000; id++)
		assert_int_equal(request_labels_add(t, id, id % 2 ? "/a" : "/b", "GET"), 0);
	struct prof_sample smp[] = { { .count = 1, .request = { .span_id = 1 } },
				     { .count = 1, .request = { .span_id = 999 } },
				     { .count = 1, .request = { .span_id = 2 } } };
	struct prof p = make_prof(smp, N(smp));
	struct request_labels_stats st = { 0 };
	request_labels_apply(t, &p, &st);
	assert_ptr_equal(smp[0].request.route, smp[1].request.route);
	assert_ptr_equal(smp[0].request.method, smp[2].request.method);
	assert_string_equal(smp[2].request.route, "/b");
	request_labels_free(t);
}

/* More requests in one interval than the table holds: the extra ones are counted, not kept,
 * and an id seen again (a span id reused) updates its entry without taking room. */
static void test_full(void **state)
{
	(void)state;
	struct request_labels *t = request_labels_new();
	for (uint64_t id = 1; id <= REQUEST_LABELS_PER_INTERVAL; id++)
		assert_int_equal(request_labels_add(t, id * 0x9e3779b97f4a7c15ULL, "/a", "GET"), 0);
	assert_int_equal(request_labels_add(t, 0x9e3779b97f4a7c15ULL, "/again", "GET"), 0);
	assert_int_equal(request_labels_add(t, 12345, "/b", "GET"), -ENOSPC);
	struct prof_sample smp[] = { { .count = 2, .request = { .span_id = 0x9e3779b97f4a7c15ULL } },
				     { .count = 1, .request = { .span_id = 12345 } } };
	struct prof p = make_prof(smp, N(smp));
	struct request_labels_stats st = { 0 };
	request_labels_apply(t, &p, &st);
	assert_string_equal(smp[0].request.route, "/again");
	assert_null(smp[1].request.route);
	assert_int_equal(st.full, 1);
	request_labels_rotate(t); /* the new interval has room again */
	assert_int_equal(request_labels_add(t, 12345, "/b", "GET"), 0);
	request_labels_free(t);
}

/* The by-route view: one root per request kind, the frames below unchanged. */
static void test_by_route(void **state)
{
	(void)state;
	struct prof_sample smp[] = {
		{ .nframes = 2,
		  .frames = leaf_a,
		  .count = 3,
		  .request = { .span_id = 1, .route = "/burn/hash", .method = "GET" } },
		{ .nframes = 1,
		  .frames = leaf_b,
		  .count = 5,
		  .request = { .span_id = 2, .route = "/burn/sort", .method = "GET" } },
		{ .nframes = 2,
		  .frames = leaf_a,
		  .count = 2,
		  .request = { .span_id = 3, .route = "/burn/hash", .method = "GET" } },
		{ .nframes = 1, .frames = leaf_b, .count = 7, .request = { .span_id = 4 } },
		{ .nframes = 1, .frames = leaf_b, .count = 1 },
		{ .nframes = 1,
		  .frames = leaf_b,
		  .count = 1,
		  .request = { .span_id = 5, .route = "", .method = "_OTHER" } },
	};
	struct prof p = make_prof(smp, N(smp)), view;
	char **names;
	size_t nnames;
	assert_int_equal(prof_by_route(&p, &view, &names, &nnames), 0);
	assert_int_equal(view.nsamples, N(smp));
	assert_int_equal(nnames, 5);
	const char *want[] = { "GET /burn/hash", "GET /burn/sort",
			       "GET /burn/hash", "[request still running at the cut]",
			       "[no request]",	 "_OTHER [no route]" };
	for (size_t i = 0; i < N(smp); i++) {
		const struct prof_sample *v = &view.samples[i];
		assert_int_equal(v->nframes, smp[i].nframes + 1);
		assert_int_equal(v->count, smp[i].count);
		assert_string_equal(v->frames[v->nframes - 1].func, want[i]);
		assert_int_equal(v->frames[v->nframes - 1].mapping, -1);
		for (uint32_t j = 0; j < smp[i].nframes; j++)
			assert_string_equal(v->frames[j].func, smp[i].frames[j].func);
	}
	assert_ptr_equal(view.samples[0].frames[2].func, view.samples[2].frames[2].func);
	prof_by_route_free(&view, names, nnames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_and_rotate),
		cmocka_unit_test(test_interned),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_by_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
