/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/offcpu.bpf.c and user space (user/profile/offcpu_profiler.c): fixed-width
 * types only. The counting maps and their key and value are profile.h's. */
#ifndef GLIMPSE_BPF_OFFCPU_H
#define GLIMPSE_BPF_OFFCPU_H

#include "profile.h"

/* A thread of a target process that is off CPU now: since when, and where it stopped.
 * Kept in the `pending` map under its thread ID from switch-out to switch-in. */
struct offcpu_pending {
	__u64 start_ns; /* bpf_ktime_get_ns() at switch-out */
	__u64 user_stack;
	__u64 kernel_stack;
	__u64 sp_words[2]; /* profile_key.sp_words at switch-out */
	__u32 pid;
	__u32 pad;
};

#endif
