// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "profile/stack_profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "profile.h"
#include "binfmt/symbolizer.h"
#include "profile/kernel_names.h"
#include "profile/leaf_frames.h"
#include "binfmt/elf_module.h"
#include "profile/stack_raw.h"

struct truncation {
	const struct sym_mapping *mapping; /* where user stacks stop */
	uint64_t samples;
};

struct stack_profile {
	struct prof prof;
	struct profiler_stats stats;
	struct symbolizer *syms; /* frame strings point into its modules */
	char **owned;		 /* other strings the profile points to */
	size_t nowned, owned_cap;
	struct truncation *trunc;
	size_t ntrunc;
	const struct sym_mapping **no_inline; /* Go binaries sampled whose inline trees are unread */
	size_t nno_inline;
	uint64_t user_samples;
	uint64_t restored_callers; /* samples whose skipped caller was put back (leaf_frames.h) */
	struct unwind_table_stats unwind;
	bool owns_syms;
	struct kernel_names *kn; /* kernel frames' names point into it */
	bool owns_kn;
};

static char *own(struct stack_profile *sp, char *s)
{
	if (!s)
		return NULL;
	if (sp->nowned == sp->owned_cap) {
		size_t cap = sp->owned_cap ? 2 * sp->owned_cap : 64;
		char **grown = realloc(sp->owned, cap * sizeof(*grown));
		if (!grown) {
			free(s);
			return NULL;
		}
		sp->owned = grown;
		sp->owned_cap = cap;
	}
	sp->owned[sp->nowned++] = s;
	return s;
}

/* Kernel addresses are named in one batch per profile (kernel_names.h). */
static void resolve_kernel(struct kernel_names *kn, const struct raw_entry *e, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += e[i].nkern;
	uint64_t *addrs = malloc((total ? total : 1) * sizeof(uint64_t));
	if (!addrs)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < e[i].nkern; j++)
			addrs[k++] = e[i].kern[j];
	kernel_names_add(kn, addrs, k);
	free(addrs);
}

static int prof_mapping_index(struct stack_profile *sp, int *index_of, const struct sym_mapping *m)
{
	if (!m)
		return -1;
	if (index_of[m->index] < 0) {
		struct prof_mapping *pm = &sp->prof.mappings[sp->prof.nmappings];
		*pm = (struct prof_mapping){
			.start = m->start,
			.limit = m->end,
			.file_offset = m->offset,
			.file = m->path,
			.build_id = m->build_id,
			.has_functions = m->has_functions,
			.has_filenames = m->has_lines,
			.has_line_numbers = m->has_lines,
			.is_executable = m->is_executable,
		};
		index_of[m->index] = (int)sp->prof.nmappings++;
	}
	return index_of[m->index];
}

static void note_truncation(struct stack_profile *sp, const struct sym_mapping *m, uint64_t samples)
{
	for (size_t i = 0; i < sp->ntrunc; i++) {
		if (sp->trunc[i].mapping == m) {
			sp->trunc[i].samples += samples;
			return;
		}
	}
	struct truncation *grown = realloc(sp->trunc, (sp->ntrunc + 1) * sizeof(*grown));
	if (!grown)
		return;
	sp->trunc = grown;
	sp->trunc[sp->ntrunc++] = (struct truncation){ m, samples };
}

static void note_no_inline(struct stack_profile *sp, const struct sym_mapping *m)
{
	for (size_t i = 0; i < sp->nno_inline; i++)
		if (sp->no_inline[i] == m || !strcmp(sp->no_inline[i]->path, m->path))
			return;
	const struct sym_mapping **grown = realloc(sp->no_inline, (sp->nno_inline + 1) * sizeof(*grown));
	if (!grown)
		return;
	sp->no_inline = grown;
	sp->no_inline[sp->nno_inline++] = m;
}

/* Off-CPU kernel stacks are taken inside the sched_switch tracepoint: their first frames are
 * the BPF program and the tracepoint's plumbing, not where the thread blocked. (In a CPU
 * profile, a BPF program at the leaf is real CPU time and stays.) */
static bool tracing_frame(const char *name)
{
	static const char *const prefixes[] = { "bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_",
						"bpf_trampoline_" };
	for (size_t i = 0; name && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* The inlined calls of a symbolized frame, copied for the profile; NULL if none (or no memory:
 * the frame then stands for its physical function alone). */
static const struct prof_inline *own_inlined(struct stack_profile *sp, const struct sym_frame *f)
{
	struct prof_inline *in = f->ninlined ? calloc(f->ninlined, sizeof(*in)) : NULL;
	if (!in || !own(sp, (char *)in))
		return NULL;
	for (uint32_t i = 0; i < f->ninlined; i++)
		in[i] = (struct prof_inline){ f->inlined[i].func, f->inlined[i].file, f->inlined[i].line };
	return in;
}

/* Turns one counts entry into a sample (kernel frames, then user frames, leaf first). */
static int add_sample(struct stack_profile *sp, const struct raw_entry *r, const struct kernel_names *kn,
		      int *index_of, int *kernel_mapping)
{
	struct prof_sample *ps = &sp->prof.samples[sp->prof.nsamples];
	ps->frames = calloc(r->nuser + r->nkern, sizeof(struct prof_frame));
	if (!ps->frames || !own(sp, (char *)ps->frames))
		return -ENOMEM;
	pid_t pid = (pid_t)r->key.pid;
	ps->pid = r->key.pid;
	ps->tid = r->key.tid;
	ps->count = r->val.count;
	ps->request.span_id = r->key.span_id;
	memcpy(ps->request.trace_id, r->key.trace_id, sizeof(ps->request.trace_id));
	ps->value_ns = sp->prof.kind == PROF_OFFCPU ? r->val.ns : r->val.count * sp->prof.period_ns;
	if (r->times) {
		uint64_t *times = malloc(r->val.count * sizeof(*times));
		if (!times || !own(sp, (char *)times))
			return -ENOMEM;
		memcpy(times, r->times, r->val.count * sizeof(*times));
		ps->times = times;
	}
	ps->thread = own(sp, strndup(r->val.thread, PROFILE_COMM_LEN));
	ps->process = symbolizer_process_name(sp->syms, pid);
	if (!ps->process)
		ps->process = ps->thread;
	int kfirst = 0;
	while (sp->prof.kind == PROF_OFFCPU && kfirst < r->nkern &&
	       tracing_frame(kernel_names_find(kn, r->kern[kfirst])))
		kfirst++;
	for (int j = kfirst; j < r->nkern; j++) {
		if (*kernel_mapping < 0) {
			*kernel_mapping = (int)sp->prof.nmappings++;
			sp->prof.mappings[*kernel_mapping] = (struct prof_mapping){
				.file = "[kernel.kallsyms]",
				.has_functions = kernel_names_readable(kn),
				.limit = ~0ULL,
			};
		}
		ps->frames[ps->nframes++] = (struct prof_frame){
			.func = kernel_names_find(kn, r->kern[j]),
			.addr = r->kern[j],
			.mapping = *kernel_mapping,
			.kernel = true,
		};
	}
	/* A walk that ends in the module it was already in, rather than in a caller from
	 * another module (libc's start code calling main), suggests a broken frame chain. */
	const struct sym_mapping *outermost = NULL, *callee = NULL;
	for (int j = 0; j < r->nuser; j++) {
		struct sym_frame f;
		symbolizer_user(sp->syms, pid, r->user[j], j > 0, &f);
		const struct prof_inline *inlined = own_inlined(sp, &f);
		ps->frames[ps->nframes++] = (struct prof_frame){
			.func = f.func,
			.file = f.file,
			.line = f.line,
			.addr = r->user[j],
			.mapping = prof_mapping_index(sp, index_of, f.mapping),
			.ninlined = inlined ? f.ninlined : 0,
			.inlined = inlined,
		};
		if (f.mapping) {
			callee = outermost;
			outermost = f.mapping;
			if (f.mapping->is_go && !f.mapping->go_inline)
				note_no_inline(sp, f.mapping);
		}
	}
	/* Past a thread's root the frame-pointer walk reads garbage: addresses in no
	 * executable mapping cannot be return addresses, so drop them from the end. */
	while (ps->nframes > (uint32_t)(r->nkern - kfirst) && ps->frames[ps->nframes - 1].mapping < 0)
		ps->nframes--;
	if (r->nuser) {
		sp->user_samples += r->val.count;
		if (outermost && (!callee || callee == outermost))
			note_truncation(sp, outermost, r->val.count);
	}
	sp->prof.nsamples++;
	return 0;
}

struct symbolizer_pid {
	struct symbolizer *syms;
	pid_t pid;
};

static int go_sp_delta(void *ctx, uint64_t pc, int32_t *delta)
{
	struct symbolizer_pid *at = ctx;
	return symbolizer_go_sp_delta(at->syms, at->pid, pc, delta);
}

static int build_profile(struct stack_profile *sp, int hz, struct raw_counts *rc)
{
	struct raw_entry *e = rc->e;
	size_t n = rc->n;
	resolve_kernel(sp->kn, e, n);

	int nmaps = symbolizer_nmappings(sp->syms), err = 0;
	int *index_of = malloc((nmaps + 1) * sizeof(int));
	sp->prof.mappings = calloc(nmaps + 1, sizeof(struct prof_mapping));
	sp->prof.samples = calloc(n ? n : 1, sizeof(struct prof_sample));
	if (!index_of || !sp->prof.mappings || !sp->prof.samples) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i <= nmaps; i++)
		index_of[i] = -1;
	int kernel_mapping = -1;

	sp->prof.period_ns = sp->prof.kind == PROF_CPU ? 1000000000ULL / (uint64_t)hz : 0;
	sp->prof.time_ns = rc->t0;
	sp->prof.duration_ns = rc->t1 - rc->t0;
	for (size_t i = 0; i < n; i++) {
		struct symbolizer_pid at = { sp->syms, (pid_t)e[i].key.pid };
		const uint64_t words[2] = { e[i].key.sp_words[0], e[i].key.sp_words[1] };
		if (leaf_frames_restore(e[i].user, &e[i].nuser, PROFILE_MAX_STACK_DEPTH, words, go_sp_delta,
					&at))
			sp->restored_callers += e[i].val.count;
		for (int j = 0; j < e[i].nuser; j++) /* each binary's lines then come in one pass */
			symbolizer_want_user(sp->syms, at.pid, e[i].user[j], j > 0);
	}
	for (size_t i = 0; i < n; i++)
		if (e[i].nuser + e[i].nkern && add_sample(sp, &e[i], sp->kn, index_of, &kernel_mapping))
			break;
	prof_put_executable_first(&sp->prof);
out:
	free(index_of);
	return err;
}

int stack_profile_build(struct symbolizer *syms, bool owns_syms, struct kernel_names *kn, enum prof_kind kind,
			int hz, struct raw_counts *rc, struct stack_profile **out)
{
	struct stack_profile *sp = calloc(1, sizeof(*sp));
	if (sp && !kn) {
		sp->owns_kn = true;
		kn = kernel_names_new("/proc/kallsyms", false);
		if (kn)
			kernel_names_use_iterator(kn, rc->ksym_iter, rc->ksym_slots);
	}
	if (!sp || !kn) {
		if (owns_syms)
			symbolizer_free(syms);
		free(sp);
		return -ENOMEM;
	}
	sp->syms = syms;
	sp->owns_syms = owns_syms;
	sp->kn = kn;
	sp->prof.kind = kind;
	sp->stats = rc->stats;
	sp->unwind = rc->tables;
	int err = build_profile(sp, hz, rc);
	if (err) {
		stack_profile_free(sp);
		return err;
	}
	*out = sp;
	return 0;
}

const struct prof *stack_profile_data(const struct stack_profile *sp)
{
	return &sp->prof;
}

const struct profiler_stats *stack_profile_stats(const struct stack_profile *sp)
{
	return &sp->stats;
}

/* Warn when at least this share of a process's user samples stop in such a module. */
#define TRUNCATED_SHARE_WARN 0.05

void stack_profile_report_quality(const struct stack_profile *sp)
{
	const struct profiler_stats *st = &sp->stats;
	bool offcpu = sp->prof.kind == PROF_OFFCPU;
	/* With unwind tables for every module that lacks frame pointers, its stacks were walked
	 * with their CFI: one that ends in libc ends at a thread's root (start_thread, clone3), not
	 * at a lost frame pointer, and walks that did stop early are unwind_tables_report's. */
	bool walked_with_cfi = sp->unwind.tables && !sp->unwind.no_cfi && !st->unwind.no_cfi;
	for (size_t i = 0; i < sp->ntrunc && !walked_with_cfi; i++) {
		const struct truncation *t = &sp->trunc[i];
		if (!sp->user_samples || (double)t->samples / sp->user_samples < TRUNCATED_SHARE_WARN)
			continue;
		/* The symbolizer owns the module; look its frame pointer share up through it. */
		double share = symbolizer_frame_pointer_share(sp->syms, t->mapping);
		if (share < 0 || share >= ELF_FP_SHARE_MIN)
			continue;
		log_warn("%.0f%% of user stacks stop in %s, which was built without frame pointers: "
			 "those stacks are truncated; rebuild it with -fno-omit-frame-pointer for whole "
			 "stacks",
			 100.0 * t->samples / sp->user_samples, t->mapping->path);
	}
	for (size_t i = 0; i < sp->nno_inline; i++)
		log_warn("%s (%s): no inline trees read (Go before 1.18, or a layout not known): time in "
			 "inlined functions counts as their callers'",
			 sp->no_inline[i]->path,
			 sp->no_inline[i]->go_version ? sp->no_inline[i]->go_version : "Go version unknown");
	unwind_tables_report(&sp->unwind, &st->unwind);
	if (sp->restored_callers)
		log_debug("%llu samples in Go functions without a frame set up (small leaves, prologues, "
			  "epilogues): their caller, which the frame-pointer walk skips, was put back from "
			  "the stack",
			  (unsigned long long)sp->restored_callers);
	if (st->stacks_full)
		log_warn("%llu stacks were not stored (stack map full, or the kernel could not allocate "
			 "at that moment); if this is large, raise --max-stacks",
			 (unsigned long long)st->stacks_full);
	if (st->counts_full)
		log_warn("%llu %s dropped: more distinct stacks than --max-stacks",
			 (unsigned long long)st->counts_full, offcpu ? "off-CPU intervals" : "samples");
	if (st->pending_full)
		log_warn("%llu off-CPU intervals were not recorded: more threads off CPU at once than "
			 "the kernel table holds",
			 (unsigned long long)st->pending_full);
	if (st->new_process_dropped)
		log_warn("%llu new processes were not announced in time; some may stay unsymbolized",
			 (unsigned long long)st->new_process_dropped);
}

void stack_profile_free(struct stack_profile *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; i < sp->nowned; i++)
		free(sp->owned[i]);
	free(sp->owned);
	free(sp->prof.samples);
	free(sp->prof.mappings);
	free(sp->trunc);
	free(sp->no_inline);
	if (sp->owns_syms)
		symbolizer_free(sp->syms);
	if (sp->owns_kn)
		kernel_names_free(sp->kn);
	free(sp);
}
