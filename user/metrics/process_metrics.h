/* SPDX-License-Identifier: Apache-2.0 */
/* Runtime, process and scheduler metrics of the registry's targets, read at scrape time:
 * go.goroutine.count, go.memory.used, process.thread.count, process.memory.usage,
 * process.cpu.time, process.context_switches, run-queue latency and off-CPU time. */
#ifndef GLIMPSE_PROCESS_METRICS_H
#define GLIMPSE_PROCESS_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "metrics/registry.h"

struct process_metrics;

/* Registers the metrics in reg. With sched, loads the scheduler probes (tp_btf) for the
 * targets added later. NULL + logged reason (exit code in *rc) on failure. */
struct process_metrics *process_metrics_new(struct metrics_registry *reg, bool sched, int *rc);
/* Starts collecting for a registry target. Go targets also get goroutine and memory metrics. */
int process_metrics_add(struct process_metrics *pm, int target, pid_t pid);
/* Stops collecting for a target (its process exited) and frees its state. */
void process_metrics_remove(struct process_metrics *pm, int target);
/* One line for the live view: goroutines, threads, RSS, CPU %, run-queue p99 over the interval
 * since the previous call for this target. */
void process_metrics_status_line(struct process_metrics *pm, int target, char *buf, size_t len);
void process_metrics_free(struct process_metrics *pm);

#endif
