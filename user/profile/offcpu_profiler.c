// SPDX-License-Identifier: Apache-2.0
#include "profile/offcpu_profiler.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "offcpu.h"
#include "offcpu.skel.h"

static int open_skel(const struct profiler_opts *o, void **skel, struct bpf_object_skeleton **skeleton,
		     struct profile_config **config)
{
	struct offcpu_bpf *p = offcpu_bpf__open();
	if (!p)
		return -errno;
	p->rodata->min_block_ns = o->min_block_ns;
	p->rodata->include_preempted = o->include_preempted;
	bpf_map__set_max_entries(p->maps.pending, o->all ? OFFCPU_MAX_PENDING_ALL : OFFCPU_MAX_PENDING_PIDS);
	*skel = p;
	*skeleton = p->skeleton;
	*config = &p->rodata->stack_config;
	return 0;
}

static void destroy_skel(void *skel)
{
	offcpu_bpf__destroy(skel);
}

static int attach_sched_switch(struct stack_session *s, void *skel, const struct profiler_opts *o)
{
	struct offcpu_bpf *p = skel;
	struct bpf_link *link = bpf_program__attach(p->progs.on_switch);
	if (!link) {
		int err = errno;
		log_error("cannot attach to the sched_switch tracepoint: %s (off-CPU profiles need "
			  "Linux 5.18 or later with BTF)",
			  strerror(err));
		return err == EPERM || err == EACCES ? GLIMPSE_EXIT_NO_PERMISSION
						     : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	if (stack_session_add_link(s, link))
		return GLIMPSE_EXIT_FAILURE;
	log_event(LOG_INFO, "profiling off-CPU", "min_block_us=%g preempted=%s targets=%s",
		  o->min_block_ns / 1e3, o->include_preempted ? "yes" : "no", o->all ? "all" : "pids");
	return 0;
}

static const struct stack_backend offcpu_backend = {
	.what = "off-CPU profiler",
	.kind = PROF_OFFCPU,
	.open = open_skel,
	.destroy = destroy_skel,
	.attach = attach_sched_switch,
};

int offcpu_profiler_run(const struct profiler_opts *opts, struct stack_profile **out)
{
	return stack_profiler_run(opts, &offcpu_backend, out);
}
