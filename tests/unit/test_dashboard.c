// SPDX-License-Identifier: Apache-2.0
/* The dashboard's data: Prometheus' histogram_quantile rule, registry snapshots (routes by
 * status, DB operations, other metrics) and their JSON (escaping, windows, sparklines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/resource.h"
#include "export/dash_json.h"
#include "export/dash_snapshot.h"
#include "export/dashboard.h"
#include "export/dash_traces.h"
#include "export/prometheus.h"
#include "trace/trace_recent.h"
#include "metrics/registry.h"

#define MS 1000000ULL
/* cmocka's float assertion compares floats: these are doubles. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static const struct resource res = {
	.service_name = "svc\"<b>",
	.executable_name = "app",
	.host_name = "h",
	.pid = 42,
};

static void test_quantile_rule(void **state)
{
	(void)state;
	const double bounds[] = { 1, 2, 4 };
	/* 10 in (0,1], 10 in (1,2]: interpolated inside the bucket that holds the rank. */
	const uint64_t a[] = { 10, 10, 0, 0 };
	assert_near(dash_quantile(bounds, 3, a, 0.5), 1.0, 1e-12);
	assert_near(dash_quantile(bounds, 3, a, 0.25), 0.5, 1e-12);
	assert_near(dash_quantile(bounds, 3, a, 0.75), 1.5, 1e-12);
	assert_near(dash_quantile(bounds, 3, a, 0.99), 1.98, 1e-12);
	assert_near(dash_quantile(bounds, 3, a, 0), 0, 1e-12);
	/* A rank in +Inf: the highest finite bound, as Prometheus answers. */
	const uint64_t inf[] = { 1, 0, 0, 9 };
	assert_near(dash_quantile(bounds, 3, inf, 0.5), 4, 1e-12);
	assert_near(dash_quantile(bounds, 3, inf, 0.1), 1, 1e-12);
	/* Empty: no value (null in JSON), not 0. */
	const uint64_t none[] = { 0, 0, 0, 0 };
	assert_true(isnan(dash_quantile(bounds, 3, none, 0.5)));
	/* The export bounds start at 0: a rank in that first bucket is 0, the next interpolates from 0. */
	struct dash_hist h = { 0 };
	h.counts[0] = 1;
	h.counts[1] = 3; /* (0, 5ms] */
	h.count = 4;
	assert_near(dash_hist_quantile(&h, 0.25), 0, 1e-15);
	assert_near(dash_hist_quantile(&h, 0.5), 0.005 * (2.0 - 1) / 3, 1e-15);
	assert_near(dash_hist_quantile(&h, 1), 0.005, 1e-15);
}

static void record(struct metrics_registry *reg, const char *route, unsigned status, uint64_t ns)
{
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "GET",
						       .status = (uint16_t)status,
						       .path = "/x",
						       .route = route,
						       .duration_ns = ns });
}

static double goroutines(void *ctx, int target)
{
	(void)ctx, (void)target;
	return 17;
}

static void test_snapshot_and_json(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_non_null(reg);
	assert_int_equal(metrics_registry_add_target(reg, &res), 0);
	assert_int_equal(metrics_registry_add_gauge(reg, "go.goroutine.count", "{goroutine}", "Goroutines.",
						    false, goroutines, NULL, true),
			 0);
	/* A route with every character JSON must escape, and a byte that is not UTF-8. */
	const char *odd = "/a\"b\\c\n<script>\x01\xff";
	record(reg, "/slow", 200, 300 * MS);
	record(reg, odd, 200, 1 * MS);
	record(reg, odd, 200, 2 * MS);
	record(reg, odd, 500, 3 * MS);
	metrics_registry_record_db(reg, 0,
				   &(struct db_record){ .system = "postgresql",
							.operation = "SELECT",
							.collection = "users",
							.duration_ns = 4 * MS });
	metrics_registry_record_db(reg, 0,
				   &(struct db_record){ .system = "postgresql",
							.operation = "SELECT",
							.collection = "users",
							.error = true,
							.duration_ns = 6 * MS });
	/* Two calls to one peer, one failed (404: an error on the client side). */
	for (unsigned status = 200; status <= 404; status += 204)
		metrics_registry_record(reg, 0,
					&(struct http_record){ .kind = HTTP_CLIENT,
							       .method = "GET",
							       .status = (uint16_t)status,
							       .server_address = "api.internal",
							       .server_port = 8080,
							       .duration_ns = 7 * MS });
	struct dash_snapshot *s0 = dash_snapshot_take(reg);
	assert_non_null(s0);
	record(reg, "/slow", 200, 400 * MS);
	struct dash_snapshot *s1 = dash_snapshot_take(reg);
	assert_non_null(s1);
	/* Exactly one second apart, so the rates are exact. */
	s1->mono_ns = s0->mono_ns + 1000000000ull;

	assert_int_equal(s1->ntargets, 1);
	assert_int_equal(s1->nroutes, 2);
	const struct dash_route *r = &s1->routes[0]; /* sorted by route: "/a..." first */
	assert_string_equal(r->route, odd);
	assert_int_equal(r->nstatuses, 2);
	assert_int_equal(r->statuses[0].code, 200);
	assert_int_equal(r->statuses[0].count, 2);
	assert_int_equal(r->statuses[1].code, 500);
	assert_int_equal(r->statuses[1].count, 1);
	assert_int_equal(r->errors, 1);
	assert_int_equal(r->h.count, 3);
	assert_int_equal(s1->routes[1].h.count, 2);
	assert_int_equal(s1->ndb, 1);
	assert_int_equal(s1->db[0].h.count, 2);
	assert_int_equal(s1->db[0].errors, 1);
	assert_int_equal(s1->npeers, 1);
	assert_int_equal(s1->peers[0].h.count, 2);
	assert_int_equal(s1->peers[0].errors, 1);
	assert_int_equal(s1->nmetrics, 1);
	assert_string_equal(s1->metrics[0].name, "go.goroutine.count");
	assert_near(s1->metrics[0].value, 17, 0);

	const struct dash_snapshot *snaps[] = { s0, s1 };
	char *json;
	size_t len;
	assert_int_equal(dash_json_render(snaps, 2, NULL, &json, &len), 0);
	assert_int_equal(strlen(json), len);
	/* One line: a server-sent event cannot hold a raw newline. */
	assert_null(strchr(json, '\n'));
	assert_non_null(strstr(json, "\"route\":\"/a\\\"b\\\\c\\n<script>\\u0001\\ufffd\""));
	assert_non_null(strstr(json, "\"service\":\"svc\\\"<b>\""));
	assert_non_null(strstr(json, "\"statuses\":[[200,2],[500,1]]"));
	/* /slow: 300 ms and 400 ms, both in (0.25, 0.5]; the window holds only the 400 ms one. */
	char want[320];
	snprintf(want, sizeof(want),
		 "\"route\":\"/slow\",\"count\":2,\"errors\":0,\"sum\":0.7,\"statuses\":[[200,2]],"
		 "\"buckets\":[0,0,0,0,0,0,0,0,2,0,0,0,0,0,0,0],\"p50\":0.375,\"p95\":0.4875,\"p99\":0.4975,"
		 "\"window\":{\"count\":1,\"errors\":0,"
		 "\"rps\":1,\"p50\":0.375");
	assert_non_null(strstr(json, want));
	assert_non_null(strstr(json, "\"rps_history\":[1]"));
	assert_non_null(strstr(json, "\"side\":\"client\",\"system\":\"postgresql\",\"operation\":\"SELECT\","
				     "\"collection\":\"users\",\"count\":2,\"errors\":1"));
	assert_non_null(strstr(json,
			       "\"peers\":[{\"target\":0,\"method\":\"GET\",\"address\":\"api.internal\","
			       "\"port\":8080,\"count\":2,\"errors\":1,"));
	/* No requests in the window: no percentile (null), not 0. */
	assert_non_null(strstr(json, "\"window\":{\"count\":0,\"errors\":0,\"rps\":0,\"p50\":null"));
	assert_non_null(strstr(json, "\"name\":\"go.goroutine.count\",\"unit\":\"{goroutine}\",\"attr\":\"\","
				     "\"value\":17"));
	free(json);

	/* One snapshot: totals, no window yet. */
	assert_int_equal(dash_json_render(snaps, 1, NULL, &json, &len), 0);
	assert_null(strstr(json, "\"window\""));
	free(json);
	assert_int_equal(dash_json_render(snaps, 0, NULL, &json, &len), -22);

	dash_snapshot_free(s0);
	dash_snapshot_free(s1);
	metrics_registry_free(reg);
}

/* Points as the SLO tracker gives them: burn rates by (slo, window), one value per slo. */
static int slo_burn(void *ctx, int target, struct metric_point *p, int max)
{
	(void)ctx;
	(void)target;
	assert_true(max >= 3);
	p[0] = (struct metric_point){ .attr_name = "slo",
				      .attr_value = "avail",
				      .attr2_name = "window",
				      .attr2_value = "5m",
				      .value = 2.5 };
	p[1] = (struct metric_point){ .attr_name = "slo",
				      .attr_value = "avail",
				      .attr2_name = "window",
				      .attr2_value = "3d",
				      .value = 0.25 };
	p[2] = (struct metric_point){ .attr_name = "slo",
				      .attr_value = "fast",
				      .attr2_name = "window",
				      .attr2_value = "1h",
				      .value = 1 };
	return 3;
}

static int slo_budget(void *ctx, int target, struct metric_point *p, int max)
{
	(void)ctx;
	(void)target;
	assert_true(max >= 1);
	p[0] = (struct metric_point){ .attr_name = "slo", .attr_value = "avail", .value = -0.5 };
	return 1;
}

static int slo_firing(void *ctx, int target, struct metric_point *p, int max)
{
	(void)ctx;
	(void)target;
	assert_true(max >= 2);
	p[0] = (struct metric_point){ .attr_name = "slo",
				      .attr_value = "avail",
				      .attr2_name = "severity",
				      .attr2_value = "page",
				      .value = 0 };
	p[1] = (struct metric_point){ .attr_name = "slo",
				      .attr_value = "avail",
				      .attr2_name = "severity",
				      .attr2_value = "ticket",
				      .value = 2 };
	return 2;
}

static int two_attrs(void *ctx, int target, struct metric_point *p, int max)
{
	(void)ctx;
	(void)target;
	assert_true(max >= 1);
	p[0] = (struct metric_point){ .attr_name = "state",
				      .attr_value = "idle",
				      .attr2_name = "pool",
				      .attr2_value = "p1",
				      .value = 3 };
	return 1;
}

static void test_slos_and_attributes(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_non_null(reg);
	assert_int_equal(metrics_registry_add_target(reg, &res), 0);
	assert_int_equal(metrics_registry_add_observer(reg, "glimpse.slo.burn_rate", "", "b", METRIC_GAUGE,
						       slo_burn, NULL),
			 0);
	assert_int_equal(metrics_registry_add_observer(reg, "glimpse.slo.error_budget.remaining", "1", "r",
						       METRIC_GAUGE, slo_budget, NULL),
			 0);
	assert_int_equal(metrics_registry_add_observer(reg, "glimpse.slo.alerts.firing", "{alert}", "f",
						       METRIC_GAUGE, slo_firing, NULL),
			 0);
	assert_int_equal(
		metrics_registry_add_observer(reg, "some.pool", "1", "p", METRIC_GAUGE, two_attrs, NULL), 0);
	struct dash_snapshot *s = dash_snapshot_take(reg);
	assert_non_null(s);
	/* Gathered per objective; what no gauge gave stays NaN (null in JSON), never 0. */
	assert_int_equal(s->nslos, 2);
	assert_string_equal(s->slos[0].name, "avail");
	assert_near(s->slos[0].burn[0], 2.5, 0);
	assert_near(s->slos[0].burn[SLO_RATE_WINDOWS - 1], 0.25, 0);
	assert_true(isnan(s->slos[0].burn[1]));
	assert_near(s->slos[0].budget_left, -0.5, 0);
	assert_true(isnan(s->slos[0].objective));
	/* The firing alerts by severity: not a burn rate (no window), 0 where no gauge said. */
	assert_int_equal(s->slos[0].firing_page, 0);
	assert_int_equal(s->slos[0].firing_ticket, 2);
	assert_string_equal(s->slos[1].name, "fast");
	assert_int_equal(s->slos[1].firing_ticket, 0);
	assert_true(isnan(s->slos[1].budget_left));
	/* Not among the other metrics; a point with two attributes shows both. */
	assert_int_equal(s->nmetrics, 1);
	assert_string_equal(s->metrics[0].attr, "state=idle, pool=p1");

	const struct dash_snapshot *snaps[] = { s };
	char *json;
	size_t len;
	assert_int_equal(dash_json_render(snaps, 1, NULL, &json, &len), 0);
	assert_non_null(strstr(json, "\"slos\":[{\"target\":0,\"name\":\"avail\",\"objective\":null,"
				     "\"budget_left\":-0.5,\"burn\":{\"5m\":2.5,\"30m\":null,\"1h\":null,"
				     "\"2h\":null,\"6h\":null,\"1d\":null,\"3d\":0.25},"
				     "\"firing\":{\"page\":0,\"ticket\":2}}"));
	free(json);
	dash_snapshot_free(s);
	metrics_registry_free(reg);
}

static struct span_record span(uint8_t trace, uint64_t id, uint64_t parent, uint64_t start_ms,
			       uint64_t dur_ms, const char *name)
{
	struct span_record s;
	memset(&s, 0, sizeof(s));
	s.trace_id[15] = trace;
	s.trace_id[0] = 0xab;
	s.span_id = id;
	s.parent_span_id = parent;
	s.kind = parent ? SPAN_CLIENT : SPAN_SERVER;
	s.start_unix_ns = 1000000000000ull + start_ms * MS;
	s.end_unix_ns = s.start_unix_ns + dur_ms * MS;
	snprintf(s.name, sizeof(s.name), "%s", name);
	return s;
}

static void test_trace_recent_newest_and_slowest(void **state)
{
	(void)state;
	struct trace_recent *tr = trace_recent_new();
	assert_non_null(tr);
	/* 100 one-span traces; the 6th is by far the slowest, and old by the end. */
	for (int i = 0; i < 100; i++) {
		struct span_record s = span((uint8_t)i, 1000 + (uint64_t)i, 0, (uint64_t)i,
					    i == 5 ? 1000 : (uint64_t)i, "GET /x");
		trace_recent_add(tr, &s);
	}
	struct trace_summary sums[TRACE_RECENT_MAX];
	assert_int_equal(trace_recent_list(tr, TRACE_NEWEST, sums, TRACE_RECENT_MAX), TRACE_RECENT_MAX);
	assert_int_equal(sums[0].trace_id[15], 99);
	assert_int_equal(sums[TRACE_RECENT_MAX - 1].trace_id[15], 100 - TRACE_RECENT_MAX);
	assert_int_equal(trace_recent_list(tr, TRACE_SLOWEST, sums, TRACE_RECENT_MAX), TRACE_SLOWEST_MAX);
	assert_int_equal(sums[0].trace_id[15], 5);
	for (int i = 1; i < TRACE_SLOWEST_MAX; i++)
		assert_int_equal(sums[i].trace_id[15], 100 - i);
	/* Neither newest nor slowest: gone. */
	struct trace_summary sum;
	struct span_record *spans;
	size_t n;
	uint8_t id[16] = { 0xab };
	id[15] = 10;
	assert_int_equal(trace_recent_get(tr, id, &sum, &spans, &n), -ENOENT);
	id[15] = 5;
	assert_int_equal(trace_recent_get(tr, id, &sum, &spans, &n), 0);
	assert_int_equal(n, 1);
	free(spans);

	/* A trace whose children came first: named after its root, spans by start time. */
	struct span_record c1 = span(200, 2, 1, 3, 1, "SELECT users"),
			   c2 = span(200, 3, 1, 1, 1, "INSERT orders");
	struct span_record root = span(200, 1, 0, 0, 10, "GET /many\"<i>");
	snprintf(c1.db_query, sizeof(c1.db_query), "SELECT * FROM users WHERE id = ?");
	snprintf(c1.db_collection, sizeof(c1.db_collection), "users");
	snprintf(root.url_path, sizeof(root.url_path), "/many/secret");
	root.status = 200;
	trace_recent_add(tr, &c1);
	trace_recent_add(tr, &c2);
	trace_recent_add(tr, &root);
	id[15] = 200;
	assert_int_equal(trace_recent_get(tr, id, &sum, &spans, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(sum.name, "GET /many\"<i>");
	assert_int_equal(spans[0].span_id, 1);
	assert_int_equal(spans[1].span_id, 3);
	assert_int_equal(spans[2].span_id, 2);
	free(spans);

	/* Its JSON: escaped, ids in hex, times from the trace's start, no path and no SQL text. */
	char *json;
	size_t len;
	assert_int_equal(dash_traces_render_trace(tr, "zz", &json, &len), -EINVAL);
	assert_int_equal(dash_traces_render_trace(NULL, "ab0000000000000000000000000000c8", &json, &len),
			 -ENOENT);
	assert_int_equal(dash_traces_render_trace(tr, "ab0000000000000000000000000000c9", &json, &len),
			 -ENOENT);
	assert_int_equal(dash_traces_render_trace(tr, "AB0000000000000000000000000000C8", &json, &len), 0);
	assert_non_null(strstr(json, "\"name\":\"GET /many\\\"<i>\""));
	assert_non_null(strstr(
		json, "{\"span_id\":\"0000000000000002\",\"parent_span_id\":\"0000000000000001\","
		      "\"remote_parent\":false,\"kind\":\"client\",\"target\":0,\"name\":\"SELECT users\","
		      "\"start_us\":3000.000,\"duration_us\":1000.000,\"error\":false,"
		      "\"attributes\":[[\"db.collection.name\",\"users\"]]}"));
	assert_non_null(strstr(json, "[\"http.response.status_code\",200]"));
	assert_null(strstr(json, "secret"));
	assert_null(strstr(json, "FROM users"));
	assert_null(strchr(json, '\n'));
	free(json);
	trace_recent_free(tr);
}

/* A GET (HTTP/1.0: no chunked framing in the way) whose response is read until needle shows (or the server closes, or 5 s pass); the
 * socket stays open in *fd. */
static char *get_until(int port, const char *path, const char *needle, int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	assert_int_equal(write(*fd, req, (size_t)n), n);
	size_t cap = 1 << 16, len = 0;
	char *buf = calloc(1, cap);
	ssize_t r;
	while (!strstr(buf, needle) && len + 1 < cap && (r = read(*fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)r;
		buf[len] = '\0';
	}
	return buf;
}

/* The server side over real sockets: the page with its CSP, the snapshot, the event stream's
 * framing, the cap on streams (and its release), and a stop that does not wait for viewers. */
static void test_server_streams(void **state)
{
	(void)state;
	char err[256] = "";
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(metrics_registry_add_target(reg, &res), 0);
	record(reg, "/x", 200, 1 * MS);
	struct prom_exporter *e = prom_exporter_start("127.0.0.1:0", reg, err, sizeof(err));
	if (!e)
		fail_msg("exporter did not start: %s", err);
	int port = prom_exporter_port(e), fd;

	char *resp = get_until(port, "/", "</html>", &fd);
	close(fd);
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	assert_non_null(strstr(resp, "Content-Security-Policy: default-src 'none'; script-src 'self';"));
	assert_non_null(strstr(resp, "<script src=\"/dashboard.js\" defer></script>"));
	free(resp);
	/* The first request wakes the sampler: the snapshot waits for its first tick. */
	resp = get_until(port, "/api/snapshot", "\"traces\"", &fd);
	close(fd);
	assert_non_null(strstr(resp, "Content-Type: application/json"));
	assert_non_null(strstr(resp, "\"route\":\"/x\",\"count\":1,"));
	free(resp);

	int streams[DASH_MAX_STREAMS];
	for (int i = 0; i < DASH_MAX_STREAMS; i++) {
		resp = get_until(port, "/api/stream", "}\n\n", &streams[i]);
		assert_non_null(strstr(resp, "Content-Type: text/event-stream"));
		const char *data = strstr(resp, "retry: 2000\n\ndata: {\"time_unix_ms\":");
		assert_non_null(data);
		/* One line of JSON, then the blank line that ends the event. */
		const char *json = data + strlen("retry: 2000\n\ndata: ");
		assert_ptr_equal(strchr(json, '\n'), strstr(json, "}\n\n") + 1);
		free(resp);
	}
	resp = get_until(port, "/api/stream", "\r\n\r\n", &fd);
	assert_non_null(strstr(resp, "HTTP/1.1 503"));
	free(resp);
	close(fd);
	/* A closed stream frees its place (the server sees it at its next event). */
	close(streams[0]);
	bool again = false;
	for (int tries = 0; tries < 40 && !again; tries++) {
		resp = get_until(port, "/api/stream", "\r\n\r\n", &fd);
		again = strstr(resp, "HTTP/1.1 200") != NULL;
		free(resp);
		if (again)
			streams[0] = fd;
		else
			close(fd), usleep(100000);
	}
	assert_true(again);
	/* Stopping ends the open streams at once rather than waiting for the viewers to leave. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	prom_exporter_stop(e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	for (int i = 0; i < DASH_MAX_STREAMS; i++)
		close(streams[i]);
	metrics_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantile_rule),
		cmocka_unit_test(test_snapshot_and_json),
		cmocka_unit_test(test_slos_and_attributes),
		cmocka_unit_test(test_trace_recent_newest_and_slowest),
		cmocka_unit_test(test_server_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
