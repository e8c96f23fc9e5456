/* SPDX-License-Identifier: Apache-2.0 */
/* The stack profilers' BPF objects (bpf/profile.bpf.c, bpf/offcpu.bpf.c) as descriptors: each
 * is opened, sized and loaded by a short-lived child process (base/bpf_child.h), so libbpf's
 * parse of the kernel's BTF never counts against glimpse's memory; the session
 * (stack_session.c) attaches the program it hands back and reads the maps. */
#ifndef GLIMPSE_PROFILE_STACK_PROBE_H
#define GLIMPSE_PROFILE_STACK_PROBE_H

#include <stdint.h>

#define STACK_PROBE_CPU	   "profile"
#define STACK_PROBE_OFFCPU "offcpu"

/* The maps both objects share (bpf/stacks.bpf.h, bpf/unwind.bpf.h), then the program. */
enum stack_probe_fd {
	STACK_FD_TARGET_PIDS,
	STACK_FD_STACKS0,
	STACK_FD_STACKS1,
	STACK_FD_COUNTS0,
	STACK_FD_COUNTS1,
	STACK_FD_GENERATION,
	STACK_FD_SEEN_PIDS,
	STACK_FD_NEW_PROCESSES,
	STACK_FD_COUNTERS,
	STACK_FD_UNWIND_TABLES,
	STACK_FD_UNWIND_PROCS,
	STACK_FD_PROG, /* not attached: the session attaches it */
	STACK_NFDS_OFFCPU,
	STACK_FD_GO_CALLS = STACK_NFDS_OFFCPU, /* CPU only: pid → the Go tracer's calls map */
	STACK_FD_SAMPLE_TIMES,		       /* CPU only: each sample's time (record_times) */
	STACK_FD_KSYM_SLOTS,		       /* CPU only: the kallsyms iterator's slots */
	STACK_FD_KSYM_ITER, /* CPU only: that iterator (profile/kallsyms_iter.h), or not a program */
	STACK_NFDS_CPU,
	STACK_NFDS_MAX = STACK_NFDS_CPU,
};

enum stack_probe_param {
	STACK_PARAM_NPIDS, /* target_pids' size */
	STACK_PARAM_ALL,   /* 1: every process (the per-process maps sized for it) */
	STACK_PARAM_KERNEL,
	STACK_PARAM_USER,
	STACK_PARAM_MAX_STACKS,
	STACK_PARAM_CONTINUOUS, /* 1: both generations sized (stack_session_cut) */
	/* CPU: the Go tracer's calls map value size (0: no request labels). Off-CPU: min_block_ns. */
	STACK_PARAM_KIND0,
	/* CPU: 1 to record each sample's time. Off-CPU: include_preempted. */
	STACK_PARAM_KIND1,
	STACK_NPARAMS,
};

/* bpf_child_load_fn of each profiler's object (they run in the child). */
int stack_probe_load_cpu(const uint64_t *params, int nparams, int *fds);
int stack_probe_load_offcpu(const uint64_t *params, int nparams, int *fds);
void stack_probe_unload(void);

#endif
