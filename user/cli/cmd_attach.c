// SPDX-License-Identifier: Apache-2.0
/* glimpse attach: HTTP RED metrics of a running Go service, with no change to it. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/attach_profile.h"
#include "base/outfile.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "gotrace/target.h"
#include "metrics/registry.h"
#include "gotrace/call_metrics.h"
#include "gotrace/tracer.h"
#include "sockcap/mux_learn.h"
#include "sockcap/sock_capture.h"
#include "metrics/live_view.h"
#include "metrics/slo_tracker.h"
#include "base/log.h"
#include "export/dash_profile.h"
#include "export/otlp.h"
#include "base/preflight.h"
#include "metrics/process_metrics.h"
#include "metrics/sql_pools.h"
#include "base/procfs.h"
#include "export/prometheus.h"
#include "agent/resource.h"
#include "base/clock.h"
#include "base/run_loop.h"
#include "trace/sampler.h"
#include "trace/trace_pipeline.h"
#include "logs/log_pipeline.h"
#include "base/signals.h"

#define POLL_MS 100
/* At exit, what is queued for OTLP gets this long to leave. */

enum {
	OPT_MAX_ROUTES = CLI_OPT_FIRST_PRIVATE,
	OPT_SPANS_OUT,
	OPT_SAMPLER,
	OPT_SAMPLER_ARG,
	OPT_KEEP_SLOWER,
	OPT_NO_KEEP_ERRORS,
	OPT_URL_PATH,
	OPT_RAW_SQL,
	OPT_CAPTURE,
	OPT_SLO,
	OPT_LOGS,
	OPT_LOGS_OUT,
	OPT_LAST_PRIVATE, /* attach_profile.h's keys come after */
};
_Static_assert(OPT_LAST_PRIVATE <= 1150, "cmd_attach.c's option keys overlap attach_profile.c's");

enum capture_path {
	CAPTURE_AUTO,	 /* uprobes for a Go program (its database wire at the sockets), the sockets
			  * for any other */
	CAPTURE_UPROBES, /* Go only, uprobes only */
	CAPTURE_SOCKETS,
	CAPTURE_UPROBES_DB, /* Go: uprobes, and the database wire at the sockets whatever it links */
};

static const struct cli_option target_options[] = {
	{ "pid", 'p', "PID", "the process: Go (1.17 or later, stripped or not) or any other" },
	{ "capture", OPT_CAPTURE, "HOW",
	  "auto (default): uprobes for a Go program (HTTP, database/sql), with its\n"
	  "PostgreSQL and Redis wire at the sockets if it links pgx, go-redis or redigo;\n"
	  "socket capture for any other program; socket: socket capture only, for Go too;\n"
	  "uprobes: uprobes only (Go); uprobes+socket: the wire at the sockets whatever\n"
	  "client the Go program links" },
	{ 0 },
};

static const struct cli_option http_options[] = {
	{ "max-routes", OPT_MAX_ROUTES, "N", "distinct http.route values before /{overflow} (default 100)" },
	{ "slo", OPT_SLO, "SPEC",
	  "a service level objective, judged live (glimpse_slo_* gauges, live view, summary);\n"
	  "repeatable: objective=availability|latency,target=99.9%[,threshold=250ms][,route=R]\n"
	  "[,window=30d][,name=N] ('glimpse slo rules' writes its Prometheus alerts)" },
	{ 0 },
};

static const struct cli_option otlp_options[] = {
	{ "otlp-endpoint", CLI_OPT_OTLP + OTLP_ENDPOINT, "URL",
	  "base URL, e.g. http://127.0.0.1:4318 (/v1/traces, /v1/metrics, /v1/logs)" },
	{ "otlp-traces-endpoint", CLI_OPT_OTLP + OTLP_TRACES_ENDPOINT, "URL", "full URL for spans" },
	{ "otlp-metrics-endpoint", CLI_OPT_OTLP + OTLP_METRICS_ENDPOINT, "URL", "full URL for metrics" },
	{ "otlp-logs-endpoint", CLI_OPT_OTLP + OTLP_LOGS_ENDPOINT, "URL", "full URL for logs (--logs)" },
	{ "otlp-headers", CLI_OPT_OTLP + OTLP_HEADERS, "K=V,..", "headers sent with every export" },
	{ "otlp-compression", CLI_OPT_OTLP + OTLP_COMPRESSION, "C", "gzip or none" },
	{ "otlp-metrics-interval", CLI_OPT_OTLP + OTLP_METRICS_INTERVAL, "MS",
	  "how often metrics are exported" },
	{ 0 },
};

static const struct cli_option traces_options[] = {
	{ "spans-out", OPT_SPANS_OUT, "FILE", "finished spans as JSON lines ('-': stdout, no live view)" },
	CLI_FORCE_OPTION,
	{ "sampler", OPT_SAMPLER, "NAME",
	  "always_on, always_off, traceidratio, parentbased_always_on (default),\n"
	  "parentbased_always_off, parentbased_traceidratio (OTEL_TRACES_SAMPLER)" },
	{ "sampler-arg", OPT_SAMPLER_ARG, "R",
	  "ratio for the traceidratio samplers (OTEL_TRACES_SAMPLER_ARG)" },
	{ "keep-slower-than", OPT_KEEP_SLOWER, "MS",
	  "keep every trace whose request took longer, whatever the sampler" },
	{ "no-keep-errors", OPT_NO_KEEP_ERRORS, NULL,
	  "do not keep every trace with an error regardless of the sampler" },
	{ "capture-url-path", OPT_URL_PATH, NULL,
	  "add url.path to server spans (off: paths can carry user data)" },
	{ "raw-sql", OPT_RAW_SQL, NULL, "export SQL text with its literals (off: literals become '?')" },
	{ 0 },
};

static const struct cli_option logs_options[] = {
	{ "logs", OPT_LOGS, NULL,
	  "read what the process writes to stdout and stderr: a log record per line,\n"
	  "with the trace of the request its goroutine served (Go); over OTLP\n"
	  "(/v1/logs) when an endpoint is set. Its output is left untouched" },
	{ "logs-out", OPT_LOGS_OUT, "FILE", "log records as JSON lines (implies --logs; '-': stdout)" },
	{ 0 },
};

const struct cli_command cli_attach_command = {
	.name = "attach",
	.intro = "Usage: glimpse attach -p PID [options]\n"
		 "\n"
		 "Measures a running service's traffic — no code change, no restart — and serves it as\n"
		 "Prometheus metrics with OpenTelemetry names, with its process (threads, RSS, CPU),\n"
		 "scheduler and, for Go, runtime (goroutines, heap) metrics. A Go service is measured with\n"
		 "uprobes in net/http and database/sql; any other process (and its child processes) at its\n"
		 "socket system calls: HTTP/1 server and client, PostgreSQL and Redis, client or server.\n"
		 "\n",
	.groups = { { NULL, target_options },
		    { NULL, cli_run_options },
		    { NULL, http_options },
		    { "OTLP/HTTP export of spans and metrics (OTEL_EXPORTER_OTLP_* variables apply; flags "
		      "win):",
		      otlp_options },
		    { "Traces (on when spans have somewhere to go: --spans-out or an OTLP endpoint):",
		      traces_options },
		    { "Logs correlated with traces (off by default; README: what leaves the host):",
		      logs_options },
		    { "Continuous CPU profile (pprof files, OTLP profiles, the dashboard's flame graph):",
		      attach_profile_options },
		    { NULL, cli_otlp_profiles_options },
		    { "Logging:", cli_common_options } },
	.epilogue = "Probes, at entry and at every RET (found by disassembly; never uretprobes): 2 uprobe "
		    "hits per\n"
		    "request (net/http.serverHandler.ServeHTTP), per outgoing call ((*Transport).roundTrip) "
		    "and per\n"
		    "query (database/sql.(*DB).queryDC/execDC); with traces, 1 more per goroutine started\n"
		    "(runtime.newproc1 RETs) to follow work a handler hands to other goroutines.\n"
		    "Socket capture: raw tracepoints at the read/write system calls, no trap (a fraction of\n"
		    "a µs per call); TLS bytes cannot be read there and are reported, not measured.\n"
		    "Exit codes: 0 ok, 1 failure, 2 bad usage, 3 no such process, 4 permission denied,\n"
		    "5 kernel lacks BPF/BTF, 6 the target cannot be instrumented (not Go, unknown layout).\n",
};

struct attach_ctx {
	struct metrics_registry *reg;
	struct go_tracer *tracer;
	struct sock_capture *sock;     /* the socket path instead of tracer */
	struct log_pipeline *logs;     /* --logs */
	bool sock_db;		       /* sock is a Go target's database wire (else only its logs) */
	struct trace_pipeline *traces; /* NULL when no span has anywhere to go */
	struct db_driver_cache *drivers;
	int target;
	pid_t pid;
	/* Read from the tracer's maps on the event thread and served from here, so exporter
	 * threads never touch the tracer (which goes away before they do). */
	_Atomic int64_t active_requests;
	_Atomic uint64_t events_dropped, spans_sampled, spans_unsampled, unmeasured, probe_hits;
	struct gotrace_types types; /* where the target's ResponseWriters and connections are */
	bool unmeasured_reported;
	struct slo_tracker *slos;
	struct sql_pools *pools;	/* database/sql pools, read at scrape time */
	struct attach_profile *profile; /* NULL: --profile is off */
};

static void on_event(void *ctx, const struct gotrace_event *ev)
{
	struct attach_ctx *a = ctx;
	struct call c; /* decoded once, for spans and metrics alike */
	if (!call_decode(ev, a->drivers, &a->types, &c)) {
		if (c.unmeasured) {
			a->unmeasured++;
			call_report_unmeasured(&c, &a->unmeasured_reported);
		}
		return;
	}
	if (a->traces)
		trace_pipeline_call(a->traces, &c, a->target);
	metrics_record_call(a->reg, a->target, &c);
	if (c.kind == CALL_DB)
		sql_pools_saw(a->pools, a->target, ev->db, c.db_system);
	attach_profile_call(a->profile, a->reg, a->target, &c);
}

static double active_requests(void *ctx, int target)
{
	struct attach_ctx *a = ctx;
	return target == a->target ? (double)a->active_requests : 0;
}

static double requests_unmeasured(void *ctx, int target)
{
	(void)target;
	return (double)((struct attach_ctx *)ctx)->unmeasured;
}

static double events_dropped(void *ctx, int target)
{
	(void)target;
	return (double)((struct attach_ctx *)ctx)->events_dropped;
}

static double probe_hits(void *ctx, int target)
{
	(void)target;
	return (double)((struct attach_ctx *)ctx)->probe_hits;
}

static void refresh_span_gauges(struct attach_ctx *a)
{
	if (a->traces) {
		struct trace_stats ts = trace_pipeline_stats(a->traces);
		a->spans_sampled = ts.sampled;
		a->spans_unsampled = ts.dropped;
	}
}

static void refresh_tracer_gauges(struct attach_ctx *a)
{
	if (!a->tracer) {
		if (a->sock)
			a->probe_hits = sock_capture_uprobe_hits(a->sock);
		refresh_span_gauges(a);
		return;
	}
	a->active_requests = go_tracer_active_requests(a->tracer, a->pid);
	a->events_dropped = go_tracer_events_dropped(a->tracer);
	a->probe_hits = go_tracer_probe_hits(a->tracer);
	refresh_span_gauges(a);
}

static double spans_sampled(void *ctx, int target)
{
	(void)target;
	return (double)((struct attach_ctx *)ctx)->spans_sampled;
}

static double spans_unsampled(void *ctx, int target)
{
	(void)target;
	return (double)((struct attach_ctx *)ctx)->spans_unsampled;
}

/* A Go target's database wire (pgx, go-redis, any driver) at its sockets, beside the uprobes:
 * HTTP and database/sql stay theirs. NULL (said once) when the socket probe cannot run. */
static struct sock_capture *start_go_db_capture(struct attach_ctx *a, const struct go_target *t)
{
	unsigned signals = SOCK_METRICS | SOCK_SPANS | SOCK_GO_DB | (a->logs ? SOCK_LOGS : 0);
	if (go_target_links_sql(t))
		signals |= SOCK_GO_SQL;
	struct sock_capture *c = NULL;
	/* The Go tracer's load parsed the kernel's BTF here and freed it: hand that memory back
	 * before the socket probe's ring buffer is mapped, or the two peaks add up. */
	malloc_trim(0);
	if (sock_capture_start(a->reg, a->traces, a->logs, &c) ||
	    sock_capture_add_go_target(c, a->pid, a->target, signals, a->tracer)) {
		log_warn("database calls outside database/sql (pgx, go-redis) are not measured: the "
			 "socket probe could not start");
		sock_capture_free(c);
		return NULL;
	}
	log_info("HTTP and database/sql: uprobes; the PostgreSQL and Redis wire (%s): socket capture",
		 t->wire_clients[0] ? t->wire_clients : "any client");
	return c;
}

/* --logs for a Go target whose sockets are not captured: the probe follows only its writes to
 * stdout and stderr. */
static int start_go_logs_capture(struct attach_ctx *a)
{
	malloc_trim(0); /* as above */
	int rc = sock_capture_start(a->reg, NULL, a->logs, &a->sock);
	return rc ? rc : sock_capture_add_go_target(a->sock, a->pid, a->target, SOCK_LOGS, a->tracer);
}

int cmd_attach(int argc, char **argv)
{
	pid_t pid = 0;
	struct cli_run_opts run;
	cli_run_defaults(&run);
	const char *spans_out = NULL, *logs_out = NULL;
	bool logs = false;
	struct trace_pipeline_opts topts = { 0 };
	struct slo_objective slos[SLO_MAX];
	int nslos = 0;
	char err[512];
	if (sampler_config_from_env(&topts.sampler, err, sizeof(err)))
		cli_usage_error("attach", "%s", err);
	struct otlp_config otlp_cfg;
	if (otlp_config_from_env(&otlp_cfg, err, sizeof(err)))
		cli_usage_error("attach", "%s", err);
	struct attach_profile_opts profile;
	attach_profile_defaults(&profile);
	int max_routes = 100, opt;
	enum capture_path capture = CAPTURE_AUTO;
	const char *arg;
	struct cli_parser parser;
	cli_parser_init(&parser, &cli_attach_command, argc, argv);
	while ((opt = cli_next(&parser, &arg)) != -1) {
		if (cli_run_option(opt, arg, &run) || attach_profile_option(opt, arg, &profile))
			continue;
		switch (opt) {
		case 'p':
			if (pid || !parse_pid(arg, &pid))
				cli_usage_error("attach", "-p: '%s' is not a process ID (attach takes one)",
						arg);
			break;
		case OPT_MAX_ROUTES:
			max_routes = (int)cli_long("--max-routes", arg, 1, 100000);
			break;
		case OPT_SPANS_OUT:
			spans_out = arg;
			break;
		case OPT_LOGS:
			logs = true;
			break;
		case OPT_LOGS_OUT:
			logs_out = arg;
			logs = true;
			break;
		case OPT_CAPTURE:
			if (!strcmp(arg, "auto"))
				capture = CAPTURE_AUTO;
			else if (!strcmp(arg, "socket"))
				capture = CAPTURE_SOCKETS;
			else if (!strcmp(arg, "uprobes"))
				capture = CAPTURE_UPROBES;
			else if (!strcmp(arg, "uprobes+socket"))
				capture = CAPTURE_UPROBES_DB;
			else
				cli_usage_error(
					"attach",
					"--capture: '%s' is not auto, socket, uprobes or uprobes+socket",
					arg);
			break;
		case CLI_OPT_FORCE:
			outfile_set_force(true);
			break;
		case OPT_SAMPLER:
			if (sampler_parse_kind(arg, &topts.sampler.kind))
				cli_usage_error(
					"attach",
					"--sampler: '%s' is not a sampler (always_on, always_off, "
					"traceidratio, parentbased_always_on, parentbased_always_off, "
					"parentbased_traceidratio)",
					arg);
			break;
		case OPT_SAMPLER_ARG:
			topts.sampler.ratio = cli_double("--sampler-arg", arg, 0, 1);
			break;
		case OPT_KEEP_SLOWER:
			topts.sampler.keep_slower_than_ns =
				(uint64_t)(cli_double("--keep-slower-than", arg, 0, 3.6e6) * 1e6);
			break;
		case OPT_NO_KEEP_ERRORS:
			topts.sampler.keep_errors = false;
			break;
		case OPT_URL_PATH:
			topts.builder.url_path = true;
			break;
		case OPT_RAW_SQL:
			topts.builder.raw_query = true;
			break;
		case OPT_SLO:
			if (nslos == SLO_MAX)
				cli_usage_error("attach", "--slo: at most %d objectives", SLO_MAX);
			if (slo_objective_parse(arg, &slos[nslos++], err, sizeof(err)) ||
			    slo_objectives_check_unique(slos, nslos, err, sizeof(err)))
				cli_usage_error("attach", "--slo: %s", err);
			break;
		default:
			cli_otlp_option(&cli_attach_command, opt, arg, &otlp_cfg);
		}
	}
	if (optind < argc)
		cli_usage_error("attach", "unexpected argument '%s'", argv[optind]);
	if (!pid)
		cli_usage_error("attach", "no target: give -p PID");
	if (spans_out && logs_out && !strcmp(spans_out, "-") && !strcmp(logs_out, "-"))
		cli_usage_error("attach", "--spans-out and --logs-out cannot both be '-' (stdout)");
	cli_check_output(spans_out); /* before attaching: nothing is created if attach fails */
	if (logs_out && strcmp(logs_out, "-"))
		cli_check_output(logs_out);
	attach_profile_check(&profile, otlp_cfg.configured, run.prom_addr != NULL);

	int rc = cli_run_check(&run);
	if (!rc)
		rc = preflight_pids(&pid, 1);
	if (!rc)
		rc = preflight_privileges(true);
	if (!rc)
		rc = preflight_kernel();
	if (rc)
		return rc;
	struct go_target target = { 0 };
	/* Only a program known not to be Go goes to the sockets by default: one that cannot be read
	 * takes the uprobe path, whose checks say why (permission, a kernel thread, gone). */
	bool sockets =
		capture == CAPTURE_SOCKETS || (capture == CAPTURE_AUTO && go_target_is_go_program(pid) == 0);
	if (sockets && (rc = preflight_target(pid)))
		return rc;
	/* A Go program on the socket path: its binary tells where its ServeMux's patterns are. */
	int is_go = sockets ? go_target_is_go_program(pid) : 0;
	if (is_go < 0)
		log_warn("process %d: its executable cannot be read (%s): if it is a Go program, its "
			 "http.route comes from the path heuristic",
			 (int)pid, strerror(-is_go));
	bool go_routes = is_go == 1 && !go_target_open(pid, &target);
	if (is_go == 1 && !go_routes)
		log_warn("process %d: socket capture goes on without its ServeMux patterns: its http.route "
			 "comes from the path heuristic",
			 (int)pid);
	if (!sockets && (rc = go_target_open(pid, &target)))
		return rc;

	struct attach_ctx a = { .pid = pid };
	struct resource res;
	struct prom_exporter *exporter = NULL;
	struct trace_recent *recent = NULL; /* the dashboard's traces */
	struct dash_profile *flame = NULL;  /* the dashboard's flame graph (--profile) */
	struct live_view *view = NULL;
	struct process_metrics *pm = NULL;
	struct otlp_exporter *otlp = NULL;
	FILE *spans_file = NULL, *logs_file = NULL;
	bool attached = false;
	char title[512];
	int failed;
	a.reg = metrics_registry_new(max_routes);
	if (!a.reg) {
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	/* Before anything is recorded: latency thresholds become bucket bounds. */
	if (nslos && !(a.slos = slo_tracker_new(a.reg, slos, nslos, err, sizeof(err)))) {
		log_error("--slo: %s", err);
		rc = GLIMPSE_EXIT_USAGE;
		goto out;
	}
	failed = resource_for_pid(pid, &res);
	if (failed || (failed = a.target = metrics_registry_add_target(a.reg, &res)) < 0) {
		rc = preflight_target_error(pid, failed, "describe");
		goto out;
	}
	if (slo_tracker_add_target(a.slos, a.target, res.service_name) < nslos)
		log_warn("an --slo names a service other than %s: it judges nothing here", res.service_name);
	if (!(a.drivers = db_driver_cache_new())) {
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	if (spans_out) {
		spans_file = strcmp(spans_out, "-") ? outfile_open_stream(spans_out) : stdout;
		if (!spans_file) {
			log_error("cannot write spans to %s: %s", spans_out, strerror(errno));
			rc = GLIMPSE_EXIT_USAGE;
			goto out;
		}
		if (spans_file == stdout)
			run.live = false; /* stdout carries the spans */
	}
	topts.spans_out = spans_file;
	if (logs_out) {
		logs_file = strcmp(logs_out, "-") ? outfile_open_stream(logs_out) : stdout;
		if (!logs_file) {
			log_error("cannot write log records to %s: %s", logs_out, strerror(errno));
			rc = GLIMPSE_EXIT_USAGE;
			goto out;
		}
		if (logs_file == stdout)
			run.live = false; /* stdout carries the records */
	}
	if (otlp_cfg.configured) {
		otlp = otlp_exporter_start(&otlp_cfg, err, sizeof(err));
		if (!otlp) {
			log_error("%s", err);
			rc = GLIMPSE_EXIT_USAGE;
			goto out;
		}
		signals_report_on_forced_exit("spans", otlp_exporter_queued(otlp));
		otlp_exporter_register_metrics(otlp, a.reg);
		otlp_exporter_add_metrics(otlp, a.reg, otlp_cfg.metrics_interval_ms / 1000.0);
		topts.otlp = otlp;
	}
	if (topts.spans_out || topts.otlp) {
		topts.builder.routes = a.reg; /* span names capped like http.route */
		if (run.prom_addr && !(recent = trace_recent_new())) {
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
		topts.recent = recent;
		if (!(a.traces = trace_pipeline_new(&topts, a.drivers)) ||
		    trace_pipeline_add_target(a.traces, a.target, &res)) {
			log_error("cannot set up tracing for process %d", (int)pid);
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
		metrics_registry_add_gauge(a.reg, "glimpse.spans.sampled", "{span}",
					   "Spans kept by sampling.", true, spans_sampled, &a, false);
		metrics_registry_add_gauge(a.reg, "glimpse.spans.unsampled", "{span}",
					   "Spans sampling left out.", true, spans_unsampled, &a, false);
	}
	if (logs) {
		struct log_pipeline_opts lopts = { .out = logs_file, .otlp = otlp };
		if (!(a.logs = log_pipeline_new(&lopts)) || log_pipeline_add_target(a.logs, a.target, &res) ||
		    log_pipeline_register_metrics(a.logs, a.reg)) {
			log_error("cannot set up log capture for process %d: out of memory", (int)pid);
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
	}
	if (sockets) {
		unsigned sigs = SOCK_METRICS | SOCK_SPANS | (logs ? SOCK_LOGS : 0);
		if ((rc = sock_capture_start(a.reg, a.traces, a.logs, &a.sock)) ||
		    (rc = go_routes ? sock_capture_add_go_http_target(a.sock, pid, a.target, sigs, &target)
				    : sock_capture_add_target(a.sock, pid, a.target, sigs)))
			goto out;
		char routes[256];
		if (go_routes && sock_capture_routes(a.sock, pid, routes, sizeof(routes)))
			log_info(
				"HTTP/1: socket capture; http.route: the ServeMux patterns, read from memory "
				"once a short uprobe window (at most %d hits) has seen each server's handler",
				MUX_LEARN_MAX_HITS);
		else if (go_routes)
			log_info("HTTP/1: socket capture; http.route: the path heuristic");
		if (go_routes) /* the learning window's hits: 0 without one */
			metrics_registry_add_gauge(
				a.reg, "glimpse.probe.hits", "",
				"Uprobe hits in the target: each costs it a trap into the kernel.", true,
				probe_hits, &a, false);
	} else {
		go_target_runtime_types(&target.types, pid, &a.types);
		/* Log lines carry their request's trace context, and profile labels join samples to
		 * requests by their span ids: the tracer makes them even with no span to export (no
		 * uprobe more; the lineage probe stays off unless spans or logs are wanted). */
		bool tracing = a.traces != NULL || logs;
		struct go_tracer_opts tracer_opts = { .lineage = tracing,
						      .tracing = tracing || profile.on,
						      .types = &a.types };
		go_target_report_unmeasured(&target);
		if (!(a.pools = sql_pools_new(a.reg))) {
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
		if (go_target_links_sql(&target) &&
		    sql_pools_add_target(a.pools, a.target, pid, &target.offsets, target.map_layout) ==
			    -ENOMEM) {
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
		rc = go_tracer_start(&target, &tracer_opts, on_event, &a, &a.tracer);
		if (rc)
			goto out;
		metrics_registry_add_updown(a.reg, "http.server.active_requests", "{request}",
					    "Number of active HTTP server requests.", active_requests, &a,
					    true);
		/* Only where it buys something: the read/write tracepoints cost every request. */
		if ((capture == CAPTURE_AUTO && target.wire_clients[0]) || capture == CAPTURE_UPROBES_DB)
			a.sock_db = (a.sock = start_go_db_capture(&a, &target)) != NULL;
		if (logs && !a.sock && (rc = start_go_logs_capture(&a)))
			goto out;
	}
	if (a.tracer) {
		metrics_registry_add_gauge(a.reg, "glimpse.events_dropped", "",
					   "Events the kernel could not queue to glimpse.", true,
					   events_dropped, &a, false);
		metrics_registry_add_gauge(
			a.reg, "glimpse.requests.unmeasured", "",
			"Server requests not measured: their ResponseWriter is not net/http's HTTP/1 "
			"or HTTP/2 one.",
			true, requests_unmeasured, &a, false);
		metrics_registry_add_gauge(a.reg, "glimpse.probe.hits", "",
					   "Uprobe hits in the target: each costs it a trap into the kernel.",
					   true, probe_hits, &a, false);
	}
	if (profile.on && (rc = attach_profile_start(&profile, pid, a.tracer, otlp, &res, &a.profile)))
		goto out;
	pm = process_metrics_new(a.reg, run.sched, &rc);
	if (!pm)
		goto out;
	if ((failed = process_metrics_add(pm, a.target, pid))) {
		rc = preflight_target_error(pid, failed, "collect the metrics of");
		goto out;
	}
	if (run.prom_addr && !(exporter = run_start_exporter(run.prom_addr, a.reg, &rc)))
		goto out;
	if (exporter)
		prom_exporter_set_traces(exporter, recent);
	if (exporter && a.profile) {
		if (!(flame = dash_profile_new())) {
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
		attach_profile_set_dashboard(a.profile, flame);
		prom_exporter_set_profile(exporter, flame);
	}
	snprintf(title, sizeof(title), "%s (pid %d, %s)", res.service_name, (int)pid,
		 sockets ? "socket capture" : target.go_version);
	view = live_view_new(a.reg, a.target, title, stdout);
	if (!view) {
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	char metrics_url[96] = "off";
	if (exporter)
		snprintf(metrics_url, sizeof(metrics_url), "http://%s/metrics", run.prom_addr);
	if (sockets)
		log_event(LOG_INFO, "attached", "pid=%d service=%s capture=socket%s%s metrics=%s logs=%s",
			  (int)pid, res.service_name, go_routes ? " go=" : "",
			  go_routes ? target.go_version : "", metrics_url, logs ? "on" : "off");
	else
		log_event(LOG_INFO, "attached",
			  "pid=%d service=%s go=%s offsets=%s probes=%d capture=%s metrics=%s logs=%s",
			  (int)pid, res.service_name, target.go_version, target.offsets_source,
			  go_tracer_probe_count(a.tracer), a.sock_db ? "uprobes+socket-db" : "uprobes",
			  metrics_url, logs ? "on" : "off");
	attached = true;

	struct run_loop loop;
	run_loop_init(&loop, run.duration_s, run.interval_s);
	while (run_loop_running(&loop)) {
		int timeout = run_loop_timeout(&loop, POLL_MS);
		int err = a.tracer ? go_tracer_poll(a.tracer, a.sock ? timeout / 2 : timeout) : 0;
		if (a.sock && err >= 0) {
			int n = sock_capture_poll(a.sock, a.tracer ? timeout / 2 : timeout);
			err = n < 0 ? n : err + n;
		}
		if (err < 0 && err != -EINTR) {
			log_error("reading events failed: %s", strerror(-err));
			rc = GLIMPSE_EXIT_FAILURE;
			break;
		}
		refresh_tracer_gauges(&a);
		attach_profile_tick(a.profile); /* after the events: requests that ended are known */
		if (!run_loop_tick(&loop))
			goto check_target;
		if (a.traces)
			trace_pipeline_tick(a.traces);
		if (a.logs)
			log_pipeline_tick(a.logs);
		slo_tracker_sample(a.slos, clock_mono_ns());
		if (run.live) {
			char process[512], slo[512];
			process_metrics_status_line(pm, a.target, process, sizeof(process));
			sql_pools_append_status(a.pools, a.target, process, sizeof(process));
			slo_tracker_status_line(a.slos, a.target, slo, sizeof(slo));
			struct live_view_status st = { a.active_requests, a.events_dropped, process, slo };
			live_view_update(view, &st);
		}
	check_target:
		if (!proc_exists(pid)) {
			log_info("process %d exited; detaching", (int)pid);
			break;
		}
	}
	/* Detach (the target stops paying for probes at once) and drain what is queued. */
	if (a.tracer)
		go_tracer_poll(a.tracer, 0);
	attach_profile_stop(a.profile);
	a.profile = NULL;
	refresh_tracer_gauges(&a);
	sock_capture_detach(a.sock);
	if (a.logs) {
		log_pipeline_flush(a.logs);
		struct log_stats ls = log_pipeline_stats(a.logs);
		log_event(LOG_INFO, "logs", "records=%llu truncated=%llu dropped=%llu",
			  (unsigned long long)ls.records, (unsigned long long)ls.truncated,
			  (unsigned long long)ls.dropped);
	}
	if (go_routes && a.sock) {
		char routes[512] = "";
		refresh_tracer_gauges(&a);
		if (sock_capture_routes(a.sock, pid, routes, sizeof(routes)))
			log_event(LOG_INFO, "routes", "uprobe_hits=%llu %s", (unsigned long long)a.probe_hits,
				  routes[0] ? routes : "no HTTP server seen");
	}
	uint64_t too_big = a.tracer ? go_tracer_headers_too_big(a.tracer) : 0;
	if (too_big)
		log_warn("%llu requests had more headers than glimpse walks: their traceparent was not "
			 "looked for and their spans began new traces",
			 (unsigned long long)too_big);
	go_tracer_stop(a.tracer);
	if (a.traces) {
		trace_pipeline_flush(a.traces);
		refresh_span_gauges(&a);
		log_event(LOG_INFO, "spans", "sampled=%llu unsampled=%llu",
			  (unsigned long long)a.spans_sampled, (unsigned long long)a.spans_unsampled);
	}
	a.tracer = NULL;
	live_view_summary(view);
	sql_pools_print_summary(a.pools, a.target, stdout);
	slo_tracker_sample(a.slos, clock_mono_ns());
	slo_tracker_print_summary(a.slos, a.target, stdout);
	log_event(LOG_INFO, "detached", "pid=%d", (int)pid);
out:
	attach_profile_stop(a.profile);
	prom_exporter_stop(exporter);
	live_view_free(view);
	go_tracer_stop(a.tracer);
	trace_pipeline_free(a.traces);
	a.traces = NULL;
	trace_recent_free(recent); /* after the pipeline that feeds it and the server that reads it */
	dash_profile_free(flame);  /* after the profile that feeds it and the server that reads it */
	if (otlp) {
		if (otlp_exporter_stop(otlp, OTLP_SHUTDOWN_MS))
			log_warn("the OTLP receiver did not take everything before glimpse stopped; see "
				 "glimpse_spans_dropped_total");
		otlp_exporter_free(otlp);
	}
	if (logs_file && logs_file != stdout && rc && !attached)
		outfile_discard(logs_file, logs_out);
	else if (logs_file && logs_file != stdout)
		fclose(logs_file);
	/* A spans file is glimpse's own: it is removed when attaching failed. */
	if (spans_file && spans_file != stdout && rc && !attached)
		outfile_discard(spans_file, spans_out);
	else if (spans_file && spans_file != stdout)
		fclose(spans_file);
	db_driver_cache_free(a.drivers);
	sock_capture_free(a.sock); /* after the exporters: its gauges read it */
	log_pipeline_free(a.logs); /* after the socket probe that feeds it and the exporters */
	process_metrics_free(pm);
	sql_pools_free(a.pools);  /* after the exporters: its observers read it */
	slo_tracker_free(a.slos); /* after the exporters: its gauges read it */
	metrics_registry_free(a.reg);
	return rc;
}
