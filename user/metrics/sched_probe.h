/* SPDX-License-Identifier: Apache-2.0 */
/* The scheduler probe (bpf/sched.bpf.c) as descriptors: what its loader, run in a child process
 * (base/bpf_child.h), hands back to metrics/sched_stats.c. */
#ifndef GLIMPSE_METRICS_SCHED_PROBE_H
#define GLIMPSE_METRICS_SCHED_PROBE_H

#include <stdint.h>

#define SCHED_PROBE_NAME "sched"

enum sched_probe_fd {
	SCHED_FD_THREADS, /* maps */
	SCHED_FD_PROCS,
	SCHED_FD_COUNTERS,
	SCHED_FD_WATCHED, /* the procs map's bits (bpf/watched.bpf.h), mmapped by sched_stats.c */
	SCHED_FD_LINKS,	  /* switch, exit: closing them detaches */
	SCHED_NFDS = SCHED_FD_LINKS + 2,
};

enum sched_probe_param {
	SCHED_PARAM_TRACK_ALL, /* 1: every process (the maps sized for it), 0: those added */
	SCHED_NPARAMS,
};

/* bpf_child_load_fn of the scheduler probe (runs in the child). */
int sched_probe_load(const uint64_t *params, int nparams, int *fds);
void sched_probe_unload(void);

#endif
