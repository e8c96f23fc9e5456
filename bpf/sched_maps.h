/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/sched.bpf.c and user space: fixed-width types only, plus the run-queue
 * latency bucket function both sides run (so unit tests exercise the code the kernel runs).
 * Not named sched.h: user code is built with -Ibpf, and that name would shadow libc's
 * <sched.h> (which <pthread.h> includes) in every user object. */
#ifndef GLIMPSE_BPF_SCHED_MAPS_H
#define GLIMPSE_BPF_SCHED_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Run-queue latency bucket upper bounds, inclusive, in nanoseconds: 1-2-5 steps from 1 µs to
 * 2 s (a factor of 2 or 2.5 between neighbours). Index SCHED_NR_BOUNDS is +Inf. */
#define SCHED_NR_BOUNDS 20
#define SCHED_BOUNDS_NS_INIT                                                                              \
	{                                                                                                 \
		1000ULL, 2000ULL, 5000ULL, 10000ULL, 20000ULL, 50000ULL, 100000ULL, 200000ULL, 500000ULL, \
			1000000ULL, 2000000ULL, 5000000ULL, 10000000ULL, 20000000ULL, 50000000ULL,        \
			100000000ULL, 200000000ULL, 500000000ULL, 1000000000ULL, 2000000000ULL            \
	}

/* Per thread (key: tid). */
struct sched_thread {
	/* The kernel's own run-queue wait total of the thread (task_struct.sched_info.run_delay,
	 * ns) when it last left a CPU (or user space saw it asleep): the wait before its next run
	 * is what the total grew by when it leaves the CPU again. */
	__u64 delay_seen;
	__u64 off_since; /* switched out since: bpf_ktime_get_ns() (CLOCK_MONOTONIC), 0 = none */
	__u32 tgid;
	__u32 flags; /* sched_thread_flags */
};

enum sched_thread_flags {
	SCHED_DELAY_SEEN = 1 << 0, /* delay_seen holds a value */
};

/* Per process (key: tgid), one copy per CPU; readers sum. Counts since tracking began. */
struct sched_proc {
	__u64 runq_buckets[SCHED_NR_BOUNDS + 1];
	__u64 runq_sum_ns;
	__u64 offcpu_ns;
	__u64 nvcsw;  /* switched out blocked (voluntary) */
	__u64 nivcsw; /* switched out runnable (preempted, yielded) */
};

/* Indices into the `counters` per-CPU array. */
enum sched_counter {
	SCHED_THREADS_FULL, /* a thread's state could not be stored: its intervals are lost */
	SCHED_PROCS_FULL,   /* (all-process mode) a process's totals could not be stored */
	SCHED_NR_COUNTERS,
};

/* Index of the bucket holding ns: the first bound >= ns, or SCHED_NR_BOUNDS (+Inf).
 * A binary search: 5 steps cover 21 buckets. */
static inline __attribute__((always_inline)) __u32 sched_bucket(__u64 ns)
{
	static const __u64 bounds[SCHED_NR_BOUNDS] = SCHED_BOUNDS_NS_INIT;
	__u32 lo = 0, hi = SCHED_NR_BOUNDS;
	for (int step = 0; step < 5; step++) {
		if (lo >= hi)
			break;
		__u32 mid = (lo + hi) / 2;
		if (mid >= SCHED_NR_BOUNDS)
			break;
		if (ns <= bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

#endif
