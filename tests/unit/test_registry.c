// SPDX-License-Identifier: Apache-2.0
/* HTTP metrics: histograms, routes, resource, the registry's Prometheus text (golden and
 * promtool-checked), the live view, and the exporter over a real socket. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/histogram.h"
#include "metrics/registry.h"
#include "export/prometheus.h"
#include "agent/resource.h"
#include "gotrace/route.h"

#define MS 1000000ULL

/* ---- histograms ---- */

static void test_export_bucket_edges(void **state)
{
	(void)state;
	/* le is inclusive: a duration equal to a bound belongs to that bound's bucket. */
	for (int i = 0; i < HIST_EXPORT_BOUNDS; i++) {
		uint64_t ns = (uint64_t)llround(hist_export_bounds[i] * 1e9);
		assert_int_equal(export_hist_bucket(ns), i);
		assert_int_equal(export_hist_bucket(ns + 1), i + 1);
		if (ns)
			assert_int_equal(export_hist_bucket(ns - 1), i);
	}
	assert_int_equal(export_hist_bucket(0), 0);
	assert_int_equal(export_hist_bucket(1), 1);
	assert_int_equal(export_hist_bucket(5 * MS), 1);
	assert_int_equal(export_hist_bucket(10000 * MS), HIST_EXPORT_BOUNDS - 1);
	assert_int_equal(export_hist_bucket(UINT64_MAX), HIST_EXPORT_BOUNDS);

	struct export_hist h = { 0 };
	export_hist_record(&h, 5 * MS);
	export_hist_record(&h, 7 * MS);
	export_hist_record(&h, 20000 * MS);
	assert_int_equal(h.buckets[1], 1);
	assert_int_equal(h.buckets[2], 1);
	assert_int_equal(h.buckets[HIST_EXPORT_BOUNDS], 1);
	assert_int_equal(h.count, 3);
	assert_int_equal(h.sum_ns, 20012 * MS);
}

static void test_fine_buckets(void **state)
{
	(void)state;
	assert_int_equal(fine_hist_bucket(0), 0);
	assert_int_equal(fine_hist_bucket(999), 0);
	assert_int_equal(fine_hist_bucket(1000), 1);
	assert_int_equal(fine_hist_bucket(2000), 1 + FINE_SUBBUCKETS);
	assert_int_equal(fine_hist_bucket(UINT64_MAX), FINE_BUCKETS - 1);
	int last = 0;
	for (uint64_t ns = 1; ns < 2000ULL * 1000000000ULL; ns = ns * 21 / 20 + 1) {
		int b = fine_hist_bucket(ns);
		assert_true(b >= last && b < FINE_BUCKETS);
		last = b;
	}
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static double uniform01(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
	return sqrt(-2 * log(uniform01())) * cos(2 * M_PI * uniform01());
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

enum dist {
	UNIFORM,
	EXPONENTIAL,
	LOGNORMAL,
	BIMODAL,
	CONSTANT
};
#define NSAMPLES 100000

static uint64_t draw(enum dist d)
{
	switch (d) {
	case UNIFORM:
		return (uint64_t)(1e6 + uniform01() * 99e6);
	case EXPONENTIAL:
		return (uint64_t)(-log(uniform01()) * 10e6);
	case LOGNORMAL:
		return (uint64_t)(50e6 * exp(normal()));
	case BIMODAL:
		return (uint64_t)((uniform01() < 0.9 ? 2e6 : 800e6) * (0.9 + 0.2 * uniform01()));
	default:
		return 42 * MS;
	}
}

static void check_quantiles(const struct fine_hist *h, uint64_t *v, size_t n, const char *what)
{
	static const double qs[] = { 0.5, 0.95, 0.99 };
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < 3; i++) {
		double exact = v[(size_t)ceil(qs[i] * n) - 1] / 1e9;
		double est = fine_hist_quantile(h, qs[i]);
		double err = fabs(est - exact) / exact;
		if (err > 0.03)
			fail_msg("%s p%g: estimated %g s, exact %g s (%.1f%% off)", what, qs[i] * 100, est,
				 exact, err * 100);
	}
}

static void test_quantiles(void **state)
{
	(void)state;
	static const char *names[] = { "uniform", "exponential", "lognormal", "bimodal", "constant" };
	uint64_t *v = malloc(NSAMPLES * sizeof(*v));
	struct fine_hist *h = malloc(sizeof(*h));
	assert_non_null(v);
	assert_non_null(h);
	for (int d = UNIFORM; d <= CONSTANT; d++) {
		memset(h, 0, sizeof(*h));
		for (size_t i = 0; i < NSAMPLES; i++)
			fine_hist_record(h, v[i] = draw(d));
		check_quantiles(h, v, NSAMPLES, names[d]);
	}
	memset(h, 0, sizeof(*h));
	assert_true(fine_hist_quantile(h, 0.5) == 0);
	/* A single sample is known to within half a bucket. */
	fine_hist_record(h, 123 * MS);
	assert_true(fabs(fine_hist_quantile(h, 0.99) - 0.123) / 0.123 < 0.03);
	free(h);
	free(v);
}

static void test_quantiles_of_delta(void **state)
{
	(void)state;
	struct fine_hist *a = calloc(1, sizeof(*a)), *before = malloc(sizeof(*a)), *d = malloc(sizeof(*a));
	uint64_t *v = malloc(NSAMPLES * sizeof(*v));
	assert_true(a && before && d && v);
	for (int i = 0; i < NSAMPLES; i++) /* an earlier, much slower interval */
		fine_hist_record(a, 5000 * MS + i);
	*before = *a;
	for (size_t i = 0; i < NSAMPLES; i++)
		fine_hist_record(a, v[i] = draw(EXPONENTIAL));
	fine_hist_delta(d, a, before);
	assert_int_equal(d->count, NSAMPLES);
	check_quantiles(d, v, NSAMPLES, "delta");
	free(a);
	free(before);
	free(d);
	free(v);
}

/* ---- routes ---- */

static void test_route_heuristics(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *path, *route;
	} cases[] = {
		{ NULL, "/users/12345", "/users/{id}" },
		{ NULL, "/users/12345/orders/7", "/users/{id}/orders/{id}" },
		{ NULL, "/o/123e4567-e89b-12d3-a456-426614174000", "/o/{id}" },
		{ NULL, "/o/123E4567-E89B-12D3-A456-426614174000/x", "/o/{id}/x" },
		{ NULL, "/o/not-a-uuid-at-all", "/o/not-a-uuid-at-all" },
		{ NULL, "/commit/9fceb02d0ae598e95dc970b74767f19372d61af8", "/commit/{id}" },
		{ NULL, "/blob/abcdef12", "/blob/{id}" },
		{ NULL, "/blob/abcdef1", "/blob/{id}" },	      /* letters and digits */
		{ NULL, "/blob/deadbeefcafe", "/blob/deadbeefcafe" }, /* hex without digits: a word */
		{ NULL, "/s/aGVsbG8gd29ybGQ9PQ", "/s/{id}" },	      /* base64 token */
		{ NULL, "/s/Zm9vYmFy_LTEy-MzQ1", "/s/{id}" },	      /* base64url token */
		{ NULL, "/s/abc123", "/s/{id}" },		      /* mixed, however short */
		/* Personal data never reaches a route (ground truth: the hardening issue's paths). */
		{ NULL, "/reset/alice@example.com/confirm", "/reset/{id}/confirm" },
		{ NULL, "/reset/alice%40example.com", "/reset/{id}" },
		{ NULL, "/api/johnsmith/ssn-123-45-6789", "/api/johnsmith/{id}" },
		{ NULL, "/call/+1-555-0100", "/call/{id}" },
		{ NULL, "/u/user42", "/u/{id}" },
		{ NULL, "/u/j\xc3\xbcrgen", "/u/{id}" }, /* non-ASCII */
		{ NULL, "/u/\xff\xfe", "/u/{id}" },	 /* not even UTF-8 */
		{ NULL, "/t/averyveryverylongsegmentthatisnotaword", "/t/{id}" },
		{ NULL, "/u/-x", "/u/{id}" },
		{ NULL, "/u/x-", "/u/{id}" },
		{ NULL, "/robots.txt", "/robots.txt" },
		{ NULL, "/api/v10/items", "/api/v10/items" },
		{ NULL, "/api/v12345/items", "/api/{id}/items" },
		{ NULL, "/docs/getting-started-guide", "/docs/getting-started-guide" },
		{ NULL, "/api/v2/items", "/api/v2/items" },
		{ NULL, "", "/" },
		{ NULL, NULL, "/" },
		{ NULL, "/", "/" },
		{ NULL, "//", "/" },
		{ NULL, "/users/", "/users/" },
		{ NULL, "/users/42/", "/users/{id}/" },
		{ NULL, "/a//b", "/a/b" },
		{ NULL, "/search?q=12345", "/search" },
		{ NULL, "/users/42?x=1/2", "/users/{id}" },
		{ NULL, "/page#frag", "/page" },
		{ NULL, "*", "*" },
		{ NULL, "users/42", "/users/{id}" },
		{ "GET /users/{id}", "/users/42", "/users/{id}" },
		{ "/users/{id}", "/users/42", "/users/{id}" },
		{ "POST example.com/items/{id}/{$}", "/items/9/", "/items/{id}/{$}" },
		{ "example.com/static/", "/static/x.css", "/static/" },
		{ "GET  /files/{path...}", "/files/a/b", "/files/{path...}" },
		{ "", "/users/42", "/users/{id}" },
	};
	char out[ROUTE_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		route_normalize(cases[i].pattern, cases[i].path, out, sizeof(out));
		if (strcmp(out, cases[i].route))
			fail_msg("pattern %s path %s: got %s, want %s", cases[i].pattern ?: "(null)",
				 cases[i].path ?: "(null)", out, cases[i].route);
	}
	/* Long paths are truncated, never overflowed. */
	char longpath[1000], small[16];
	for (size_t i = 0; i < sizeof(longpath) - 1; i++)
		longpath[i] = i % 5 ? 'a' : '/'; /* "/aaaa/aaaa/...": plain words, kept */
	longpath[sizeof(longpath) - 1] = '\0';
	route_normalize(NULL, longpath, out, sizeof(out));
	assert_int_equal(strlen(out), ROUTE_MAX - 1);
	route_normalize("GET /very/long/pattern", NULL, small, sizeof(small));
	assert_string_equal(small, "/very/long/patt");
}

static void test_route_table_cap(void **state)
{
	(void)state;
	struct route_table *t = route_table_new(3, NULL);
	assert_non_null(t);
	const char *a = route_table_intern(t, "/a");
	assert_string_equal(a, "/a");
	assert_ptr_equal(route_table_intern(t, "/a"), a);
	route_table_intern(t, "/b");
	route_table_intern(t, "/c");
	assert_string_equal(route_table_intern(t, "/d"), ROUTE_OVERFLOW);
	assert_string_equal(route_table_intern(t, "/e"), ROUTE_OVERFLOW);
	assert_ptr_equal(route_table_intern(t, "/b"), route_table_intern(t, "/b"));
	assert_string_equal(route_table_intern(t, "/b"), "/b"); /* known routes still resolve */
	assert_int_equal(route_table_size(t), 3);
	assert_int_equal(route_table_overflowed(t), 2);
	route_table_free(t);

	t = route_table_new(0, "_OTHER"); /* default cap */
	char s[32];
	for (int i = 0; i < 150; i++) {
		snprintf(s, sizeof(s), "/r%d", i);
		assert_non_null(route_table_intern(t, s));
	}
	assert_int_equal(route_table_size(t), ROUTE_DEFAULT_MAX);
	assert_int_equal(route_table_overflowed(t), 50);
	assert_string_equal(route_table_intern(t, "/new"), "_OTHER");
	route_table_free(t);
}

static void test_methods(void **state)
{
	(void)state;
	static const char *known[] = { "GET",	  "HEAD",    "POST",  "PUT",  "DELETE",
				       "CONNECT", "OPTIONS", "TRACE", "PATCH" };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_string_equal(http_method_normalize(known[i]), known[i]);
	assert_string_equal(http_method_normalize("get"), "_OTHER");
	assert_string_equal(http_method_normalize("PROPFIND"), "_OTHER");
	assert_string_equal(http_method_normalize(""), "_OTHER");
	assert_string_equal(http_method_normalize(NULL), "_OTHER");
}

static void test_prom_names(void **state)
{
	(void)state;
	static const struct {
		const char *name, *unit;
		bool counter;
		const char *want;
	} cases[] = {
		{ "http.server.request.duration", "s", false, "http_server_request_duration_seconds" },
		{ "http.server.active_requests", "{request}", false, "http_server_active_requests" },
		{ "glimpse.events.dropped", "{event}", true, "glimpse_events_dropped_total" },
		{ "glimpse.events.dropped_total", "", true, "glimpse_events_dropped_total" },
		{ "process.memory.usage", "By", false, "process_memory_usage_bytes" },
		{ "process.cpu.time", "s", true, "process_cpu_time_seconds_total" },
		{ "system.cpu.utilization", "1", false, "system_cpu_utilization_ratio" },
		{ "net.io", "By/s", false, "net_io_bytes_per_second" },
		{ "go.goroutine.count", "{goroutine}", false, "go_goroutines" },
		{ "x.duration_seconds", "s", false, "x_duration_seconds" },
		{ "9lives..odd-name", NULL, false, "_9lives_odd_name" },
	};
	char out[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		prom_metric_name(cases[i].name, cases[i].unit, cases[i].counter, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
}

/* ---- registry ---- */

static const struct resource test_res = {
	.service_name = "svc",
	.executable_name = "app",
	.host_name = "h",
	.pid = 42,
};

static double active_requests(void *ctx, int target)
{
	(void)ctx;
	return target == 0 ? 3 : -1;
}

static double events_dropped(void *ctx, int target)
{
	assert_int_equal(target, -1);
	return *(double *)ctx;
}

static char *render(struct metrics_registry *reg)
{
	char *out;
	size_t len;
	assert_int_equal(metrics_registry_render_prometheus(reg, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static void test_golden(void **state)
{
	(void)state;
	static const char golden[] =
		"# HELP target_info Target metadata\n"
		"# TYPE target_info gauge\n"
		"target_info{job=\"svc\",instance=\"h:42\",host_name=\"h\",process_executable_name=\"app\","
		"process_pid=\"42\",service_name=\"svc\"} 1\n"
		"# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n"
		"# TYPE http_server_request_duration_seconds histogram\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.005\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.01\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.025\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.05\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.075\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.1\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.25\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.5\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"0.75\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"1\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"2.5\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"5\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"7.5\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"10\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"500\",http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/"
		"{id}\",le=\"+Inf\"} 1\n"
		"http_server_request_duration_seconds_sum{job=\"svc\",instance=\"h:42\",error_type=\"500\","
		"http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/{id}\"} "
		"1.5\n"
		"http_server_request_duration_seconds_count{job=\"svc\",instance=\"h:42\",error_type=\"500\","
		"http_request_method=\"POST\",http_response_status_code=\"500\",http_route=\"/items/{id}\"} "
		"1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0\"} 0\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.005\"} "
		"1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.01\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.025\"} "
		"1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.05\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.075\"} "
		"1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.1\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.25\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.5\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"0.75\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"1\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"2.5\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"5\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"7.5\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"10\"} 1\n"
		"http_server_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\",le=\"+Inf\"} 1\n"
		"http_server_request_duration_seconds_sum{job=\"svc\",instance=\"h:42\",http_request_method="
		"\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\"} 0.005\n"
		"http_server_request_duration_seconds_count{job=\"svc\",instance=\"h:42\",http_request_"
		"method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\"} 1\n"
		"# HELP http_client_request_duration_seconds Duration of HTTP client requests.\n"
		"# TYPE http_client_request_duration_seconds histogram\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0\"} 0\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.005\"} 0\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.01\"} 0\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.025\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.05\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.075\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.1\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.25\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.5\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"0.75\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"1\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"2.5\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"5\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"7.5\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"10\"} 1\n"
		"http_client_request_duration_seconds_bucket{job=\"svc\",instance=\"h:42\",error_type="
		"\"404\",http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api."
		"example.com\",server_port=\"443\",le=\"+Inf\"} 1\n"
		"http_client_request_duration_seconds_sum{job=\"svc\",instance=\"h:42\",error_type=\"404\","
		"http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api.example."
		"com\",server_port=\"443\"} 0.02\n"
		"http_client_request_duration_seconds_count{job=\"svc\",instance=\"h:42\",error_type=\"404\","
		"http_request_method=\"GET\",http_response_status_code=\"404\",server_address=\"api.example."
		"com\",server_port=\"443\"} 1\n"
		"# HELP http_server_active_requests Number of active HTTP server requests.\n"
		"# TYPE http_server_active_requests gauge\n"
		"http_server_active_requests{job=\"svc\",instance=\"h:42\"} 3\n"
		"# HELP glimpse_events_dropped_total Events lost between the kernel and glimpse.\n"
		"# TYPE glimpse_events_dropped_total counter\n"
		"glimpse_events_dropped_total 7\n";
	static double dropped = 7;
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_non_null(reg);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	metrics_registry_record(
		reg, 0,
		&(struct http_record){ .kind = HTTP_SERVER,
				       .method = "GET",
				       .status = 0,
				       .path = "/users/42",
				       .duration_ns = 5 * MS }); /* exactly on a bound; status 0 means 200 */
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "POST",
						       .status = 500,
						       .path = "/items/77",
						       .pattern = "POST /items/{id}",
						       .duration_ns = 1500 * MS });
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_CLIENT,
						       .method = "GET",
						       .status = 404,
						       .server_address = "api.example.com",
						       .server_port = 443,
						       .duration_ns = 20 * MS });
	metrics_registry_record(reg, 5,
				&(struct http_record){ /* unknown target: ignored */
						       .kind = HTTP_SERVER,
						       .method = "GET",
						       .path = "/",
						       .duration_ns = 1 });
	metrics_registry_add_gauge(reg, "http.server.active_requests", "{request}",
				   "Number of active HTTP server requests.", false, active_requests, NULL,
				   true);
	metrics_registry_add_gauge(reg, "glimpse.events.dropped", "{event}",
				   "Events lost between the kernel and glimpse.", true, events_dropped,
				   &dropped, false);
	assert_int_equal(metrics_registry_add_gauge(reg, "x", "", "", false, NULL, NULL, false), -EINVAL);
	char *out = render(reg);
	if (strcmp(out, golden)) {
		fprintf(stderr, "---- got\n%s---- want\n%s----\n", out, golden);
		fail();
	}
	free(out);
	metrics_registry_free(reg);
}

static void test_empty_registry(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(10);
	char *out = render(reg);
	assert_string_equal(out, "");
	free(out);
	metrics_registry_free(reg);
}

/* Many metric families (the OTLP exporter and the agent register a dozen each): every one is
 * rendered once, in the order first seen, and none is lost when the family list grows. */
static void test_many_families(void **state)
{
	(void)state;
	static double value = 7;
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	char name[64];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "glimpse.test.family_%02d", i);
		assert_int_equal(metrics_registry_add_gauge(reg, name, "", "A test family.", false,
							    events_dropped, &value, false),
				 0);
	}
	char *out = render(reg);
	for (int i = 0; i < 40; i++) {
		char line[96];
		snprintf(line, sizeof(line), "\nglimpse_test_family_%02d 7\n", i);
		assert_non_null(strstr(out, line));
		snprintf(line, sizeof(line), "# TYPE glimpse_test_family_%02d gauge\n", i);
		const char *first = strstr(out, line);
		assert_non_null(first);
		assert_null(strstr(first + 1, line)); /* one family header each */
	}
	free(out);
	metrics_registry_free(reg);
}

static void test_escaping(void **state)
{
	(void)state;
	struct resource res = test_res;
	strcpy(res.service_name, "we\"ird\\svc\nx");
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(metrics_registry_add_target(reg, &res), 0);
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "GET",
						       .status = 200,
						       /* a mux pattern is kept verbatim (a path's odd
							* segments would all become {id}) */
						       .pattern = "/a\"b/c\\d/e\nf/\xff\xfe/caf\xc3\xa9",
						       .duration_ns = 1 });
	char *out = render(reg);
	assert_non_null(strstr(out, "job=\"we\\\"ird\\\\svc\\nx\""));
	assert_non_null(strstr(out, "service_name=\"we\\\"ird\\\\svc\\nx\""));
	/* invalid UTF-8 becomes U+FFFD; valid multi-byte characters pass through */
	assert_non_null(
		strstr(out, "http_route=\"/a\\\"b/c\\\\d/e\\nf/\xef\xbf\xbd\xef\xbf\xbd/caf\xc3\xa9\""));
	free(out);
	metrics_registry_free(reg);
}

/* The value of the sample whose name and labels are exactly series (without the braces' close). */
static uint64_t count_of(const char *text, const char *series)
{
	char want[1024];
	snprintf(want, sizeof(want), "%s} ", series);
	const char *p = strstr(text, want);
	return p ? strtoull(p + strlen(want), NULL, 10) : 0;
}

static void test_route_overflow_in_registry(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(3);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	struct http_view *v = http_view_new(reg, 0);
	assert_non_null(v);
	char path[64];
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/page%c", 'a' + i);
		metrics_registry_record(reg, 0,
					&(struct http_record){ .kind = HTTP_SERVER,
							       .method = "GET",
							       .status = 200,
							       .path = path,
							       .duration_ns = MS });
	}
	/* a known route keeps resolving after the cap */
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "GET",
						       .status = 200,
						       .path = "/pagea",
						       .duration_ns = MS });
	/* client destinations are capped the same way, without their ports */
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "host%d", i);
		metrics_registry_record(reg, 0,
					&(struct http_record){ .kind = HTTP_CLIENT,
							       .method = "GET",
							       .status = 200,
							       .server_address = path,
							       .server_port = (uint16_t)(8000 + i),
							       .duration_ns = MS });
	}
	char *out = render(reg);
	assert_int_equal(count_of(out, "http_server_request_duration_seconds_count{job=\"svc\",instance=\"h:"
				       "42\",http_request_method=\"GET\",http_response_status_code=\"200\","
				       "http_route=\"/{overflow}\""),
			 7);
	assert_int_equal(
		count_of(out,
			 "http_server_request_duration_seconds_count{job=\"svc\",instance=\"h:42\",http_"
			 "request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/pagea\""),
		2);
	assert_int_equal(
		count_of(
			out,
			"http_client_request_duration_seconds_count{job=\"svc\",instance=\"h:42\",http_"
			"request_method=\"GET\",http_response_status_code=\"200\",server_address=\"_OTHER\""),
		2);
	assert_null(strstr(out, "/paged"));
	free(out);

	struct http_view_snapshot snap;
	assert_int_equal(http_view_poll(v, &snap), 0);
	assert_int_equal(snap.overflow_requests, 7);
	assert_int_equal(snap.n, 4);
	assert_string_equal(snap.rows[3].route, "/{overflow}");
	assert_int_equal(snap.rows[3].count, 7);
	http_view_free(v);
	metrics_registry_free(reg);
}

static void test_client_labels(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_CLIENT,
						       .method = "FROB",
						       .status = 0,
						       .server_address = "db",
						       .server_port = 0,
						       .duration_ns = MS });
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_CLIENT,
						       .method = "PUT",
						       .status = 503,
						       .server_address = "x",
						       .server_port = 80,
						       .duration_ns = MS });
	char *out = render(reg);
	/* no response: error.type _OTHER, no status code; unknown port: no server_port */
	assert_non_null(
		strstr(out, "http_client_request_duration_seconds_count{job=\"svc\",instance=\"h:42\",error_"
			    "type=\"_OTHER\",http_request_method=\"_OTHER\",server_address=\"db\"} 1\n"));
	assert_non_null(strstr(out, "http_client_request_duration_seconds_count{job=\"svc\",instance=\"h:"
				    "42\",error_type=\"503\",http_request_method=\"PUT\",http_response_"
				    "status_code=\"503\",server_address=\"x\",server_port=\"80\"} 1\n"));
	free(out);
	metrics_registry_free(reg);
}

/* Database calls: the client's and the server's side are two metrics; error.type is the one the
 * call carried (a SQLSTATE), or _OTHER; the summary has one row per operation with its errors. */
static void test_db_sides_and_error_types(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	struct db_record client = {
		.system = "postgresql", .operation = "SELECT", .collection = "users", .duration_ns = 2 * MS
	};
	struct db_record failed = client;
	failed.error = true;
	failed.error_type = "42P01";
	struct db_record untyped = client;
	untyped.error = true;
	struct db_record served = {
		.system = "redis", .operation = "GET", .server = true, .duration_ns = MS
	};
	metrics_registry_record_db(reg, 0, &client);
	metrics_registry_record_db(reg, 0, &client);
	metrics_registry_record_db(reg, 0, &failed);
	metrics_registry_record_db(reg, 0, &untyped);
	for (int i = 0; i < 3; i++)
		metrics_registry_record_db(reg, 0, &served);
	char *out = render(reg);
	assert_non_null(strstr(out,
			       "db_client_operation_duration_seconds_count{job=\"svc\",instance=\"h:42\","
			       "db_collection_name=\"users\",db_operation_name=\"SELECT\",db_system_name="
			       "\"postgresql\"} 2\n"));
	assert_non_null(strstr(out,
			       "db_client_operation_duration_seconds_count{job=\"svc\",instance=\"h:42\","
			       "db_collection_name=\"users\",db_operation_name=\"SELECT\",db_system_name="
			       "\"postgresql\",error_type=\"42P01\"} 1\n"));
	assert_non_null(strstr(out, "error_type=\"_OTHER\"} 1\n"));
	assert_non_null(strstr(out,
			       "db_server_operation_duration_seconds_count{job=\"svc\",instance=\"h:42\","
			       "db_operation_name=\"GET\",db_system_name=\"redis\"} 3\n"));
	assert_null(strstr(out, "db_client_operation_duration_seconds_count{job=\"svc\",instance=\"h:42\","
				"db_operation_name=\"GET\""));
	free(out);
	struct http_summary sum;
	assert_int_equal(metrics_registry_summary(reg, 0, &sum), 0);
	assert_int_equal(sum.ndb_ops, 2);
	for (size_t i = 0; i < sum.ndb_ops; i++) {
		const struct db_op_row *r = &sum.db_ops[i];
		if (r->server) {
			assert_string_equal(r->operation, "GET");
			assert_int_equal(r->count, 3);
			assert_int_equal(r->errors, 0);
		} else {
			assert_string_equal(r->collection, "users");
			assert_int_equal(r->count, 4);
			assert_int_equal(r->errors, 2);
			assert_true(fabs(r->mean_s - 0.002) < 1e-9);
		}
	}
	metrics_registry_free(reg);
}

/* gRPC series: one per side, method, status, address, port and error.type, with the semconv
 * names; past the cap, a side's further series count under rpc.method "_OTHER". */
static void test_rpc_series_and_cap(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(3);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	struct rpc_record ok = { .server = true,
				 .system = "grpc",
				 .method = "pkg.Svc/Get",
				 .status = "OK",
				 .server_port = 50051,
				 .duration_ns = 2 * MS };
	struct rpc_record internal = ok;
	internal.status = "INTERNAL";
	internal.error = true;
	internal.error_type = "INTERNAL";
	struct rpc_record call = { .system = "grpc",
				   .method = "pkg.Svc/Get",
				   .status = "NOT_FOUND",
				   .error = true,
				   .error_type = "NOT_FOUND",
				   .server_address = "10.0.0.7",
				   .server_port = 443,
				   .duration_ns = MS };
	metrics_registry_record_rpc(reg, 0, &ok);
	metrics_registry_record_rpc(reg, 0, &ok);
	metrics_registry_record_rpc(reg, 0, &internal);
	metrics_registry_record_rpc(reg, 0, &call);
	char method[32];
	for (int i = 0; i < 5; i++) { /* 1 more fits the server side's cap of 3, 4 overflow */
		snprintf(method, sizeof(method), "pkg.Svc/M%d", i);
		struct rpc_record r = ok;
		r.method = method;
		metrics_registry_record_rpc(reg, 0, &r);
	}
	char *out = render(reg);
	assert_non_null(strstr(out,
			       "rpc_server_call_duration_seconds_count{job=\"svc\",instance=\"h:42\","
			       "rpc_method=\"pkg.Svc/Get\",rpc_response_status_code=\"OK\",rpc_system_name="
			       "\"grpc\",server_port=\"50051\"} 2\n"));
	assert_non_null(strstr(out,
			       "rpc_server_call_duration_seconds_count{job=\"svc\",instance=\"h:42\","
			       "error_type=\"INTERNAL\",rpc_method=\"pkg.Svc/Get\",rpc_response_status_code="
			       "\"INTERNAL\",rpc_system_name=\"grpc\",server_port=\"50051\"} 1\n"));
	assert_non_null(strstr(out,
			       "rpc_client_call_duration_seconds_count{job=\"svc\",instance=\"h:42\","
			       "error_type=\"NOT_FOUND\",rpc_method=\"pkg.Svc/Get\",rpc_response_status_code="
			       "\"NOT_FOUND\",rpc_system_name=\"grpc\",server_address=\"10.0.0.7\","
			       "server_port=\"443\"} 1\n"));
	assert_non_null(strstr(out, "rpc_method=\"pkg.Svc/M0\""));
	assert_null(strstr(out, "rpc_method=\"pkg.Svc/M1\""));
	assert_non_null(strstr(out,
			       "rpc_server_call_duration_seconds_count{job=\"svc\",instance=\"h:42\","
			       "rpc_method=\"_OTHER\",rpc_response_status_code=\"_OTHER\",rpc_system_name="
			       "\"grpc\"} 4\n"));
	assert_non_null(strstr(out, "# TYPE rpc_server_call_duration_seconds histogram\n"));
	free(out);
	metrics_registry_free(reg);
}

static double nan_gauge(void *ctx, int target)
{
	(void)ctx, (void)target;
	return NAN;
}

static double frac_gauge(void *ctx, int target)
{
	(void)ctx;
	return 0.1 * (target + 1);
}

static void test_promtool(void **state)
{
	(void)state;
	if (system("command -v promtool >/dev/null 2>&1")) {
		print_message("promtool not installed; skipping\n");
		skip();
	}
	static double dropped = 12;
	struct metrics_registry *reg = metrics_registry_new(20);
	struct resource r2 = test_res;
	strcpy(r2.service_name, "other \"svc\"");
	r2.pid = 43;
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	assert_int_equal(metrics_registry_add_target(reg, &r2), 1);
	static const char *meths[] = { "GET", "POST", "BREW", "DELETE" };
	static const uint16_t statuses[] = { 0, 200, 201, 404, 500, 503 };
	char path[64];
	for (int i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "/api/v%d/items/%d/\xff%c", i % 3, i, 'a' + i % 30);
		metrics_registry_record(
			reg, i % 2,
			&(struct http_record){ .kind = HTTP_SERVER,
					       .method = meths[i % 4],
					       .status = statuses[i % 6],
					       .path = path,
					       .pattern = i % 5 ? NULL : "GET /api/{v}/items/{id}",
					       .duration_ns = (uint64_t)i * 7 * MS });
		metrics_registry_record(
			reg, i % 2,
			&(struct http_record){ .kind = HTTP_CLIENT,
					       .method = meths[i % 4],
					       .status = statuses[i % 6],
					       .server_address = i % 7 ? "backend.internal" : "",
					       .server_port = 8080,
					       .duration_ns = (uint64_t)i * 3 * MS });
	}
	for (int i = 0; i < 50; i++)
		metrics_registry_record_rpc(
			reg, i % 2,
			&(struct rpc_record){ .server = i % 3 != 0,
					      .system = "grpc",
					      .method = i % 4 ? "pkg.Svc/Get" : "pkg.Svc/List",
					      .status = i % 5 ? "OK" : "UNAVAILABLE",
					      .error = i % 5 == 0,
					      .error_type = "UNAVAILABLE",
					      .server_address = i % 3 ? NULL : "backend",
					      .server_port = 9000,
					      .duration_ns = (uint64_t)i * MS });
	metrics_registry_add_gauge(reg, "http.server.active_requests", "{request}",
				   "Active requests.\nSecond \\ line.", false, frac_gauge, NULL, true);
	metrics_registry_add_gauge(reg, "glimpse.events.dropped", "{event}", "Dropped events.", true,
				   events_dropped, &dropped, false);
	metrics_registry_add_gauge(reg, "glimpse.odd", "1", "Not a number.", false, nan_gauge, NULL, false);
	char *out = render(reg);
	metrics_registry_free(reg);

	char file[] = "/tmp/glimpse-metrics-XXXXXX";
	int fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, out, strlen(out)), (ssize_t)strlen(out));
	close(fd);
	char cmd[128], line[512], all[4096] = "";
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", file);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		strncat(all, line, sizeof(all) - strlen(all) - 1);
	int status = pclose(p);
	unlink(file);
	if (status != 0 || all[0])
		fail_msg("promtool check metrics failed (status %d):\n%s", status, all);
	assert_non_null(strstr(out, "glimpse_odd_ratio NaN\n"));
	assert_non_null(strstr(out, "http_server_active_requests{job=\"svc\",instance=\"h:42\"} 0.1\n"));
	assert_non_null(strstr(out, "glimpse_events_dropped_total 12\n"));
	free(out);
}

static void test_view(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	assert_null(http_view_new(reg, 1));
	struct http_record r = {
		.kind = HTTP_SERVER, .method = "GET", .status = 200, .path = "/b/1", .duration_ns = 100 * MS
	};
	metrics_registry_record(reg, 0, &r); /* before the view: cumulative only */
	struct http_view *v = http_view_new(reg, 0);
	assert_non_null(v);
	for (int i = 1; i <= 100; i++) {
		r.duration_ns = (uint64_t)i * MS;
		r.status = i % 10 ? 200 : 502;
		metrics_registry_record(reg, 0, &r);
	}
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "POST",
						       .status = 201,
						       .path = "/b/2",
						       .duration_ns = 40 * MS });
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "GET",
						       .status = 200,
						       .path = "/a",
						       .duration_ns = 40 * MS });

	struct http_view_snapshot s;
	assert_int_equal(http_view_poll(v, &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(s.interval_s >= 0 && s.interval_s < 60);
	assert_string_equal(s.rows[0].route, "/a");
	assert_string_equal(s.rows[1].route, "/b/{id}");
	assert_string_equal(s.rows[1].method, "GET");
	assert_string_equal(s.rows[2].route, "/b/{id}");
	assert_string_equal(s.rows[2].method, "POST");
	const struct http_route_row *g = &s.rows[1];
	assert_int_equal(g->count, 101);
	assert_int_equal(g->errors, 10);
	assert_int_equal(g->interval_count, 100);
	assert_int_equal(g->interval_errors, 10);
	assert_true(fabs(g->p50 - 0.050) < 0.050 * 0.03);
	assert_true(fabs(g->p95 - 0.095) < 0.095 * 0.03);
	assert_true(fabs(g->p99 - 0.099) < 0.099 * 0.03);

	/* nothing new: interval is empty, totals stay */
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "GET",
						       .status = 500,
						       .path = "/a",
						       .duration_ns = 300 * MS });
	assert_int_equal(http_view_poll(v, &s), 0);
	assert_int_equal(s.rows[1].count, 101);
	assert_int_equal(s.rows[1].interval_count, 0);
	assert_true(s.rows[1].p99 == 0);
	assert_int_equal(s.rows[0].interval_count, 1);
	assert_int_equal(s.rows[0].interval_errors, 1);
	assert_true(fabs(s.rows[0].p50 - 0.3) < 0.3 * 0.03);

	/* a second view has its own intervals */
	struct http_view *v2 = http_view_new(reg, 0);
	assert_int_equal(http_view_poll(v2, &s), 0);
	assert_int_equal(s.rows[0].interval_count, 0);
	http_view_free(v2);
	http_view_free(v);
	metrics_registry_free(reg);
}

struct writer_arg {
	struct metrics_registry *reg;
	int n;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	char path[32];
	for (int i = 0; i < a->n; i++) {
		snprintf(path, sizeof(path), "/r%d/%d", i % 50, i);
		metrics_registry_record(a->reg, i % 2,
					&(struct http_record){ .kind = i % 3 ? HTTP_SERVER : HTTP_CLIENT,
							       .method = "GET",
							       .status = 200,
							       .path = path,
							       .server_address = "h",
							       .duration_ns = (uint64_t)i });
	}
	return NULL;
}

static void test_concurrency(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	struct resource r2 = test_res;
	r2.pid++;
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	assert_int_equal(metrics_registry_add_target(reg, &r2), 1);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0); /* same process */
	struct http_view *v = http_view_new(reg, 0);
	struct writer_arg a = { reg, 60000 };
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, &a), 0);
	uint64_t seen = 0;
	for (int i = 0; i < 30; i++) {
		char *out = render(reg);
		free(out);
		struct http_view_snapshot s;
		assert_int_equal(http_view_poll(v, &s), 0);
		for (size_t j = 0; j < s.n; j++)
			seen += s.rows[j].interval_count;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	struct http_view_snapshot s;
	assert_int_equal(http_view_poll(v, &s), 0);
	uint64_t total = 0;
	for (size_t j = 0; j < s.n; j++) {
		seen += s.rows[j].interval_count;
		total += s.rows[j].count;
	}
	/* target 0 gets even i; of those, server records are i % 3 != 0 */
	uint64_t want = 0;
	for (int i = 0; i < a.n; i += 2)
		want += i % 3 != 0;
	assert_int_equal(total, 2 * want);
	assert_int_equal(seen, 2 * want);
	http_view_free(v);
	metrics_registry_free(reg);
}

/* ---- resource ---- */

static void test_environ_parsing(void **state)
{
	(void)state;
	char out[64];
	static const char env1[] = "A=1\0OTEL_SERVICE_NAME=checkout\0B=2";
	assert_true(resource_service_from_environ(env1, sizeof(env1), out, sizeof(out)));
	assert_string_equal(out, "checkout");
	/* OTEL_SERVICE_NAME wins whichever comes first */
	static const char env2[] = "OTEL_RESOURCE_ATTRIBUTES=service.name=attr\0OTEL_SERVICE_NAME=env";
	assert_true(resource_service_from_environ(env2, sizeof(env2), out, sizeof(out)));
	assert_string_equal(out, "env");
	static const char env3[] =
		"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod, service.name = my%20svc%2c1 ,x=y";
	assert_true(resource_service_from_environ(env3, sizeof(env3), out, sizeof(out)));
	assert_string_equal(out, "my svc,1");
	static const char env4[] = "OTEL_SERVICE_NAME=\0OTEL_RESOURCE_ATTRIBUTES=service.namespace=a";
	assert_false(resource_service_from_environ(env4, sizeof(env4), out, sizeof(out)));
	static const char env5[] = "XOTEL_SERVICE_NAME=no\0PATH=/bin";
	assert_false(resource_service_from_environ(env5, sizeof(env5) - 1, out, sizeof(out)));
	/* A value that is not percent-encoded names nothing: the executable's name serves. */
	static const char env7[] = "OTEL_RESOURCE_ATTRIBUTES=service.name=100%,x=1";
	assert_false(resource_service_from_environ(env7, sizeof(env7), out, sizeof(out)));
	/* Items that are not key=value are the target's business: skipped. */
	static const char env8[] = "OTEL_RESOURCE_ATTRIBUTES=junk,=x, service.name=ok";
	assert_true(resource_service_from_environ(env8, sizeof(env8), out, sizeof(out)));
	assert_string_equal(out, "ok");
	/* truncation instead of overflow */
	static const char env6[] = "OTEL_SERVICE_NAME=abcdefghijklmnop";
	char small[5];
	assert_true(resource_service_from_environ(env6, sizeof(env6), small, sizeof(small)));
	assert_string_equal(small, "abcd");
}

static pid_t spawn_sleep(char *const envp[])
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		execle("/bin/sleep", "sleep", "30", (char *)NULL, envp);
		_exit(127);
	}
	/* Until exec, the child is still this test binary; and /proc/PID/exe changes before exec
	 * has set up the new stack, where environ lives. cmdline comes from that stack too: once it
	 * reads "sleep", the environment is the new one. */
	char path[64], cmd[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
		if (f)
			fclose(f);
		cmd[n] = '\0';
		if (n && !strcmp(cmd, "sleep"))
			break;
		usleep(10000);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_resource_for_pid(void **state)
{
	(void)state;
	struct resource r;
	char exe[PATH_MAX], host[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	gethostname(host, sizeof(host));
	assert_int_equal(resource_for_pid(getpid(), &r), 0);
	assert_string_equal(r.executable_name, strrchr(exe, '/') + 1);
	assert_string_equal(r.host_name, host);
	assert_int_equal(r.pid, getpid());
	if (!getenv("OTEL_SERVICE_NAME") && !getenv("OTEL_RESOURCE_ATTRIBUTES"))
		assert_string_equal(r.service_name, r.executable_name);

	char *env_attrs[] = { "FOO=1", "OTEL_RESOURCE_ATTRIBUTES=service.name=checkout%20svc", NULL };
	pid_t pid = spawn_sleep(env_attrs);
	assert_int_equal(resource_for_pid(pid, &r), 0);
	assert_string_equal(r.service_name, "checkout svc");
	assert_string_equal(r.executable_name, "sleep");
	reap(pid);

	char *env_name[] = { "OTEL_SERVICE_NAME=orders", "OTEL_RESOURCE_ATTRIBUTES=service.name=ignored",
			     NULL };
	pid = spawn_sleep(env_name);
	assert_int_equal(resource_for_pid(pid, &r), 0);
	assert_string_equal(r.service_name, "orders");
	reap(pid);

	char *env_none[] = { "PATH=/bin", NULL };
	pid = spawn_sleep(env_none);
	assert_int_equal(resource_for_pid(pid, &r), 0);
	assert_string_equal(r.service_name, "sleep");
	reap(pid);
	assert_int_equal(resource_for_pid(pid, &r), -ESRCH);
}

/* ---- exporter ---- */

static void test_parse_addr(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	size_t len;
	char err[256];
	char ip[INET6_ADDRSTRLEN];
	assert_int_equal(prom_parse_addr(NULL, &ss, &len, err, sizeof(err)), 0);
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 9464);
	assert_string_equal(inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)), "127.0.0.1");
	assert_int_equal(prom_parse_addr(":9100", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(in->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(ntohs(in->sin_port), 9100);
	assert_int_equal(prom_parse_addr("[::1]:9200", &ss, &len, err, sizeof(err)), 0);
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 9200);
	assert_string_equal(inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip)), "::1");
	static const char *bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "1.2.3.4:70000",
				     "::1:80",	  "[::1]80",	"[::1:80",     "host:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(prom_parse_addr(bad[i], &ss, &len, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, bad[i]));
	}
}

/* One HTTP/1.0 exchange; returns the whole response (headers and body), malloc'd. */
static char *http_request(int port, const char *method, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char req[256];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, n), n);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while ((r = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += r;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static void test_exporter(void **state)
{
	(void)state;
	char err[256] = "";
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(metrics_registry_add_target(reg, &test_res), 0);
	metrics_registry_record(reg, 0,
				&(struct http_record){ .kind = HTTP_SERVER,
						       .method = "GET",
						       .status = 200,
						       .path = "/x",
						       .duration_ns = MS });
	struct prom_exporter *e = prom_exporter_start("127.0.0.1:0", reg, err, sizeof(err));
	if (!e)
		fail_msg("exporter did not start: %s", err);
	int port = prom_exporter_port(e);
	assert_true(port > 0);

	char *resp = http_request(port, "GET", "/metrics");
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	assert_non_null(strcasestr(resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(resp, "\r\n\r\n# HELP target_info"));
	assert_non_null(strstr(resp, "http_route=\"/x\""));
	free(resp);
	resp = http_request(port, "GET", "/metrics?name[]=x");
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	free(resp);
	resp = http_request(port, "GET", "/healthz");
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	assert_non_null(strstr(resp, "\r\n\r\nok\n"));
	free(resp);
	/* / is the dashboard (tests/unit/test_dashboard.c, tests/e2e/test_dashboard.py). */
	resp = http_request(port, "GET", "/");
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	assert_non_null(strcasestr(resp, "\r\nContent-Security-Policy: default-src 'none';"));
	free(resp);
	resp = http_request(port, "GET", "/nope");
	assert_non_null(strstr(resp, "HTTP/1.1 404"));
	free(resp);
	resp = http_request(port, "POST", "/metrics");
	assert_non_null(strstr(resp, "HTTP/1.1 405"));
	assert_non_null(strcasestr(resp, "\r\nAllow: GET, HEAD\r\n"));
	free(resp);
	resp = http_request(port, "HEAD", "/metrics");
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	assert_null(strstr(resp, "target_info"));
	free(resp);

	char addr[64], want[160];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_null(prom_exporter_start(addr, reg, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s is already in use; pick another with --prometheus-addr", addr);
	assert_string_equal(err, want);

	assert_null(prom_exporter_start("192.0.2.1:9464", reg, err, sizeof(err)));
	assert_non_null(strstr(err, "is not an address of this machine"));
	assert_null(prom_exporter_start("nonsense", reg, err, sizeof(err)));
	assert_non_null(strstr(err, "bad address nonsense"));

	prom_exporter_stop(e);
	prom_exporter_stop(NULL);
	metrics_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_bucket_edges),
		cmocka_unit_test(test_fine_buckets),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_quantiles_of_delta),
		cmocka_unit_test(test_route_heuristics),
		cmocka_unit_test(test_route_table_cap),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_prom_names),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_empty_registry),
		cmocka_unit_test(test_many_families),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_route_overflow_in_registry),
		cmocka_unit_test(test_client_labels),
		cmocka_unit_test(test_db_sides_and_error_types),
		cmocka_unit_test(test_rpc_series_and_cap),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_environ_parsing),
		cmocka_unit_test(test_resource_for_pid),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_exporter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
