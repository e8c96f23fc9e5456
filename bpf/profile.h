/* Shared between bpf/profile.bpf.c and user space: fixed-width types only. */
#ifndef GLIMPSE_BPF_PROFILE_H
#define GLIMPSE_BPF_PROFILE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PROFILE_COMM_LEN 16
#define PROFILE_MAX_STACK_DEPTH 127

struct profile_key {
	__u32 pid;
	__u32 tid;
	__s32 user_stack_id; /* negative: no user stack (kernel thread) or lost (-errno) */
	__s32 kernel_stack_id;
};

struct profile_value {
	__u64 count;
	char thread[PROFILE_COMM_LEN];
};

/* Sent once per process the first time it is sampled, so user space can read its
 * mappings while it still lives (short-lived processes keep their symbols). */
struct profile_new_process {
	__u32 pid;
};

/* Indices into the `counters` array map. */
enum profile_counter {
	PROFILE_SAMPLES,
	PROFILE_USER_STACK_LOST,
	PROFILE_KERNEL_STACK_LOST,
	PROFILE_COUNTS_FULL,
	PROFILE_NEW_PROCESS_DROPPED,
	PROFILE_NR_COUNTERS,
};

#endif
