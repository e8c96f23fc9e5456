/* Per-process resource usage from /proc: what process.* metrics report for any process. */
#ifndef GLIMPSE_PROC_STATS_H
#define GLIMPSE_PROC_STATS_H

#include <stdint.h>
#include <sys/types.h>

struct proc_stats {
	int64_t threads;                 /* process.thread.count */
	uint64_t rss_bytes;              /* process.memory.usage */
	double cpu_user_s, cpu_system_s; /* process.cpu.time by cpu.mode */
	uint64_t ctx_voluntary, ctx_involuntary; /* process.context_switches, all threads */
};

/* 0, or -errno (-ESRCH once the process is gone). */
int proc_stats_read(pid_t pid, struct proc_stats *out);

#endif
