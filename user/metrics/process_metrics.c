// SPDX-License-Identifier: Apache-2.0
#include "metrics/process_metrics.h"

#include "base/clock.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/exit_codes.h"
#include "metrics/go_runtime.h"
#include "metrics/proc_stats.h"
#include "metrics/sched_stats.h"

/* One scrape calls every observer; they share one read of a target's state. */
#define CACHE_NS 200000000LL

struct entry {
	int target;
	pid_t pid;
	struct go_runtime *go;
	int64_t read_at;
	bool ok, have_go, have_sched;
	struct proc_stats proc;
	struct go_runtime_stats go_stats;
	struct sched_process_stats sched;
	/* The live view's previous reading, for interval rates. */
	struct proc_stats view_proc;
	struct sched_process_stats view_sched;
	int64_t view_at;
};

struct process_metrics {
	pthread_mutex_t lock;
	struct sched_stats *sched;
	struct entry *entries;
	size_t n, cap;
};

static int64_t now_ns(void)
{
	return (int64_t)clock_mono_ns();
}

static struct entry *find(struct process_metrics *pm, int target)
{
	for (size_t i = 0; i < pm->n; i++)
		if (pm->entries[i].target == target)
			return &pm->entries[i];
	return NULL;
}

/* Called with the lock held: refreshes the entry's readings if they are stale. */
static void refresh(struct process_metrics *pm, struct entry *e)
{
	int64_t now = now_ns();
	if (e->read_at && now - e->read_at < CACHE_NS)
		return;
	e->read_at = now;
	e->ok = proc_stats_read(e->pid, &e->proc) == 0;
	e->have_go = e->go && go_runtime_read(e->go, &e->go_stats) == 0;
	e->have_sched = pm->sched && sched_stats_read(pm->sched, e->pid, &e->sched) == 0;
}

/* Looks the target up, refreshes it and copies its readings out under the lock. */
static bool snapshot(struct process_metrics *pm, int target, struct entry *out)
{
	pthread_mutex_lock(&pm->lock);
	struct entry *e = find(pm, target);
	if (e) {
		refresh(pm, e);
		*out = *e;
	}
	pthread_mutex_unlock(&pm->lock);
	return e != NULL;
}

static int one_point(struct metric_point *p, int max, double value)
{
	if (max < 1)
		return 0;
	p->value = value;
	return 1;
}

static int obs_goroutines(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.have_go)
		return 0;
	return one_point(p, max, (double)e.go_stats.goroutines);
}

static int obs_go_memory(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.have_go || !e.go_stats.have_memory)
		return 0;
	return one_point(p, max, (double)e.go_stats.heap_inuse);
}

static int obs_gc_count(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.have_go || !e.go_stats.have_memory)
		return 0;
	return one_point(p, max, (double)e.go_stats.gc_count);
}

static int obs_threads(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.ok)
		return 0;
	return one_point(p, max, (double)e.proc.threads);
}

static int obs_rss(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.ok)
		return 0;
	return one_point(p, max, (double)e.proc.rss_bytes);
}

static int two_points(struct metric_point *p, int max, const char *attr, const char *a, double va,
		      const char *b, double vb)
{
	if (max < 2)
		return 0;
	p[0] = (struct metric_point){ .attr_name = attr, .attr_value = a, .value = va };
	p[1] = (struct metric_point){ .attr_name = attr, .attr_value = b, .value = vb };
	return 2;
}

static int obs_cpu_time(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.ok)
		return 0;
	return two_points(p, max, "cpu.mode", "user", e.proc.cpu_user_s, "system", e.proc.cpu_system_s);
}

static int obs_ctx_switches(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.ok)
		return 0;
	return two_points(p, max, "process.context_switch.type", "voluntary", (double)e.proc.ctx_voluntary,
			  "involuntary", (double)e.proc.ctx_involuntary);
}

static int obs_runq(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (max < 1 || !snapshot(ctx, target, &e) || !e.have_sched)
		return 0;
	p->bounds = sched_runq_bounds;
	p->nbounds = SCHED_RUNQ_BOUNDS;
	memcpy(p->counts, e.sched.runq_counts, sizeof(e.sched.runq_counts));
	p->count = e.sched.runq_count;
	p->sum = e.sched.runq_sum_ns / 1e9;
	return 1;
}

static int obs_offcpu(void *ctx, int target, struct metric_point *p, int max)
{
	struct entry e;
	if (!snapshot(ctx, target, &e) || !e.have_sched)
		return 0;
	return one_point(p, max, e.sched.offcpu_ns / 1e9);
}

_Static_assert(SCHED_RUNQ_BOUNDS <= METRIC_MAX_BUCKETS, "run-queue buckets fit a metric point");

static const struct {
	const char *name, *unit, *help;
	enum metric_type type;
	metric_points_fn fn;
	bool sched;
} observers[] = {
	{ "go.goroutine.count", "{goroutine}", "Count of live goroutines.", METRIC_UPDOWN, obs_goroutines,
	  false },
	{ "go.memory.used", "By", "Go heap memory in use (MemStats.HeapInuse).", METRIC_UPDOWN, obs_go_memory,
	  false },
	{ "glimpse.go.gc.count", "{gc}", "Completed Go garbage collection cycles.", METRIC_COUNTER,
	  obs_gc_count, false },
	{ "process.thread.count", "{thread}", "Process threads.", METRIC_GAUGE, obs_threads, false },
	{ "process.memory.usage", "By", "Resident set size of the process.", METRIC_GAUGE, obs_rss, false },
	{ "process.cpu.time", "s", "CPU time of the process by mode.", METRIC_COUNTER, obs_cpu_time, false },
	{ "process.context_switches", "{context_switch}", "Context switches of the process's threads.",
	  METRIC_COUNTER, obs_ctx_switches, false },
	{ "glimpse.sched.runqueue.latency", "s", "Time threads waited in the run queue before running.",
	  METRIC_HISTOGRAM, obs_runq, true },
	{ "glimpse.sched.offcpu.time", "s", "Time threads spent off CPU.", METRIC_COUNTER, obs_offcpu, true },
};

struct process_metrics *process_metrics_new(struct metrics_registry *reg, bool sched, int *rc)
{
	struct process_metrics *pm = calloc(1, sizeof(*pm));
	*rc = GLIMPSE_EXIT_FAILURE;
	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	if (sched && (*rc = sched_stats_open(NULL, 0, &pm->sched))) {
		process_metrics_free(pm);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(observers) / sizeof(observers[0]); i++) {
		if (observers[i].sched && !sched)
			continue;
		if (metrics_registry_add_observer(reg, observers[i].name, observers[i].unit,
						  observers[i].help, observers[i].type, observers[i].fn,
						  pm)) {
			*rc = GLIMPSE_EXIT_FAILURE;
			process_metrics_free(pm);
			return NULL;
		}
	}
	*rc = 0;
	return pm;
}

int process_metrics_add(struct process_metrics *pm, int target, pid_t pid)
{
	/* Opening the Go runtime reads the binary: do it outside the lock. */
	struct go_runtime *go = go_runtime_open(pid);
	int err = 0;
	if (pm->sched && (err = sched_stats_add(pm->sched, pid))) {
		go_runtime_close(go);
		return err;
	}
	pthread_mutex_lock(&pm->lock);
	if (pm->n == pm->cap) {
		size_t cap = pm->cap ? 2 * pm->cap : 4;
		struct entry *grown = realloc(pm->entries, cap * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&pm->lock);
			go_runtime_close(go);
			return -ENOMEM;
		}
		pm->entries = grown;
		pm->cap = cap;
	}
	pm->entries[pm->n++] = (struct entry){ .target = target, .pid = pid, .go = go };
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

void process_metrics_remove(struct process_metrics *pm, int target)
{
	pthread_mutex_lock(&pm->lock);
	struct entry *e = find(pm, target);
	struct go_runtime *go = NULL;
	if (e) {
		go = e->go;
		*e = pm->entries[--pm->n];
	}
	pthread_mutex_unlock(&pm->lock);
	go_runtime_close(go);
}

static void format_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.1fGiB", b / (double)(1ULL << 30));
	else
		snprintf(buf, len, "%.1fMiB", b / (double)(1ULL << 20));
}

void process_metrics_status_line(struct process_metrics *pm, int target, char *buf, size_t len)
{
	buf[0] = '\0';
	pthread_mutex_lock(&pm->lock);
	struct entry *e = find(pm, target);
	if (!e) {
		pthread_mutex_unlock(&pm->lock);
		return;
	}
	e->read_at = 0; /* the view wants a fresh reading */
	refresh(pm, e);
	int64_t now = now_ns();
	double dt = e->view_at ? (now - e->view_at) / 1e9 : 0;
	size_t used = 0;
	if (e->have_go)
		used += snprintf(buf + used, len - used, "goroutines=%lld ",
				 (long long)e->go_stats.goroutines);
	if (e->ok && used < len) {
		char rss[24];
		format_bytes(e->proc.rss_bytes, rss, sizeof(rss));
		double cpu = dt > 0 ? 100.0 *
					      ((e->proc.cpu_user_s + e->proc.cpu_system_s) -
					       (e->view_proc.cpu_user_s + e->view_proc.cpu_system_s)) /
					      dt
				    : 0;
		used += snprintf(buf + used, len - used, "threads=%lld rss=%s cpu=%.1f%% ",
				 (long long)e->proc.threads, rss, cpu);
	}
	if (e->have_sched && used < len) {
		double p99 = sched_runq_quantile(&e->sched, &e->view_sched, 0.99);
		used += snprintf(buf + used, len - used, "runq_p99=%.0fus", p99 * 1e6);
	}
	e->view_proc = e->proc;
	e->view_sched = e->sched;
	e->view_at = now;
	pthread_mutex_unlock(&pm->lock);
}

void process_metrics_free(struct process_metrics *pm)
{
	if (!pm)
		return;
	for (size_t i = 0; i < pm->n; i++)
		go_runtime_close(pm->entries[i].go);
	sched_stats_close(pm->sched);
	free(pm->entries);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
