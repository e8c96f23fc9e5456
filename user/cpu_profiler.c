#include "cpu_profiler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "exit_codes.h"
#include "ksyms.h"
#include "log.h"
#include "procfs.h"
#include "profile.h"
#include "profile.skel.h"
#include "signals.h"
#include "symbolizer.h"

#define POLL_MS 200
#define REFRESH_NS 2000000000LL

struct truncation {
	const struct sym_mapping *mapping; /* where user stacks stop */
	uint64_t samples;
};

struct cpu_profile {
	struct prof prof;
	struct cpu_profiler_stats stats;
	struct symbolizer *syms; /* frame strings point into its modules */
	char **owned;            /* other strings the profile points to */
	size_t nowned, owned_cap;
	struct truncation *trunc;
	size_t ntrunc;
	uint64_t user_samples;
};

struct session {
	const struct cpu_profiler_opts *opts;
	struct profile_bpf *skel;
	struct bpf_link **links;
	int nlinks;
	struct ring_buffer *rb;
	struct symbolizer *syms;
};

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char *own(struct cpu_profile *cp, char *s)
{
	if (!s)
		return NULL;
	if (cp->nowned == cp->owned_cap) {
		size_t cap = cp->owned_cap ? 2 * cp->owned_cap : 64;
		char **grown = realloc(cp->owned, cap * sizeof(*grown));
		if (!grown) {
			free(s);
			return NULL;
		}
		cp->owned = grown;
		cp->owned_cap = cap;
	}
	cp->owned[cp->nowned++] = s;
	return s;
}

static int on_new_process(void *ctx, void *data, size_t len)
{
	struct session *s = ctx;
	if (len < sizeof(struct profile_new_process))
		return 0;
	pid_t pid = (pid_t)((struct profile_new_process *)data)->pid;
	if (!symbolizer_tracks(s->syms, pid))
		symbolizer_track(s->syms, pid);
	return 0;
}

static int open_and_load(struct session *s)
{
	const struct cpu_profiler_opts *o = s->opts;
	s->skel = profile_bpf__open();
	if (!s->skel) {
		log_error("cannot open the profiler's BPF object: %s", strerror(errno));
		return GLIMPSE_EXIT_FAILURE;
	}
	s->skel->rodata->filter_pids = !o->all;
	s->skel->rodata->include_kernel = o->kernel_stacks;
	s->skel->rodata->include_user = o->user_stacks;
	bpf_map__set_max_entries(s->skel->maps.target_pids, o->npids > 0 ? o->npids : 1);
	bpf_map__set_max_entries(s->skel->maps.stacks, o->max_stacks);
	bpf_map__set_max_entries(s->skel->maps.counts, o->max_stacks);
	bpf_map__set_max_entries(s->skel->maps.seen_pids, o->all ? 32768 : (o->npids > 0 ? o->npids : 1));
	int err = profile_bpf__load(s->skel);
	if (err) {
		log_error("cannot load the profiler's BPF programs: %s (run with -v for the verifier log)",
			  strerror(-err));
		return err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	__u8 one = 1;
	for (int i = 0; i < o->npids; i++) {
		__u32 pid = (__u32)o->pids[i];
		bpf_map_update_elem(bpf_map__fd(s->skel->maps.target_pids), &pid, &one, BPF_ANY);
	}
	return 0;
}

static int attach_perf_events(struct session *s)
{
	int *cpus, ncpus;
	if (online_cpus(&cpus, &ncpus)) {
		log_error("cannot read the online CPUs from /sys/devices/system/cpu/online");
		return GLIMPSE_EXIT_FAILURE;
	}
	s->links = calloc(ncpus, sizeof(*s->links));
	if (!s->links) {
		free(cpus);
		return GLIMPSE_EXIT_FAILURE;
	}
	for (int i = 0; i < ncpus; i++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_CPU_CLOCK,
			.size = sizeof(attr),
			.freq = 1,
			.sample_freq = (__u64)s->opts->hz,
		};
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			if (err == ENODEV)
				continue; /* CPU went offline */
			log_error("cannot open a cpu-clock perf event on CPU %d: %s%s", cpus[i], strerror(err),
				  err == EINVAL ? " (is -F above kernel.perf_event_max_sample_rate?)" : "");
			free(cpus);
			return err == EACCES || err == EPERM ? GLIMPSE_EXIT_NO_PERMISSION
							     : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
		}
		struct bpf_link *link = bpf_program__attach_perf_event(s->skel->progs.on_cpu_sample, fd);
		if (!link) {
			int err = errno;
			close(fd);
			log_error("cannot attach the sampler to CPU %d: %s", cpus[i], strerror(err));
			free(cpus);
			return GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
		}
		/* The link owns fd from here on: destroying the link closes it. */
		s->links[s->nlinks++] = link;
	}
	free(cpus);
	return 0;
}

static void detach(struct session *s)
{
	for (int i = 0; i < s->nlinks; i++)
		bpf_link__destroy(s->links[i]);
	free(s->links);
	s->links = NULL;
	s->nlinks = 0;
}

static bool any_target_alive(const struct cpu_profiler_opts *o)
{
	for (int i = 0; i < o->npids; i++)
		if (proc_exists(o->pids[i]))
			return true;
	return false;
}

static void poll_until_done(struct session *s)
{
	const struct cpu_profiler_opts *o = s->opts;
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
				symbolizer_track(s->syms, o->pids[i]);
		}
		if (!o->all && !any_target_alive(o)) {
			log_info("all target processes exited; stopping");
			break;
		}
	}
}

static void read_counters(struct session *s, struct cpu_profiler_stats *st)
{
	int ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return;
	__u64 *vals = calloc(ncpus, sizeof(__u64));
	if (!vals)
		return;
	uint64_t *dst[PROFILE_NR_COUNTERS] = { &st->samples, &st->stacks_full, &st->counts_full,
					       &st->new_process_dropped };
	for (__u32 k = 0; k < PROFILE_NR_COUNTERS; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.counters), &k, vals))
			continue;
		for (int c = 0; c < ncpus; c++)
			*dst[k] += vals[c];
	}
	free(vals);
}

struct raw_entry {
	struct profile_key key;
	struct profile_value val;
	__u64 user[PROFILE_MAX_STACK_DEPTH], kern[PROFILE_MAX_STACK_DEPTH];
	int nuser, nkern;
};

static int read_stack(int fd, __u64 hash, __u64 *ips)
{
	struct profile_stack st;
	if (!hash || bpf_map_lookup_elem(fd, &hash, &st))
		return 0;
	int n = st.depth < PROFILE_MAX_STACK_DEPTH ? (int)st.depth : PROFILE_MAX_STACK_DEPTH;
	memcpy(ips, st.ips, n * sizeof(__u64));
	return n;
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

static void resolve_kernel(struct cpu_profile *cp, struct raw_entry *e, size_t n, struct kernel_names *kn)
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
		own(cp, kn->names[i]);
}

static const char *kernel_name(const struct kernel_names *kn, uint64_t addr)
{
	uint64_t *at = kn->names ? bsearch(&addr, kn->addrs, kn->n, sizeof(uint64_t), u64_cmp) : NULL;
	return at ? kn->names[at - kn->addrs] : NULL;
}

static int prof_mapping_index(struct cpu_profile *cp, int *index_of, const struct sym_mapping *m)
{
	if (!m)
		return -1;
	if (index_of[m->index] < 0) {
		struct prof_mapping *pm = &cp->prof.mappings[cp->prof.nmappings];
		*pm = (struct prof_mapping){
			.start = m->start, .limit = m->end, .file_offset = m->offset,
			.file = m->path, .build_id = m->build_id,
			.has_functions = m->has_functions, .has_filenames = m->has_lines,
			.has_line_numbers = m->has_lines,
		};
		index_of[m->index] = (int)cp->prof.nmappings++;
	}
	return index_of[m->index];
}

static void note_truncation(struct cpu_profile *cp, const struct sym_mapping *m, uint64_t samples)
{
	for (size_t i = 0; i < cp->ntrunc; i++) {
		if (cp->trunc[i].mapping == m) {
			cp->trunc[i].samples += samples;
			return;
		}
	}
	struct truncation *grown = realloc(cp->trunc, (cp->ntrunc + 1) * sizeof(*grown));
	if (!grown)
		return;
	cp->trunc = grown;
	cp->trunc[cp->ntrunc++] = (struct truncation){ m, samples };
}

static int build_profile(struct session *s, struct cpu_profile *cp, int64_t t0, int64_t t1)
{
	int counts_fd = bpf_map__fd(s->skel->maps.counts), stacks_fd = bpf_map__fd(s->skel->maps.stacks);
	size_t cap = 256, n = 0;
	struct raw_entry *e = malloc(cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	struct profile_key key, next;
	bool first = true;
	while (bpf_map_get_next_key(counts_fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		if (n == cap) {
			struct raw_entry *grown = realloc(e, 2 * cap * sizeof(*e));
			if (!grown)
				break;
			e = grown;
			cap *= 2;
		}
		if (bpf_map_lookup_elem(counts_fd, &key, &e[n].val))
			continue;
		e[n].key = key;
		e[n].nuser = read_stack(stacks_fd, key.user_stack, e[n].user);
		e[n].nkern = read_stack(stacks_fd, key.kernel_stack, e[n].kern);
		n++;
	}

	struct kernel_names kn = { 0 };
	resolve_kernel(cp, e, n, &kn);

	int nmaps = symbolizer_nmappings(s->syms);
	int *index_of = malloc((nmaps + 1) * sizeof(int));
	cp->prof.mappings = calloc(nmaps + 1, sizeof(struct prof_mapping));
	cp->prof.samples = calloc(n ? n : 1, sizeof(struct prof_sample));
	if (!index_of || !cp->prof.mappings || !cp->prof.samples) {
		free(index_of);
		free(e);
		free(kn.addrs);
		free(kn.names);
		return -ENOMEM;
	}
	for (int i = 0; i <= nmaps; i++)
		index_of[i] = -1;
	int kernel_mapping = -1;

	cp->prof.kind = PROF_CPU;
	cp->prof.period_ns = 1000000000ULL / (uint64_t)s->opts->hz;
	cp->prof.time_ns = t0;
	cp->prof.duration_ns = t1 - t0;
	for (size_t i = 0; i < n; i++) {
		struct raw_entry *r = &e[i];
		if (r->nuser + r->nkern == 0)
			continue;
		struct prof_sample *ps = &cp->prof.samples[cp->prof.nsamples];
		ps->frames = calloc(r->nuser + r->nkern, sizeof(struct prof_frame));
		if (!ps->frames)
			break;
		own(cp, (char *)ps->frames);
		pid_t pid = (pid_t)r->key.pid;
		ps->pid = r->key.pid;
		ps->tid = r->key.tid;
		ps->count = r->val.count;
		ps->value_ns = r->val.count * cp->prof.period_ns;
		ps->thread = own(cp, strndup(r->val.thread, PROFILE_COMM_LEN));
		ps->process = symbolizer_process_name(s->syms, pid);
		if (!ps->process)
			ps->process = ps->thread;
		for (int j = 0; j < r->nkern; j++) {
			if (kernel_mapping < 0) {
				kernel_mapping = (int)cp->prof.nmappings++;
				cp->prof.mappings[kernel_mapping] = (struct prof_mapping){
					.file = "[kernel.kallsyms]", .has_functions = kn.names != NULL, .limit = ~0ULL,
				};
			}
			ps->frames[ps->nframes++] = (struct prof_frame){
				.func = kernel_name(&kn, r->kern[j]), .addr = r->kern[j],
				.mapping = kernel_mapping, .kernel = true,
			};
		}
		/* A walk that ends in the module it was already in, rather than in a caller from
		 * another module (libc's start code calling main), suggests a broken frame chain. */
		const struct sym_mapping *outermost = NULL, *callee = NULL;
		for (int j = 0; j < r->nuser; j++) {
			struct sym_frame f;
			symbolizer_user(s->syms, pid, r->user[j], j > 0, &f);
			ps->frames[ps->nframes++] = (struct prof_frame){
				.func = f.func, .file = f.file, .line = f.line, .addr = r->user[j],
				.mapping = prof_mapping_index(cp, index_of, f.mapping),
			};
			if (f.mapping) {
				callee = outermost;
				outermost = f.mapping;
			}
		}
		/* Past a thread's root the frame-pointer walk reads garbage: addresses in no
		 * executable mapping cannot be return addresses, so drop them from the end. */
		while (ps->nframes > (uint32_t)r->nkern && ps->frames[ps->nframes - 1].mapping < 0)
			ps->nframes--;
		if (r->nuser) {
			cp->user_samples += r->val.count;
			if (outermost && (!callee || callee == outermost))
				note_truncation(cp, outermost, r->val.count);
		}
		cp->prof.nsamples++;
	}
	free(index_of);
	free(e);
	free(kn.addrs);
	free(kn.names);
	return 0;
}

static void session_close(struct session *s)
{
	detach(s);
	ring_buffer__free(s->rb);
	profile_bpf__destroy(s->skel);
}

int cpu_profiler_run(const struct cpu_profiler_opts *opts, struct cpu_profile **out)
{
	struct cpu_profile *cp = calloc(1, sizeof(*cp));
	struct session s = { .opts = opts };
	int rc = GLIMPSE_EXIT_FAILURE;
	if (!cp)
		return rc;
	cp->syms = s.syms = symbolizer_new();
	if (!s.syms)
		goto out;
	/* Read the targets' binaries before sampling starts, so even a target that exits at
	 * once keeps its names. */
	for (int i = 0; i < opts->npids; i++)
		symbolizer_track(s.syms, opts->pids[i]);
	rc = open_and_load(&s);
	if (rc)
		goto out;
	s.rb = ring_buffer__new(bpf_map__fd(s.skel->maps.new_processes), on_new_process, &s, NULL);
	if (!s.rb) {
		log_error("cannot open the profiler's ring buffer: %s", strerror(errno));
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	rc = attach_perf_events(&s);
	if (rc)
		goto out;
	int64_t t0 = now_ns(CLOCK_REALTIME);
	log_event(LOG_INFO, "profiling", "hz=%d cpus=%d targets=%s", opts->hz, s.nlinks,
		  opts->all ? "all" : "pids");
	poll_until_done(&s);
	int64_t t1 = now_ns(CLOCK_REALTIME);
	detach(&s);
	ring_buffer__consume(s.rb);
	read_counters(&s, &cp->stats);
	if (build_profile(&s, cp, t0, t1)) {
		log_error("out of memory while collecting the profile");
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	rc = 0;
out:
	session_close(&s);
	if (rc) {
		cpu_profile_free(cp);
		return rc;
	}
	*out = cp;
	return 0;
}

const struct prof *cpu_profile_data(const struct cpu_profile *cp)
{
	return &cp->prof;
}

const struct cpu_profiler_stats *cpu_profile_stats(const struct cpu_profile *cp)
{
	return &cp->stats;
}

/* Below this share of sampled functions with a frame-pointer prologue, a module is
 * considered built without frame pointers. */
#define FP_SHARE_MIN 0.5
/* Warn when at least this share of a process's user samples stop in such a module. */
#define TRUNCATED_SHARE_WARN 0.05

void cpu_profile_report_quality(const struct cpu_profile *cp)
{
	const struct cpu_profiler_stats *st = &cp->stats;
	for (size_t i = 0; i < cp->ntrunc; i++) {
		const struct truncation *t = &cp->trunc[i];
		if (!cp->user_samples || (double)t->samples / cp->user_samples < TRUNCATED_SHARE_WARN)
			continue;
		/* The symbolizer owns the module; look its frame pointer share up through it. */
		double share = symbolizer_frame_pointer_share(cp->syms, t->mapping);
		if (share < 0 || share >= FP_SHARE_MIN)
			continue;
		log_warn("%.0f%% of user stacks stop in %s, which was built without frame pointers: "
			 "those stacks are truncated; rebuild it with -fno-omit-frame-pointer for whole stacks",
			 100.0 * t->samples / cp->user_samples, t->mapping->path);
	}
	if (st->stacks_full)
		log_warn("%llu stacks were not stored (stack map full, or the kernel could not allocate "
			 "at that moment); if this is large, raise --max-stacks",
			 (unsigned long long)st->stacks_full);
	if (st->counts_full)
		log_warn("%llu samples dropped: more distinct stacks than --max-stacks",
			 (unsigned long long)st->counts_full);
	if (st->new_process_dropped)
		log_warn("%llu new processes were not announced in time; some may stay unsymbolized",
			 (unsigned long long)st->new_process_dropped);
}

void cpu_profile_free(struct cpu_profile *cp)
{
	if (!cp)
		return;
	for (size_t i = 0; i < cp->nowned; i++)
		free(cp->owned[i]);
	free(cp->owned);
	free(cp->prof.samples);
	free(cp->prof.mappings);
	free(cp->trunc);
	symbolizer_free(cp->syms);
	free(cp);
}
