// SPDX-License-Identifier: Apache-2.0
#include "metrics/sched_probe.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/log.h"
#include "cli/exit_codes.h"
#include "sched.skel.h"

/* Map sizes. Thread entries are preallocated (the hot path then never allocates); process
 * entries are allocated as processes are added (they are per-CPU, 200 bytes per CPU each). */
#define TRACKED_MAX_PROCS   4096
#define TRACKED_MAX_THREADS 16384
#define ALL_MAX_PROCS	    32768
#define ALL_MAX_THREADS	    65536

static struct sched_bpf *loaded; /* until unloaded */

int sched_probe_load(const uint64_t *params, int nparams, int *fds)
{
	if (nparams != SCHED_NPARAMS)
		return -GLIMPSE_EXIT_USAGE;
	bool all = params[SCHED_PARAM_TRACK_ALL];
	struct sched_bpf *skel = loaded = sched_bpf__open();
	if (!skel) {
		log_error("cannot open the scheduler tracer's BPF object: %s", strerror(errno));
		return -GLIMPSE_EXIT_FAILURE;
	}
	skel->rodata->track_all = all;
	bpf_map__set_max_entries(skel->maps.procs, all ? ALL_MAX_PROCS : TRACKED_MAX_PROCS);
	bpf_map__set_max_entries(skel->maps.threads, all ? ALL_MAX_THREADS : TRACKED_MAX_THREADS);
	int err = sched_bpf__load(skel);
	if (err) {
		log_error("cannot load the scheduler tracer's BPF programs: %s (run with -v for the verifier "
			  "log)",
			  strerror(-err));
		return -(err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT);
	}
	err = sched_bpf__attach(skel);
	if (err) {
		log_error("cannot attach to the scheduler tracepoints (tp_btf/sched_switch, "
			  "sched_process_exit): %s",
			  strerror(-err));
		return -(err == -EPERM || err == -EACCES ? GLIMPSE_EXIT_NO_PERMISSION
							 : GLIMPSE_EXIT_NO_KERNEL_SUPPORT);
	}
	fds[SCHED_FD_THREADS] = bpf_map__fd(skel->maps.threads);
	fds[SCHED_FD_PROCS] = bpf_map__fd(skel->maps.procs);
	fds[SCHED_FD_COUNTERS] = bpf_map__fd(skel->maps.counters);
	fds[SCHED_FD_WATCHED] = bpf_map__fd(skel->maps.watched);
	fds[SCHED_FD_LINKS + 0] = bpf_link__fd(skel->links.sched_switch);
	fds[SCHED_FD_LINKS + 1] = bpf_link__fd(skel->links.sched_process_exit);
	return SCHED_NFDS;
}

void sched_probe_unload(void)
{
	sched_bpf__destroy(loaded);
	loaded = NULL;
}
