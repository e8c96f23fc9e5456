// SPDX-License-Identifier: Apache-2.0
/* The stack profilers' BPF lifecycle (stack_profile.h): open → size the maps → load (these
 * three in a child process: stack_probe.h) → attach → poll → collect (one-shot: after detaching; continuous: by swapping generations) → one
 * cleanup path. What it reads goes to the builder (stack_profile.c) as raw entries. */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bpf_child.h"
#include "base/bpf_read.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/procfs.h"
#include "base/signals.h"
#include "binfmt/symbolizer.h"
#include "cli/exit_codes.h"
#include "profile/kernel_names.h"
#include "profile.h"
#include "profile/stack_probe.h"
#include "profile/stack_profile.h"
#include "profile/sample_times.h"
#include "profile/stack_raw.h"
#include "profile/unwind_tables.h"

#define POLL_MS	   200
#define REFRESH_NS 2000000000LL
/* After the generation flips, how long samples already past reading it get to finish: a BPF
 * program runs for microseconds, without being preempted. */
#define FLIP_SETTLE_US 2000

struct stack_session {
	const struct profiler_opts *opts;
	const struct stack_backend *backend;
	int fds[STACK_NFDS_MAX]; /* the probe's maps and program (stack_probe.h) */
	int *attached;		 /* links, perf events: closed last first */
	int nattached, attached_cap;
	struct ring_buffer *rb;
	struct symbolizer *syms;       /* NULL once handed to a one-shot profile */
	struct kernel_names *kn;       /* continuous: kernel names kept across cuts */
	uint32_t gen;		       /* the generation the programs fill */
	int64_t cut_ns;		       /* wall clock of the open or the previous cut */
	int64_t last_refresh;	       /* monotonic */
	struct profiler_stats counted; /* counters read at the previous cut */
	struct unwind_tables *unwind;  /* NULL without user stacks */
	struct sample_times *times;    /* NULL unless opts->sample_times */
};

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

static int map_fd(const struct stack_session *s, enum stack_probe_fd which)
{
	return s->fds[which];
}

static const enum stack_probe_fd counts_maps[2] = { STACK_FD_COUNTS0, STACK_FD_COUNTS1 };
static const enum stack_probe_fd stacks_maps[2] = { STACK_FD_STACKS0, STACK_FD_STACKS1 };

static int open_and_load(struct stack_session *s)
{
	const struct profiler_opts *o = s->opts;
	uint64_t params[STACK_NPARAMS] = {
		[STACK_PARAM_NPIDS] = o->npids > 0 ? (uint64_t)o->npids : 1,
		[STACK_PARAM_ALL] = o->all,
		[STACK_PARAM_KERNEL] = o->kernel_stacks,
		[STACK_PARAM_USER] = o->user_stacks,
		[STACK_PARAM_MAX_STACKS] = o->max_stacks,
		[STACK_PARAM_CONTINUOUS] = o->continuous,
	};
	s->backend->params(o, params);
	int err = bpf_child_load(s->backend->probe, params, STACK_NPARAMS, s->fds, s->backend->nfds);
	if (err)
		return err;
	__u8 one = 1;
	for (int i = 0; i < o->npids; i++) {
		__u32 pid = (__u32)o->pids[i];
		bpf_map_update_elem(map_fd(s, STACK_FD_TARGET_PIDS), &pid, &one, BPF_ANY);
	}
	if (o->go_calls_value_size && o->go_calls_fd > 0 && o->npids > 0 &&
	    (err = stack_session_label_requests(s, o->pids[0], o->go_calls_fd))) {
		log_error("cannot share the Go tracer's calls with the profiler: %s", strerror(-err));
		return GLIMPSE_EXIT_FAILURE;
	}
	if (o->user_stacks) {
		s->unwind = unwind_tables_new(map_fd(s, STACK_FD_UNWIND_TABLES),
					      map_fd(s, STACK_FD_UNWIND_PROCS), s->syms);
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

int stack_session_add_fd(struct stack_session *s, int fd)
{
	if (s->nattached == s->attached_cap) {
		int cap = s->attached_cap ? 2 * s->attached_cap : 16;
		int *grown = realloc(s->attached, cap * sizeof(*grown));
		if (!grown) {
			close(fd);
			return -ENOMEM;
		}
		s->attached = grown;
		s->attached_cap = cap;
	}
	s->attached[s->nattached++] = fd;
	return 0;
}

static void detach(struct stack_session *s)
{
	while (s->nattached > 0)
		close(s->attached[--s->nattached]);
	free(s->attached);
	s->attached = NULL;
	s->attached_cap = 0;
}

static void session_free(struct stack_session *s)
{
	detach(s);
	ring_buffer__free(s->rb);
	sample_times_free(s->times);
	unwind_tables_free(s->unwind);
	bpf_child_close(s->fds, STACK_NFDS_MAX);
	symbolizer_free(s->syms);
	kernel_names_free(s->kn);
	free(s);
}

/* Everything up to the programs running. 0 or an exit code after logging why. */
static int session_start(const struct profiler_opts *opts, const struct stack_backend *backend,
			 struct stack_session **out)
{
	struct stack_session *s = calloc(1, sizeof(*s));
	if (!s || !(s->syms = symbolizer_new()) ||
	    (opts->continuous && !(s->kn = kernel_names_new("/proc/kallsyms", true)))) {
		if (s)
			symbolizer_free(s->syms);
		free(s);
		return GLIMPSE_EXIT_FAILURE;
	}
	s->opts = opts;
	s->backend = backend;
	for (int i = 0; i < STACK_NFDS_MAX; i++)
		s->fds[i] = -1;
	/* Read the targets' binaries before profiling starts, so even a target that exits at
	 * once keeps its names. */
	for (int i = 0; i < opts->npids; i++)
		symbolizer_track(s->syms, opts->pids[i]);
	int rc = open_and_load(s);
	if (rc)
		goto fail;
	s->rb = ring_buffer__new(map_fd(s, STACK_FD_NEW_PROCESSES), on_new_process, s, NULL);
	if (!s->rb) {
		log_error("cannot open the %s's ring buffer: %s", backend->what, strerror(errno));
		rc = GLIMPSE_EXIT_FAILURE;
		goto fail;
	}
	if (opts->sample_times && backend->nfds > STACK_FD_SAMPLE_TIMES &&
	    (!(s->times = sample_times_new(clock_mono_to_real_ns())) ||
	     ring_buffer__add(s->rb, map_fd(s, STACK_FD_SAMPLE_TIMES), sample_times_add, s->times))) {
		log_error("cannot read the samples' times: %s", strerror(errno));
		rc = GLIMPSE_EXIT_FAILURE;
		goto fail;
	}
	for (int gen = 0; gen < (opts->continuous ? 2 : 1); gen++)
		warm_stack_map(map_fd(s, stacks_maps[gen]));
	rc = backend->attach(s, map_fd(s, STACK_FD_PROG), opts);
	if (rc)
		goto fail;
	s->cut_ns = (int64_t)clock_real_ns();
	s->last_refresh = (int64_t)clock_mono_ns();
	*out = s;
	return 0;
fail:
	session_free(s);
	return rc;
}

int stack_session_poll(struct stack_session *s, int timeout_ms)
{
	int err = ring_buffer__poll(s->rb, timeout_ms);
	if (err >= 0 && s->times) /* its records wake nobody: read at every poll */
		err = ring_buffer__consume(s->rb);
	if (err < 0 && err != -EINTR) {
		log_error("reading the new-process ring buffer failed: %s", strerror(-err));
		return err;
	}
	int64_t now = (int64_t)clock_mono_ns();
	if (now - s->last_refresh >= REFRESH_NS) {
		s->last_refresh = now;
		/* Targets may dlopen libraries; re-read their mappings while they live. */
		for (int i = 0; i < s->opts->npids; i++)
			if (!symbolizer_track(s->syms, s->opts->pids[i]) && s->unwind)
				unwind_tables_sync(s->unwind, s->opts->pids[i]);
	}
	return 0;
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
	int64_t start = (int64_t)clock_mono_ns();
	int64_t end = o->duration_s > 0 ? start + (int64_t)(o->duration_s * 1e9) : INT64_MAX;
	while (!stop_requested()) {
		int64_t now = (int64_t)clock_mono_ns();
		if (now >= end)
			break;
		int64_t left_ms = (end - now) / 1000000;
		int wait_ms = left_ms < POLL_MS ? (int)left_ms + 1 : POLL_MS;
		if (o->poll_also) { /* the other source waits; the new-process ring is read without */
			if (stack_session_poll(s, 0) || o->poll_also(o->poll_ctx, wait_ms) < 0)
				break;
		} else if (stack_session_poll(s, wait_ms)) {
			break;
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
		[PROFILE_TIMES_DROPPED] = &st->times_dropped,
	};
	for (__u32 k = 0; k < PROFILE_NR_COUNTERS; k++)
		*dst[k] = bpf_percpu_counter(map_fd(s, STACK_FD_COUNTERS), k);
}

static int read_stack(int fd, __u64 hash, uint64_t *ips)
{
	struct profile_stack st;
	if (!hash || bpf_map_lookup_elem(fd, &hash, &st))
		return 0;
	int n = st.depth < PROFILE_MAX_STACK_DEPTH ? (int)st.depth : PROFILE_MAX_STACK_DEPTH;
	memcpy(ips, st.ips, n * sizeof(__u64));
	return n;
}

/* Every counts entry of generation gen with its two stacks; *n entries in the returned array
 * (NULL: no memory). */
static struct raw_entry *read_counts(struct stack_session *s, uint32_t gen, size_t *n)
{
	int counts_fd = map_fd(s, counts_maps[gen]), stacks_fd = map_fd(s, stacks_maps[gen]);
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
		r->times = NULL;
		if (s->times) {
			size_t nt;
			r->times = sample_times_take(s->times, gen, &key, &nt);
			if (nt != r->val.count) { /* some lost: a partial series would be wrong */
				free(r->times);
				r->times = NULL;
			}
		}
		(*n)++;
	}
	return e;
}

/* Deletes every entry of a hash map: its keys are listed first (deleting while walking would
 * restart the walk), then deleted. */
static void clear_map(int fd, size_t key_size)
{
	size_t cap = 1024, n = 0;
	uint8_t *keys = malloc(cap * key_size);
	bool first = true;
	while (keys &&
	       bpf_map_get_next_key(fd, first ? NULL : keys + (n - 1) * key_size, keys + n * key_size) == 0) {
		first = false;
		if (++n == cap) {
			uint8_t *grown = realloc(keys, 2 * cap * key_size);
			if (!grown)
				break;
			keys = grown;
			cap *= 2;
		}
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
}

static int collect(struct stack_session *s, uint32_t gen, struct raw_counts *rc)
{
	rc->e = read_counts(s, gen, &rc->n);
	if (s->times)
		sample_times_clear(s->times, gen);
	return rc->e ? 0 : -ENOMEM;
}

static void raw_free(struct raw_counts *rc)
{
	for (size_t i = 0; rc->e && i < rc->n; i++)
		free(rc->e[i].times);
	free(rc->e);
}

int stack_profiler_run(const struct profiler_opts *opts, const struct stack_backend *backend,
		       struct stack_profile **out)
{
	struct stack_session *s;
	int rc = session_start(opts, backend, &s);
	if (rc)
		return rc;
	struct raw_counts raw = { .t0 = s->cut_ns,
				  .ksym_iter = map_fd(s, STACK_FD_KSYM_ITER),
				  .ksym_slots = map_fd(s, STACK_FD_KSYM_SLOTS) };
	poll_until_done(s);
	raw.t1 = (int64_t)clock_real_ns();
	detach(s);
	ring_buffer__consume(s->rb);
	read_counters(s, &raw.stats);
	if (s->unwind)
		raw.tables = *unwind_tables_stats(s->unwind);
	int err = collect(s, 0, &raw);
	if (!err) {
		/* The profile's strings point into the symbolizer: it goes with the profile. */
		struct symbolizer *syms = s->syms;
		s->syms = NULL;
		err = stack_profile_build(syms, true, NULL, backend->kind, opts->hz, &raw, out);
	}
	if (err) {
		log_error("out of memory while collecting the profile");
		rc = GLIMPSE_EXIT_FAILURE;
	}
	raw_free(&raw);
	session_free(s);
	return rc;
}

int stack_session_open(const struct profiler_opts *opts, const struct stack_backend *backend,
		       struct stack_session **out)
{
	return session_start(opts, backend, out);
}

int stack_session_label_requests(struct stack_session *s, pid_t pid, int calls_fd)
{
	__u32 key = (__u32)pid;
	if (s->backend->nfds <= STACK_FD_GO_CALLS || !s->opts->go_calls_value_size)
		return -ENOTSUP;
	return bpf_map_update_elem(map_fd(s, STACK_FD_GO_CALLS), &key, &calls_fd, BPF_ANY) ? -errno : 0;
}

int stack_session_cut(struct stack_session *s, struct stack_profile **out)
{
	uint32_t old = s->gen, zero = 0, next = 1 - old;
	if (!s->opts->continuous)
		return -EINVAL;
	if (bpf_map_update_elem(map_fd(s, STACK_FD_GENERATION), &zero, &next, BPF_ANY))
		return -errno;
	s->gen = next;
	struct raw_counts raw = {
		.t0 = s->cut_ns, .t1 = (int64_t)clock_real_ns(), .ksym_iter = -1, .ksym_slots = -1
	};
	s->cut_ns = raw.t1;
	usleep(FLIP_SETTLE_US);
	ring_buffer__consume(s->rb); /* processes first seen in the interval */
	struct profiler_stats total;
	read_counters(s, &total);
	raw.stats = (struct profiler_stats){
		.samples = total.samples - s->counted.samples,
		.stacks_full = total.stacks_full - s->counted.stacks_full,
		.counts_full = total.counts_full - s->counted.counts_full,
		.new_process_dropped = total.new_process_dropped - s->counted.new_process_dropped,
		.times_dropped = total.times_dropped - s->counted.times_dropped,
		.unwind = { .walked = total.unwind.walked - s->counted.unwind.walked,
			    .no_cfi = total.unwind.no_cfi - s->counted.unwind.no_cfi,
			    .unsupported = total.unwind.unsupported - s->counted.unwind.unsupported,
			    .read = total.unwind.read - s->counted.unwind.read,
			    .no_rbp = total.unwind.no_rbp - s->counted.unwind.no_rbp,
			    .depth = total.unwind.depth - s->counted.unwind.depth },
	};
	if (s->unwind)
		raw.tables = *unwind_tables_stats(s->unwind);
	s->counted = total;
	int err = collect(s, old, &raw);
	clear_map(map_fd(s, counts_maps[old]), sizeof(struct profile_key));
	clear_map(map_fd(s, stacks_maps[old]), sizeof(__u64));
	if (!err)
		err = stack_profile_build(s->syms, false, s->kn, s->backend->kind, s->opts->hz, &raw, out);
	raw_free(&raw);
	return err;
}

void stack_session_close(struct stack_session *s)
{
	if (s)
		session_free(s);
}
