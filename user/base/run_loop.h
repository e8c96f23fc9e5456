/* SPDX-License-Identifier: Apache-2.0 */
/* The shape every long-running command shares: run until a signal or a deadline, act on
 * a fixed interval, and serve /metrics while it runs. */
#ifndef GLIMPSE_RUN_LOOP_H
#define GLIMPSE_RUN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/registry.h"
#include "export/prometheus.h"

struct run_loop {
	int64_t end_ms, next_tick_ms, interval_ms;
};

/* duration_s <= 0: no deadline. */
void run_loop_init(struct run_loop *l, double duration_s, double interval_s);
/* Sleeps up to ms (less near the deadline); false once a signal or the deadline has come. */
bool run_loop_wait(struct run_loop *l, int ms);
/* Milliseconds left before the deadline, capped at ms: a poll timeout for callers that
 * block in their own poll instead of run_loop_wait. */
int run_loop_timeout(const struct run_loop *l, int ms);
/* false once a signal or the deadline has come, without sleeping. */
bool run_loop_running(const struct run_loop *l);
/* True once per interval. */
bool run_loop_tick(struct run_loop *l);
/* Local time of day, "HH:MM:SS". */
void run_clock_text(char *buf, size_t len);
/* Starts the Prometheus exporter, or logs why not and sets *rc. */
struct prom_exporter *run_start_exporter(const char *addr, struct metrics_registry *reg, int *rc);

#endif
