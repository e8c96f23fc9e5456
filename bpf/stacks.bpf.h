/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The stack store and counting maps shared by the stack-profiling BPF programs
 * (profile.bpf.c, offcpu.bpf.c). It defines maps and a .rodata variable: include it from one
 * .bpf.c file per BPF object — each object gets its own copies, sized by user space before
 * load (user/profile/stack_session.c reads them by these names).
 *
 * Two generations of (counts, stacks): the programs fill the one `generation` names while user
 * space reads and empties the other, so a continuous profile cuts its intervals with the
 * programs attached. A one-shot profile stays in generation 0. */
#ifndef GLIMPSE_STACKS_BPF_H
#define GLIMPSE_STACKS_BPF_H

#include <bpf/bpf_core_read.h>
#include "glimpse.bpf.h"
#include "maps.bpf.h"
#include "profile.h"

const volatile struct profile_config stack_config = {
	.include_kernel = 1,
	.include_user = 1,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
} target_pids SEC(".maps");

struct stack_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct profile_stack);
	__uint(max_entries, 1);
};
struct stack_map stacks0 SEC(".maps"), stacks1 SEC(".maps");

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct profile_key);
	__type(value, struct profile_value);
	__uint(max_entries, 1);
};
struct counts_map counts0 SEC(".maps"), counts1 SEC(".maps");

/* Which generation the programs fill (0 or 1), written by user space only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} generation SEC(".maps");

static __always_inline __u32 current_generation(void)
{
	__u32 zero = 0, *gen = bpf_map_lookup_elem(&generation, &zero);
	return gen && *gen ? 1 : 0;
}

/* Per-CPU scratch: a stack is too large for the 512-byte BPF stack frame. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct profile_stack);
	__uint(max_entries, 1);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
} seen_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} new_processes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, PROFILE_NR_COUNTERS);
} counters SEC(".maps");

static __always_inline void count(enum profile_counter which)
{
	counter_inc(&counters, which);
}

static __always_inline bool is_target(__u32 pid)
{
	return !stack_config.filter_pids || bpf_map_lookup_elem(&target_pids, &pid);
}

static __always_inline void announce_process(__u32 pid)
{
	__u8 one = 1;
	if (bpf_map_lookup_elem(&seen_pids, &pid))
		return;
	if (bpf_map_update_elem(&seen_pids, &pid, &one, BPF_NOEXIST))
		return;
	struct profile_new_process *ev = bpf_ringbuf_reserve(&new_processes, sizeof(*ev), 0);
	if (!ev) {
		count(PROFILE_NEW_PROCESS_DROPPED);
		return;
	}
	ev->pid = pid;
	/* New processes are rare; wake the reader at once so it reads maps while they live. */
	bpf_ringbuf_submit(ev, 0);
}

/* FNV-1a over whole frames, then a final mix; never returns 0 (0 means "no stack"). */
struct hash_walk {
	const struct profile_stack *st;
	__u64 h;
};

static long hash_step(__u64 i, void *data)
{
	struct hash_walk *w = data;
	if (i >= PROFILE_MAX_STACK_DEPTH)
		return 1;
	w->h ^= w->st->ips[i];
	w->h *= 0x100000001b3ULL;
	return 0;
}

static __always_inline __u64 hash_stack(const struct profile_stack *st)
{
	struct hash_walk w = { .st = st, .h = 0xcbf29ce484222325ULL };
	__u32 depth = st->depth;
	if (depth > PROFILE_MAX_STACK_DEPTH)
		depth = PROFILE_MAX_STACK_DEPTH;
	bpf_loop(depth, hash_step, &w, 0);
	__u64 h = w.h;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

#include "unwind.bpf.h"

/* Stores the scratch stack st in generation gen unless already stored there; returns its
 * hash, or 0 if not stored. */
static __always_inline __u64 store_scratch(struct profile_stack *st, __u32 gen)
{
	void *stacks = gen ? (void *)&stacks1 : (void *)&stacks0;
	__u64 hash = hash_stack(st);
	if (!bpf_map_lookup_elem(stacks, &hash)) {
		long err = bpf_map_update_elem(stacks, &hash, st, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			count(PROFILE_STACKS_FULL);
			return 0;
		}
	}
	return hash;
}

/* Walks the current task's stack (flags: 0 = kernel, BPF_F_USER_STACK = user) by frame
 * pointers, stores it in generation gen unless already stored there, and returns its hash, or
 * 0 if there is none or it was not stored. */
static __always_inline __u64 store_stack(void *ctx, __u64 flags, __u32 gen)
{
	__u32 zero = 0;
	struct profile_stack *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return 0;
	long bytes = bpf_get_stack(ctx, st->ips, sizeof(st->ips), flags);
	if (bytes <= 0)
		return 0;
	st->depth = bytes / sizeof(__u64);
	return store_scratch(st, gen);
}

/* The current task's user stack, process pid's: with its unwind tables when it has any
 * (unwind.bpf.h), else by frame pointers; stored in generation gen. Its hash, or 0. */
static __always_inline __u64 store_user_stack(void *ctx, __u32 pid, __u32 gen)
{
	__u32 zero = 0;
	struct profile_stack *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return 0;
	if (unwind_user_stack(pid, st))
		return st->depth ? store_scratch(st, gen) : 0;
	return store_stack(ctx, BPF_F_USER_STACK, gen);
}

/* The current task's two words at its user stack pointer, each kept only when it points into
 * the executable's code (profile_key.sp_words). */
static __always_inline void read_sp_words(__u64 words[2])
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 start = BPF_CORE_READ(task, mm, start_code), end = BPF_CORE_READ(task, mm, end_code);
	__u64 sp = BPF_CORE_READ(regs, sp), w[2] = {};
	if (!sp || bpf_probe_read_user(w, sizeof(w), (void *)sp))
		return;
	for (int i = 0; i < 2; i++)
		words[i] = w[i] >= start && w[i] < end ? w[i] : 0;
}

static __always_inline void value_add(struct profile_value *val, __u64 ns)
{
	__sync_fetch_and_add(&val->count, 1);
	if (ns)
		__sync_fetch_and_add(&val->ns, ns);
}

/* Adds one event of ns nanoseconds to key's entry in generation gen. A new entry is named
 * after task's thread name, or the current task's when task is NULL. false: not counted (the
 * map is full). */
static __always_inline bool counts_add(const struct profile_key *key, __u64 ns, struct task_struct *task,
				       __u32 gen)
{
	void *counts = gen ? (void *)&counts1 : (void *)&counts0;
	struct profile_value *val = bpf_map_lookup_elem(counts, key);
	if (!val) {
		struct profile_value init = {};
		if (task)
			bpf_core_read_str(init.thread, sizeof(init.thread), &task->comm);
		else
			bpf_get_current_comm(init.thread, sizeof(init.thread));
		long err = 0;
		val = map_lookup_or_try_init(counts, key, &init, &err);
		if (!val) {
			count(PROFILE_COUNTS_FULL);
			return false;
		}
	}
	value_add(val, ns);
	return true;
}

#endif
