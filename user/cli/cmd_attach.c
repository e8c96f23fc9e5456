// SPDX-License-Identifier: Apache-2.0
/* glimpse attach: a running service's RED metrics, spans, logs and profile, with no change to
 * it. The lifecycle: options (attach_options.c) → outputs (registry, OTLP, files, pipelines) →
 * probes (attach_session.c) → the run loop → detach and drain → one cleanup path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/attach_options.h"
#include "cli/attach_profile.h"
#include "cli/attach_session.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "agent/resource.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/outfile.h"
#include "base/preflight.h"
#include "base/procfs.h"
#include "base/run_loop.h"
#include "base/signals.h"
#include "export/dash_profile.h"
#include "export/otlp.h"
#include "export/prometheus.h"
#include "gotrace/tracer.h"
#include "logs/log_pipeline.h"
#include "metrics/live_view.h"
#include "metrics/process_metrics.h"
#include "metrics/registry.h"
#include "metrics/slo_tracker.h"
#include "metrics/sql_pools.h"
#include "trace/trace_pipeline.h"

#define POLL_MS 100

/* A file of glimpse's own (spans, log records): stdout for "-", which then carries it instead
 * of the live view. NULL (logged) when it cannot be written. */
static FILE *open_output(const char *path, const char *what, struct cli_run_opts *run)
{
	if (!strcmp(path, "-")) {
		run->live = false;
		return stdout;
	}
	FILE *f = outfile_open_stream(path);
	if (!f)
		log_error("cannot write %s to %s: %s", what, path, strerror(errno));
	return f;
}

/* Closes what open_output opened; removes it when attaching failed, as nothing was written. */
static void close_output(FILE *f, const char *path, bool discard)
{
	if (!f || f == stdout)
		return;
	if (discard)
		outfile_discard(f, path);
	else
		fclose(f);
}

int cmd_attach(int argc, char **argv)
{
	struct attach_opts o;
	attach_options_parse(argc, argv, &o);
	pid_t pid = o.pid;
	int rc = cli_run_check(&o.run);
	if (!rc)
		rc = preflight_pids(&pid, 1);
	if (!rc)
		rc = preflight_privileges(true);
	if (!rc)
		rc = preflight_kernel();
	if (rc)
		return rc;
	struct attach_session a = { .pid = pid };
	if ((rc = attach_session_choose(&a, &o)))
		return rc;

	struct resource res;
	struct slo_tracker *slos = NULL;
	struct prom_exporter *exporter = NULL;
	struct trace_recent *recent = NULL; /* the dashboard's traces */
	struct dash_profile *flame = NULL;  /* the dashboard's flame graph (--profile) */
	struct live_view *view = NULL;
	struct process_metrics *pm = NULL;
	struct otlp_exporter *otlp = NULL;
	FILE *spans_file = NULL, *logs_file = NULL;
	bool attached = false;
	char title[512], err[512];
	int failed;
	a.reg = metrics_registry_new(o.max_routes);
	if (!a.reg) {
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	/* Before anything is recorded: latency thresholds become bucket bounds. */
	if (o.nslos && !(slos = slo_tracker_new(a.reg, o.slos, o.nslos, err, sizeof(err)))) {
		log_error("--slo: %s", err);
		rc = GLIMPSE_EXIT_USAGE;
		goto out;
	}
	failed = resource_for_pid(pid, &res);
	if (failed || (failed = a.target = metrics_registry_add_target(a.reg, &res)) < 0) {
		rc = preflight_target_error(pid, failed, "describe");
		goto out;
	}
	if (slo_tracker_add_target(slos, a.target, res.service_name) < o.nslos)
		log_warn("an --slo names a service other than %s: it judges nothing here", res.service_name);
	if (!(a.drivers = db_driver_cache_new())) {
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	if ((o.spans_out && !(spans_file = open_output(o.spans_out, "spans", &o.run))) ||
	    (o.logs_out && !(logs_file = open_output(o.logs_out, "log records", &o.run)))) {
		rc = GLIMPSE_EXIT_USAGE;
		goto out;
	}
	struct trace_pipeline_opts topts = o.traces;
	topts.spans_out = spans_file;
	if (o.otlp.configured) {
		otlp = otlp_exporter_start(&o.otlp, err, sizeof(err));
		if (!otlp) {
			log_error("%s", err);
			rc = GLIMPSE_EXIT_USAGE;
			goto out;
		}
		signals_report_on_forced_exit("spans", otlp_exporter_queued(otlp));
		otlp_exporter_register_metrics(otlp, a.reg);
		otlp_exporter_add_metrics(otlp, a.reg, o.otlp.metrics_interval_ms / 1000.0);
		topts.otlp = otlp;
	}
	if (topts.spans_out || topts.otlp) {
		topts.builder.routes = a.reg; /* span names capped like http.route */
		if (o.run.prom_addr && !(recent = trace_recent_new())) {
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
	}
	if (o.logs) {
		struct log_pipeline_opts lopts = { .out = logs_file, .otlp = otlp };
		if (!(a.logs = log_pipeline_new(&lopts)) || log_pipeline_add_target(a.logs, a.target, &res) ||
		    log_pipeline_register_metrics(a.logs, a.reg)) {
			log_error("cannot set up log capture for process %d: out of memory", (int)pid);
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
	}
	if ((rc = attach_session_start(&a, &o)))
		goto out;
	if (o.profile.on && (rc = attach_profile_start(&o.profile, pid, a.tracer, otlp, &res, &a.profile)))
		goto out;
	pm = process_metrics_new(a.reg, o.run.sched, &rc);
	if (!pm)
		goto out;
	if ((failed = process_metrics_add(pm, a.target, pid))) {
		rc = preflight_target_error(pid, failed, "collect the metrics of");
		goto out;
	}
	if (o.run.prom_addr && !(exporter = run_start_exporter(o.run.prom_addr, a.reg, &rc)))
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
		 a.sockets ? "socket capture" : a.go.go_version);
	view = live_view_new(a.reg, a.target, title, stdout);
	if (!view) {
		rc = GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	const char *metrics_url = exporter ? prom_exporter_url(exporter) : "off";
	if (a.sockets)
		log_event(LOG_INFO, "attached", "pid=%d service=%s capture=socket%s%s metrics=%s logs=%s",
			  (int)pid, res.service_name, a.go_routes ? " go=" : "",
			  a.go_routes ? a.go.go_version : "", metrics_url, o.logs ? "on" : "off");
	else
		log_event(LOG_INFO, "attached",
			  "pid=%d service=%s go=%s offsets=%s probes=%d capture=%s metrics=%s logs=%s",
			  (int)pid, res.service_name, a.go.go_version, a.go.offsets_source,
			  go_tracer_probe_count(a.tracer), a.sock_db ? "uprobes+socket-db" : "uprobes",
			  metrics_url, o.logs ? "on" : "off");
	attached = true;

	struct run_loop loop;
	run_loop_init(&loop, o.run.duration_s, o.run.interval_s);
	while (run_loop_running(&loop)) {
		int n = attach_session_poll(&a, run_loop_timeout(&loop, POLL_MS));
		if (n < 0 && n != -EINTR) {
			log_error("reading events failed: %s", strerror(-n));
			rc = GLIMPSE_EXIT_FAILURE;
			break;
		}
		attach_session_refresh(&a);
		attach_profile_tick(a.profile); /* after the events: requests that ended are known */
		if (!run_loop_tick(&loop))
			goto check_target;
		if (a.traces)
			trace_pipeline_tick(a.traces);
		if (a.logs)
			log_pipeline_tick(a.logs);
		slo_tracker_sample(slos, clock_mono_ns());
		if (o.run.live) {
			char process[512], slo[512];
			process_metrics_status_line(pm, a.target, process, sizeof(process));
			sql_pools_append_status(a.pools, a.target, process, sizeof(process));
			slo_tracker_status_line(slos, a.target, slo, sizeof(slo));
			struct live_view_status st = { a.active_requests, a.events_dropped, process, slo };
			live_view_update(view, &st);
		}
	check_target:
		if (!proc_exists(pid)) {
			log_info("process %d exited; detaching", (int)pid);
			break;
		}
	}
	/* Drain what is queued; the profile's last interval is labelled by the tracer, so it ends
	 * first; then every probe goes (the target stops paying at once). */
	if (a.tracer)
		go_tracer_poll(a.tracer, 0);
	attach_profile_stop(a.profile);
	a.profile = NULL;
	attach_session_detach(&a);
	if (a.traces) {
		trace_pipeline_flush(a.traces);
		attach_session_refresh(&a);
		log_event(LOG_INFO, "spans", "sampled=%llu unsampled=%llu",
			  (unsigned long long)a.spans_sampled, (unsigned long long)a.spans_unsampled);
	}
	live_view_summary(view);
	sql_pools_print_summary(a.pools, a.target, stdout);
	slo_tracker_sample(slos, clock_mono_ns());
	slo_tracker_print_summary(slos, a.target, stdout);
	log_event(LOG_INFO, "detached", "pid=%d", (int)pid);
out:
	attach_profile_stop(a.profile);
	prom_exporter_stop(exporter);
	live_view_free(view);
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
	/* glimpse's own files are removed when attaching failed. */
	close_output(logs_file, o.logs_out, rc && !attached);
	close_output(spans_file, o.spans_out, rc && !attached);
	db_driver_cache_free(a.drivers);
	attach_session_free(&a);   /* after the exporters: its gauges read it */
	log_pipeline_free(a.logs); /* after the socket probe that feeds it and the exporters */
	process_metrics_free(pm);
	slo_tracker_free(slos); /* after the exporters: its gauges read it */
	metrics_registry_free(a.reg);
	return rc;
}
