/* Scheduler insight per process from tp_btf/sched_* tracepoints: run-queue latency (time
 * from wakeup to running) as a histogram and total off-CPU time. Lifecycle: open → load →
 * attach → read at any time → close. */
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
	uint64_t offcpu_ns; /* time threads spent off CPU (blocked or preempted) */
};

/* Tracks the given processes (their threads, including ones created later). 0 or an exit
 * code (exit_codes.h) after logging why. */
int sched_stats_open(const pid_t *pids, int npids, struct sched_stats **out);
/* Adds a process to track after open. 0 or -errno. */
int sched_stats_add(struct sched_stats *s, pid_t pid);
/* Cumulative since tracking began. 0, or -ENOENT if pid is not tracked. */
int sched_stats_read(struct sched_stats *s, pid_t pid, struct sched_process_stats *out);
/* Estimated q-quantile of run-queue latency (seconds) from a difference of two reads
 * (before may be all zero); 0 when empty. */
double sched_runq_quantile(const struct sched_process_stats *now, const struct sched_process_stats *before,
			   double q);
void sched_stats_close(struct sched_stats *s);

#endif
