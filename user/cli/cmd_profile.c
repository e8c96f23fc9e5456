// SPDX-License-Identifier: Apache-2.0
/* glimpse profile: CPU or off-CPU profile of running processes → pprof, folded stacks, SVG,
 * top table. */
#define _GNU_SOURCE /* reallocarray */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/outfile.h"
#include "cli/commands.h"
#include "profile/cpu_profiler.h"
#include "cli/exit_codes.h"
#include "cli/profile_routes.h"
#include "gotrace/target.h"
#include "base/log.h"
#include "profile/offcpu_profiler.h"
#include "base/preflight.h"
#include "base/procfs.h"
#include "profile/writers/profile_writers.h"
#include "base/signals.h"
#include "export/otlp.h"

#define DEFAULT_HZ	     99
#define DEFAULT_TOP	     10
#define DEFAULT_MAX_STACKS   16384
#define DEFAULT_MIN_BLOCK_US 1

enum {
	OPT_FOLDED = CLI_OPT_FIRST_PRIVATE,
	OPT_SVG,
	OPT_TOP,
	OPT_MAX_STACKS,
	OPT_OFF_CPU,
	OPT_MIN_BLOCK,
	OPT_PREEMPTED,
	OPT_BY_ROUTE,
};

static const struct cli_option targets_options[] = {
	{ "pid", 'p', "PID", "profile this process (repeat, or PID,PID,...; up to 64)" },
	{ "all", 'a', NULL, "profile every process on the machine" },
	{ 0 },
};

static const struct cli_option sampling_options[] = {
	{ "frequency", 'F', "HZ", "samples per second per CPU (default 99; 1..10000)" },
	{ "duration", 'd', "SECS", "stop after SECS seconds (default: Ctrl-C, or when all targets exit)" },
	{ "user-only", 'U', NULL, "user stacks only" },
	{ "kernel-only", 'K', NULL, "kernel stacks only" },
	{ "max-stacks", OPT_MAX_STACKS, "N", "distinct stacks kept in the kernel (default 16384)" },
	{ 0 },
};

static const struct cli_option off_cpu_options[] = {
	{ "off-cpu", OPT_OFF_CPU, NULL,
	  "off-CPU profile: time threads spend blocked (sleep, I/O, locks),\n"
	  "by the stack where they blocked, from blocking until running\n"
	  "again; pprof type offcpu/nanoseconds, folded stacks, flame graph\n"
	  "and top table in microseconds. Only blocked threads count, not\n"
	  "preempted ones (waiting for a CPU while runnable). -F does not apply" },
	{ "min-block", OPT_MIN_BLOCK, "USECS",
	  "leave out blocks shorter than USECS microseconds (default 1)" },
	{ "preempted", OPT_PREEMPTED, NULL, "also count time spent preempted (run-queue wait)" },
	{ 0 },
};

static const struct cli_option output_options[] = {
	{ "output", 'o', "FILE", "pprof profile (gzipped profile.proto), e.g. cpu.pb.gz" },
	{ "folded", OPT_FOLDED, "FILE", "folded stacks for flamegraph.pl (\"-\" for stdout)" },
	{ "svg", OPT_SVG, "FILE", "interactive flame graph (self-contained SVG)" },
	{ "top", OPT_TOP, "N", "print the N hottest functions at the end (default 10; 0: none)" },
	{ "by-route", OPT_BY_ROUTE, NULL,
	  "one Go process (-p): label each sample taken while a goroutine\n"
	  "serves an HTTP request with its http.route, http.request.method\n"
	  "and trace/span ids (pprof labels, OTLP attributes and link); the\n"
	  "flame graph and folded stacks get one tower per route. Runs the\n"
	  "Go tracer while profiling (2 uprobe hits per request)" },
	CLI_FORCE_OPTION,
	{ 0 },
};

static const struct cli_option otlp_options[] = {
	{ "otlp-endpoint", CLI_OPT_OTLP + OTLP_ENDPOINT, "URL",
	  "also send the profile over OTLP/HTTP to URL/v1development/profiles\n"
	  "(e.g. http://127.0.0.1:4318; or OTEL_EXPORTER_OTLP_ENDPOINT)" },
	{ "otlp-headers", CLI_OPT_OTLP + OTLP_HEADERS, "K=V,..", "headers sent with the export" },
	{ "otlp-compression", CLI_OPT_OTLP + OTLP_COMPRESSION, "C", "gzip or none" },
	{ 0 },
};

const struct cli_command cli_profile_command = {
	.name = "profile",
	.intro = "Usage: glimpse profile (-p PID [-p PID ...] | -a) [options]\n"
		 "\n"
		 "Samples the CPU stacks (user and kernel) of running processes with no code change; with\n"
		 "--off-cpu, measures where and how long their threads block instead.\n"
		 "\n",
	.groups = { { "Targets:", targets_options },
		    { "Sampling:", sampling_options },
		    { "Off-CPU:", off_cpu_options },
		    { "Output:", output_options },
		    { "OTLP:", otlp_options },
		    { NULL, cli_otlp_profiles_options },
		    { "Logging:", cli_common_options } },
	.epilogue = "Exit codes: 0 ok, 1 runtime failure, 2 bad usage, 3 no such process, 4 permission\n"
		    "denied (needs root or CAP_BPF+CAP_PERFMON), 5 kernel lacks BPF/BTF/perf events.\n",
};

static void add_pids(struct profiler_opts *o, const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	if (!copy)
		exit(GLIMPSE_EXIT_FAILURE);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		pid_t pid;
		if (!parse_pid(tok, &pid))
			cli_usage_error("profile", "-p: '%s' is not a process ID", tok);
		if (o->npids == PROFILER_MAX_PIDS)
			cli_usage_error("profile", "-p: at most %d processes; use -a for more",
					PROFILER_MAX_PIDS);
		o->pids[o->npids++] = pid;
	}
	free(copy);
}

/* by_route: the flame graph and folded stacks have one root per route (prof_by_route); the
 * pprof keeps the labels themselves. */
static int write_outputs(const struct prof *p, bool by_route, const char *pprof_path, const char *folded_path,
			 const char *svg_path)
{
	const char *title = p->kind == PROF_OFFCPU ? "glimpse off-CPU flame graph (microseconds)"
			    : by_route		   ? "glimpse CPU flame graph by route"
						   : "glimpse CPU flame graph";
	int rc = 0, err;
	if (pprof_path && (err = pprof_write(p, pprof_path))) {
		log_error("cannot write %s: %s", pprof_path, strerror(-err));
		rc = GLIMPSE_EXIT_FAILURE;
	} else if (pprof_path) {
		log_event(LOG_INFO, "wrote pprof profile", "file=%s", pprof_path);
	}
	struct prof view;
	char **names = NULL;
	size_t nnames = 0;
	if (by_route && (folded_path || svg_path)) {
		if ((err = prof_by_route(p, &view, &names, &nnames))) {
			log_error("cannot make the flame graph by route: %s", strerror(-err));
			return GLIMPSE_EXIT_FAILURE;
		}
		p = &view;
	}
	if (folded_path && !strcmp(folded_path, "-")) {
		folded_fprint(p, stdout);
	} else if (folded_path && (err = folded_write(p, folded_path))) {
		log_error("cannot write %s: %s", folded_path, strerror(-err));
		rc = GLIMPSE_EXIT_FAILURE;
	} else if (folded_path) {
		log_event(LOG_INFO, "wrote folded stacks", "file=%s", folded_path);
	}
	if (svg_path && (err = flamegraph_write_svg(p, svg_path, title))) {
		log_error("cannot write %s: %s", svg_path, strerror(-err));
		rc = GLIMPSE_EXIT_FAILURE;
	} else if (svg_path) {
		log_event(LOG_INFO, "wrote flame graph", "file=%s", svg_path);
	}
	if (p == &view)
		prof_by_route_free(&view, names, nnames);
	return rc;
}

/* The OTLP export of the profile: the exporter starts before profiling (a bad setting is
 * known before any work), the targets' resources are read while they run. */
struct profile_export {
	struct otlp_exporter *exp;
	struct resource *res;
	size_t nres;
	const char *url;
};

static int profile_export_start(struct profile_export *pe, const struct otlp_config *cfg,
				const struct profiler_opts *o)
{
	char err[512];
	if (!(pe->exp = otlp_exporter_start(cfg, err, sizeof(err)))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	pe->url = cfg->profiles_url;
	if (!(pe->res = calloc(PROFILER_MAX_PIDS, sizeof(*pe->res))))
		return GLIMPSE_EXIT_FAILURE;
	for (int i = 0; i < o->npids; i++)
		if (!resource_for_pid(o->pids[i], &pe->res[pe->nres]))
			pe->nres++;
	return 0;
}

/* With -a the processes are known once sampled: those still running get their resource. */
static void add_sampled_resources(struct profile_export *pe, const struct prof *p)
{
	for (size_t i = 0; i < p->nsamples; i++) {
		pid_t pid = (pid_t)p->samples[i].pid;
		size_t j = 0;
		while (j < pe->nres && pe->res[j].pid != pid)
			j++;
		if (j < pe->nres)
			continue;
		if (pe->nres % PROFILER_MAX_PIDS == 0) {
			struct resource *r =
				reallocarray(pe->res, pe->nres + PROFILER_MAX_PIDS, sizeof(*pe->res));
			if (!r)
				return; /* the others go out under their pid and name */
			pe->res = r;
		}
		if (!resource_for_pid(pid, &pe->res[pe->nres]))
			pe->nres++;
	}
}

/* Sends p (NULL: nothing to send) and stops the exporter, for at most OTLP_SHUTDOWN_MS: a
 * receiver that is down or hangs costs one warning, never the profile's other outputs. */
static void profile_export_finish(struct profile_export *pe, const struct prof *p)
{
	if (!pe->exp)
		return;
	int err = 0;
	if (p) {
		add_sampled_resources(pe, p);
		err = otlp_enqueue_profile(pe->exp, p, pe->res, pe->nres);
	}
	if (err)
		log_warn("cannot send the profile over OTLP: %s", strerror(-err));
	bool late = otlp_exporter_stop(pe->exp, OTLP_SHUTDOWN_MS) != 0;
	struct otlp_stats st;
	otlp_exporter_stats(pe->exp, &st);
	if (st.profiles_exported)
		log_event(LOG_INFO, "sent OTLP profile", "url=%s", pe->url);
	else if (p && !err && !st.warnings) { /* else the exporter said why, in one line */
		if (late)
			log_warn("OTLP profile not sent: %s did not answer within %d ms", pe->url,
				 OTLP_SHUTDOWN_MS);
		else
			log_warn("OTLP profile not sent: %s did not accept it", pe->url);
	}
	otlp_exporter_free(pe->exp);
	free(pe->res);
	*pe = (struct profile_export){ 0 };
}

/* --by-route follows one Go process's requests, for a CPU profile with somewhere to show them.
 * Exits 2 otherwise. */
static void check_by_route(const struct profiler_opts *o, bool offcpu, bool has_output)
{
	if (offcpu)
		cli_usage_error("profile", "--by-route labels CPU samples: it does not apply to --off-cpu");
	if (o->all || o->npids != 1)
		cli_usage_error("profile", "--by-route follows the requests of one process: give one -p PID");
	if (go_target_is_go_program(o->pids[0]) == 0)
		cli_usage_error("profile",
				"--by-route: process %d is not a Go program (requests are followed in Go "
				"programs only)",
				(int)o->pids[0]);
	if (!has_output)
		cli_usage_error("profile", "--by-route: give --svg, --folded, -o or --otlp-endpoint (the top "
					   "table has no routes)");
}

int cmd_profile(int argc, char **argv)
{
	struct profiler_opts o = { .hz = DEFAULT_HZ,
				   .kernel_stacks = true,
				   .user_stacks = true,
				   .max_stacks = DEFAULT_MAX_STACKS,
				   .min_block_ns = DEFAULT_MIN_BLOCK_US * 1000 };
	const char *pprof_path = NULL, *folded_path = NULL, *svg_path = NULL;
	const char *cpu_only = NULL, *offcpu_only = NULL; /* a flag given that only one kind takes */
	bool offcpu = false, by_route = false;
	int top = DEFAULT_TOP, opt;
	const char *arg;
	char err[512];
	struct otlp_config otlp_cfg;
	if (otlp_config_from_env(&otlp_cfg, err, sizeof(err)))
		cli_usage_error("profile", "%s", err);
	struct cli_parser parser;
	cli_parser_init(&parser, &cli_profile_command, argc, argv);
	while ((opt = cli_next(&parser, &arg)) != -1) {
		switch (opt) {
		case 'p':
			add_pids(&o, arg);
			break;
		case 'a':
			o.all = true;
			break;
		case 'F':
			o.hz = (int)cli_long("-F", arg, 1, 10000);
			cpu_only = "-F";
			break;
		case 'd':
			o.duration_s = cli_double("-d", arg, 0.001, 1e7);
			break;
		case 'o':
			pprof_path = arg;
			break;
		case 'U':
			o.kernel_stacks = false;
			break;
		case 'K':
			o.user_stacks = false;
			break;
		case OPT_FOLDED:
			folded_path = arg;
			break;
		case OPT_SVG:
			svg_path = arg;
			break;
		case OPT_TOP:
			top = (int)cli_long("--top", arg, 0, 100000);
			break;
		case OPT_MAX_STACKS:
			o.max_stacks = (uint32_t)cli_long("--max-stacks", arg, 64, 1 << 22);
			break;
		case OPT_OFF_CPU:
			offcpu = true;
			break;
		case OPT_MIN_BLOCK:
			o.min_block_ns = (uint64_t)cli_long("--min-block", arg, 0, 3600000000L) * 1000;
			offcpu_only = "--min-block";
			break;
		case OPT_PREEMPTED:
			o.include_preempted = true;
			offcpu_only = "--preempted";
			break;
		case OPT_BY_ROUTE:
			by_route = true;
			break;
		case CLI_OPT_FORCE:
			outfile_set_force(true);
			break;
		}
		cli_otlp_option(&cli_profile_command, opt, arg, &otlp_cfg);
	}
	/* Before any work: a profile that cannot be written is not worth collecting. */
	cli_check_output(pprof_path);
	cli_check_output(folded_path);
	cli_check_output(svg_path);
	if (optind < argc)
		cli_usage_error("profile", "unexpected argument '%s'", argv[optind]);
	if (!o.all && o.npids == 0)
		cli_usage_error("profile", "no target: give -p PID or -a");
	if (o.all && o.npids)
		cli_usage_error("profile", "-a and -p exclude each other");
	if (!o.kernel_stacks && !o.user_stacks)
		cli_usage_error("profile", "-U and -K exclude each other");
	if (offcpu && cpu_only)
		cli_usage_error("profile",
				"%s does not apply to --off-cpu: off-CPU time is measured, not sampled",
				cpu_only);
	if (!offcpu && offcpu_only)
		cli_usage_error("profile", "%s needs --off-cpu", offcpu_only);
	if (by_route)
		check_by_route(&o, offcpu, pprof_path || folded_path || svg_path || otlp_cfg.configured);

	int rc = preflight_pids(o.pids, o.npids);
	if (!rc)
		rc = preflight_privileges(false);
	if (!rc)
		rc = preflight_kernel();
	if (rc)
		return rc;

	struct profile_export pe = { 0 };
	if (otlp_cfg.configured && (rc = profile_export_start(&pe, &otlp_cfg, &o)))
		return rc;
	o.sample_times = otlp_cfg.configured && !offcpu; /* OTLP samples carry their timestamps */
	struct profile_routes *routes = NULL;
	if (by_route && (rc = profile_routes_start(o.pids[0], &o, &routes))) {
		profile_export_finish(&pe, NULL);
		return rc;
	}
	struct stack_profile *sp;
	rc = offcpu ? offcpu_profiler_run(&o, &sp) : cpu_profiler_run(&o, &sp);
	if (rc) {
		profile_export_finish(&pe, NULL);
		profile_routes_stop(routes);
		return rc;
	}
	struct prof *p = (struct prof *)stack_profile_data(sp);
	const struct profiler_stats *st = stack_profile_stats(sp);
	if (offcpu) {
		uint64_t ns = 0;
		for (size_t i = 0; i < p->nsamples; i++)
			ns += p->samples[i].value_ns;
		log_event(LOG_INFO, "off-CPU profile collected",
			  "blocks=%llu shorter=%llu stacks=%zu offcpu_seconds=%.3f seconds=%.1f",
			  (unsigned long long)st->samples, (unsigned long long)st->below_min, p->nsamples,
			  ns / 1e9, p->duration_ns / 1e9);
		if (st->samples == 0)
			log_warn("no off-CPU time: the targets did not block for --min-block or longer while "
				 "profiled");
	} else {
		log_event(LOG_INFO, "profile collected", "samples=%llu stacks=%zu seconds=%.1f",
			  (unsigned long long)st->samples, p->nsamples, p->duration_ns / 1e9);
		if (st->samples == 0)
			log_warn("no samples: the targets used no CPU while profiled");
	}
	if (routes) {
		struct request_labels_stats ls = { 0 };
		profile_routes_apply(routes, p, &ls);
		log_event(LOG_INFO, "labelled by request",
			  "requests=%llu samples=%llu running_at_end=%llu probe_hits=%llu",
			  (unsigned long long)profile_routes_requests(routes),
			  (unsigned long long)ls.labelled, (unsigned long long)ls.unresolved,
			  (unsigned long long)profile_routes_probe_hits(routes));
	}
	stack_profile_report_quality(sp);
	rc = write_outputs(p, by_route, pprof_path, folded_path, svg_path);
	profile_export_finish(&pe, p);
	if (top > 0 && st->samples > 0)
		top_print(p, stdout, top);
	stack_profile_free(sp);
	profile_routes_stop(routes); /* the labels' strings are its own */
	return rc;
}
