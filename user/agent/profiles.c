// SPDX-License-Identifier: Apache-2.0
#include "agent/profiles.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/profile_labels.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/signals.h"
#include "export/otlp.h"
#include "gotrace/tracer.h"
#include "profile/cpu_profiler.h"
#include "profile/offcpu_profiler.h"
#include "profile/writers/profile_writers.h"

struct profile_kind {
	const char *name; /* file prefix and log text */
	/* Off-CPU: one run per interval; NULL: CPU, one continuous session (cpu_thread). */
	int (*run)(const struct profiler_opts *opts, struct stack_profile **out);
	bool offcpu;
};

static const struct profile_kind kinds[] = {
	{ "cpu", NULL, false },
	{ "offcpu", offcpu_profiler_run, true },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct profiler {
	struct agent_profiles *owner;
	const struct profile_kind *kind;
	pthread_t thread;
	bool running;
};

struct agent_profiles {
	const struct agent_config *cfg;
	struct agent_targets *ts;
	struct otlp_exporter *otlp; /* NULL: no OTLP profiles */
	struct profiler threads[NKINDS];
};

/* Queued for the exporter's thread: never waits on the receiver. */
static void send_profile(struct agent_profiles *ps, const struct profile_kind *kind, struct stack_profile *sp,
			 const struct profiler_opts *o)
{
	struct resource res[PROFILER_MAX_PIDS];
	size_t nres = targets_resources(ps->ts, o->pids, o->npids, res);
	int err = otlp_enqueue_profile(ps->otlp, stack_profile_data(sp), res, nres);
	if (err && err != -ESHUTDOWN)
		log_warn("cannot send the %s profile over OTLP: %s", kind->name, strerror(-err));
}

static void write_profile(const struct agent_config *cfg, const struct profile_kind *kind,
			  struct stack_profile *sp, int npids)
{
	char path[PATH_MAX + 64];
	profile_interval_path(path, sizeof(path), cfg->profiles.directory, kind->name, "pb.gz", time(NULL));
	int err = pprof_write(stack_profile_data(sp), path);
	if (err)
		log_warn("cannot write the %s profile %s: %s", kind->name, path, strerror(-err));
	else
		log_event(LOG_INFO, "wrote profile", "kind=%s file=%s processes=%d", kind->name, path, npids);
}

static void emit(struct profiler *p, struct stack_profile *sp, const struct profiler_opts *o)
{
	if (p->owner->cfg->profiles.directory[0])
		write_profile(p->owner->cfg, p->kind, sp, o->npids);
	if (p->owner->otlp)
		send_profile(p->owner, p->kind, sp, o);
}

static bool same_targets(const struct profiler_opts *a, const pid_t *pids, int npids, int hz)
{
	return a->npids == npids && a->hz == hz && !memcmp(a->pids, pids, npids * sizeof(*pids));
}

/* The Go targets' samples keyed by the requests their tracers see (the session's programs
 * read each one's calls map). */
static void label_requests(struct agent_targets *ts, struct stack_session *s, const struct profiler_opts *o)
{
	for (int i = 0; i < o->npids; i++) {
		int fd = targets_calls_map(ts, o->pids[i]);
		if (fd < 0)
			continue; /* not a Go target with a tracer */
		int err = stack_session_label_requests(s, o->pids[i], fd);
		if (err)
			log_warn("pid %d: CPU samples not labelled with their requests: %s", (int)o->pids[i],
				 strerror(-err));
		close(fd);
	}
}

/* CPU: one continuous session while the targets stay the same — each interval is a cut of
 * its maps, the programs stay attached — reopened when they change. */
static void *cpu_thread(struct profiler *p)
{
	const struct agent_config *cfg = p->owner->cfg;
	struct profiler_opts o = { 0 };
	struct stack_session *s = NULL;
	struct profile_labels *labels = targets_labels(p->owner->ts);
	uint32_t calls_value = 0, inherited_value = 0;
	if (labels && go_tracer_context_layout(&calls_value, &inherited_value))
		labels = NULL;
	while (!stop_requested()) {
		pid_t pids[PROFILER_MAX_PIDS];
		int hz = 19;
		int npids = targets_profile_pids(p->owner->ts, false, pids, PROFILER_MAX_PIDS, &hz);
		if (s && !same_targets(&o, pids, npids, hz)) {
			stack_session_close(s);
			s = NULL;
		}
		if (!npids) {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
			continue;
		}
		if (!s) {
			o = (struct profiler_opts){ .kernel_stacks = true,
						    .user_stacks = true,
						    .max_stacks = 16384,
						    .hz = hz,
						    .npids = npids,
						    .continuous = true,
						    .go_calls_value_size = labels ? calls_value : 0,
						    .sample_times = p->owner->otlp != NULL };
			memcpy(o.pids, pids, npids * sizeof(*pids));
			if (cpu_profiler_open(&o, &s))
				break; /* logged */
			if (labels)
				label_requests(p->owner->ts, s, &o);
		}
		double end = clock_mono_s() + cfg->profiles.interval_ms / 1000.0, left;
		while (!stop_requested() && (left = end - clock_mono_s()) > 0)
			stack_session_poll(s, left < 0.2 ? (int)(left * 1000) + 1 : 200);
		struct stack_profile *sp;
		int err = stack_session_cut(s, &sp);
		if (err) {
			log_warn("cannot read the cpu profile's interval: %s", strerror(-err));
			continue;
		}
		if (labels) {
			struct request_labels_stats st = { 0 };
			profile_labels_cut(labels, (struct prof *)stack_profile_data(sp), &st);
			log_event(LOG_DEBUG, "profile interval", "samples=%llu labelled=%llu running=%llu",
				  (unsigned long long)stack_profile_stats(sp)->samples,
				  (unsigned long long)st.labelled, (unsigned long long)st.unresolved);
		}
		emit(p, sp, &o);
		stack_profile_free(sp);
	}
	stack_session_close(s);
	return NULL;
}

/* Off-CPU: each interval runs the profiler afresh for the targets of the moment (a stack is
 * stored at switch-out and counted at switch-in: its intervals cannot be cut by swapping). */
static void *profiler_thread(void *arg)
{
	struct profiler *p = arg;
	const struct agent_config *cfg = p->owner->cfg;
	if (!p->kind->offcpu)
		return cpu_thread(p);
	while (!stop_requested()) {
		struct profiler_opts o = { .kernel_stacks = true,
					   .user_stacks = true,
					   .max_stacks = 16384,
					   .duration_s = cfg->profiles.interval_ms / 1000.0,
					   .hz = 19,
					   .min_block_ns = 1000 };
		o.npids =
			targets_profile_pids(p->owner->ts, p->kind->offcpu, o.pids, PROFILER_MAX_PIDS, &o.hz);
		if (!o.npids) {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
			continue;
		}
		struct stack_profile *sp;
		if (p->kind->run(&o, &sp))
			break; /* logged */
		emit(p, sp, &o);
		stack_profile_free(sp);
	}
	return NULL;
}

struct agent_profiles *profiles_start(const struct agent_config *cfg, struct agent_targets *ts,
				      struct otlp_exporter *otlp)
{
	if (cfg->profiles.otlp && !otlp)
		log_warn("profiles.otlp is set but no OTLP endpoint is configured (otlp.endpoint or "
			 "OTEL_EXPORTER_OTLP_ENDPOINT): no OTLP profiles");
	if (!cfg->profiles.otlp)
		otlp = NULL;
	if (!cfg->profiles.directory[0] && !otlp)
		return NULL;
	if (cfg->profiles.directory[0] && mkdir(cfg->profiles.directory, 0755) && errno != EEXIST)
		log_warn("cannot create the profiles directory %s: %s", cfg->profiles.directory,
			 strerror(errno));
	struct agent_profiles *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		log_warn("no continuous profiles: out of memory");
		return NULL;
	}
	ps->cfg = cfg;
	ps->ts = ts;
	ps->otlp = otlp;
	for (size_t i = 0; i < NKINDS; i++) {
		struct profiler *p = &ps->threads[i];
		*p = (struct profiler){ .owner = ps, .kind = &kinds[i] };
		int err = pthread_create(&p->thread, NULL, profiler_thread, p);
		if (err)
			log_warn("no %s profiles: cannot start a thread: %s", kinds[i].name, strerror(err));
		p->running = !err;
	}
	return ps;
}

void profiles_stop(struct agent_profiles *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < NKINDS; i++)
		if (ps->threads[i].running)
			pthread_join(ps->threads[i].thread, NULL);
	free(ps);
}
