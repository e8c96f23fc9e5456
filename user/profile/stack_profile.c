// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "profile/stack_profile.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "binfmt/elf_module.h"
#include "binfmt/ksyms.h"
#include "base/bpf_read.h"
#include "base/log.h"
#include "base/procfs.h"
#include "profile.h"
#include "base/signals.h"
#include "binfmt/symbolizer.h"
#include "profile/leaf_frames.h"
#include "profile/unwind_tables.h"

#define POLL_MS	   200
#define REFRESH_NS 2000000000LL

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
};

struct stack_session {
	const struct profiler_opts *opts;
	const struct stack_backend *backend;
	void *skel;
	struct bpf_object_skeleton *skeleton;
	struct bpf_link **links;
	int nlinks, links_cap;
	struct ring_buffer *rb;
	struct symbolizer *syms;
	struct unwind_tables *unwind; /* NULL without user stacks */
};

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

static int on_new_process(void *ctx, void *data, size_t len)
{
	struct stack_session *s = ctx;
	if (len < sizeof(struct profile_new_process))
		return 0;
	pid_t pid = (pid_t)((struct profile_new_process *)data)->pid;
	if (!symbolizer_tracks(s->syms, pid) && !symbolizer_track(s->syms, pid) && s->unwind)
		unwind_tables_sync(s->unwind, pid);
	return 0;
}

static struct bpf_map *map(const struct stack_session *s, const char *name)
{
	return bpf_object__find_map_by_name(*s->skeleton->obj, name);
}

static int map_fd(const struct stack_session *s, const char *name)
{
	return bpf_map__fd(map(s, name));
}

static int open_and_load(struct stack_session *s)
{
	const struct profiler_opts *o = s->opts;
	const char *what = s->backend->what;
	struct profile_config *config;
	int err = s->backend->open(o, &s->skel, &s->skeleton, &config);
	if (err) {
		log_error("cannot open the %s's BPF object: %s", what, strerror(-err));
		return GLIMPSE_EXIT_FAILURE;
	}
	config->filter_pids = !o->all;
	config->include_kernel = o->kernel_stacks;
	config->include_user = o->user_stacks;
	uint32_t npids = o->npids > 0 ? (uint32_t)o->npids : 1;
	bpf_map__set_max_entries(map(s, "target_pids"), npids);
	bpf_map__set_max_entries(map(s, "stacks"), o->max_stacks);
	bpf_map__set_max_entries(map(s, "counts"), o->max_stacks);
	bpf_map__set_max_entries(map(s, "seen_pids"), o->all ? 32768 : npids);
	bpf_map__set_max_entries(map(s, "unwind_procs"), o->all ? 32768 : npids);
	err = bpf_object__load_skeleton(s->skeleton);
	if (err) {
		log_error("cannot load the %s's BPF programs: %s (run with -v for the verifier log)", what,
			  strerror(-err));
		return err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	__u8 one = 1;
	for (int i = 0; i < o->npids; i++) {
		__u32 pid = (__u32)o->pids[i];
		bpf_map_update_elem(map_fd(s, "target_pids"), &pid, &one, BPF_ANY);
	}
	if (o->user_stacks) {
		s->unwind = unwind_tables_new(map_fd(s, "unwind_tables"), map_fd(s, "unwind_procs"), s->syms);
		if (!s->unwind)
			return GLIMPSE_EXIT_FAILURE;
		for (int i = 0; i < o->npids; i++)
			unwind_tables_sync(s->unwind, o->pids[i]);
	}
	return 0;
}

/* The stack map allocates its elements on demand, from a small per-CPU cache the kernel refills
 * asynchronously. Programs that store two new stacks at once in a context that cannot wait
 * (a scheduler tracepoint, a perf interrupt) find that cache nearly empty at the start and
 * lose stacks. Storing and deleting a few placeholder stacks from each CPU before attaching
 * leaves the freed elements in that CPU's cache. Best effort: failures change nothing. */
#define WARM_STACKS 16

static void warm_stack_map(int fd)
{
	int *cpus, ncpus;
	cpu_set_t saved, one;
	if (sched_getaffinity(0, sizeof(saved), &saved) || online_cpus(&cpus, &ncpus))
		return;
	struct profile_stack st = { .depth = 1 };
	for (int i = 0; i < ncpus; i++) {
		CPU_ZERO(&one);
		CPU_SET(cpus[i], &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		/* Keys from the top of the range, deleted at once: a real stack hash there is a
		 * 2^-60 chance, and it would only be stored again at its next sighting. */
		__u64 key = ~0ULL;
		for (int k = 0, tries = 0; k < WARM_STACKS && tries < 4 * WARM_STACKS; tries++) {
			if (bpf_map_update_elem(fd, &key, &st, BPF_NOEXIST) == 0) {
				key--;
				k++;
			} else {
				usleep(200); /* let the kernel refill this CPU's cache */
			}
		}
		for (__u64 k = ~0ULL; k > key; k--)
			bpf_map_delete_elem(fd, &k);
	}
	sched_setaffinity(0, sizeof(saved), &saved);
	free(cpus);
}

int stack_session_add_link(struct stack_session *s, struct bpf_link *link)
{
	if (s->nlinks == s->links_cap) {
		int cap = s->links_cap ? 2 * s->links_cap : 8;
		struct bpf_link **grown = realloc(s->links, cap * sizeof(*grown));
		if (!grown) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		s->links = grown;
		s->links_cap = cap;
	}
	s->links[s->nlinks++] = link;
	return 0;
}

int stack_session_nlinks(const struct stack_session *s)
{
	return s->nlinks;
}

static void detach(struct stack_session *s)
{
	for (int i = 0; i < s->nlinks; i++)
		bpf_link__destroy(s->links[i]);
	free(s->links);
	s->links = NULL;
	s->nlinks = s->links_cap = 0;
}

static bool any_target_alive(const struct profiler_opts *o)
{
	for (int i = 0; i < o->npids; i++)
		if (proc_exists(o->pids[i]))
			return true;
	return false;
}

static void poll_until_done(struct stack_session *s)
{
	const struct profiler_opts *o = s->opts;
	int64_t start = now_ns(CLOCK_MONOTONIC), last_refresh = start;
	int64_t end = o->duration_s > 0 ? start + (int64_t)(o->duration_s * 1e9) : INT64_MAX;
	while (!stop_requested()) {
		int64_t now = now_ns(CLOCK_MONOTONIC);
		if (now >= end)
			break;
		int64_t left_ms = (end - now) / 1000000;
		int err = ring_buffer__poll(s->rb, left_ms < POLL_MS ? (int)left_ms + 1 : POLL_MS);
		if (err < 0 && err != -EINTR) {
			log_error("reading the new-process ring buffer failed: %s", strerror(-err));
			break;
		}
		now = now_ns(CLOCK_MONOTONIC);
		if (now - last_refresh >= REFRESH_NS) {
			last_refresh = now;
			/* Targets may dlopen libraries; re-read their mappings while they live. */
			for (int i = 0; i < o->npids; i++)
				if (!symbolizer_track(s->syms, o->pids[i]) && s->unwind)
					unwind_tables_sync(s->unwind, o->pids[i]);
		}
		if (!o->all && !any_target_alive(o)) {
			log_info("all target processes exited; stopping");
			break;
		}
	}
}

static void read_counters(struct stack_session *s, struct profiler_stats *st)
{
	uint64_t *dst[PROFILE_NR_COUNTERS] = {
		[PROFILE_SAMPLES] = &st->samples,
		[PROFILE_STACKS_FULL] = &st->stacks_full,
		[PROFILE_COUNTS_FULL] = &st->counts_full,
		[PROFILE_NEW_PROCESS_DROPPED] = &st->new_process_dropped,
		[PROFILE_PENDING_FULL] = &st->pending_full,
		[PROFILE_BELOW_MIN] = &st->below_min,
		[PROFILE_UNWIND_STACKS] = &st->unwind.walked,
		[PROFILE_UNWIND_NO_CFI] = &st->unwind.no_cfi,
		[PROFILE_UNWIND_UNSUPPORTED] = &st->unwind.unsupported,
		[PROFILE_UNWIND_READ] = &st->unwind.read,
		[PROFILE_UNWIND_NO_RBP] = &st->unwind.no_rbp,
		[PROFILE_UNWIND_DEPTH] = &st->unwind.depth,
	};
	for (__u32 k = 0; k < PROFILE_NR_COUNTERS; k++)
		*dst[k] += bpf_percpu_counter(map_fd(s, "counters"), k);
}

struct raw_entry {
	struct profile_key key;
	struct profile_value val;
	uint64_t user[PROFILE_MAX_STACK_DEPTH], kern[PROFILE_MAX_STACK_DEPTH];
	int nuser, nkern;
};

static int read_stack(int fd, __u64 hash, uint64_t *ips)
{
	struct profile_stack st;
	if (!hash || bpf_map_lookup_elem(fd, &hash, &st))
		return 0;
	int n = st.depth < PROFILE_MAX_STACK_DEPTH ? (int)st.depth : PROFILE_MAX_STACK_DEPTH;
	memcpy(ips, st.ips, n * sizeof(__u64));
	return n;
}

/* Every counts entry with its two stacks; *n entries in the returned array (NULL: no memory). */
static struct raw_entry *read_counts(struct stack_session *s, size_t *n)
{
	int counts_fd = map_fd(s, "counts"), stacks_fd = map_fd(s, "stacks");
	size_t cap = 256;
	struct raw_entry *e = malloc(cap * sizeof(*e));
	if (!e)
		return NULL;
	struct profile_key key, next;
	bool first = true;
	*n = 0;
	while (bpf_map_get_next_key(counts_fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		if (*n == cap) {
			struct raw_entry *grown = realloc(e, 2 * cap * sizeof(*e));
			if (!grown)
				break;
			e = grown;
			cap *= 2;
		}
		struct raw_entry *r = &e[*n];
		if (bpf_map_lookup_elem(counts_fd, &key, &r->val))
			continue;
		r->key = key;
		r->nuser = read_stack(stacks_fd, key.user_stack, r->user);
		r->nkern = read_stack(stacks_fd, key.kernel_stack, r->kern);
		(*n)++;
	}
	return e;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Kernel addresses are resolved in one batch: one pass over /proc/kallsyms. */
struct kernel_names {
	uint64_t *addrs;
	char **names;
	size_t n;
};

static void resolve_kernel(struct stack_profile *sp, struct raw_entry *e, size_t n, struct kernel_names *kn)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += e[i].nkern;
	kn->addrs = malloc((total ? total : 1) * sizeof(uint64_t));
	if (!kn->addrs)
		return;
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < e[i].nkern; j++)
			kn->addrs[kn->n++] = e[i].kern[j];
	qsort(kn->addrs, kn->n, sizeof(uint64_t), u64_cmp);
	size_t u = 0;
	for (size_t i = 0; i < kn->n; i++)
		if (u == 0 || kn->addrs[u - 1] != kn->addrs[i])
			kn->addrs[u++] = kn->addrs[i];
	kn->n = u;
	kn->names = calloc(u ? u : 1, sizeof(char *));
	if (!kn->names)
		return;
	int err = ksyms_resolve("/proc/kallsyms", kn->addrs, u, kn->names);
	if (err && u)
		log_warn("kernel frames stay unnamed: /proc/kallsyms is unreadable or hides addresses (%s)",
			 strerror(-err));
	for (size_t i = 0; i < u; i++)
		own(sp, kn->names[i]);
}

static const char *kernel_name(const struct kernel_names *kn, uint64_t addr)
{
	uint64_t *at = kn->names ? bsearch(&addr, kn->addrs, kn->n, sizeof(uint64_t), u64_cmp) : NULL;
	return at ? kn->names[at - kn->addrs] : NULL;
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
	ps->value_ns = sp->prof.kind == PROF_OFFCPU ? r->val.ns : r->val.count * sp->prof.period_ns;
	ps->thread = own(sp, strndup(r->val.thread, PROFILE_COMM_LEN));
	ps->process = symbolizer_process_name(sp->syms, pid);
	if (!ps->process)
		ps->process = ps->thread;
	int kfirst = 0;
	while (sp->prof.kind == PROF_OFFCPU && kfirst < r->nkern &&
	       tracing_frame(kernel_name(kn, r->kern[kfirst])))
		kfirst++;
	for (int j = kfirst; j < r->nkern; j++) {
		if (*kernel_mapping < 0) {
			*kernel_mapping = (int)sp->prof.nmappings++;
			sp->prof.mappings[*kernel_mapping] = (struct prof_mapping){
				.file = "[kernel.kallsyms]",
				.has_functions = kn->names != NULL,
				.limit = ~0ULL,
			};
		}
		ps->frames[ps->nframes++] = (struct prof_frame){
			.func = kernel_name(kn, r->kern[j]),
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

static int build_profile(struct stack_session *s, struct stack_profile *sp, int64_t t0, int64_t t1)
{
	size_t n = 0;
	struct raw_entry *e = read_counts(s, &n);
	if (!e)
		return -ENOMEM;
	struct kernel_names kn = { 0 };
	resolve_kernel(sp, e, n, &kn);

	int nmaps = symbolizer_nmappings(s->syms), err = 0;
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

	sp->prof.kind = s->backend->kind;
	sp->prof.period_ns = sp->prof.kind == PROF_CPU ? 1000000000ULL / (uint64_t)s->opts->hz : 0;
	sp->prof.time_ns = t0;
	sp->prof.duration_ns = t1 - t0;
	for (size_t i = 0; i < n; i++) {
		struct symbolizer_pid at = { s->syms, (pid_t)e[i].key.pid };
		const uint64_t words[2] = { e[i].key.sp_words[0], e[i].key.sp_words[1] };
		if (leaf_frames_restore(e[i].user, &e[i].nuser, PROFILE_MAX_STACK_DEPTH, words, go_sp_delta,
					&at))
			sp->restored_callers += e[i].val.count;
		if (e[i].nuser + e[i].nkern && add_sample(sp, &e[i], &kn, index_of, &kernel_mapping))
			break;
	}
	prof_put_executable_first(&sp->prof);
out:
	free(index_of);
	free(e);
	free(kn.addrs);
	free(kn.names);
	return err;
}

static void session_close(struct stack_session *s)
{
	detach(s);
	ring_buffer__free(s->rb);
	unwind_tables_free(s->unwind);
	if (s->skel)
		s->backend->destroy(s->skel);
}

int stack_profiler_run(const struct profiler_opts *opts, const struct stack_backend *backend,
		       struct stack_profile **out)
{
	struct stack_profile *sp = calloc(1, sizeof(*sp));
	struct stack_session s = { .opts = opts, .backend = backend };
	int rc = GLIMPSE_EXIT_FAILURE;
	if (!sp)
		return rc;
	sp->syms = s.syms = symbolizer_new();
	if (!s.syms)
		goto out;
	/* Read the targets' binaries before profiling starts, so even a target that exits at
	 * once keeps its names. */
	for (int i = 0; i < opts->npids; i++)
		symbolizer_track(s.syms, opts->pids[i]);
	rc = open_and_load(&s);
	if (rc)
		goto out;
	s.rb = ring_buffer__new(map_fd(&s, "new_processes"), on_new_process, &s, NULL);
	if (!s.rb) {
		log_error("cannot open the %s's ring buffer: %s", backend->what, strerror(errno));
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	warm_stack_map(map_fd(&s, "stacks"));
	rc = backend->attach(&s, s.skel, opts);
	if (rc)
		goto out;
	int64_t t0 = now_ns(CLOCK_REALTIME);
	poll_until_done(&s);
	int64_t t1 = now_ns(CLOCK_REALTIME);
	detach(&s);
	ring_buffer__consume(s.rb);
	read_counters(&s, &sp->stats);
	if (s.unwind)
		sp->unwind = *unwind_tables_stats(s.unwind);
	if (build_profile(&s, sp, t0, t1)) {
		log_error("out of memory while collecting the profile");
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	rc = 0;
out:
	session_close(&s);
	if (rc) {
		stack_profile_free(sp);
		return rc;
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
	for (size_t i = 0; i < sp->ntrunc; i++) {
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
	symbolizer_free(sp->syms);
	free(sp);
}
