/* SPDX-License-Identifier: Apache-2.0 */
/* attach --profile: the target's continuous CPU profile. The perf-event programs stay attached;
 * each interval is cut by swapping the maps' generation (stack_session_cut), its samples
 * labelled with the HTTP requests their goroutines served (request_labels.h; Go targets), and
 * written as pprof (--profile-dir), a flame graph per route (--by-route) and OTLP profiles
 * (when an OTLP endpoint is set). */
#ifndef GLIMPSE_ATTACH_PROFILE_H
#define GLIMPSE_ATTACH_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/cli.h"

struct attach_profile_opts {
	bool on;
	double interval_s;
	int hz;
	const char *dir; /* NULL: no files */
	bool by_route;
};

/* The option group (--profile, --profile-interval, --profile-frequency, --profile-dir,
 * --by-route) and its parser: true if key was one. */
extern const struct cli_option attach_profile_options[];
void attach_profile_defaults(struct attach_profile_opts *o);
bool attach_profile_option(int key, const char *arg, struct attach_profile_opts *o);
/* Before any work: the profiles go somewhere (files, OTLP, the dashboard), the directory
 * exists or can be made, --by-route has somewhere to go. Exits 2. */
void attach_profile_check(const struct attach_profile_opts *o, bool otlp, bool dashboard);

struct attach_profile;
struct go_tracer;
struct otlp_exporter;
struct resource;
struct call;

/* Starts profiling pid; tracer (NULL: none) labels the samples with its requests; otlp (NULL:
 * none) receives each interval. 0 or an exit code after logging why. Everything passed must
 * outlive the profile. */
int attach_profile_start(const struct attach_profile_opts *o, pid_t pid, struct go_tracer *tracer,
			 struct otlp_exporter *otlp, const struct resource *res, struct attach_profile **out);
/* Each interval also becomes the dashboard's flame graph (NULL: none); dp must outlive ap. */
struct dash_profile;
void attach_profile_set_dashboard(struct attach_profile *ap, struct dash_profile *dp);
/* A decoded call: server requests give their route (capped as target's series in reg name
 * it) and method to the samples that served them. NULL ap is fine. */
struct metrics_registry;
void attach_profile_call(struct attach_profile *ap, struct metrics_registry *reg, int target,
			 const struct call *c);
/* Symbolizes new processes (non-blocking) and, when an interval is over, cuts and writes it.
 * Call after the tracer's events are drained, so requests that ended are known. */
void attach_profile_tick(struct attach_profile *ap);
/* Writes the last, partial interval, detaches and frees. NULL is fine. */
void attach_profile_stop(struct attach_profile *ap);

#endif
