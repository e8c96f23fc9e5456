// SPDX-License-Identifier: Apache-2.0
#include "profile/stack_probe.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/log.h"
#include "cli/exit_codes.h"
#include "gotrace/tracer.h"
#include "ksyms_iter.h"
#include "offcpu.h"
#include "offcpu.skel.h"
#include "profile.h"
#include "profile.skel.h"
#include "profile/offcpu_profiler.h"

/* Sample times between two reads (each poll, at most POLL_MS apart): 64-byte keys plus time and
 * generation, 88 bytes a record with its header — room for ~12,000 samples. */
#define SAMPLE_TIMES_RING_BYTES (1u << 20)

static struct profile_bpf *cpu_loaded; /* until unloaded */
static struct offcpu_bpf *offcpu_loaded;

static struct bpf_map *map(struct bpf_object *obj, const char *name)
{
	return bpf_object__find_map_by_name(obj, name);
}

static const char *const map_names[STACK_FD_PROG] = {
	[STACK_FD_TARGET_PIDS] = "target_pids",	  [STACK_FD_STACKS0] = "stacks0",
	[STACK_FD_STACKS1] = "stacks1",		  [STACK_FD_COUNTS0] = "counts0",
	[STACK_FD_COUNTS1] = "counts1",		  [STACK_FD_GENERATION] = "generation",
	[STACK_FD_SEEN_PIDS] = "seen_pids",	  [STACK_FD_NEW_PROCESSES] = "new_processes",
	[STACK_FD_COUNTERS] = "counters",	  [STACK_FD_UNWIND_TABLES] = "unwind_tables",
	[STACK_FD_UNWIND_PROCS] = "unwind_procs",
};

/* Sizes the maps both objects share and fills the settings both programs read. */
static void configure(struct bpf_object *obj, struct profile_config *config, const uint64_t *params)
{
	bool all = params[STACK_PARAM_ALL], continuous = params[STACK_PARAM_CONTINUOUS];
	uint32_t npids = params[STACK_PARAM_NPIDS] > 0 ? (uint32_t)params[STACK_PARAM_NPIDS] : 1;
	uint32_t max_stacks = (uint32_t)params[STACK_PARAM_MAX_STACKS];
	config->filter_pids = !all;
	config->include_kernel = params[STACK_PARAM_KERNEL] != 0;
	config->include_user = params[STACK_PARAM_USER] != 0;
	bpf_map__set_max_entries(map(obj, "target_pids"), npids);
	for (int gen = 0; gen < 2; gen++) {
		/* A one-shot profile never leaves generation 0: the other costs nothing. */
		uint32_t size = gen == 0 || continuous ? max_stacks : 1;
		bpf_map__set_max_entries(map(obj, gen ? "stacks1" : "stacks0"), size);
		bpf_map__set_max_entries(map(obj, gen ? "counts1" : "counts0"), size);
	}
	bpf_map__set_max_entries(map(obj, "seen_pids"), all ? 32768 : npids);
	bpf_map__set_max_entries(map(obj, "unwind_procs"), all ? 32768 : npids);
}

/* Hands the maps and prog of an object loaded with err out: the count of descriptors, or
 * -(exit code). */
static int hand_out(int err, struct bpf_object_skeleton *skeleton, const char *what, struct bpf_program *prog,
		    int *fds)
{
	if (err) {
		log_error("cannot load the %s's BPF programs: %s (run with -v for the verifier log)", what,
			  strerror(-err));
		return -(err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT);
	}
	for (int i = 0; i < STACK_FD_PROG; i++)
		fds[i] = bpf_map__fd(map(*skeleton->obj, map_names[i]));
	fds[STACK_FD_PROG] = bpf_program__fd(prog);
	return STACK_NFDS_OFFCPU;
}

static int load(struct bpf_object_skeleton *skeleton, const char *what, struct bpf_program *prog, int *fds)
{
	return hand_out(bpf_object__load_skeleton(skeleton), skeleton, what, prog, fds);
}

/* The kernel names its symbols to BPF iterators from 6.0 (bpf_iter_ksym). */
static bool kernel_has_ksym_iter(void)
{
	struct utsname u;
	unsigned major = 0;
	return !uname(&u) && sscanf(u.release, "%u.", &major) == 1 && major >= 6;
}

static int open_cpu(const uint64_t *params, bool ksym_iter, struct profile_bpf **out)
{
	struct profile_bpf *p = *out = profile_bpf__open();
	if (!p) {
		log_error("cannot open the profiler's BPF object: %s", strerror(errno));
		return -GLIMPSE_EXIT_FAILURE;
	}
	configure(p->obj, &p->rodata->stack_config, params);
	/* The Go tracer's calls map goes in as an inner map, when samples are labelled. */
	if (go_tracer_size_inner_map(p->maps.go_calls, params[STACK_PARAM_KIND0], "profiler"))
		return -GLIMPSE_EXIT_FAILURE;
	if (params[STACK_PARAM_KIND0])
		p->rodata->stack_config.label_requests = 1;
	if (params[STACK_PARAM_KIND1]) {
		p->rodata->stack_config.record_times = 1;
		bpf_map__set_max_entries(p->maps.sample_times, SAMPLE_TIMES_RING_BYTES);
	}
	bpf_program__set_autoload(p->progs.name_ksyms, ksym_iter);
	if (ksym_iter)
		bpf_map__set_max_entries(p->maps.ksym_slots, KSYMS_ITER_SLOTS);
	return 0;
}

int stack_probe_load_cpu(const uint64_t *params, int nparams, int *fds)
{
	if (nparams != STACK_NPARAMS)
		return -GLIMPSE_EXIT_USAGE;
	/* A one-shot profile's kernel frames are named by the kallsyms iterator where the kernel
	 * has one (a continuous profile reads every name once, from /proc/kallsyms); if the kernel
	 * refuses it, the object is loaded again without it (names then come from the file). */
	bool ksym_iter =
		params[STACK_PARAM_KERNEL] && !params[STACK_PARAM_CONTINUOUS] && kernel_has_ksym_iter();
	struct profile_bpf *p;
	int err = open_cpu(params, ksym_iter, &p);
	cpu_loaded = p;
	if (err)
		return err;
	err = bpf_object__load_skeleton(p->skeleton);
	if (err && ksym_iter) {
		log_debug("the kallsyms iterator did not load: kernel frames named from /proc/kallsyms");
		profile_bpf__destroy(p);
		ksym_iter = false;
		err = open_cpu(params, false, &p);
		cpu_loaded = p;
		if (err)
			return err;
		err = bpf_object__load_skeleton(p->skeleton);
	}
	int n = hand_out(err, p->skeleton, "profiler", p->progs.on_cpu_sample, fds);
	if (n < 0)
		return n;
	fds[STACK_FD_GO_CALLS] = bpf_map__fd(p->maps.go_calls);
	fds[STACK_FD_SAMPLE_TIMES] = bpf_map__fd(p->maps.sample_times);
	fds[STACK_FD_KSYM_SLOTS] = bpf_map__fd(p->maps.ksym_slots);
	/* Without the iterator the slot is filled with the slots map: the session's attempt to
	 * link it as an iterator fails and it names kernel frames from /proc/kallsyms. */
	fds[STACK_FD_KSYM_ITER] = ksym_iter ? bpf_program__fd(p->progs.name_ksyms) : fds[STACK_FD_KSYM_SLOTS];
	return STACK_NFDS_CPU;
}

int stack_probe_load_offcpu(const uint64_t *params, int nparams, int *fds)
{
	if (nparams != STACK_NPARAMS)
		return -GLIMPSE_EXIT_USAGE;
	struct offcpu_bpf *p = offcpu_loaded = offcpu_bpf__open();
	if (!p) {
		log_error("cannot open the off-CPU profiler's BPF object: %s", strerror(errno));
		return -GLIMPSE_EXIT_FAILURE;
	}
	configure(p->obj, &p->rodata->stack_config, params);
	p->rodata->min_block_ns = params[STACK_PARAM_KIND0];
	p->rodata->include_preempted = params[STACK_PARAM_KIND1] != 0;
	bpf_map__set_max_entries(p->maps.pending,
				 params[STACK_PARAM_ALL] ? OFFCPU_MAX_PENDING_ALL : OFFCPU_MAX_PENDING_PIDS);
	return load(p->skeleton, "off-CPU profiler", p->progs.on_switch, fds);
}

void stack_probe_unload(void)
{
	profile_bpf__destroy(cpu_loaded);
	offcpu_bpf__destroy(offcpu_loaded);
	cpu_loaded = NULL;
	offcpu_loaded = NULL;
}
