/* SPDX-License-Identifier: Apache-2.0 */
/* Logs correlated with traces: what the targets write to stdout and stderr (captured by the
 * socket probe, sockcap/) → lines (log_lines) → records (log_parse) with the writer's trace
 * context → JSON lines (--logs-out, log_json) and OTLP logs (batched, export/otlp_logs.c).
 *
 * Lifecycle: new → add targets → write (the event thread) → tick (each interval: a partial
 * batch goes out) → flush (at exit: unfinished lines, the last batch) → free, after every reader
 * of the registry has stopped (its gauges read this object). */
#ifndef GLIMPSE_LOGS_LOG_PIPELINE_H
#define GLIMPSE_LOGS_LOG_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "agent/resource.h"
#include "logs/log_lines.h"
#include "metrics/registry.h"

struct otlp_exporter;

/* Records per OTLP request; a partial batch waits at most one tick. */
#define LOG_BATCH_MAX 512

struct log_pipeline_opts {
	FILE *out;		    /* JSON lines, or NULL */
	struct otlp_exporter *otlp; /* or NULL */
};

struct log_stats {
	uint64_t records;   /* lines read */
	uint64_t truncated; /* of those, cut short */
	uint64_t dropped;   /* lost: the kernel had no room, or the OTLP queue was full */
};

struct log_pipeline;

struct log_pipeline *log_pipeline_new(const struct log_pipeline_opts *opts);
/* The resource of target (copied). 0 or -ENOMEM. */
int log_pipeline_add_target(struct log_pipeline *lp, int target, const struct resource *res);
void log_pipeline_remove_target(struct log_pipeline *lp, int target);
/* One write to fd 1 or 2 (o->target one of the added targets): data[0..len) of total. */
void log_pipeline_write(struct log_pipeline *lp, const struct log_origin *o, const char *data, size_t len,
			size_t total);
/* A process exited: its unfinished lines go out. */
void log_pipeline_process_exit(struct log_pipeline *lp, uint32_t pid);
/* Writes the kernel could not queue, so far (read from the probe by the caller). */
void log_pipeline_set_lost(struct log_pipeline *lp, uint64_t lost);
/* Sends a partial batch to OTLP. */
void log_pipeline_tick(struct log_pipeline *lp);
/* Unfinished lines, then the last batch. */
void log_pipeline_flush(struct log_pipeline *lp);
struct log_stats log_pipeline_stats(const struct log_pipeline *lp);
/* glimpse_logs_records_total, glimpse_logs_truncated_total, glimpse_logs_dropped_total. 0 or
 * -ENOMEM. */
int log_pipeline_register_metrics(struct log_pipeline *lp, struct metrics_registry *reg);
void log_pipeline_free(struct log_pipeline *lp);

#endif
