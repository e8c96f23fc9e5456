// SPDX-License-Identifier: Apache-2.0
/* glimpse attach's options: the table --help prints and the parse that fills attach_opts. */
#include <string.h>

#include "cli/attach_options.h"
#include "base/outfile.h"
#include "base/procfs.h"
#include "export/otlp.h"
#include "trace/sampler.h"

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

void attach_options_parse(int argc, char **argv, struct attach_opts *o)
{
	memset(o, 0, sizeof(*o));
	cli_run_defaults(&o->run);
	o->max_routes = 100;
	o->capture = ATTACH_CAPTURE_AUTO;
	attach_profile_defaults(&o->profile);
	char err[512];
	if (sampler_config_from_env(&o->traces.sampler, err, sizeof(err)))
		cli_usage_error("attach", "%s", err);
	if (otlp_config_from_env(&o->otlp, err, sizeof(err)))
		cli_usage_error("attach", "%s", err);
	int opt;
	const char *arg;
	struct cli_parser parser;
	cli_parser_init(&parser, &cli_attach_command, argc, argv);
	while ((opt = cli_next(&parser, &arg)) != -1) {
		if (cli_run_option(opt, arg, &o->run) || attach_profile_option(opt, arg, &o->profile))
			continue;
		switch (opt) {
		case 'p':
			if (o->pid || !parse_pid(arg, &o->pid))
				cli_usage_error("attach", "-p: '%s' is not a process ID (attach takes one)",
						arg);
			break;
		case OPT_MAX_ROUTES:
			o->max_routes = (int)cli_long("--max-routes", arg, 1, 100000);
			break;
		case OPT_SPANS_OUT:
			o->spans_out = arg;
			break;
		case OPT_LOGS:
			o->logs = true;
			break;
		case OPT_LOGS_OUT:
			o->logs_out = arg;
			o->logs = true;
			break;
		case OPT_CAPTURE:
			if (!strcmp(arg, "auto"))
				o->capture = ATTACH_CAPTURE_AUTO;
			else if (!strcmp(arg, "socket"))
				o->capture = ATTACH_CAPTURE_SOCKETS;
			else if (!strcmp(arg, "uprobes"))
				o->capture = ATTACH_CAPTURE_UPROBES;
			else if (!strcmp(arg, "uprobes+socket"))
				o->capture = ATTACH_CAPTURE_UPROBES_DB;
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
			if (sampler_parse_kind(arg, &o->traces.sampler.kind))
				cli_usage_error(
					"attach",
					"--sampler: '%s' is not a sampler (always_on, always_off, "
					"traceidratio, parentbased_always_on, parentbased_always_off, "
					"parentbased_traceidratio)",
					arg);
			break;
		case OPT_SAMPLER_ARG:
			o->traces.sampler.ratio = cli_double("--sampler-arg", arg, 0, 1);
			break;
		case OPT_KEEP_SLOWER:
			o->traces.sampler.keep_slower_than_ns =
				(uint64_t)(cli_double("--keep-slower-than", arg, 0, 3.6e6) * 1e6);
			break;
		case OPT_NO_KEEP_ERRORS:
			o->traces.sampler.keep_errors = false;
			break;
		case OPT_URL_PATH:
			o->traces.builder.url_path = true;
			break;
		case OPT_RAW_SQL:
			o->traces.builder.raw_query = true;
			break;
		case OPT_SLO:
			if (o->nslos == SLO_MAX)
				cli_usage_error("attach", "--slo: at most %d objectives", SLO_MAX);
			if (slo_objective_parse(arg, &o->slos[o->nslos++], err, sizeof(err)) ||
			    slo_objectives_check_unique(o->slos, o->nslos, err, sizeof(err)))
				cli_usage_error("attach", "--slo: %s", err);
			break;
		default:
			cli_otlp_option(&cli_attach_command, opt, arg, &o->otlp);
		}
	}
	if (optind < argc)
		cli_usage_error("attach", "unexpected argument '%s'", argv[optind]);
	if (!o->pid)
		cli_usage_error("attach", "no target: give -p PID");
	if (o->spans_out && o->logs_out && !strcmp(o->spans_out, "-") && !strcmp(o->logs_out, "-"))
		cli_usage_error("attach", "--spans-out and --logs-out cannot both be '-' (stdout)");
	cli_check_output(o->spans_out); /* before attaching: nothing is created if attach fails */
	if (o->logs_out && strcmp(o->logs_out, "-"))
		cli_check_output(o->logs_out);
	attach_profile_check(&o->profile, o->otlp.configured, o->run.prom_addr != NULL);
}
