// SPDX-License-Identifier: Apache-2.0
/* Drives the OTLP exporter the way the tracer will: enqueues N synthetic spans at a given rate
 * from one thread (measuring how long each enqueue takes) and exports a registry with a few
 * synthetic metrics. Configuration comes from the OTEL_* environment, as in glimpse.
 *
 *   otlp_driver [--spans N] [--rate PER_S] [--services K] [--metrics-interval SECS]
 *               [--linger-ms MS] [--stop-timeout-ms MS] [--realtime]
 *
 * --realtime runs the enqueuing thread SCHED_FIFO (when allowed) so that latency numbers
 * measure the exporter, not other processes competing for the CPU.
 *
 * Span i (all fields derive from i, so a test can recompute them):
 *   trace_id   01020304050607 08 + big-endian (i/2 + 1)      (spans 2k and 2k+1 share a trace)
 *   span_id    big-endian (i + 1); parent_span_id: span i-1 for odd i, none for even i
 *   name       "span-<i>", kind SERVER (even) or CLIENT (odd)
 *   start      1700000000000000000 + i * 1000000 ns, end = start + 1000 + i
 *   status     i%5==0 ERROR "boom <i>", i%5==1 OK, else UNSET
 *   attributes http.request.method="GET", http.response.status_code=200+i%3, index=i,
 *              ratio=i/4.0, even=(i%2==0), note="ünï-<i>"
 *   resource   service.name "driver-svc-<i%K>", process.pid = getpid() + i%K,
 *              process.executable.name "otlp_driver", host.name "driver-host"
 * At exit, one JSON line on stdout: the exporter's stats and enqueue latencies. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics/registry.h"
#include "base/log.h"
#include "export/otlp.h"

#define MS 1000000ULL

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until_ns(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void put_be64(uint8_t *out, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static void make_resource(struct resource *r, int k)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->service_name, sizeof(r->service_name), "driver-svc-%d", k);
	snprintf(r->executable_name, sizeof(r->executable_name), "otlp_driver");
	snprintf(r->host_name, sizeof(r->host_name), "driver-host");
	r->pid = getpid() + k;
}

static double active_requests(void *ctx, int target)
{
	(void)ctx, (void)target;
	return 7;
}

static double events_dropped(void *ctx, int target)
{
	(void)ctx, (void)target;
	return 42;
}

static const double obs_bounds[] = { 0.1, 1 };

static int observe(void *ctx, int target, struct metric_point *p, int max)
{
	(void)ctx, (void)target;
	if (max < 1)
		return 0;
	p[0].attr_name = "phase";
	p[0].attr_value = "a";
	p[0].bounds = obs_bounds;
	p[0].nbounds = 2;
	p[0].counts[0] = 1, p[0].counts[1] = 2, p[0].counts[2] = 3;
	p[0].count = 6;
	p[0].sum = 4.5;
	return 1;
}

/* Known traffic (see test_otlp_exporter.py for the expected buckets). */
static void record_traffic(struct metrics_registry *reg, int t)
{
	static const struct http_record recs[] = {
		{ .kind = HTTP_SERVER,
		  .method = "GET",
		  .status = 200,
		  .path = "/users/1",
		  .pattern = "/users/{id}",
		  .duration_ns = 3 * MS },
		{ .kind = HTTP_SERVER,
		  .method = "GET",
		  .status = 200,
		  .path = "/users/2",
		  .pattern = "/users/{id}",
		  .duration_ns = 20 * MS },
		{ .kind = HTTP_SERVER,
		  .method = "GET",
		  .status = 200,
		  .path = "/users/3",
		  .pattern = "/users/{id}",
		  .duration_ns = 200 * MS },
		{ .kind = HTTP_SERVER,
		  .method = "POST",
		  .status = 503,
		  .path = "/orders",
		  .pattern = "/orders",
		  .duration_ns = 1500 * MS },
		{ .kind = HTTP_CLIENT,
		  .method = "GET",
		  .status = 200,
		  .server_address = "api.example.com",
		  .server_port = 443,
		  .duration_ns = 10 * MS },
		{ .kind = HTTP_CLIENT,
		  .method = "GET",
		  .status = 200,
		  .server_address = "api.example.com",
		  .server_port = 443,
		  .duration_ns = 10 * MS },
		{ .kind = HTTP_CLIENT,
		  .method = "GET",
		  .status = 0,
		  .server_address = "down.example.com",
		  .server_port = 80,
		  .duration_ns = 50 * MS },
	};
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		metrics_registry_record(reg, t, &recs[i]);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: otlp_driver [--spans N] [--rate PER_S] [--services K] "
			"[--metrics-interval SECS] [--linger-ms MS] [--stop-timeout-ms MS] [--realtime]\n");
	exit(2);
}

static double num(const char *s, double min, double max)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || v < min || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spans", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "services", required_argument, NULL, 'k' },
		{ "metrics-interval", required_argument, NULL, 'm' },
		{ "linger-ms", required_argument, NULL, 'l' },
		{ "stop-timeout-ms", required_argument, NULL, 't' },
		{ "realtime", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	long nspans = 100, services = 1, linger_ms = 0, stop_ms = 10000;
	double rate = 0, metrics_s = 0;
	bool realtime = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			nspans = (long)num(optarg, 0, 1e8);
			break;
		case 'r':
			rate = num(optarg, 0, 1e9);
			break;
		case 'k':
			services = (long)num(optarg, 1, 64);
			break;
		case 'm':
			metrics_s = num(optarg, 0, 3600);
			break;
		case 'l':
			linger_ms = (long)num(optarg, 0, 3600000);
			break;
		case 't':
			stop_ms = (long)num(optarg, 0, 3600000);
			break;
		case 'R':
			realtime = true;
			break;
		default:
			usage();
		}
	}
	log_setup(false, 0);

	char err[512];
	struct otlp_config cfg;
	if (otlp_config_from_env(&cfg, err, sizeof(err))) {
		fprintf(stderr, "otlp_driver: %s\n", err);
		return 2;
	}
	struct otlp_exporter *exp = otlp_exporter_start(&cfg, err, sizeof(err));
	if (!exp) {
		fprintf(stderr, "otlp_driver: %s\n", err);
		return 1;
	}
	struct resource res[64];
	for (int k = 0; k < services; k++)
		make_resource(&res[k], k);

	struct metrics_registry *reg = NULL;
	if (metrics_s > 0) {
		reg = metrics_registry_new(0);
		int t = reg ? metrics_registry_add_target(reg, &res[0]) : -1;
		if (t < 0 ||
		    metrics_registry_add_updown(reg, "http.server.active_requests", "{request}",
						"Requests in flight.", active_requests, NULL, true) ||
		    metrics_registry_add_gauge(reg, "glimpse.events.dropped", "{event}", "Events lost.", true,
					       events_dropped, NULL, false) ||
		    metrics_registry_add_observer(reg, "test.histogram", "s", "A test histogram.",
						  METRIC_HISTOGRAM, observe, NULL) ||
		    otlp_exporter_register_metrics(exp, reg) ||
		    otlp_exporter_add_metrics(exp, reg, metrics_s)) {
			fprintf(stderr, "otlp_driver: cannot set up metrics\n");
			return 1;
		}
		record_traffic(reg, t);
	}

	int64_t *lat = calloc((size_t)nspans + 1, sizeof(*lat));
	if (!lat)
		return 1;
	long slowest = -1;
	/* After the exporter started: its thread keeps the default policy. */
	struct sched_param sp = { .sched_priority = 1 };
	if (realtime && pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))
		fprintf(stderr, "otlp_driver: no SCHED_FIFO; latencies include scheduling noise\n");
	int64_t start = mono_ns();
	for (long i = 0; i < nspans; i++) {
		if (rate > 0)
			sleep_until_ns(start + (int64_t)((double)i * 1e9 / rate));
		/* Fresh stack buffers every time, overwritten after the call: the exporter must
		 * have copied them. */
		char name[32], msg[32], note[32];
		snprintf(name, sizeof(name), "span-%ld", i);
		snprintf(msg, sizeof(msg), "boom %ld", i);
		snprintf(note, sizeof(note), "\xc3\xbcn\xc3\xaf-%ld", i);
		struct otlp_span s = {
			.name = name,
			.kind = i % 2 ? OTLP_SPAN_CLIENT : OTLP_SPAN_SERVER,
			.start_unix_ns = 1700000000000000000ULL + (uint64_t)i * MS,
			.status = i % 5 == 0   ? OTLP_STATUS_ERROR
				  : i % 5 == 1 ? OTLP_STATUS_OK
					       : OTLP_STATUS_UNSET,
			.status_message = i % 5 == 0 ? msg : NULL,
		};
		s.end_unix_ns = s.start_unix_ns + 1000 + (uint64_t)i;
		put_be64(s.trace_id, 0x0102030405060708ULL);
		put_be64(s.trace_id + 8, (uint64_t)i / 2 + 1);
		put_be64(s.span_id, (uint64_t)i + 1);
		if (i % 2)
			put_be64(s.parent_span_id, (uint64_t)i);
		s.attrs[s.nattrs++] = otlp_attr_str("http.request.method", "GET");
		s.attrs[s.nattrs++] = otlp_attr_int("http.response.status_code", 200 + i % 3);
		s.attrs[s.nattrs++] = otlp_attr_int("index", i);
		s.attrs[s.nattrs++] = otlp_attr_double("ratio", (double)i / 4.0);
		s.attrs[s.nattrs++] = otlp_attr_bool("even", i % 2 == 0);
		s.attrs[s.nattrs++] = otlp_attr_str("note", note);
		int64_t t0 = mono_ns();
		otlp_enqueue_span(exp, &res[i % services], &s);
		lat[i] = mono_ns() - t0;
		if (slowest < 0 || lat[i] > lat[slowest])
			slowest = i;
		memset(name, 'x', sizeof(name) - 1);
		memset(note, 'x', sizeof(note) - 1);
	}
	sp.sched_priority = 0;
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	if (linger_ms)
		sleep_until_ns(mono_ns() + linger_ms * (int64_t)MS);
	int rc = otlp_exporter_stop(exp, (int)stop_ms);

	struct otlp_stats st;
	otlp_exporter_stats(exp, &st);
	if (getenv("OTLP_DRIVER_VERBOSE"))
		fprintf(stderr, "otlp_driver: slowest enqueue: span %ld, %.1f us\n", slowest,
			slowest >= 0 ? lat[slowest] / 1e3 : 0);
	qsort(lat, (size_t)nspans, sizeof(*lat), cmp_i64);
	double max_us = nspans ? lat[nspans - 1] / 1e3 : 0;
	double p99_us = nspans ? lat[(nspans - 1) * 99 / 100] / 1e3 : 0;
	printf("{\"pid\":%d,\"enqueued\":%" PRIu64 ",\"exported\":%" PRIu64 ",\"dropped\":%" PRIu64
	       ",\"failed\":%" PRIu64 ",\"queued\":%" PRIu64 ",\"export_requests\":%" PRIu64
	       ",\"export_errors\":%" PRIu64 ",\"metrics_exports\":%" PRIu64 ",\"metrics_failed\":%" PRIu64
	       ",\"metric_points_rejected\":%" PRIu64
	       ",\"max_enqueue_us\":%.1f,\"p99_enqueue_us\":%.1f,\"stop_rc\":%d}\n",
	       (int)getpid(), st.spans_enqueued, st.spans_exported, st.spans_dropped, st.spans_failed,
	       st.spans_queued, st.export_requests, st.export_errors, st.metrics_exports, st.metrics_failed,
	       st.metric_points_rejected, max_us, p99_us, rc);
	otlp_exporter_free(exp);
	metrics_registry_free(reg);
	free(lat);
	return 0;
}
