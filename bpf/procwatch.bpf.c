// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle for the agent's discovery: every exec (a new program to match against the
 * selectors) and every process exit (state to free). Events are rare next to requests, so
 * each one wakes the reader at once: a matching service is instrumented within a second. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "procwatch.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 dropped = 0;

static __always_inline void send(__u32 pid, __u32 kind)
{
	struct procwatch_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&dropped, 1);
		return;
	}
	ev->pid = pid;
	ev->kind = kind;
	bpf_ringbuf_submit(ev, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p)
{
	send(BPF_CORE_READ(p, tgid), PROCWATCH_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	/* A process is gone when its last thread goes: the thread group's signal struct has no
	 * live threads left. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	send(BPF_CORE_READ(p, tgid), PROCWATCH_EXIT);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
