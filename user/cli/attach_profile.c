// SPDX-License-Identifier: Apache-2.0
#include "cli/attach_profile.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/resource.h"
#include "base/clock.h"
#include "base/log.h"
#include "cli/exit_codes.h"
#include "export/dash_profile.h"
#include "export/otlp.h"
#include "gotrace/call.h"
#include "gotrace/tracer.h"
#include "metrics/registry.h"
#include "profile/cpu_profiler.h"
#include "profile/request_labels.h"
#include "profile/writers/profile_writers.h"

#define DEFAULT_INTERVAL_S 10
#define DEFAULT_HZ	   99
#define MAX_STACKS	   16384

enum {
	OPT_PROFILE = 1150, /* after cmd_attach.c's private keys */
	OPT_PROFILE_INTERVAL,
	OPT_PROFILE_HZ,
	OPT_PROFILE_DIR,
	OPT_BY_ROUTE,
};

const struct cli_option attach_profile_options[] = {
	{ "profile", OPT_PROFILE, NULL,
	  "continuous CPU profile of the target; for Go, each sample taken while a\n"
	  "goroutine serves an HTTP request is labelled with its http.route,\n"
	  "http.request.method and trace/span ids (OTLP: sample attributes and link)" },
	{ "profile-interval", OPT_PROFILE_INTERVAL, "SECS", "one profile per SECS seconds (default 10)" },
	{ "profile-frequency", OPT_PROFILE_HZ, "HZ", "samples per second per CPU (default 99; 1..1000)" },
	{ "profile-dir", OPT_PROFILE_DIR, "DIR", "write each interval as DIR/cpu-<UTC time>.pb.gz (pprof)" },
	{ "by-route", OPT_BY_ROUTE, NULL, "also DIR/cpu-<UTC time>.svg: a flame graph per route" },
	{ 0 },
};

void attach_profile_defaults(struct attach_profile_opts *o)
{
	*o = (struct attach_profile_opts){ .interval_s = DEFAULT_INTERVAL_S, .hz = DEFAULT_HZ };
}

bool attach_profile_option(int key, const char *arg, struct attach_profile_opts *o)
{
	switch (key) {
	case OPT_PROFILE:
		o->on = true;
		return true;
	case OPT_PROFILE_INTERVAL:
		o->interval_s = cli_double("--profile-interval", arg, 0.5, 86400);
		return true;
	case OPT_PROFILE_HZ:
		o->hz = (int)cli_long("--profile-frequency", arg, 1, 1000);
		return true;
	case OPT_PROFILE_DIR:
		o->dir = arg;
		return true;
	case OPT_BY_ROUTE:
		o->by_route = true;
		return true;
	}
	return false;
}

/* The directory, or its parent when it does not exist yet (it is made once attached: a failed
 * attach leaves nothing behind), must be a writable directory. */
static void check_dir(const char *dir)
{
	struct stat st;
	if (!stat(dir, &st)) {
		if (!S_ISDIR(st.st_mode))
			cli_usage_error("attach", "--profile-dir: %s is not a directory", dir);
		if (access(dir, W_OK))
			cli_usage_error("attach", "--profile-dir: cannot write in %s: %s", dir,
					strerror(errno));
		return;
	}
	if (errno != ENOENT)
		cli_usage_error("attach", "--profile-dir: %s: %s", dir, strerror(errno));
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", dir);
	const char *p = dirname(parent);
	if (stat(p, &st) || !S_ISDIR(st.st_mode) || access(p, W_OK))
		cli_usage_error("attach", "--profile-dir: cannot create %s: %s is not a writable directory",
				dir, p);
}

void attach_profile_check(const struct attach_profile_opts *o, bool otlp, bool dashboard)
{
	if (!o->on) {
		if (o->dir || o->by_route)
			cli_usage_error("attach", "%s needs --profile",
					o->dir ? "--profile-dir" : "--by-route");
		return;
	}
	if (!o->dir && !otlp && !dashboard)
		cli_usage_error("attach",
				"--profile: the profiles go nowhere: give --profile-dir DIR or an OTLP "
				"endpoint, or leave the dashboard on (no --no-prometheus)");
	if (o->by_route && !o->dir)
		cli_usage_error("attach", "--by-route writes its flame graphs into --profile-dir");
	if (o->dir)
		check_dir(o->dir);
}

struct attach_profile {
	const struct attach_profile_opts *o;
	struct profiler_opts popts;
	struct stack_session *session;
	struct request_labels *labels; /* NULL: samples are not labelled */
	struct otlp_exporter *otlp;
	struct dash_profile *dash; /* NULL: no dashboard */
	const struct resource *res;
	int64_t next_cut; /* monotonic ns */
	uint64_t intervals, samples;
	bool quality_reported; /* what limits the profile is said once, for the first interval with samples */
	struct request_labels_stats lstats;
};

int attach_profile_start(const struct attach_profile_opts *o, pid_t pid, struct go_tracer *tracer,
			 struct otlp_exporter *otlp, const struct resource *res, struct attach_profile **out)
{
	struct attach_profile *ap = calloc(1, sizeof(*ap));
	if (!ap)
		return GLIMPSE_EXIT_FAILURE;
	ap->o = o;
	ap->otlp = otlp;
	ap->res = res;
	ap->popts = (struct profiler_opts){ .npids = 1,
					    .kernel_stacks = true,
					    .user_stacks = true,
					    .max_stacks = MAX_STACKS,
					    .hz = o->hz,
					    .continuous = true,
					    .sample_times = otlp != NULL };
	ap->popts.pids[0] = pid;
	uint32_t calls_value = 0, inherited_value = 0;
	int calls_fd = -1, inherited_fd = -1;
	if (tracer && !go_tracer_context_layout(&calls_value, &inherited_value)) {
		go_tracer_context_map_fds(tracer, &calls_fd, &inherited_fd);
		ap->popts.go_calls_value_size = calls_value;
	}
	if (o->dir && mkdir(o->dir, 0755) && errno != EEXIST) {
		log_error("--profile-dir: cannot create %s: %s", o->dir, strerror(errno));
		free(ap);
		return GLIMPSE_EXIT_USAGE;
	}
	int rc = cpu_profiler_open(&ap->popts, &ap->session);
	if (rc) {
		free(ap);
		return rc;
	}
	if (ap->popts.go_calls_value_size && (!(ap->labels = request_labels_new()) ||
					      stack_session_label_requests(ap->session, pid, calls_fd))) {
		log_warn("CPU samples are not labelled with their requests: cannot share the Go tracer's "
			 "map with the profiler");
		request_labels_free(ap->labels);
		ap->labels = NULL;
	}
	if (!tracer)
		log_info("CPU samples are not labelled with requests: only a Go target's goroutines are "
			 "followed");
	ap->next_cut = (int64_t)clock_mono_ns() + (int64_t)(o->interval_s * 1e9);
	*out = ap;
	return 0;
}

void attach_profile_set_dashboard(struct attach_profile *ap, struct dash_profile *dp)
{
	if (ap)
		ap->dash = dp;
}

void attach_profile_call(struct attach_profile *ap, struct metrics_registry *reg, int target,
			 const struct call *c)
{
	if (!ap || !ap->labels || c->kind != CALL_HTTP_SERVER)
		return;
	/* The route as the metrics name it: capped, like span names. */
	char route[sizeof(c->route)] = "";
	if (c->route[0])
		metrics_registry_cap_route(reg, target, c->route, route, sizeof(route));
	request_labels_add(ap->labels, c->ev->span_id, route, c->method);
}

static void write_interval(struct attach_profile *ap, const struct prof *p)
{
	char path[PATH_MAX];
	time_t when = (time_t)(p->time_ns / 1000000000LL);
	int err;
	profile_interval_path(path, sizeof(path), ap->o->dir, "cpu", "pb.gz", when);
	if ((err = pprof_write(p, path)))
		log_warn("cannot write the profile %s: %s", path, strerror(-err));
	else
		log_event(LOG_INFO, "wrote profile", "file=%s", path);
	if (!ap->o->by_route)
		return;
	struct prof view;
	char **names;
	size_t nnames;
	profile_interval_path(path, sizeof(path), ap->o->dir, "cpu", "svg", when);
	if (!(err = prof_by_route(p, &view, &names, &nnames))) {
		err = flamegraph_write_svg(&view, path, "glimpse CPU flame graph by route");
		prof_by_route_free(&view, names, nnames);
	}
	if (err)
		log_warn("cannot write the flame graph %s: %s", path, strerror(-err));
	else
		log_event(LOG_INFO, "wrote flame graph", "file=%s", path);
}

static void cut(struct attach_profile *ap)
{
	struct stack_profile *sp;
	int err = stack_session_cut(ap->session, &sp);
	if (err) {
		log_warn("cannot read the CPU profile's interval: %s", strerror(-err));
		return;
	}
	struct prof *p = (struct prof *)stack_profile_data(sp);
	struct request_labels_stats st = { 0 };
	if (ap->labels) {
		request_labels_apply(ap->labels, p, &st);
		request_labels_rotate(ap->labels);
	}
	ap->intervals++;
	ap->samples += stack_profile_stats(sp)->samples;
	ap->lstats.labelled += st.labelled;
	ap->lstats.unresolved += st.unresolved;
	ap->lstats.full = st.full;
	log_event(LOG_DEBUG, "profile interval", "samples=%llu labelled=%llu running=%llu",
		  (unsigned long long)stack_profile_stats(sp)->samples, (unsigned long long)st.labelled,
		  (unsigned long long)st.unresolved);
	if (ap->o->dir)
		write_interval(ap, p);
	if (ap->dash && (err = dash_profile_update(ap->dash, p)))
		log_warn("cannot show the CPU profile on the dashboard: %s", strerror(-err));
	if (ap->otlp && (err = otlp_enqueue_profile(ap->otlp, p, ap->res, 1)) && err != -ESHUTDOWN)
		log_warn("cannot send the CPU profile over OTLP: %s", strerror(-err));
	if (!ap->quality_reported && stack_profile_stats(sp)->samples) {
		stack_profile_report_quality(sp);
		ap->quality_reported = true;
	}
	stack_profile_free(sp);
}

void attach_profile_tick(struct attach_profile *ap)
{
	if (!ap)
		return;
	stack_session_poll(ap->session, 0);
	int64_t now = (int64_t)clock_mono_ns();
	if (now < ap->next_cut)
		return;
	ap->next_cut += (int64_t)(ap->o->interval_s * 1e9);
	if (ap->next_cut <= now) /* a long stall: start the next interval from now */
		ap->next_cut = now + (int64_t)(ap->o->interval_s * 1e9);
	cut(ap);
}

void attach_profile_stop(struct attach_profile *ap)
{
	if (!ap)
		return;
	cut(ap);
	log_event(LOG_INFO, "CPU profile", "intervals=%llu samples=%llu labelled=%llu running_at_cut=%llu",
		  (unsigned long long)ap->intervals, (unsigned long long)ap->samples,
		  (unsigned long long)ap->lstats.labelled, (unsigned long long)ap->lstats.unresolved);
	if (ap->lstats.full)
		log_warn("%llu requests were not remembered for the profile's labels (more than %d per "
			 "interval): their samples carry their trace link only",
			 (unsigned long long)ap->lstats.full, REQUEST_LABELS_PER_INTERVAL);
	stack_session_close(ap->session);
	request_labels_free(ap->labels);
	free(ap);
}
