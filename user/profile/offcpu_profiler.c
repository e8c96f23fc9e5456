// SPDX-License-Identifier: Apache-2.0
#include "profile/offcpu_profiler.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "profile/stack_probe.h"

static void probe_params(const struct profiler_opts *o, uint64_t *params)
{
	params[STACK_PARAM_KIND0] = o->min_block_ns;
	params[STACK_PARAM_KIND1] = o->include_preempted;
}

static int attach_sched_switch(struct stack_session *s, int prog_fd, const struct profiler_opts *o)
{
	/* A tp_btf program names its tracepoint at load: attaching needs no name. */
	int link = bpf_raw_tracepoint_open(NULL, prog_fd);
	if (link < 0) {
		int err = -link;
		log_error("cannot attach to the sched_switch tracepoint: %s (off-CPU profiles need "
			  "Linux 5.18 or later with BTF)",
			  strerror(err));
		return err == EPERM || err == EACCES ? GLIMPSE_EXIT_NO_PERMISSION
						     : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	if (stack_session_add_fd(s, link))
		return GLIMPSE_EXIT_FAILURE;
	log_event(LOG_INFO, "profiling off-CPU", "min_block_us=%g preempted=%s targets=%s",
		  o->min_block_ns / 1e3, o->include_preempted ? "yes" : "no", o->all ? "all" : "pids");
	return 0;
}

static const struct stack_backend offcpu_backend = {
	.what = "off-CPU profiler",
	.kind = PROF_OFFCPU,
	.probe = STACK_PROBE_OFFCPU,
	.nfds = STACK_NFDS_OFFCPU,
	.params = probe_params,
	.attach = attach_sched_switch,
};

int offcpu_profiler_run(const struct profiler_opts *opts, struct stack_profile **out)
{
	return stack_profiler_run(opts, &offcpu_backend, out);
}
