/* SPDX-License-Identifier: Apache-2.0 */
/* Scheduler insight per process from tp_btf/sched_* tracepoints: run-queue latency (time
 * from wakeup to running) as a histogram and total off-CPU time. Lifecycle: open → load →
 * attach → read at any time → close.
 *
 * Run-queue latency: each wait the kernel itself accounts (wakeup or preemption until the thread
 * gets a CPU: sched_info.run_delay, schedstat's second field), recorded when the thread leaves
 * that CPU (bpf/sched.bpf.c). Off-CPU time: from any sched_switch out until the switch back in.
 * Not thread-safe: callers serialize calls on one struct sched_stats. */
#ifndef GLIMPSE_SCHED_STATS_H
#define GLIMPSE_SCHED_STATS_H

#include <stdint.h>
#include <sys/types.h>

/* Run-queue latency bucket upper bounds (seconds, inclusive): exported as they are. */
#define SCHED_RUNQ_BOUNDS 20
extern const double sched_runq_bounds[SCHED_RUNQ_BOUNDS];

struct sched_stats;

struct sched_process_stats {
	uint64_t runq_counts[SCHED_RUNQ_BOUNDS + 1]; /* per bucket, last is +Inf */
	uint64_t runq_count;
	uint64_t runq_sum_ns;
	/* Time threads spent off CPU (blocked or preempted), including the intervals still open
	 * at the read (a thread blocked for a minute counts as it goes, not when it wakes).
	 * Threads already asleep when tracking began count from then. Never decreases. */
	uint64_t offcpu_ns;
	/* Context switches since tracking began, counted as the kernel does (voluntary: the
	 * thread blocked; involuntary: preempted or yielded), threads that exited included. */
	uint64_t ctx_voluntary, ctx_involuntary;
};

/* Tracks the given processes (their threads, including ones created later; not their child
 * processes). npids may be 0 (add them later). 0 or an exit code (exit_codes.h) after
 * logging why. */
int sched_stats_open(const pid_t *pids, int npids, struct sched_stats **out);
/* Tracks every process on the system (for benchmarks and system-wide views): read any pid. */
int sched_stats_open_all(struct sched_stats **out);
/* Adds a process to track after open. 0 or -errno. */
int sched_stats_add(struct sched_stats *s, pid_t pid);
/* Cumulative since tracking began. 0, or -ENOENT if pid is not tracked. */
int sched_stats_read(struct sched_stats *s, pid_t pid, struct sched_process_stats *out);
/* Estimated q-quantile of run-queue latency (seconds) from a difference of two reads
 * (before may be all zero); 0 when empty. */
double sched_runq_quantile(const struct sched_process_stats *now, const struct sched_process_stats *before,
			   double q);
/* Bucket index (0..SCHED_RUNQ_BOUNDS) of a run-queue latency: what the BPF side computes. */
int sched_runq_bucket(uint64_t ns);
/* Intervals lost because the kernel-side maps were full (never silent). */
uint64_t sched_stats_dropped(const struct sched_stats *s);
void sched_stats_close(struct sched_stats *s);

#endif
