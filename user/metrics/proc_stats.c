// SPDX-License-Identifier: Apache-2.0
#include "metrics/proc_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/procfs.h"

/* Large enough for any status file (Groups and Cpus_allowed lines grow with big systems);
 * the context-switch lines are its last. */
#define STATUS_BUF 16384

int proc_stats_parse(const char *stat, const char *leader_status, long ticks_per_s, long page_size,
		     struct proc_stats *out)
{
	struct proc_stat st;
	if (!proc_parse_stat(stat, &st) || ticks_per_s <= 0)
		return -EINVAL;
	/* A zombie leader still counts its live threads; once they are gone, so is the process. */
	if ((st.state == 'Z' || st.state == 'X') && st.num_threads <= 1)
		return -ESRCH;
	memset(out, 0, sizeof(*out));
	out->cpu_user_s = (double)st.utime / (double)ticks_per_s;
	out->cpu_system_s = (double)st.stime / (double)ticks_per_s;
	out->threads = st.num_threads;
	out->rss_bytes = st.rss_pages * (uint64_t)(page_size > 0 ? page_size : 4096);
	if (!leader_status)
		return 0;
	uint64_t v;
	if (proc_status_value(leader_status, "Threads", &v))
		out->threads = (int64_t)v;
	/* No VmRSS line: kernel thread or a leader that already exited (its mm is gone). */
	if (proc_status_value(leader_status, "VmRSS", &v))
		out->rss_bytes = v * 1024;
	if (proc_status_value(leader_status, "voluntary_ctxt_switches", &v))
		out->ctx_voluntary = v;
	if (proc_status_value(leader_status, "nonvoluntary_ctxt_switches", &v))
		out->ctx_involuntary = v;
	return 0;
}

int proc_stats_read(pid_t pid, struct proc_stats *out)
{
	char path[64], stat[1024];
	proc_path(path, sizeof(path), pid, "/stat");
	ssize_t n = proc_read_small(path, stat, sizeof(stat));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;

	pid_t *tids = NULL;
	size_t ntids = 0;
	int err = proc_tasks(pid, &tids, &ntids);
	if (err)
		return err == -ENOENT ? -ESRCH : err;

	char *status = malloc(STATUS_BUF);
	if (!status) {
		free(tids);
		return -ENOMEM;
	}
	/* The leader's status first: it carries the process-wide Threads and VmRSS. */
	proc_path(path, sizeof(path), pid, "/task/%d/status", (int)pid);
	bool have_leader = proc_read_small(path, status, STATUS_BUF) >= 0;
	err = proc_stats_parse(stat, have_leader ? status : NULL, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
			       out);
	for (size_t i = 0; !err && i < ntids; i++) {
		if (tids[i] == pid)
			continue;
		proc_path(path, sizeof(path), pid, "/task/%d/status", (int)tids[i]);
		if (proc_read_small(path, status, STATUS_BUF) < 0)
			continue; /* exited since the directory was listed */
		uint64_t v;
		if (proc_status_value(status, "voluntary_ctxt_switches", &v))
			out->ctx_voluntary += v;
		if (proc_status_value(status, "nonvoluntary_ctxt_switches", &v))
			out->ctx_involuntary += v;
	}
	free(status);
	free(tids);
	return err;
}
