/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The user-stack walk for processes that map code built without frame pointers (bpf/unwind.h
 * has the tables). Frame by frame: the executable mapping the pc is in (a binary search of the
 * process's mappings that have a table) decides how to find the caller — a table row (binary
 * search of that binary's rows) gives the CFA from RSP or RBP, the return address at CFA - 8 and
 * where RBP was saved; code without a table (built with frame pointers, or JIT) takes the
 * frame-pointer step, return address at RBP + 8. Processes without such mappings never come
 * here: the kernel's frame-pointer walk (bpf_get_stack) stays their path. Every stop other than
 * the stack's real end is counted (profile.h), never guessed past. Included by stacks.bpf.h,
 * after the counters. */
#ifndef GLIMPSE_UNWIND_BPF_H
#define GLIMPSE_UNWIND_BPF_H

#include "unwind.h"

struct unwind_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP); /* each binary's array is sized to its rows */
	__uint(key_size, sizeof(__u32));
	/* A size, not a type: clang would emit the row's BTF as a bare declaration here. */
	__uint(value_size, sizeof(struct unwind_row));
	__uint(max_entries, 1);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, UNWIND_MAX_TABLES);
	__type(key, __u32);
	__array(values, struct unwind_rows);
} unwind_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct unwind_proc);
	__uint(max_entries, 1);
} unwind_procs SEC(".maps");

struct unwind_walk {
	__u32 pid;
	__u32 stop; /* enum profile_counter of why the walk stopped early, 0 at the stack's end */
	__u64 ip, sp, bp;
	bool bp_known;
};

/* The walk's state and the two binary searches' bounds live in a per-CPU map value, not on the
 * stack: the verifier tracks stack values exactly and verified each bpf_loop callback again
 * for every value it saw there (the frame step ~20 times, the searches nested in each); values
 * loaded from a map are unknown to it, so each callback is verified in a pass or two. One walk
 * runs at a time per CPU (a perf event program does not nest). */
struct unwind_bounds {
	__u32 lo, hi;
};

struct unwind_scratch {
	struct unwind_walk w;
	struct unwind_bounds b;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_scratch);
} unwind_scratch SEC(".maps");

/* The frame step's bpf_loop context: the state's address only. */
struct unwind_ctx {
	struct unwind_scratch *u;
};

struct unwind_map_search {
	const struct unwind_proc *p;
	struct unwind_bounds *b;
	__u64 pc;
};

/* One halving of the search for the last mapping starting at or below pc (bpf_loop callback). */
static long unwind_map_step(__u64 i, void *ctx)
{
	struct unwind_map_search *s = ctx;
	struct unwind_bounds *b = s->b;
	__u32 lo = b->lo, hi = b->hi;
	if (lo >= hi)
		return 1;
	__u32 mid = lo + (hi - lo) / 2;
	if (mid >= UNWIND_MAX_PROC_MAPS) {
		b->lo = b->hi = 0;
		return 1;
	}
	if (s->p->maps[mid].start <= s->pc)
		b->lo = mid + 1;
	else
		b->hi = mid;
	return 0;
}

static __always_inline const struct unwind_map *unwind_find_map(const struct unwind_proc *p,
								struct unwind_bounds *b, __u64 pc)
{
	struct unwind_map_search s = { .p = p, .b = b, .pc = pc };
	b->lo = 0;
	b->hi = p->nmaps < UNWIND_MAX_PROC_MAPS ? p->nmaps : UNWIND_MAX_PROC_MAPS;
	bpf_loop(UNWIND_MAP_SEARCH_STEPS, unwind_map_step, &s, 0);
	__u32 lo = b->lo;
	if (lo == 0 || lo < b->hi || lo > UNWIND_MAX_PROC_MAPS)
		return NULL;
	const struct unwind_map *m = &p->maps[lo - 1];
	return pc < m->end ? m : NULL;
}

struct unwind_search {
	struct unwind_bounds *b;
	__u32 table, key;
};

/* One halving of the binary search for the last row at or below key (a bpf_loop callback:
 * verified once, however many steps run). */
static long unwind_search_step(__u64 i, void *ctx)
{
	struct unwind_search *s = ctx;
	struct unwind_bounds *b = s->b;
	__u32 lo = b->lo, hi = b->hi;
	if (lo >= hi)
		return 1;
	__u32 mid = lo + (hi - lo) / 2;
	void *rows = bpf_map_lookup_elem(&unwind_tables, &s->table);
	const struct unwind_row *r = rows ? bpf_map_lookup_elem(rows, &mid) : NULL;
	if (!r) {
		b->lo = b->hi = 0;
		return 1;
	}
	if (r->pc <= s->key)
		b->lo = mid + 1;
	else
		b->hi = mid;
	return 0;
}

/* The row covering pc in m's table; NULL sets w->stop. */
static __always_inline const struct unwind_row *unwind_find_row(const struct unwind_map *m,
								struct unwind_bounds *b, __u64 pc,
								struct unwind_walk *w)
{
	__u64 rel = pc - m->base;
	struct unwind_search s = { .b = b, .table = m->table, .key = (__u32)rel };
	w->stop = PROFILE_UNWIND_NO_CFI;
	if (rel > 0xffffffffULL)
		return NULL;
	b->lo = 0;
	b->hi = m->nrows;
	bpf_loop(UNWIND_SEARCH_STEPS, unwind_search_step, &s, 0);
	__u32 lo = b->lo;
	if (lo == 0 || lo < b->hi)
		return NULL;
	__u32 at = lo - 1;
	void *rows = bpf_map_lookup_elem(&unwind_tables, &s.table);
	const struct unwind_row *r = rows ? bpf_map_lookup_elem(rows, &at) : NULL;
	if (r && r->kind == UNWIND_ROW_UNSUPPORTED)
		w->stop = PROFILE_UNWIND_UNSUPPORTED;
	if (!r || r->kind == UNWIND_ROW_GAP || r->kind == UNWIND_ROW_UNSUPPORTED)
		return NULL;
	w->stop = 0;
	return r;
}

/* One frame (bpf_loop callback): records w->ip, then moves to the caller. 1 stops the loop. */
static long unwind_step(__u64 i, void *ctx)
{
	struct unwind_scratch *u = ((struct unwind_ctx *)ctx)->u;
	struct unwind_walk *w = &u->w;
	struct unwind_bounds *b = &u->b;
	__u32 zero = 0;
	struct profile_stack *st = bpf_map_lookup_elem(&scratch, &zero);
	const struct unwind_proc *p = bpf_map_lookup_elem(&unwind_procs, &w->pid);
	if (!st || !p)
		return 1;
	__u32 d = st->depth;
	if (d >= PROFILE_MAX_STACK_DEPTH) {
		w->stop = PROFILE_UNWIND_DEPTH;
		return 1;
	}
	st->ips[d] = w->ip;
	st->depth = d + 1;
	/* A return address is looked up at the call before it (a call may end a function). */
	__u64 pc = i ? w->ip - 1 : w->ip, cfa, ra, bp = w->bp;
	const struct unwind_map *m = unwind_find_map(p, b, pc);
	if (!m) {
		if (!w->bp_known) {
			w->stop = PROFILE_UNWIND_NO_RBP;
			return 1;
		}
		if (!w->bp)
			return 1; /* the end of a frame-pointer chain */
		__u64 frame[2];
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)w->bp)) {
			w->stop = PROFILE_UNWIND_READ;
			return 1;
		}
		cfa = w->bp + 16;
		bp = frame[0];
		ra = frame[1];
	} else {
		const struct unwind_row *r = unwind_find_row(m, b, pc, w);
		if (!r)
			return 1;
		if (r->kind == UNWIND_ROW_END)
			return 1;
		if (r->kind == UNWIND_ROW_CFA_RBP && !w->bp_known) {
			w->stop = PROFILE_UNWIND_NO_RBP;
			return 1;
		}
		if (r->kind == UNWIND_ROW_PLT)
			cfa = w->sp + 8 + ((w->ip & 15) >= (__u64)r->cfa_off ? 8 : 0);
		else
			cfa = (r->kind == UNWIND_ROW_CFA_RSP ? w->sp : w->bp) + (__s64)r->cfa_off;
		if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8))) {
			w->stop = PROFILE_UNWIND_READ;
			return 1;
		}
		if (r->rbp_off8 == UNWIND_RBP_LOST) {
			w->bp_known = false;
		} else if (r->rbp_off8 != UNWIND_RBP_SAME &&
			   bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa + 8 * (__s64)r->rbp_off8))) {
			w->stop = PROFILE_UNWIND_READ;
			return 1;
		}
	}
	if (!ra)
		return 1; /* the outermost frame */
	/* With a row, the caller's frame is above this one: anything else is a corrupt stack. A
	 * frame-pointer chain may legitimately jump between stacks (Go's system stack), as the
	 * kernel's walk allows. */
	if (m && cfa <= w->sp) {
		w->stop = PROFILE_UNWIND_READ;
		return 1;
	}
	w->ip = ra;
	w->sp = cfa;
	w->bp = bp;
	return 0;
}

/* Walks the current task's user stack into the scratch stack with the tables of pid, if pid
 * has any; false when it has none (the caller takes the frame-pointer path). */
static __always_inline bool unwind_user_stack(__u32 pid, struct profile_stack *st)
{
	const struct unwind_proc *p = bpf_map_lookup_elem(&unwind_procs, &pid);
	struct task_struct *task = bpf_get_current_task_btf();
	if (!p || !p->tick_ns ||
	    BPF_CORE_READ(task, group_leader, start_boottime) / p->tick_ns != p->start_ticks)
		return false;
	__u32 zero = 0;
	struct unwind_ctx ctx = { .u = bpf_map_lookup_elem(&unwind_scratch, &zero) };
	if (!ctx.u)
		return false;
	struct unwind_walk *w = &ctx.u->w;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	w->pid = pid;
	w->stop = 0;
	w->ip = BPF_CORE_READ(regs, ip);
	w->sp = BPF_CORE_READ(regs, sp);
	w->bp = BPF_CORE_READ(regs, bp);
	w->bp_known = true;
	st->depth = 0;
	if (!w->ip)
		return true;
	count(PROFILE_UNWIND_STACKS);
	bpf_loop(PROFILE_MAX_STACK_DEPTH + 1, unwind_step, &ctx, 0);
	if (w->stop)
		count(w->stop);
	return true;
}

#endif
