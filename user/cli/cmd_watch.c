// SPDX-License-Identifier: Apache-2.0
/* glimpse watch: runtime, process and scheduler metrics of any processes (Go or not). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "metrics/registry.h"
#include "base/log.h"
#include "base/preflight.h"
#include "metrics/process_metrics.h"
#include "base/procfs.h"
#include "export/prometheus.h"
#include "agent/resource.h"
#include "base/run_loop.h"
#include "base/signals.h"

#define WATCH_MAX_PIDS 64

static const struct cli_option target_options[] = {
	{ "pid", 'p', "PID", "a process to watch (repeat, or PID,PID,...; up to 64)" },
	{ 0 },
};

const struct cli_command cli_watch_command = {
	.name = "watch",
	.intro = "Usage: glimpse watch -p PID [-p PID ...] [options]\n"
		 "\n"
		 "Watches running processes — any language — with no change to them: threads, memory,\n"
		 "CPU time, context switches, run-queue latency and off-CPU time; for Go programs also\n"
		 "goroutines, heap in use and GC cycles (read from the runtime, no probes). Served as\n"
		 "Prometheus metrics with OpenTelemetry names, and shown live.\n"
		 "\n",
	.groups = { { NULL, target_options }, { NULL, cli_run_options }, { "Logging:", cli_common_options } },
};

struct watched {
	pid_t pid;
	int target;
	bool gone;
	struct resource res;
};

static void add_pids(const char *arg, struct watched *w, int *n)
{
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", arg);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == WATCH_MAX_PIDS)
			cli_usage_error("watch", "-p: at most %d processes", WATCH_MAX_PIDS);
		if (!parse_pid(tok, &w[*n].pid))
			cli_usage_error("watch", "-p: '%s' is not a process ID", tok);
		(*n)++;
	}
}

int cmd_watch(int argc, char **argv)
{
	struct watched w[WATCH_MAX_PIDS] = { 0 };
	int n = 0, opt;
	struct cli_run_opts run;
	cli_run_defaults(&run);
	const char *arg;
	struct cli_parser parser;
	cli_parser_init(&parser, &cli_watch_command, argc, argv);
	while ((opt = cli_next(&parser, &arg)) != -1) {
		if (opt == 'p')
			add_pids(arg, w, &n);
		else if (!cli_run_option(opt, arg, &run))
			cli_usage_error("watch", "option %d has no handler", opt); /* a table bug */
	}
	if (optind < argc)
		cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
	if (!n)
		cli_usage_error("watch", "no target: give -p PID");
	pid_t pids[WATCH_MAX_PIDS];
	for (int i = 0; i < n; i++)
		pids[i] = w[i].pid;
	int rc = cli_run_check(&run);
	if (!rc)
		rc = preflight_pids(pids, n);
	if (!rc)
		rc = preflight_privileges(false);
	if (!rc && run.sched)
		rc = preflight_kernel();
	if (rc)
		return rc;

	struct metrics_registry *reg = metrics_registry_new(0);
	struct process_metrics *pm = NULL;
	struct prom_exporter *exporter = NULL;
	if (!reg)
		return GLIMPSE_EXIT_FAILURE;
	pm = process_metrics_new(reg, run.sched, &rc);
	if (!pm)
		goto out;
	for (int i = 0; i < n; i++) {
		int err = resource_for_pid(w[i].pid, &w[i].res);
		if (!err && (w[i].target = metrics_registry_add_target(reg, &w[i].res)) < 0)
			err = w[i].target;
		if (!err)
			err = process_metrics_add(pm, w[i].target, w[i].pid);
		if (err) {
			rc = preflight_target_error(w[i].pid, err, "watch");
			goto out;
		}
	}
	if (run.prom_addr && !(exporter = run_start_exporter(run.prom_addr, reg, &rc)))
		goto out;
	for (int i = 0; i < n; i++)
		log_event(LOG_INFO, "watching", "pid=%d service=%s metrics=%s", (int)w[i].pid,
			  w[i].res.service_name, exporter ? prom_exporter_url(exporter) : "off");

	struct run_loop loop;
	run_loop_init(&loop, run.duration_s, run.interval_s);
	int alive = n;
	while (run_loop_wait(&loop, 100) && alive > 0) {
		for (int i = 0; i < n; i++) {
			if (!w[i].gone && !proc_exists(w[i].pid)) {
				w[i].gone = true;
				alive--;
				log_info("process %d exited", (int)w[i].pid);
			}
		}
		if (!run.live || !run_loop_tick(&loop))
			continue;
		char now[16], line[256];
		run_clock_text(now, sizeof(now));
		for (int i = 0; i < n; i++) {
			if (w[i].gone)
				continue;
			process_metrics_status_line(pm, w[i].target, line, sizeof(line));
			printf("%s pid=%d %s %s\n", now, (int)w[i].pid, w[i].res.service_name, line);
		}
		fflush(stdout);
	}
	rc = 0;
out:
	prom_exporter_stop(exporter);
	process_metrics_free(pm);
	metrics_registry_free(reg);
	return rc;
}
