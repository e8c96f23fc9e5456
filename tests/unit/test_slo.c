// SPDX-License-Identifier: Apache-2.0
/* Service level objectives: the --slo syntax and its checks, the burn-rate scheme's numbers,
 * extra histogram bounds, and the live tracker's windows over a registry fed with known
 * requests at known (synthetic) times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/resource.h"
#include "base/clock.h"
#include "base/histogram.h"
#include "metrics/registry.h"
#include "metrics/slo.h"
#include "metrics/slo_tracker.h"

#define MS  1000000ULL
#define SEC 1000000000ULL

static void test_parse(void **state)
{
	(void)state;
	struct slo_objective o;
	char err[256];
	assert_int_equal(
		slo_objective_parse("objective=latency,target=99.9%,threshold=250ms,route=/users/{id}", &o,
				    err, sizeof(err)),
		0);
	assert_string_equal(o.objective, "latency");
	assert_true(o.target == 0.999); /* as written, not 0.99900000000000011 */
	assert_int_equal(o.threshold_ms, 250);
	assert_int_equal(o.window_ms, SLO_DEFAULT_WINDOW);
	assert_string_equal(o.route, "/users/{id}");
	assert_string_equal(o.name, "latency-/users/{id}");
	assert_int_equal(slo_objective_parse("objective=availability,target=0.99,window=28d,name=n", &o, err,
					     sizeof(err)),
			 0);
	assert_int_equal(o.window_ms, 28u * 86400000u);
	assert_string_equal(o.name, "n");

	static const struct {
		const char *spec, *error;
	} bad[] = {
		{ "objective=availability", "SLO target must be a share" },
		{ "objective=availability,target=1", "SLO target must be a share" },
		{ "objective=availability,target=99", "SLO target must be a share" },
		{ "objective=availability,target=abc", "SLO target must be a share" },
		{ "objective=latency,target=0.9", "needs a threshold" },
		{ "objective=latency,target=0.9,threshold=fast", "'fast' is not a duration" },
		{ "objective=latency,target=0.9,threshold=-5ms", "'-5ms' is not a duration" },
		{ "objective=uptime,target=0.9", "SLO objective 'uptime' is unknown" },
		{ "objective=availability,target=0.9,window=59m", "at least 1h" },
		{ "objective=availability,target=0.9,window=99999999d", "is not a duration" },
		{ "target=0.9,name=a\"b,objective=availability", "quote, backslash or control" },
		{ "objective=availability,target=0.9,route", "is not KEY=VALUE" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(slo_objective_parse(bad[i].spec, &o, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].error))
			fail_msg("%s: '%s' does not say '%s'", bad[i].spec, err, bad[i].error);
	}
}

static void test_burn_rates_of_the_scheme(void **state)
{
	(void)state;
	struct slo_objective o = { .window_ms = SLO_DEFAULT_WINDOW };
	const double want[SLO_ALERTS] = { 14.4, 6, 3, 1 };
	for (int i = 0; i < SLO_ALERTS; i++)
		assert_true(fabs(slo_alert_burn_rate(&slo_alerts[i], &o) - want[i]) < 1e-12);
}

static void test_extra_bounds(void **state)
{
	(void)state;
	size_t before = hist_export_nbounds;
	assert_int_equal(export_hist_add_bound(300 * MS), 0);
	assert_int_equal(export_hist_add_bound(300 * MS), 0); /* once */
	assert_int_equal(export_hist_add_bound(250 * MS), 0); /* a default bound already */
	assert_int_equal(hist_export_nbounds, before + 1);
	int i = export_hist_bound_index(300 * MS);
	assert_true(i > 0 && hist_export_bounds[i] == 0.3 && hist_export_bounds[i - 1] == 0.25 &&
		    hist_export_bounds[i + 1] == 0.5);
	assert_int_equal(export_hist_bucket(300 * MS), i); /* le is inclusive */
	assert_int_equal(export_hist_bucket(300 * MS + 1), i + 1);
}

static void record(struct metrics_registry *reg, int t, const char *route, unsigned status, uint64_t ns,
		   int n)
{
	struct http_record r = { .kind = HTTP_SERVER,
				 .method = "GET",
				 .status = (uint16_t)status,
				 .route = route,
				 .duration_ns = ns };
	for (int i = 0; i < n; i++)
		metrics_registry_record(reg, t, &r);
}

/* Ten minutes of 100 good requests a minute, then 10 % bad for two minutes: the 5-minute window
 * sees the last five minutes' 20 bad of 500, the hour (not yet watched whole) all 20 of 1200. */
static void test_tracker_windows(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	struct resource res = { .pid = 1 };
	snprintf(res.service_name, sizeof(res.service_name), "shop");
	int t = metrics_registry_add_target(reg, &res);
	struct slo_objective objs[2];
	char err[256];
	assert_int_equal(slo_objective_parse("objective=availability,target=99%,service=shop", &objs[0], err,
					     sizeof(err)),
			 0);
	assert_int_equal(slo_objective_parse("objective=availability,target=99%,service=other,name=o",
					     &objs[1], err, sizeof(err)),
			 0);
	struct slo_tracker *tr = slo_tracker_new(reg, objs, 2, err, sizeof(err));
	assert_non_null(tr);
	assert_int_equal(slo_tracker_add_target(tr, t, "shop"), 1); /* not "other" */
	uint64_t now = clock_mono_ns();
	for (int min = 0; min < 12; min++) {
		for (int s = 0; s < 60; s++) {
			if (s == 0)
				record(reg, t, "/pay", 200, 1 * MS, min < 10 ? 100 : 90);
			if (s == 0 && min >= 10)
				record(reg, t, "/pay", 503, 1 * MS, 10);
			now += SEC;
			slo_tracker_sample(tr, now);
		}
	}
	struct slo_status st[SLO_MAX];
	assert_int_equal(slo_tracker_status(tr, t, st, SLO_MAX), 1);
	/* 5m: the window starts at the newest sample at least 5 minutes old (sampled every 5 s). */
	assert_true(fabs(st[0].burn[0] - (20.0 / 500) / 0.01) < 1e-9);
	assert_true(fabs(st[0].burn[2] - (20.0 / 1200) / 0.01) < 1e-9);
	assert_int_equal(st[0].requests, 1200);
	assert_int_equal(st[0].bad, 20);
	assert_true(fabs(st[0].budget_left - (1 - (20.0 / 1200) / 0.01)) < 1e-9);
	/* Burn 4 over 5m, 1.67 over every longer window: only the ticket over 3 d and 6 h (1x). */
	assert_false(st[0].firing[0] || st[0].firing[1] || st[0].firing[2]);
	assert_true(st[0].firing[3]);
	slo_tracker_free(tr);
	metrics_registry_free(reg);
}

/* gRPC calls served count with the service's requests (a route's objective judges HTTP alone);
 * client calls never do. */
static void test_totals_with_grpc(void **state)
{
	(void)state;
	struct metrics_registry *reg = metrics_registry_new(0);
	struct resource res = { .pid = 2 };
	snprintf(res.service_name, sizeof(res.service_name), "rpcsvc");
	int t = metrics_registry_add_target(reg, &res);
	record(reg, t, "/a", 200, 1 * MS, 6);
	record(reg, t, "/a", 502, 1 * MS, 1);
	struct rpc_record ok = {
		.server = true, .system = "grpc", .method = "p.S/M", .status = "OK", .duration_ns = 1 * MS
	};
	struct rpc_record bad = ok, notfound = ok, client = ok;
	bad.status = "UNAVAILABLE", bad.error = true, bad.error_type = "UNAVAILABLE";
	notfound.status = "NOT_FOUND"; /* not a server error by the RPC conventions */
	client.server = false, client.status = "INTERNAL", client.error = true,
	client.error_type = "INTERNAL";
	client.server_address = "peer";
	for (int i = 0; i < 2; i++) {
		metrics_registry_record_rpc(reg, t, &ok);
		metrics_registry_record_rpc(reg, t, &bad);
		metrics_registry_record_rpc(reg, t, &notfound);
		metrics_registry_record_rpc(reg, t, &client);
	}
	struct http_server_totals tot;
	assert_int_equal(metrics_registry_server_totals(reg, t, NULL, -1, &tot), 0);
	assert_int_equal(tot.requests, 7 + 6);
	assert_int_equal(tot.errors, 1 + 2);
	assert_int_equal(metrics_registry_server_totals(reg, t, "/a", -1, &tot), 0);
	assert_int_equal(tot.requests, 7);
	assert_int_equal(tot.errors, 1);
	assert_int_equal(metrics_registry_server_totals(reg, t + 1, NULL, -1, &tot), -ENOENT);
	metrics_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_burn_rates_of_the_scheme),
		cmocka_unit_test(test_extra_bounds),
		cmocka_unit_test(test_tracker_windows),
		cmocka_unit_test(test_totals_with_grpc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
