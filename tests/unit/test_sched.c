// SPDX-License-Identifier: Apache-2.0
/* Scheduler and process statistics: the run-queue bucket function the BPF program runs,
 * quantiles from bucket counts, and the /proc parsers behind process.* metrics (on sample
 * text, then on this very process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics/proc_stats.h"
#include "base/procfs.h"
#include "sched_maps.h"
#include "metrics/sched_stats.h"

static void assert_near_at(double got, double want, double eps, const char *file, int line)
{
	if (fabs(got - want) > eps) {
		print_error("%.12g is not within %.3g of %.12g\n", got, eps, want);
		_fail(file, line);
	}
}
#define assert_near(got, want, eps) assert_near_at((got), (want), (eps), __FILE__, __LINE__)

/* ---- buckets ---- */

static const uint64_t bounds_ns[SCHED_NR_BOUNDS] = SCHED_BOUNDS_NS_INIT;

/* The obvious definition the binary search must agree with. */
static int linear_bucket(uint64_t ns)
{
	for (int i = 0; i < SCHED_NR_BOUNDS; i++)
		if (ns <= bounds_ns[i])
			return i;
	return SCHED_NR_BOUNDS;
}

static void test_bounds_agree(void **state)
{
	(void)state;
	assert_int_equal(SCHED_RUNQ_BOUNDS, SCHED_NR_BOUNDS);
	for (int i = 0; i < SCHED_RUNQ_BOUNDS; i++) {
		assert_int_equal((uint64_t)llround(sched_runq_bounds[i] * 1e9), bounds_ns[i]);
		if (i) {
			assert_true(sched_runq_bounds[i] > sched_runq_bounds[i - 1]);
			/* "roughly x2": neighbours differ by 2 or 2.5 */
			double f = sched_runq_bounds[i] / sched_runq_bounds[i - 1];
			assert_true(f >= 1.99 && f <= 2.51);
		}
	}
	assert_near(sched_runq_bounds[0], 1e-6, 1e-15);
	assert_near(sched_runq_bounds[SCHED_RUNQ_BOUNDS - 1], 2.0, 1e-12);
}

static void test_bucket_edges(void **state)
{
	(void)state;
	/* le is inclusive: a latency equal to a bound is in that bound's bucket. */
	for (int i = 0; i < SCHED_NR_BOUNDS; i++) {
		uint64_t b = bounds_ns[i];
		assert_int_equal(sched_runq_bucket(b), i);
		assert_int_equal(sched_runq_bucket(b + 1), i + 1);
		assert_int_equal(sched_runq_bucket(b - 1), i == 0 || b - 1 > bounds_ns[i - 1] ? i : i - 1);
	}
	assert_int_equal(sched_runq_bucket(0), 0);
	assert_int_equal(sched_runq_bucket(1), 0);
	assert_int_equal(sched_runq_bucket(1500), 1);
	assert_int_equal(sched_runq_bucket(14000000), 13); /* 14 ms: (10 ms, 20 ms] */
	assert_int_equal(sched_runq_bucket(2000000001ULL), SCHED_NR_BOUNDS);
	assert_int_equal(sched_runq_bucket(UINT64_MAX), SCHED_NR_BOUNDS);
}

static void test_bucket_matches_linear_search(void **state)
{
	(void)state;
	/* Every value near every bound, then a log-spaced sweep over 20 decades. */
	for (int i = 0; i < SCHED_NR_BOUNDS; i++)
		for (int64_t d = -3; d <= 3; d++) {
			uint64_t v = bounds_ns[i] + (uint64_t)d;
			assert_int_equal(sched_runq_bucket(v), linear_bucket(v));
		}
	for (double v = 1; v < 1e20; v *= 1.01)
		assert_int_equal(sched_runq_bucket((uint64_t)v), linear_bucket((uint64_t)v));
}

/* ---- quantiles ---- */

static void test_quantile_empty(void **state)
{
	(void)state;
	struct sched_process_stats a = { 0 }, b = { 0 };
	assert_near(sched_runq_quantile(&a, &b, 0.5), 0, 0);
	assert_near(sched_runq_quantile(&a, NULL, 0.99), 0, 0);
	/* Equal reads: nothing happened in between. */
	a.runq_counts[4] = b.runq_counts[4] = 7;
	assert_near(sched_runq_quantile(&a, &b, 0.5), 0, 0);
}

static void test_quantile_interpolates_within_bucket(void **state)
{
	(void)state;
	struct sched_process_stats s = { 0 };
	s.runq_counts[2] = 10; /* (2 µs, 5 µs] */
	assert_near(sched_runq_quantile(&s, NULL, 0.5), 3.5e-6, 1e-12);
	assert_near(sched_runq_quantile(&s, NULL, 0.1), 2.3e-6, 1e-12);
	assert_near(sched_runq_quantile(&s, NULL, 1.0), 5e-6, 1e-12);
	/* q = 0: the lower edge of the first bucket that holds anything. */
	assert_near(sched_runq_quantile(&s, NULL, 0.0), 2e-6, 1e-12);
	/* Out-of-range q is clamped. */
	assert_near(sched_runq_quantile(&s, NULL, 7), 5e-6, 1e-12);
	assert_near(sched_runq_quantile(&s, NULL, -1), 2e-6, 1e-12);

	/* The first bucket starts at 0. */
	struct sched_process_stats f = { 0 };
	f.runq_counts[0] = 4;
	assert_near(sched_runq_quantile(&f, NULL, 0.5), 0.5e-6, 1e-12);
}

static void test_quantile_across_buckets(void **state)
{
	(void)state;
	struct sched_process_stats s = { 0 };
	s.runq_counts[9] = 50;	/* (0.5 ms, 1 ms] */
	s.runq_counts[12] = 50; /* (5 ms, 10 ms] */
	/* rank 50 is reached at the end of bucket 9. */
	assert_near(sched_runq_quantile(&s, NULL, 0.5), 1e-3, 1e-12);
	/* rank 75: half-way through bucket 12. */
	assert_near(sched_runq_quantile(&s, NULL, 0.75), 7.5e-3, 1e-12);
	/* rank 25: half-way through bucket 9. */
	assert_near(sched_runq_quantile(&s, NULL, 0.25), 0.75e-3, 1e-12);
}

static void test_quantile_of_difference(void **state)
{
	(void)state;
	struct sched_process_stats before = { 0 }, now = { 0 };
	before.runq_counts[1] = 1000; /* old history: short waits */
	now.runq_counts[1] = 1000;
	now.runq_counts[13] = 8; /* since then: (10 ms, 20 ms] only */
	assert_near(sched_runq_quantile(&now, &before, 0.5), 15e-3, 1e-12);
	/* Without the earlier read, the old short waits dominate. */
	assert_true(sched_runq_quantile(&now, NULL, 0.5) < 2e-6);
	/* A before larger than now (counter reset) counts as nothing, not as a huge number. */
	before.runq_counts[13] = 100;
	assert_near(sched_runq_quantile(&now, &before, 0.5), 0, 0);
}

static void test_quantile_inf_bucket(void **state)
{
	(void)state;
	struct sched_process_stats s = { 0 };
	s.runq_counts[SCHED_RUNQ_BOUNDS] = 3;
	/* Above every bound: the highest bound, as Prometheus reports it. */
	assert_near(sched_runq_quantile(&s, NULL, 0.5), 2.0, 1e-12);
	s.runq_counts[0] = 97;
	assert_near(sched_runq_quantile(&s, NULL, 0.99), 2.0, 1e-12);
	assert_near(sched_runq_quantile(&s, NULL, 0.5), 0.5e-6 * 100 / 97, 1e-12);
}

/* ---- /proc parsers ---- */

/* comm with spaces and parentheses: only the last ')' ends it. */
static const char STAT_SAMPLE[] =
	"4242 (my (weird) app) S 1 4242 4242 0 -1 4194560 1234 0 5 0 250 75 0 0 20 0 7 0 "
	"98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 17 1 0 0 0 0 0";

static const char STATUS_SAMPLE[] = "Name:\tmy (weird) app\n"
				    "Umask:\t0022\n"
				    "State:\tS (sleeping)\n"
				    "Tgid:\t4242\n"
				    "Threads:\t7\n"
				    "VmPeak:\t  200000 kB\n"
				    "VmRSS:\t    8192 kB\n"
				    "RssAnon:\t    4096 kB\n"
				    "voluntary_ctxt_switches:\t31\n"
				    "nonvoluntary_ctxt_switches:\t4";

static void test_parse_stat(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_true(proc_parse_stat(STAT_SAMPLE, &st));
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.utime, 250);
	assert_int_equal(st.stime, 75);
	assert_int_equal(st.num_threads, 7);
	assert_int_equal(st.starttime, 98765);
	assert_int_equal(st.rss_pages, 2048);
	/* Malformed: no comm, truncated, non-numeric fields. */
	assert_false(proc_parse_stat("", &st));
	assert_false(proc_parse_stat("12 (x)", &st));
	assert_false(proc_parse_stat("12 (x) S 1 2 3", &st));
	assert_false(
		proc_parse_stat("12 (x) S 1 2 3 4 5 6 7 8 9 10 zz 12 13 14 15 16 17 18 19 20 21 22", &st));
	assert_false(
		proc_parse_stat("12 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22", &st));
}

static void test_status_value(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_true(proc_status_value(STATUS_SAMPLE, "Threads", &v));
	assert_int_equal(v, 7);
	assert_true(proc_status_value(STATUS_SAMPLE, "VmRSS", &v));
	assert_int_equal(v, 8192);
	assert_true(proc_status_value(STATUS_SAMPLE, "Name", &v) == false); /* not a number */
	/* Whole keys only: "voluntary" must not match "nonvoluntary" or a prefix. */
	assert_true(proc_status_value(STATUS_SAMPLE, "voluntary_ctxt_switches", &v));
	assert_int_equal(v, 31);
	assert_true(proc_status_value(STATUS_SAMPLE, "nonvoluntary_ctxt_switches", &v));
	assert_int_equal(v, 4);
	assert_false(proc_status_value(STATUS_SAMPLE, "VmRS", &v));
	assert_false(proc_status_value(STATUS_SAMPLE, "VmSwap", &v));
	assert_false(proc_status_value("", "Threads", &v));
}

static void test_proc_stats_parse(void **state)
{
	(void)state;
	struct proc_stats ps;
	assert_int_equal(proc_stats_parse(STAT_SAMPLE, STATUS_SAMPLE, 100, 4096, &ps), 0);
	assert_int_equal(ps.threads, 7);
	assert_int_equal(ps.rss_bytes, 8192ULL * 1024);
	assert_near(ps.cpu_user_s, 2.5, 1e-12);
	assert_near(ps.cpu_system_s, 0.75, 1e-12);
	assert_int_equal(ps.ctx_voluntary, 31);
	assert_int_equal(ps.ctx_involuntary, 4);

	/* Without the leader's status (it raced away): stat alone. */
	assert_int_equal(proc_stats_parse(STAT_SAMPLE, NULL, 250, 4096, &ps), 0);
	assert_int_equal(ps.threads, 7);
	assert_int_equal(ps.rss_bytes, 2048ULL * 4096);
	assert_near(ps.cpu_user_s, 1.0, 1e-12);
	assert_int_equal(ps.ctx_voluntary, 0);

	/* A zombie leader whose threads live on is still a process; a lone zombie is gone. */
	const char *zombie =
		"4242 (my (weird) app) Z 1 4242 4242 0 -1 4194560 1234 0 5 0 250 75 0 0 20 0 7 0 "
		"98765 0 0 18446744073709551615 1 1 0 0 0 0 0 4096 17 1 0 0 0 0 0";
	assert_int_equal(proc_stats_parse(zombie, "Threads:\t7\n", 100, 4096, &ps), 0);
	assert_int_equal(ps.threads, 7);
	assert_int_equal(ps.rss_bytes, 0); /* no VmRSS line: its mm is gone */
	const char *lone = "9 (z) Z 1 9 9 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5 0 0";
	assert_int_equal(proc_stats_parse(lone, NULL, 100, 4096, &ps), -ESRCH);

	assert_int_equal(proc_stats_parse("garbage", STATUS_SAMPLE, 100, 4096, &ps), -EINVAL);
}

/* ---- on this process ---- */

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *blocked(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate);
	pthread_mutex_unlock(&gate);
	return NULL;
}

static void test_proc_stats_read_self(void **state)
{
	(void)state;
	struct proc_stats before, after;
	assert_int_equal(proc_stats_read(getpid(), &before), 0);
	pthread_mutex_lock(&gate);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, blocked, NULL), 0);
	/* 64 MiB touched: RSS grows by about that much. */
	size_t len = 64UL << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	memset(p, 1, len);
	assert_int_equal(proc_stats_read(getpid(), &after), 0);
	assert_int_equal(after.threads, before.threads + 3);
	assert_true(after.rss_bytes >= before.rss_bytes + len - (len / 20));
	assert_true(after.rss_bytes <= before.rss_bytes + len + (len / 20));
	assert_true(after.cpu_user_s + after.cpu_system_s >= before.cpu_user_s + before.cpu_system_s);
	/* The threads block on the mutex (a voluntary switch each, summed over threads) as soon
	 * as they run. */
	for (int i = 0; i < 2000 && after.ctx_voluntary < before.ctx_voluntary + 3; i++) {
		usleep(1000);
		assert_int_equal(proc_stats_read(getpid(), &after), 0);
	}
	assert_true(after.ctx_voluntary >= before.ctx_voluntary + 3);
	pthread_mutex_unlock(&gate);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	munmap(p, len);
}

static void test_proc_stats_read_gone(void **state)
{
	(void)state;
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	struct proc_stats ps;
	int status;
	/* A zombie is gone already; a reaped pid all the more. */
	while (proc_exists(child))
		usleep(1000);
	assert_int_equal(proc_stats_read(child, &ps), -ESRCH);
	waitpid(child, &status, 0);
	assert_int_equal(proc_stats_read(child, &ps), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_agree),
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_bucket_matches_linear_search),
		cmocka_unit_test(test_quantile_empty),
		cmocka_unit_test(test_quantile_interpolates_within_bucket),
		cmocka_unit_test(test_quantile_across_buckets),
		cmocka_unit_test(test_quantile_of_difference),
		cmocka_unit_test(test_quantile_inf_bucket),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_status_value),
		cmocka_unit_test(test_proc_stats_parse),
		cmocka_unit_test(test_proc_stats_read_self),
		cmocka_unit_test(test_proc_stats_read_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
