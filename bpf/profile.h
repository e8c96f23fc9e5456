/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between the stack-counting BPF programs (bpf/profile.bpf.c: CPU samples,
 * bpf/offcpu.bpf.c: off-CPU time; their common maps are in bpf/stacks.bpf.h) and user space
 * (user/profile/stack_profile.c). Fixed-width types only. */
#ifndef GLIMPSE_BPF_PROFILE_H
#define GLIMPSE_BPF_PROFILE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PROFILE_COMM_LEN	16
#define PROFILE_MAX_STACK_DEPTH 127

/* Stacks are stored once, under a 64-bit hash of their frames: unlike the kernel's
 * STACK_TRACE map, two different stacks practically never collide, and memory grows with
 * the stacks seen rather than being preallocated. 0 means no stack. */
struct profile_key {
	__u32 pid;
	__u32 tid;
	__u64 user_stack;
	__u64 kernel_stack;
	/* The two words at the user stack pointer (at the sample, or at switch-out), each kept only when it points into
	 * the executable's code (0 otherwise). The frame-pointer walk skips the caller of a
	 * function that has not set up its frame (Go's frameless leaves, prologues, epilogues):
	 * its return address is then at SP + the function's SP delta at that pc (0 or 8), which
	 * user space knows from the pclntab and uses to put the caller back. */
	__u64 sp_words[2];
	/* CPU samples of a goroutine serving an HTTP request (requests labelled): the server span
	 * of that request, from the Go tracer's calls in flight (bpf/gocalls.bpf.h); 0 otherwise. */
	__u64 span_id;
	__u8 trace_id[16];
};

struct profile_stack {
	__u32 depth;
	__u32 pad;
	__u64 ips[PROFILE_MAX_STACK_DEPTH];
};

struct profile_value {
	__u64 count; /* CPU: samples; off-CPU: off-CPU intervals */
	__u64 ns;    /* off-CPU: their total duration (CPU profiles leave it 0) */
	char thread[PROFILE_COMM_LEN];
};

/* Read-only settings both programs share (the `stack_config` variable in .rodata). */
struct profile_config {
	__u8 filter_pids; /* only the processes in target_pids */
	__u8 include_kernel;
	__u8 include_user;
	__u8 label_requests; /* CPU: look the sampled goroutine up in go_calls (profile.bpf.c) */
	__u8 record_times;   /* CPU: send each sample's time to sample_times (profile.bpf.c) */
	__u8 pad[3];
};

/* Sent once per process the first time it is counted, so user space can read its
 * mappings while it still lives (short-lived processes keep their symbols). */
struct profile_new_process {
	__u32 pid;
};

/* CPU, with record_times: one per sample counted, for the OTLP export's per-sample timestamps
 * (user space joins them to the counts entry with the same key and generation). */
struct profile_sample_time {
	struct profile_key key;
	__u64 time_ns; /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u32 gen;
	__u32 pad;
};

/* Indices into the `counters` array map. */
enum profile_counter {
	PROFILE_SAMPLES, /* CPU: samples; off-CPU: intervals counted */
	PROFILE_STACKS_FULL,
	PROFILE_COUNTS_FULL,
	PROFILE_NEW_PROCESS_DROPPED,
	PROFILE_PENDING_FULL, /* off-CPU: switch-outs not recorded, pending map full */
	PROFILE_BELOW_MIN,    /* off-CPU: intervals shorter than min_block_ns */
	/* User stacks walked with unwind tables (bpf/unwind.bpf.h), and why walks stopped before
	 * the stack's end: */
	PROFILE_UNWIND_STACKS,
	PROFILE_UNWIND_NO_CFI,	    /* at an address no CFI of its binary covers */
	PROFILE_UNWIND_UNSUPPORTED, /* at a rule the walker cannot follow (cfi_table.h) */
	PROFILE_UNWIND_READ,	    /* stack memory unreadable, or a frame below its callee's */
	PROFILE_UNWIND_NO_RBP,	    /* a frame needed RBP where no rule recovered it */
	PROFILE_UNWIND_DEPTH,	    /* deeper than PROFILE_MAX_STACK_DEPTH */
	PROFILE_TIMES_DROPPED,	    /* CPU: sample times sample_times had no room for */
	PROFILE_NR_COUNTERS,
};

#endif
