// SPDX-License-Identifier: Apache-2.0
#include "metrics/sched_stats.h"

#include "base/clock.h"
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/preflight.h"
#include "base/procfs.h"
#include "base/bpf_child.h"
#include "base/watched.h"
#include "metrics/sched_probe.h"
#include "sched_maps.h"

#define BATCH 256

_Static_assert(SCHED_RUNQ_BOUNDS == SCHED_NR_BOUNDS, "user and BPF bucket counts differ");

/* The same bounds as SCHED_BOUNDS_NS_INIT (a unit test checks they agree), as exported. */
const double sched_runq_bounds[SCHED_RUNQ_BOUNDS] = {
	1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3,
	2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1,  0.2,  0.5,	1,    2,
};

struct tracked {
	pid_t pid;
	uint64_t last_offcpu_ns; /* what the last read reported: reads never go below it */
};

struct sched_stats {
	int fds[SCHED_NFDS]; /* the probe, loaded by a child process */
	bool all;
	struct watched watched; /* the programs' filter (not with all): the tracked processes' bits */
	int ncpus;
	struct sched_proc *percpu; /* ncpus values: one lookup's worth */
	struct tracked *procs;
	size_t nprocs, cap;
	__u32 *batch_keys;
	struct sched_thread *batch_vals;
};

int sched_runq_bucket(uint64_t ns)
{
	return (int)sched_bucket(ns);
}

static struct tracked *find(struct sched_stats *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static struct tracked *append(struct sched_stats *s, pid_t pid)
{
	if (s->nprocs == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct tracked *grown = realloc(s->procs, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		s->procs = grown;
		s->cap = cap;
	}
	struct tracked *t = &s->procs[s->nprocs++];
	*t = (struct tracked){ .pid = pid };
	return t;
}

/* Threads already asleep when tracking begins would otherwise count no off-CPU time until
 * they wake (and then lose the whole interval), nor their first run-queue wait: give them an
 * entry that starts now, with the kernel's run-queue total of the moment. Runs
 * after the process entry exists, so the kernel side already records any thread that wakes
 * or switches out; BPF_NOEXIST leaves those entries alone. A thread whose stat says S but
 * that has not yet left its CPU gets its time corrected at its next switch-out. */
static void seed_sleeping_threads(struct sched_stats *s, pid_t pid)
{
	pid_t *tids;
	size_t n;
	if (proc_tasks(pid, &tids, &n))
		return;
	int fd = s->fds[SCHED_FD_THREADS];
	for (size_t i = 0; i < n; i++) {
		char path[64], text[1024];
		struct proc_stat st;
		proc_path(path, sizeof(path), pid, "/task/%d/stat", (int)tids[i]);
		if (proc_read_small(path, text, sizeof(text)) < 0 || !proc_parse_stat(text, &st))
			continue;
		if (st.state == 'R' || st.state == 'Z' || st.state == 'X')
			continue;
		__u32 tid = (__u32)tids[i];
		struct sched_thread t = { .off_since = clock_mono_ns(), .tgid = (__u32)pid };
		/* Asleep, its run-queue total is settled: its next wait is counted from it. */
		uint64_t delay;
		if (!proc_thread_run_delay(pid, tids[i], &delay)) {
			t.delay_seen = delay;
			t.flags = SCHED_DELAY_SEEN;
		}
		bpf_map_update_elem(fd, &tid, &t, BPF_NOEXIST);
	}
	free(tids);
}

int sched_stats_add(struct sched_stats *s, pid_t pid)
{
	if (!watched_fits(pid))
		return -EINVAL;
	if (s->all || find(s, pid))
		return 0;
	if (!proc_exists(pid))
		return -ESRCH;
	struct tracked *t = append(s, pid);
	if (!t)
		return -ENOMEM;
	__u32 key = (__u32)pid;
	memset(s->percpu, 0, (size_t)s->ncpus * sizeof(*s->percpu));
	int err = bpf_map_update_elem(s->fds[SCHED_FD_PROCS], &key, s->percpu, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		s->nprocs--;
		return err == -E2BIG ? -ENOSPC : err;
	}
	/* From here on the programs record its threads: the seeding below relies on that. */
	watched_set(&s->watched, pid, true);
	seed_sleeping_threads(s, pid);
	return 0;
}

/* track_all: entries for the processes that exist already, made here (where allocating is
 * easy) rather than by the programs in a burst right after attaching, where the kernel's
 * allocator for per-CPU map values can run dry and fail some (SCHED_PROCS_FULL). */
static void add_existing_processes(struct sched_stats *s)
{
	DIR *dir = opendir("/proc");
	if (!dir)
		return;
	int fd = s->fds[SCHED_FD_PROCS];
	memset(s->percpu, 0, (size_t)s->ncpus * sizeof(*s->percpu));
	struct dirent *de;
	while ((de = readdir(dir))) {
		pid_t pid;
		if (!parse_pid(de->d_name, &pid))
			continue;
		__u32 key = (__u32)pid;
		bpf_map_update_elem(fd, &key, s->percpu, BPF_NOEXIST);
	}
	closedir(dir);
}

static int open_common(bool all, const pid_t *pids, int npids, struct sched_stats **out)
{
	*out = NULL;
	int rc = preflight_pids(pids, npids);
	if (rc)
		return rc;
	rc = GLIMPSE_EXIT_FAILURE;
	struct sched_stats *s = calloc(1, sizeof(*s));
	if (!s) {
		log_error("out of memory setting up scheduler tracking");
		return rc;
	}
	s->all = all;
	memset(s->fds, -1, sizeof(s->fds));
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		log_error("cannot count the possible CPUs: %s", strerror(-s->ncpus));
		goto fail;
	}
	s->percpu = calloc((size_t)s->ncpus, sizeof(*s->percpu));
	s->batch_keys = calloc(BATCH, sizeof(*s->batch_keys));
	s->batch_vals = calloc(BATCH, sizeof(*s->batch_vals));
	if (!s->percpu || !s->batch_keys || !s->batch_vals) {
		log_error("out of memory setting up scheduler tracking");
		goto fail;
	}

	/* Attached before processes are added: from the moment a process is in the map, every
	 * wakeup and switch of it is seen, which the seeding of sleeping threads relies on. */
	const uint64_t params[SCHED_NPARAMS] = { [SCHED_PARAM_TRACK_ALL] = all };
	int err = bpf_child_load(SCHED_PROBE_NAME, params, SCHED_NPARAMS, s->fds, SCHED_NFDS);
	if (err) {
		rc = err;
		goto fail;
	}
	if (all)
		add_existing_processes(s);
	else if (watched_map(&s->watched, s->fds[SCHED_FD_WATCHED], "scheduler probe"))
		goto fail;
	for (int i = 0; i < npids; i++) {
		err = sched_stats_add(s, pids[i]);
		if (err == -ESRCH) {
			log_error("process %d exited before glimpse could track it", (int)pids[i]);
			rc = GLIMPSE_EXIT_NO_PROCESS;
			goto fail;
		}
		if (err) {
			log_error("cannot track the scheduling of process %d: %s", (int)pids[i],
				  strerror(-err));
			rc = GLIMPSE_EXIT_FAILURE;
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	sched_stats_close(s);
	return rc;
}

int sched_stats_open(const pid_t *pids, int npids, struct sched_stats **out)
{
	return open_common(false, pids, npids > 0 ? npids : 0, out);
}

int sched_stats_open_all(struct sched_stats **out)
{
	return open_common(true, NULL, 0, out);
}

static void add_pending(uint64_t *pending, const struct sched_thread *t, __u32 tgid, uint64_t now)
{
	if (t->tgid == tgid && t->off_since && now > t->off_since)
		*pending += now - t->off_since;
}

/* Off-CPU time of tgid's threads that are switched out right now, up to now. */
static uint64_t pending_offcpu(struct sched_stats *s, __u32 tgid)
{
	int fd = s->fds[SCHED_FD_THREADS];
	uint64_t pending = 0;
	__u32 batch = 0;
	bool first = true;
	for (;;) {
		__u32 count = BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, s->batch_keys,
					       s->batch_vals, &count, NULL);
		if (err && err != -ENOENT)
			break; /* not supported: fall back below */
		uint64_t now = clock_mono_ns();
		for (__u32 i = 0; i < count; i++)
			add_pending(&pending, &s->batch_vals[i], tgid, now);
		if (err == -ENOENT)
			return pending;
		first = false;
	}
	/* One key at a time (a kernel without batch lookups, or a bucket larger than BATCH). */
	pending = 0;
	__u32 key, next;
	__u32 *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sched_thread t;
		if (bpf_map_lookup_elem(fd, &next, &t) == 0)
			add_pending(&pending, &t, tgid, clock_mono_ns());
		key = next;
		prev = &key;
	}
	return pending;
}

int sched_stats_read(struct sched_stats *s, pid_t pid, struct sched_process_stats *out)
{
	struct tracked *t = find(s, pid);
	if (!t && !s->all)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	__u32 key = (__u32)pid;
	/* Totals first, then the open intervals: an interval that closes in between is then
	 * missed for one read rather than counted twice. */
	if (bpf_map_lookup_elem(s->fds[SCHED_FD_PROCS], &key, s->percpu) == 0) {
		for (int c = 0; c < s->ncpus; c++) {
			const struct sched_proc *v = &s->percpu[c];
			for (int b = 0; b <= SCHED_RUNQ_BOUNDS; b++)
				out->runq_counts[b] += v->runq_buckets[b];
			out->runq_sum_ns += v->runq_sum_ns;
			out->offcpu_ns += v->offcpu_ns;
			out->ctx_voluntary += v->nvcsw;
			out->ctx_involuntary += v->nivcsw;
		}
	} else if (!s->all) {
		return -ENOENT;
	}
	for (int b = 0; b <= SCHED_RUNQ_BOUNDS; b++)
		out->runq_count += out->runq_counts[b];
	out->offcpu_ns += pending_offcpu(s, key);
	if (!t)
		t = append(s, pid);
	if (t) {
		if (out->offcpu_ns < t->last_offcpu_ns)
			out->offcpu_ns = t->last_offcpu_ns;
		t->last_offcpu_ns = out->offcpu_ns;
	}
	return 0;
}

double sched_runq_quantile(const struct sched_process_stats *now, const struct sched_process_stats *before,
			   double q)
{
	uint64_t d[SCHED_RUNQ_BOUNDS + 1], total = 0;
	for (int b = 0; b <= SCHED_RUNQ_BOUNDS; b++) {
		uint64_t prev = before ? before->runq_counts[b] : 0;
		d[b] = now->runq_counts[b] > prev ? now->runq_counts[b] - prev : 0;
		total += d[b];
	}
	if (!total)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* As Prometheus' histogram_quantile: the bucket where the cumulative count reaches
	 * q·total, linear within it (from 0 for the first); the +Inf bucket gives the highest
	 * bound. Empty buckets never hold the answer (matters for q = 0). */
	double rank = q * (double)total;
	uint64_t below = 0;
	for (int b = 0; b <= SCHED_RUNQ_BOUNDS; b++) {
		if (d[b] && (double)(below + d[b]) >= rank) {
			if (b == SCHED_RUNQ_BOUNDS)
				return sched_runq_bounds[SCHED_RUNQ_BOUNDS - 1];
			double lo = b ? sched_runq_bounds[b - 1] : 0, hi = sched_runq_bounds[b];
			double within = (rank - (double)below) / (double)d[b];
			return lo + (hi - lo) * within;
		}
		below += d[b];
	}
	return sched_runq_bounds[SCHED_RUNQ_BOUNDS - 1];
}

uint64_t sched_stats_dropped(const struct sched_stats *s)
{
	uint64_t total = 0;
	__u64 vals[s->ncpus];
	for (__u32 key = 0; key < SCHED_NR_COUNTERS; key++) {
		if (bpf_map_lookup_elem(s->fds[SCHED_FD_COUNTERS], &key, vals))
			continue;
		for (int c = 0; c < s->ncpus; c++)
			total += vals[c];
	}
	return total;
}

void sched_stats_close(struct sched_stats *s)
{
	if (!s)
		return;
	bpf_child_close(s->fds, SCHED_NFDS); /* links first: detached before the maps go */
	watched_unmap(&s->watched);
	free(s->percpu);
	free(s->procs);
	free(s->batch_keys);
	free(s->batch_vals);
	free(s);
}
