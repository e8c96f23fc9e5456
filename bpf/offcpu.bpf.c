// SPDX-License-Identifier: GPL-2.0
/* Off-CPU profiler: where threads wait, and for how long.
 *
 * One program on the sched_switch tracepoint sees both ends of every off-CPU interval:
 *  - switch-out (prev): a target thread that blocks gets a `pending` entry under its thread
 *    ID: the time, and its user and kernel stacks — taken right there, because at
 *    sched_switch the current task is still prev, and where it stops running is where it
 *    blocks (nanosleep, a pipe read, a futex);
 *  - switch-in (next): if next has a pending entry, the elapsed time is added to `counts`
 *    under (pid, tid, user stack, kernel stack) — when it is at least min_block_ns — and the
 *    entry is deleted.
 * The interval therefore runs from blocking to running again: it includes the run-queue wait
 * after the wake-up. By default only blocked switch-outs count (the task left the run queue:
 * not preempted, state not TASK_RUNNING); time spent preempted while runnable is CPU
 * contention, not waiting, and is counted only with include_preempted.
 *
 * Per-thread state never leaks: every pending entry is deleted when its thread next runs, and
 * a thread that is exiting (exit_state set before its last switch-out) gets none. Blocks in
 * progress when profiling starts or stops are not counted. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "offcpu.h"
#include "stacks.bpf.h"

const volatile __u64 min_block_ns = 1000;
const volatile bool include_preempted = false;

/* Sized by user space before load: threads of the targets that can be off CPU at once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* thread ID */
	__type(value, struct offcpu_pending);
	__uint(max_entries, 1);
} pending SEC(".maps");

static __always_inline void switched_out(void *ctx, bool preempt, struct task_struct *prev,
					 unsigned int prev_state, __u64 now)
{
	/* At sched_switch, current is still prev. */
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;

	if (tid == 0)
		return; /* the idle task */
	if (!include_preempted && (preempt || prev_state == 0))
		return; /* still runnable: preempted or yielding, not blocked */
	if (BPF_CORE_READ(prev, exit_state))
		return; /* exiting: it will not run again */
	if (!is_target(pid))
		return;

	/* Generation 0 always: a stack stored here is counted at switch-in, which may come after a
	 * continuous profile's cut (stacks.bpf.h). */
	struct offcpu_pending p = { .start_ns = now, .pid = pid };
	if (stack_config.include_user) {
		p.user_stack = store_user_stack(ctx, pid, 0);
		if (p.user_stack)
			read_sp_words(p.sp_words);
	}
	if (stack_config.include_kernel)
		p.kernel_stack = store_stack(ctx, 0, 0);
	if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
		count(PROFILE_PENDING_FULL);
}

static __always_inline void switched_in(struct task_struct *next, __u64 now)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	if (tid == 0)
		return;
	struct offcpu_pending *p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return;
	__u64 ns = now - p->start_ns;
	struct profile_key key = {
		.pid = p->pid,
		.tid = tid,
		.user_stack = p->user_stack,
		.kernel_stack = p->kernel_stack,
		.sp_words = { p->sp_words[0], p->sp_words[1] },
	};
	bpf_map_delete_elem(&pending, &tid);
	if (ns < min_block_ns) {
		count(PROFILE_BELOW_MIN);
		return;
	}
	count(PROFILE_SAMPLES);
	counts_add(&key, ns, next, 0);
	announce_process(key.pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();

	switched_in(next, now);
	switched_out(ctx, preempt, prev, prev_state, now);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
