/* SPDX-License-Identifier: Apache-2.0 */
/* Per-process resource usage from /proc: what process.* metrics report for any process. */
#ifndef GLIMPSE_PROC_STATS_H
#define GLIMPSE_PROC_STATS_H

#include <stdint.h>
#include <sys/types.h>

struct proc_stats {
	int64_t threads;			 /* process.thread.count */
	uint64_t rss_bytes;			 /* process.memory.usage */
	double cpu_user_s, cpu_system_s;	 /* process.cpu.time by cpu.mode */
	uint64_t ctx_voluntary, ctx_involuntary; /* process.context_switches, all threads */
};

/* 0, or -errno (-ESRCH once the process is gone).
 * Sources: /proc/PID/stat (CPU time of the whole process, exited threads included),
 * /proc/PID/task/TID/status of every thread (Threads and VmRSS from the leader's, context
 * switches summed over all). The kernel keeps no process-wide context-switch count that
 * /proc shows, so switches of threads that already exited are not included: the sum can
 * go down when a thread exits (sched_stats counts switches of exited threads too). */
int proc_stats_read(pid_t pid, struct proc_stats *out);

/* The pure part of proc_stats_read: threads, RSS and CPU time (ticks_per_s clock ticks
 * per second) from the process's stat text and its leader thread's status text (NULL:
 * from stat alone, page_size bytes a page), context switches from that status. 0, or
 * -ESRCH for a zombie whose threads are all gone, -EINVAL for malformed text. */
int proc_stats_parse(const char *stat, const char *leader_status, long ticks_per_s, long page_size,
		     struct proc_stats *out);

#endif
