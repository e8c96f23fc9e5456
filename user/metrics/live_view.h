/* SPDX-License-Identifier: Apache-2.0 */
/* The terminal view of `glimpse attach`: per route rps, error %, p50/p95/p99, redrawn each
 * interval on a TTY, or plain lines per interval otherwise; a summary of the run at exit. */
#ifndef GLIMPSE_LIVE_VIEW_H
#define GLIMPSE_LIVE_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics/registry.h"

struct live_view;

struct live_view_status {
	int64_t active_requests;
	uint64_t events_dropped;
	const char *process; /* process_metrics_status_line(), or NULL */
	const char *slo;     /* slo_tracker_status_line(), or NULL */
};

struct live_view *live_view_new(struct metrics_registry *reg, int target, const char *title, FILE *out);
/* Shows the interval since the previous call. */
void live_view_update(struct live_view *lv, const struct live_view_status *st);
/* Prints totals and percentiles over the whole run. */
void live_view_summary(struct live_view *lv);
void live_view_free(struct live_view *lv);

#endif
