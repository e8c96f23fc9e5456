// SPDX-License-Identifier: GPL-2.0
/* Scheduler insight per process from BTF tracepoints: run-queue latency (woken, or preempted
 * while runnable, until sched_switch puts the thread on a CPU) as a histogram, off-CPU time
 * (switched out until switched back in) and context switches by kind.
 *
 * Per thread, `threads` holds when it started waiting for a CPU and when it left one; per
 * process, `procs` holds per-CPU totals that user space sums. In the default mode `procs` is
 * also the filter: user space inserts an entry for each tracked process and the programs
 * ignore every other one (one hash lookup that misses). With track_all, the programs create
 * entries for every process they see. Thread entries go away when the thread exits. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "glimpse.bpf.h"
#include "sched_maps.h"

const volatile bool track_all = false;

/* Sized by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct sched_thread);
	__uint(max_entries, 1);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct sched_proc);
	__uint(max_entries, 1);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, SCHED_NR_COUNTERS);
} counters SEC(".maps");

/* Initial value for processes first seen in track_all mode (too large for the BPF stack). */
static const struct sched_proc zero_proc;

static __always_inline void count(enum sched_counter which)
{
	__u32 key = which;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		(*v)++;
}

/* This CPU's totals of a tracked process, or NULL if it is not tracked. */
static __always_inline struct sched_proc *proc_of(__u32 tgid)
{
	struct sched_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	if (p || !track_all)
		return p;
	long err = bpf_map_update_elem(&procs, &tgid, &zero_proc, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count(SCHED_PROCS_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&procs, &tgid);
}

static __always_inline void store_thread(__u32 tid, const struct sched_thread *t)
{
	long err = bpf_map_update_elem(&threads, &tid, t, BPF_NOEXIST);
	if (err && err != -EEXIST)
		count(SCHED_THREADS_FULL);
}

static __always_inline void on_wakeup(struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid), tgid = BPF_CORE_READ(p, tgid);
	if (!tid || !proc_of(tgid))
		return;
	__u64 now = bpf_ktime_get_ns();
	struct sched_thread *t = bpf_map_lookup_elem(&threads, &tid);
	if (t) {
		/* Already waiting (preempted, then woken from the state it was about to sleep in):
		 * the wait began at the earlier time. */
		if (!t->runq_since)
			t->runq_since = now;
		return;
	}
	struct sched_thread init = { .runq_since = now, .tgid = tgid };
	store_thread(tid, &init);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

static __always_inline void switch_out(struct task_struct *prev, bool runnable, __u64 now)
{
	__u32 tid = BPF_CORE_READ(prev, pid), tgid = BPF_CORE_READ(prev, tgid);
	struct sched_proc *p = proc_of(tgid);
	if (!p)
		return;
	if (runnable)
		p->nivcsw++;
	else
		p->nvcsw++;
	/* Its last switch: it will not run again, so nothing of it is left to keep. */
	if (BPF_CORE_READ(prev, exit_state)) {
		bpf_map_delete_elem(&threads, &tid);
		return;
	}
	/* Always overwrite runq_since: a wakeup that came while the thread still ran (it had
	 * not gone to sleep yet) left a stale time there. */
	__u64 runq = runnable ? now : 0;
	struct sched_thread *t = bpf_map_lookup_elem(&threads, &tid);
	if (t) {
		t->off_since = now;
		t->runq_since = runq;
		return;
	}
	struct sched_thread init = { .runq_since = runq, .off_since = now, .tgid = tgid };
	store_thread(tid, &init);
}

static __always_inline void switch_in(struct task_struct *next, __u64 now)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	struct sched_thread *t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		return;
	__u64 runq = t->runq_since, off = t->off_since;
	t->runq_since = 0;
	t->off_since = 0;
	if (!runq && !off)
		return;
	struct sched_proc *p = proc_of(t->tgid);
	if (!p)
		return;
	if (runq && now >= runq) {
		__u64 d = now - runq;
		__u32 b = sched_bucket(d);
		if (b > SCHED_NR_BOUNDS)
			b = SCHED_NR_BOUNDS;
		p->runq_buckets[b]++;
		p->runq_sum_ns += d;
	}
	if (off && now > off)
		p->offcpu_ns += now - off;
}

/* TASK_RUNNING: the only task state value needed, and part of the user-visible ABI
 * (the "R" of /proc/PID/stat). */
#define TASK_RUNNING_STATE 0

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	/* Preempted, or not blocked after all (a signal was pending): it stays on the run queue. */
	bool runnable = preempt || prev_state == TASK_RUNNING_STATE;
	if (BPF_CORE_READ(prev, pid))
		switch_out(prev, runnable, now);
	if (BPF_CORE_READ(next, pid))
		switch_in(next, now);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	bpf_map_delete_elem(&threads, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
