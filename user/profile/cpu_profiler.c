// SPDX-License-Identifier: Apache-2.0
#include "profile/cpu_profiler.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/procfs.h"
#include "profile/stack_probe.h"

static void probe_params(const struct profiler_opts *o, uint64_t *params)
{
	params[STACK_PARAM_KIND0] = o->go_calls_value_size;
	params[STACK_PARAM_KIND1] = o->sample_times;
}

static int attach_perf_events(struct stack_session *s, int prog_fd, const struct profiler_opts *o)
{
	int *cpus, ncpus, rc = 0, attached = 0;
	if (online_cpus(&cpus, &ncpus)) {
		log_error("cannot read the online CPUs from /sys/devices/system/cpu/online");
		return GLIMPSE_EXIT_FAILURE;
	}
	for (int i = 0; i < ncpus && !rc; i++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_CPU_CLOCK,
			.size = sizeof(attr),
			.freq = 1,
			.sample_freq = (__u64)o->hz,
		};
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			if (err == ENODEV)
				continue; /* CPU went offline */
			log_error("cannot open a cpu-clock perf event on CPU %d: %s%s", cpus[i],
				  strerror(err),
				  err == EINVAL ? " (is -F above kernel.perf_event_max_sample_rate?)" : "");
			rc = err == EACCES || err == EPERM ? GLIMPSE_EXIT_NO_PERMISSION
							   : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
			break;
		}
		/* The perf event goes to the session first: closed after the link. */
		if (stack_session_add_fd(s, fd)) {
			rc = GLIMPSE_EXIT_FAILURE;
			break;
		}
		int link = bpf_link_create(prog_fd, fd, BPF_PERF_EVENT, NULL);
		if (link < 0) {
			log_error("cannot attach the sampler to CPU %d: %s", cpus[i], strerror(-link));
			rc = GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
			break;
		}
		if (stack_session_add_fd(s, link))
			rc = GLIMPSE_EXIT_FAILURE;
		else
			attached++;
	}
	free(cpus);
	if (!rc)
		log_event(LOG_INFO, "profiling", "hz=%d cpus=%d targets=%s", o->hz, attached,
			  o->all ? "all" : "pids");
	return rc;
}

static const struct stack_backend cpu_backend = {
	.what = "profiler",
	.kind = PROF_CPU,
	.probe = STACK_PROBE_CPU,
	.nfds = STACK_NFDS_CPU,
	.params = probe_params,
	.attach = attach_perf_events,
};

int cpu_profiler_run(const struct profiler_opts *opts, struct stack_profile **out)
{
	return stack_profiler_run(opts, &cpu_backend, out);
}

int cpu_profiler_open(const struct profiler_opts *opts, struct stack_session **out)
{
	return stack_session_open(opts, &cpu_backend, out);
}
