// SPDX-License-Identifier: Apache-2.0
#include "profile/cpu_profiler.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/procfs.h"
#include "profile.h"
#include "profile.skel.h"

static int open_skel(const struct profiler_opts *o, void **skel, struct bpf_object_skeleton **skeleton,
		     struct profile_config **config)
{
	struct profile_bpf *p = profile_bpf__open();
	if (!p)
		return -errno;
	if (o->go_calls_value_size) {
		/* The Go tracer's calls map goes in as an inner map: its value size must be the
		 * template's. */
		int err =
			bpf_map__set_value_size(bpf_map__inner_map(p->maps.go_calls), o->go_calls_value_size);
		if (err) {
			profile_bpf__destroy(p);
			return err;
		}
		p->rodata->stack_config.label_requests = 1;
	}
	*skel = p;
	*skeleton = p->skeleton;
	*config = &p->rodata->stack_config;
	return 0;
}

static void destroy_skel(void *skel)
{
	profile_bpf__destroy(skel);
}

static int attach_perf_events(struct stack_session *s, void *skel, const struct profiler_opts *o)
{
	struct profile_bpf *p = skel;
	int *cpus, ncpus, rc = 0;
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
		struct bpf_link *link = bpf_program__attach_perf_event(p->progs.on_cpu_sample, fd);
		if (!link) {
			int err = errno;
			close(fd);
			log_error("cannot attach the sampler to CPU %d: %s", cpus[i], strerror(err));
			rc = GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
			break;
		}
		/* The link owns fd from here on: destroying the link closes it. */
		if (stack_session_add_link(s, link))
			rc = GLIMPSE_EXIT_FAILURE;
	}
	free(cpus);
	if (!rc)
		log_event(LOG_INFO, "profiling", "hz=%d cpus=%d targets=%s", o->hz, stack_session_nlinks(s),
			  o->all ? "all" : "pids");
	return rc;
}

static const struct stack_backend cpu_backend = {
	.what = "profiler",
	.kind = PROF_CPU,
	.open = open_skel,
	.destroy = destroy_skel,
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
