// SPDX-License-Identifier: Apache-2.0
#include "base/run_loop.h"

#include "base/clock.h"
#include <errno.h>
#include <time.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/signals.h"

static int64_t now_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000);
}

void run_loop_init(struct run_loop *l, double duration_s, double interval_s)
{
	int64_t now = now_ms();
	l->end_ms = duration_s > 0 ? now + (int64_t)(duration_s * 1000) : INT64_MAX;
	l->interval_ms = (int64_t)(interval_s * 1000);
	l->next_tick_ms = now + l->interval_ms;
}

bool run_loop_running(const struct run_loop *l)
{
	return !stop_requested() && now_ms() < l->end_ms;
}

int run_loop_timeout(const struct run_loop *l, int ms)
{
	int64_t left = l->end_ms - now_ms();
	if (left < 0)
		return 0;
	return left < ms ? (int)left : ms;
}

bool run_loop_wait(struct run_loop *l, int ms)
{
	if (!run_loop_running(l))
		return false;
	int wait = run_loop_timeout(l, ms);
	struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000 };
	/* A signal interrupts the sleep: the check below sees the stop at once. */
	nanosleep(&ts, NULL);
	return run_loop_running(l);
}

bool run_loop_tick(struct run_loop *l)
{
	int64_t now = now_ms();
	if (now < l->next_tick_ms)
		return false;
	l->next_tick_ms = now + l->interval_ms;
	return true;
}

void run_clock_text(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

struct prom_exporter *run_start_exporter(const char *addr, struct metrics_registry *reg, int *rc)
{
	char err[256];
	struct prom_exporter *e = prom_exporter_start(addr, reg, err, sizeof(err));
	if (!e) {
		log_error("%s", err);
		*rc = GLIMPSE_EXIT_USAGE;
	}
	return e;
}
