// SPDX-License-Identifier: GPL-2.0
/* Scheduler insight per process from BTF tracepoints: run-queue latency (woken, or preempted
 * while runnable, until sched_switch puts the thread on a CPU) as a histogram, off-CPU time
 * (switched out until switched back in) and context switches by kind.
 *
 * The run-queue waits are the kernel's own (CONFIG_SCHED_INFO, the accounting behind
 * /proc/PID/task/TID/schedstat): the kernel adds each wait to task_struct.sched_info.run_delay
 * when the thread gets a CPU, and at the thread's next sched_switch away from it the wait is
 * what that total grew by since the previous one. So no program runs on wakeups, the machine's
 * most frequent scheduler event; a wait that a migration between CPUs split counts whole, as
 * the kernel counts it; and a wait is recorded when its thread leaves the CPU it waited for.
 *
 * Per thread, `threads` holds the run_delay total and when it left a CPU; per process, `procs`
 * holds per-CPU totals that user space sums. In the default mode user space inserts an entry
 * for each tracked process and sets its bit in `watched`; the programs ignore every other
 * process after one inlined array load. With track_all, the programs create entries for every
 * process they see, and delete them when its last thread exits. Thread entries go away when the
 * thread exits. Nothing is created for a thread that is exiting (PF_EXITING, set before the exit
 * tracepoint), so nothing is left behind. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "glimpse.bpf.h"
#include "maps.bpf.h"
#include "sched_maps.h"
#include "watched.bpf.h"

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

/* The programs run on every wakeup and context switch of the machine, whose tasks mostly belong
 * to no tracked process: one bit per tracked tgid, set by user space once its procs entry
 * exists, rejects them with an inlined array load (watched.bpf.h) before any hash lookup. Unused
 * with track_all. */
WATCHED_MAP(watched);

/* Initial value for processes first seen in track_all mode (too large for the BPF stack). */
static const struct sched_proc zero_proc;

static __always_inline void count(enum sched_counter which)
{
	counter_inc(&counters, which);
}

/* task_struct.flags bit set at the start of do_exit(): a stable ABI value (include/linux/sched.h). */
#define PF_EXITING_FLAG 0x00000004

static __always_inline bool exiting(struct task_struct *t)
{
	return t->flags & PF_EXITING_FLAG;
}

/* False only when t's process is certainly not tracked. */
static __always_inline bool maybe_tracked(struct task_struct *t)
{
	return track_all || watched_test(&watched, t->tgid);
}

/* This CPU's totals of a tracked process, or NULL if it is not tracked. In track_all mode a
 * missing entry is created if create is set. */
static __always_inline struct sched_proc *proc_of(__u32 tgid, bool create)
{
	if (!track_all || !create)
		return bpf_map_lookup_elem(&procs, &tgid);
	long err = 0;
	struct sched_proc *p = map_lookup_or_try_init(&procs, &tgid, &zero_proc, &err);
	if (!p && err)
		count(SCHED_PROCS_FULL);
	return p;
}

static __always_inline void store_thread(__u32 tid, const struct sched_thread *t)
{
	long err = bpf_map_update_elem(&threads, &tid, t, BPF_NOEXIST);
	if (err && err != -EEXIST)
		count(SCHED_THREADS_FULL);
}

static __always_inline void record_wait(struct sched_proc *p, __u64 d)
{
	__u32 b = sched_bucket(d);
	if (b > SCHED_NR_BOUNDS)
		b = SCHED_NR_BOUNDS;
	p->runq_buckets[b]++;
	p->runq_sum_ns += d;
}

/* prev's process may be tracked (maybe_tracked). */
static __always_inline void switch_out(struct task_struct *prev, bool runnable, __u64 now)
{
	__u32 tid = prev->pid, tgid = prev->tgid;
	bool dying = exiting(prev);
	struct sched_proc *p = proc_of(tgid, !dying);
	if (!p)
		return;
	if (runnable)
		p->nivcsw++;
	else
		p->nvcsw++;
	/* prev is on the CPU: its last wait is in the total, and nothing more is queued. */
	__u64 total = prev->sched_info.run_delay;
	struct sched_thread *t = bpf_map_lookup_elem(&threads, &tid);
	if (t) {
		if ((t->flags & SCHED_DELAY_SEEN) && total >= t->delay_seen)
			record_wait(p, total - t->delay_seen);
		t->off_since = now;
		t->delay_seen = total;
		t->flags |= SCHED_DELAY_SEEN;
		return;
	}
	if (dying)
		return;
	struct sched_thread init = {
		.delay_seen = total, .off_since = now, .tgid = tgid, .flags = SCHED_DELAY_SEEN
	};
	store_thread(tid, &init);
}

/* next's process may be tracked (maybe_tracked). */
static __always_inline void switch_in(struct task_struct *next, __u64 now)
{
	__u32 tid = next->pid;
	struct sched_thread *t = bpf_map_lookup_elem(&threads, &tid);
	if (!t || !t->off_since)
		return;
	__u64 off = t->off_since;
	t->off_since = 0;
	/* Never creates: an entry that is gone belongs to a process whose last thread exited. */
	struct sched_proc *p = proc_of(t->tgid, false);
	if (p && now > off)
		p->offcpu_ns += now - off;
}

/* TASK_RUNNING: the only task state value needed, and part of the user-visible ABI
 * (the "R" of /proc/PID/stat). */
#define TASK_RUNNING_STATE 0

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	/* Every context switch of the machine comes here: the clock is read only for a tracked
	 * process's. */
	bool out = prev->pid && maybe_tracked(prev), in = next->pid && maybe_tracked(next);
	if (!out && !in)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	/* Preempted, or not blocked after all (a signal was pending): it stays on the run queue. */
	bool runnable = preempt || prev_state == TASK_RUNNING_STATE;
	if (out)
		switch_out(prev, runnable, now);
	if (in)
		switch_in(next, now);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 tid = p->pid, tgid = p->tgid;
	if (!maybe_tracked(p))
		return 0;
	bpf_map_delete_elem(&threads, &tid);
	/* The process's last thread (do_exit() drops signal->live before this tracepoint). In
	 * track_all mode its totals go; tracked processes keep theirs for user space to read. */
	if (track_all && BPF_CORE_READ(p, signal, live.counter) == 0)
		bpf_map_delete_elem(&procs, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
