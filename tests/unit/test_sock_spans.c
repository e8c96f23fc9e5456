// SPDX-License-Identifier: Apache-2.0
/* sockcap/sock_spans.c: which socket-level calls become children of which request. A child is
 * given a parent only when its thread read exactly one connection's request and answers it
 * after the call; an event-loop thread's calls start their own traces. Ground truth: the calls
 * each test makes, and the JSON lines the pipeline writes (ids read back from them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockcap/sock_spans.h"

struct sink {
	char *text;
	size_t len;
	FILE *out;
	struct trace_pipeline *tp;
	struct sock_spans *spans;
};

static void sink_open(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	s->out = open_memstream(&s->text, &s->len);
	assert_non_null(s->out);
	struct trace_pipeline_opts o = { .sampler = { .kind = SAMPLER_ALWAYS_ON }, .spans_out = s->out };
	s->tp = trace_pipeline_new(&o, NULL);
	assert_non_null(s->tp);
	struct resource res = { .service_name = "svc", .pid = 42 };
	assert_int_equal(trace_pipeline_add_target(s->tp, 0, &res), 0);
	s->spans = sock_spans_new(s->tp);
	assert_non_null(s->spans);
}

/* Writes everything out (sock_spans_free releases held children, the pipeline flushes). */
static void sink_finish(struct sink *s)
{
	sock_spans_free(s->spans);
	s->spans = NULL;
	trace_pipeline_flush(s->tp);
	fflush(s->out);
}

static void sink_close(struct sink *s)
{
	sock_spans_free(s->spans);
	trace_pipeline_free(s->tp);
	fclose(s->out);
	free(s->text);
}

/* The line of the span named name (exactly one), or fail. */
static const char *span_line(struct sink *s, const char *name)
{
	char needle[128];
	snprintf(needle, sizeof(needle), "\"name\":\"%s\"", name);
	const char *hit = strstr(s->text, needle);
	assert_non_null(hit);
	assert_null(strstr(hit + 1, needle));
	while (hit > s->text && hit[-1] != '\n')
		hit--;
	return hit;
}

/* The value of "key":"..." in a JSON line, or "" when absent. */
static void field(const char *line, const char *key, char *out, size_t len)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "\"%s\":\"", key);
	const char *end = strchr(line, '\n');
	const char *p = strstr(line, needle);
	out[0] = 0;
	if (!p || (end && p > end))
		return;
	p += strlen(needle);
	size_t n = strcspn(p, "\"");
	snprintf(out, len, "%.*s", (int)n, p);
}

static struct wire_call http_call(const char *method, const char *path, uint16_t status, uint64_t start,
				  uint64_t end)
{
	struct wire_call w = {
		.protocol = WIRE_HTTP1, .start_ns = start, .end_ns = end, .status = status, .version_minor = 1
	};
	snprintf(w.method, sizeof(w.method), "%s", method);
	snprintf(w.path, sizeof(w.path), "%s", path);
	return w;
}

static void served(struct sink *s, uint32_t tid, uint64_t conn, struct wire_call *w)
{
	struct sock_call c = { .wire = w,
			       .server = true,
			       .pid = 42,
			       .root = 42,
			       .tid = tid,
			       .conn_id = conn,
			       .family = 2,
			       .local_port = 8080 };
	sock_spans_call(s->spans, &c, 0);
}

static void made(struct sink *s, uint32_t tid, struct wire_call *w)
{
	struct sock_call c = { .wire = w,
			       .server = false,
			       .pid = 42,
			       .root = 42,
			       .tid = tid,
			       .conn_id = 99,
			       .family = 2,
			       .peer_port = 5432 };
	snprintf(c.peer_address, sizeof(c.peer_address), "127.0.0.1");
	sock_spans_call(s->spans, &c, 0);
}

static struct wire_call pg_call(const char *query, bool error)
{
	struct wire_call w = { .protocol = WIRE_POSTGRES, .start_ns = 2000, .end_ns = 3000, .error = error };
	snprintf(w.query, sizeof(w.query), "%s", query);
	if (error)
		snprintf(w.error_type, sizeof(w.error_type), "42P01");
	return w;
}

static void test_thread_per_request_children(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	sock_spans_request_read(s.spans, 10, 1);
	struct wire_call q = pg_call("SELECT name FROM users WHERE id = 7", false);
	made(&s, 10, &q);
	struct wire_call r = http_call("GET", "/users/7", 200, 1000, 4000);
	served(&s, 10, 1, &r);
	sink_finish(&s);
	char server_trace[64], server_id[32], child_trace[64], child_parent[32], query[128], parent[32];
	const char *server = span_line(&s, "GET /users/{id}"), *child = span_line(&s, "SELECT users");
	field(server, "trace_id", server_trace, sizeof(server_trace));
	field(server, "span_id", server_id, sizeof(server_id));
	field(server, "parent_span_id", parent, sizeof(parent));
	field(child, "trace_id", child_trace, sizeof(child_trace));
	field(child, "parent_span_id", child_parent, sizeof(child_parent));
	field(child, "db.query.text", query, sizeof(query));
	assert_string_equal(parent, "");
	assert_string_equal(child_trace, server_trace);
	assert_string_equal(child_parent, server_id);
	assert_string_equal(query, "SELECT name FROM users WHERE id = ?"); /* the literal never leaves */
	sink_close(&s);
}

static void test_traceparent_joins_the_callers_trace(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	sock_spans_request_read(s.spans, 10, 1);
	struct wire_call r = http_call("POST", "/orders", 201, 1000, 4000);
	snprintf(r.traceparent, sizeof(r.traceparent),
		 "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	served(&s, 10, 1, &r);
	sink_finish(&s);
	char trace[64], parent[32];
	const char *server = span_line(&s, "POST /orders");
	field(server, "trace_id", trace, sizeof(trace));
	field(server, "parent_span_id", parent, sizeof(parent));
	assert_string_equal(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_string_equal(parent, "00f067aa0ba902b7");
	sink_close(&s);
}

static void test_malformed_traceparent_starts_a_trace(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	sock_spans_request_read(s.spans, 10, 1);
	struct wire_call r = http_call("GET", "/", 200, 1000, 4000);
	snprintf(r.traceparent, sizeof(r.traceparent),
		 "00-00000000000000000000000000000000-00f067aa0ba902b7-01");
	served(&s, 10, 1, &r);
	sink_finish(&s);
	char trace[64], parent[32];
	const char *server = span_line(&s, "GET /");
	field(server, "trace_id", trace, sizeof(trace));
	field(server, "parent_span_id", parent, sizeof(parent));
	assert_string_not_equal(trace, "00000000000000000000000000000000");
	assert_int_equal(strlen(trace), 32);
	assert_string_equal(parent, "");
	sink_close(&s);
}

static void test_event_loop_thread_never_parents(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	/* One thread reads two connections' requests before answering either: an event loop. */
	sock_spans_request_read(s.spans, 20, 1);
	sock_spans_request_read(s.spans, 20, 2);
	struct wire_call q = pg_call("UPDATE stock SET n = n - 1", false);
	made(&s, 20, &q);
	struct wire_call a = http_call("GET", "/a", 200, 1000, 4000),
			 b = http_call("GET", "/b", 200, 1000, 5000);
	served(&s, 20, 1, &a);
	served(&s, 20, 2, &b);
	sink_finish(&s);
	char trace_a[64], trace_b[64], trace_q[64], parent_q[32];
	field(span_line(&s, "GET /a"), "trace_id", trace_a, sizeof(trace_a));
	field(span_line(&s, "GET /b"), "trace_id", trace_b, sizeof(trace_b));
	const char *child = span_line(&s, "UPDATE stock");
	field(child, "trace_id", trace_q, sizeof(trace_q));
	field(child, "parent_span_id", parent_q, sizeof(parent_q));
	assert_string_equal(parent_q, "");
	assert_string_not_equal(trace_q, trace_a);
	assert_string_not_equal(trace_q, trace_b);
	sink_close(&s);
}

static void test_call_outside_a_request_is_its_own_trace(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	struct wire_call c = http_call("GET", "/upstream", 503, 1000, 2000);
	made(&s, 30, &c);
	sink_finish(&s);
	char parent[32], error[16], address[32];
	const char *line = span_line(&s, "GET");
	field(line, "parent_span_id", parent, sizeof(parent));
	field(line, "status", error, sizeof(error));
	field(line, "server.address", address, sizeof(address));
	assert_string_equal(parent, "");
	assert_string_equal(error, "error");	/* a client's 5xx */
	assert_null(strstr(line, "/upstream")); /* client spans carry no path */
	sink_close(&s);
}

static void test_answer_from_another_thread_releases_children(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	/* Thread 40 read the request and made a call; thread 41 answered (a hand-off): the child
	 * cannot be tied to the answer for certain and goes out on its own. */
	sock_spans_request_read(s.spans, 40, 7);
	struct wire_call q = pg_call("SELECT 1", true);
	made(&s, 40, &q);
	struct wire_call r = http_call("GET", "/x", 500, 1000, 4000);
	served(&s, 41, 7, &r);
	sink_finish(&s);
	char parent[32], error_type[16], server_error[16];
	const char *child = span_line(&s, "SELECT");
	field(child, "parent_span_id", parent, sizeof(parent));
	field(child, "error.type", error_type, sizeof(error_type));
	field(span_line(&s, "GET /x"), "status", server_error, sizeof(server_error));
	assert_string_equal(parent, "");
	assert_string_equal(error_type, "42P01");
	assert_string_equal(server_error, "error");
	sink_close(&s);
}

/* A Go program's call: the kernel said at its write which request its goroutine served; the
 * span hangs there, whatever its thread did (goroutines move between threads). */
static void test_go_call_hangs_under_its_goroutines_request(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	sock_spans_request_read(s.spans, 50, 1); /* its thread seemed to serve another request */
	struct wire_call q = pg_call("SELECT name FROM users WHERE id = 7", false);
	struct sockcap_go_ctx go = { .g = 0xc000001000,
				     .span_id = 0x1122334455667788ULL,
				     .flags = SOCKCAP_GO_SEEN | SOCKCAP_GO_CTX };
	for (int i = 0; i < 16; i++)
		go.trace_id[i] = (uint8_t)(0xa0 + i);
	struct sock_call c = { .wire = &q, .pid = 42, .root = 42, .tid = 50, .conn_id = 99, .go = &go };
	sock_spans_call(s.spans, &c, 0);
	/* Without a context (outside any request), its own trace, never its thread's request. */
	struct wire_call q2 = pg_call("DELETE FROM users", false);
	struct sockcap_go_ctx none = { .g = 0xc000002000, .flags = SOCKCAP_GO_SEEN };
	struct sock_call c2 = { .wire = &q2, .pid = 42, .root = 42, .tid = 50, .conn_id = 99, .go = &none };
	sock_spans_call(s.spans, &c2, 0);
	struct wire_call r = http_call("GET", "/x", 200, 1000, 4000); /* the thread's request ends */
	served(&s, 50, 1, &r);
	sink_finish(&s);
	char trace[64], parent[32];
	const char *child = span_line(&s, "SELECT users");
	field(child, "trace_id", trace, sizeof(trace));
	field(child, "parent_span_id", parent, sizeof(parent));
	assert_string_equal(trace, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	assert_string_equal(parent, "1122334455667788");
	field(span_line(&s, "DELETE users"), "parent_span_id", parent, sizeof(parent));
	assert_string_equal(parent, "");
	sink_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_per_request_children),
		cmocka_unit_test(test_traceparent_joins_the_callers_trace),
		cmocka_unit_test(test_malformed_traceparent_starts_a_trace),
		cmocka_unit_test(test_event_loop_thread_never_parents),
		cmocka_unit_test(test_call_outside_a_request_is_its_own_trace),
		cmocka_unit_test(test_answer_from_another_thread_releases_children),
		cmocka_unit_test(test_go_call_hangs_under_its_goroutines_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
