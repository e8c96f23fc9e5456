/* SPDX-License-Identifier: Apache-2.0 */
/* Live service level objectives, without Prometheus: from the registry's own counters, each
 * objective's burn rate over the scheme's windows (metrics/slo.h) and the error budget left over
 * its period, as far as glimpse has watched; exported as gauges (glimpse_slo_*), one line for the
 * live view and a summary at exit. */
#ifndef GLIMPSE_SLO_TRACKER_H
#define GLIMPSE_SLO_TRACKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics/registry.h"
#include "metrics/slo.h"

struct slo_tracker;

/* Before anything is recorded in reg: a latency threshold becomes a bucket bound of every
 * duration histogram. Registers the gauges. NULL with a one-line reason in err (too many
 * thresholds, out of memory). */
struct slo_tracker *slo_tracker_new(struct metrics_registry *reg, const struct slo_objective *objs, int n,
				    char *err, size_t errlen);
/* Judges a registry target by every objective for its service (or for every service). Returns
 * how many apply, or -ENOMEM. */
int slo_tracker_add_target(struct slo_tracker *tr, int target, const char *service);
void slo_tracker_remove_target(struct slo_tracker *tr, int target);
/* Reads the counters (now_ns: monotonic); call about once a second. */
void slo_tracker_sample(struct slo_tracker *tr, uint64_t now_ns);

struct slo_status {
	const struct slo_objective *o;
	uint64_t requests, bad;	       /* over the period, as far as watched */
	double watched_s;	       /* how much of the period glimpse has seen */
	double burn[SLO_RATE_WINDOWS]; /* bad share / (1 - target) per window; 0 without requests */
	double budget_left;	       /* 1 - bad share / (1 - target): 1 = untouched, < 0 = overspent */
	bool firing[SLO_ALERTS];       /* the scheme's conditions, as of the last sample */
};
/* The target's objectives as of the last sample: how many were written (at most max). */
int slo_tracker_status(struct slo_tracker *tr, int target, struct slo_status *out, int max);
/* "SLO availability 99.9%: budget 73% left, burn 1h 2.1 5m 0.0 [ticket]; ..." or "" */
void slo_tracker_status_line(struct slo_tracker *tr, int target, char *buf, size_t len);
/* The run's objectives, one line each (nothing without objectives). */
void slo_tracker_print_summary(struct slo_tracker *tr, int target, FILE *out);
/* After the exporters have stopped: the registry's gauges read the tracker. */
void slo_tracker_free(struct slo_tracker *tr);

#endif
