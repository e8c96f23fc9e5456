// SPDX-License-Identifier: Apache-2.0
/* The trace pipeline's targets: each span is written with its own target's resource, from the
 * pipeline's copy (the caller's may be gone); removing a target writes the child spans held
 * for it first; spans of unknown targets are counted; target ids are not bounded. Ground
 * truth: the events and resources the tests make, and the JSON lines written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace/db_driver.h"
#include "trace/trace_pipeline.h"

struct sink {
	char *text;
	size_t len;
	FILE *out;
	struct db_driver_cache *drivers;
	struct trace_pipeline *tp;
};

static void sink_open(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	s->out = open_memstream(&s->text, &s->len);
	assert_non_null(s->out);
	s->drivers = db_driver_cache_new();
	assert_non_null(s->drivers);
	struct trace_pipeline_opts o = { .sampler = { .kind = SAMPLER_ALWAYS_ON }, .spans_out = s->out };
	s->tp = trace_pipeline_new(&o, s->drivers);
	assert_non_null(s->tp);
}

static void sink_close(struct sink *s)
{
	trace_pipeline_free(s->tp);
	db_driver_cache_free(s->drivers);
	fclose(s->out);
	free(s->text);
}

static int lines(struct sink *s, const char *needle)
{
	fflush(s->out);
	int n = 0;
	for (const char *p = s->text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* An outgoing call; with a parent, a child its request holds until the request ends. */
static void call(struct sink *s, int target, uint64_t span, uint64_t parent)
{
	struct gotrace_event ev = { .start_ns = 1000, .end_ns = 2000, .kind = GOTRACE_CLIENT, .pid = 42 };
	ev.trace_id[0] = 1;
	ev.span_id = span;
	ev.parent_span_id = parent;
	ev.flags = parent ? GOTRACE_F_HAS_PARENT : 0;
	memcpy(ev.method, "GET", 3);
	ev.method_len = 3;
	struct call c;
	assert_true(call_decode(&ev, NULL, NULL, &c));
	trace_pipeline_call(s->tp, &c, target);
}

static void test_remove_writes_held_spans_with_its_resource(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	struct resource res = { .service_name = "svc-a", .pid = 42 }, other = { .service_name = "svc-b" };
	assert_int_equal(trace_pipeline_add_target(s.tp, 3, &res), 0);
	assert_int_equal(trace_pipeline_add_target(s.tp, 4, &other), 0);
	strcpy(res.service_name, "clobbered"); /* the caller's copy changes or goes */
	call(&s, 3, 0x11, 0x10);
	call(&s, 4, 0x21, 0x20);
	assert_int_equal(lines(&s, "\"span_id\""), 0); /* both held for their requests */
	assert_int_equal(trace_pipeline_remove_target(s.tp, 3), 0);
	assert_int_equal(lines(&s, "\"span_id\""), 1);
	assert_int_equal(lines(&s, "\"service.name\":\"svc-a\""), 1);
	assert_int_equal(lines(&s, "clobbered"), 0);
	assert_int_equal(trace_pipeline_remove_target(s.tp, 3), -ENOENT);
	/* A span of the removed target is counted, not written. */
	call(&s, 3, 0x12, 0);
	assert_int_equal(lines(&s, "\"span_id\""), 1);
	assert_int_equal(trace_pipeline_spans_dropped(s.tp), 1);
	/* Freeing writes what target 4 still holds, with its resource. */
	trace_pipeline_free(s.tp);
	s.tp = NULL;
	assert_int_equal(lines(&s, "\"service.name\":\"svc-b\""), 1);
	sink_close(&s);
}

static void test_target_ids_are_not_bounded(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	enum {
		N = 1000
	};
	for (int id = 0; id < N; id++) {
		struct resource res = { .pid = id };
		snprintf(res.service_name, sizeof(res.service_name), "svc-%d", id);
		assert_int_equal(trace_pipeline_add_target(s.tp, id, &res), 0);
		call(&s, id, 0x100 + id, 0);
		if (id % 2)
			assert_int_equal(trace_pipeline_remove_target(s.tp, id), 0);
	}
	assert_int_equal(lines(&s, "\"span_id\""), N);
	assert_int_equal(lines(&s, "\"service.name\":\"svc-999\""), 1);
	assert_int_equal(trace_pipeline_spans_dropped(s.tp), 0);
	sink_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_writes_held_spans_with_its_resource),
		cmocka_unit_test(test_target_ids_are_not_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
