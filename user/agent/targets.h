/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's instrumented processes, and the one place that adds and removes them: adding a
 * process fans out to every consumer (the per-binary Go tracer's pid filter, the metrics
 * registry, process metrics, the trace pipeline); removing it undoes each, after the
 * process's last queued events were read and its held spans written. Targets are keyed by
 * pid; Go tracers by binary, shared by every process running it and kept a while after the
 * last one exits, so a restarted process of the same binary is traced at once. */
#ifndef GLIMPSE_AGENT_TARGETS_H
#define GLIMPSE_AGENT_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent_config.h"

struct db_driver_cache;
struct resource;
struct metrics_registry;
struct process_metrics;
struct sql_pools;
struct trace_pipeline;
struct log_pipeline;

/* What targets feed; borrowed, must outlive the targets. traces may be NULL. */
struct slo_tracker;
struct profile_labels;

struct targets_consumers {
	const struct agent_config *cfg;
	struct metrics_registry *reg;
	struct process_metrics *pm;
	struct trace_pipeline *traces;
	struct db_driver_cache *drivers;
	struct slo_tracker *slos;  /* NULL without objectives */
	struct log_pipeline *logs; /* NULL without an OTLP exporter or a selector asking for logs */
	struct sql_pools *pools;   /* database/sql pools of Go targets with http_metrics */
	/* The CPU profiles' request labels (NULL: no CPU profiles): Go targets whose selector asks
	 * for CPU profiles trace their requests' context for them, and each request that ends
	 * gives its route and method to the samples that served it. */
	struct profile_labels *labels;
};

struct agent_targets;

/* NULL when out of memory. Registers glimpse.agent.targets, glimpse.events_dropped and
 * glimpse.agent.events_unattributed. */
struct agent_targets *targets_new(const struct targets_consumers *c);
/* Removes every target (the processes keep running: "stopped watching") and stops every
 * tracer; their held spans are written. The metrics stay readable until targets_free. */
void targets_remove_all(struct agent_targets *ts);
/* targets_remove_all, then frees. */
void targets_free(struct agent_targets *ts);

/* Instruments pid if a selector matches it and it is not a target yet. 1 if it became one,
 * 0 if it is left alone (no match, gone, already a target), -errno on failure (logged). */
int targets_consider(struct agent_targets *ts, pid_t pid);
/* pid execed: a target that now runs another program is matched afresh. */
void targets_exec(struct agent_targets *ts, pid_t pid);
/* pid exited: its last events are read, its spans written, its state freed. */
void targets_exit(struct agent_targets *ts, pid_t pid);

/* Reads the tracers' queued events (never blocks). */
void targets_poll(struct agent_targets *ts);
/* Periodic: removes targets whose exit went unseen, stops tracers idle for long. */
void targets_tick(struct agent_targets *ts);

/* For the profiler threads (any thread): the pids whose selector asks for this profile, up to
 * max; *hz is set from their selector. Returns how many. */
int targets_profile_pids(struct agent_targets *ts, bool offcpu, pid_t *pids, int max, int *hz);
/* For the profiler threads: the consumers' labels (NULL: none), and a descriptor of pid's Go
 * tracer's calls map (go_tracer_context_map_fds; the caller closes it), -1 when pid is not a
 * Go target. */
struct profile_labels *targets_labels(const struct agent_targets *ts);
int targets_calls_map(struct agent_targets *ts, pid_t pid);
/* Copies the resource of each of pids[0..n) that is a target into out (up to n); how many. */
size_t targets_resources(struct agent_targets *ts, const pid_t *pids, int n, struct resource *out);
int targets_count(const struct agent_targets *ts);

#endif
