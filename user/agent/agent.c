// SPDX-License-Identifier: Apache-2.0
#include "agent/agent.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/profile_labels.h"
#include "agent/profiles.h"
#include "agent/targets.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/preflight.h"
#include "base/procfs.h"
#include "base/run_loop.h"
#include "base/signals.h"
#include "cli/exit_codes.h"
#include "export/prometheus.h"
#include "gotrace/call_metrics.h"
#include "metrics/process_metrics.h"
#include "metrics/sql_pools.h"
#include "metrics/registry.h"
#include "metrics/slo_tracker.h"
#include "procwatch.h"
#include "procwatch.skel.h"
#include "logs/log_pipeline.h"
#include "trace/trace_pipeline.h"

#define POLL_MS 100

struct agent {
	const struct agent_config *cfg;
	struct metrics_registry *reg;
	struct prom_exporter *prom;
	struct otlp_exporter *otlp;
	struct process_metrics *pm;
	struct sql_pools *pools; /* database/sql pools of the Go targets, read at scrape time */
	struct db_driver_cache *drivers;
	struct trace_pipeline *traces;
	struct log_pipeline *logs;   /* a selector asks for logs, and OTLP is configured */
	struct trace_recent *recent; /* the dashboard's traces, when traces and the server are on */
	struct agent_targets *targets;
	struct slo_tracker *slos;
	struct agent_profiles *profiles;
	struct profile_labels *labels; /* CPU samples' request labels: NULL without CPU profiles */
	struct procwatch_bpf *watch;
	struct ring_buffer *watch_rb;
};

static int otlp_from_config(const struct agent_config *c, struct otlp_config *o, char *err, size_t errlen)
{
	if (otlp_config_from_env(o, err, errlen))
		return -EINVAL;
	char value[4096];
	if (c->otlp.endpoint[0] && !getenv(otlp_setting_env(OTLP_ENDPOINT)) &&
	    !getenv(otlp_setting_env(OTLP_TRACES_ENDPOINT)) &&
	    otlp_config_set_flag(o, OTLP_ENDPOINT, "otlp.endpoint", c->otlp.endpoint, err, errlen))
		return -EINVAL;
	if (!getenv(otlp_setting_env(OTLP_COMPRESSION)) &&
	    otlp_config_set_flag(o, OTLP_COMPRESSION, "otlp.compression", c->otlp.gzip ? "gzip" : "none", err,
				 errlen))
		return -EINVAL;
	snprintf(value, sizeof(value), "%u", c->otlp.metrics_interval_ms);
	if (!getenv(otlp_setting_env(OTLP_METRICS_INTERVAL)) &&
	    otlp_config_set_flag(o, OTLP_METRICS_INTERVAL, "otlp.metrics_interval", value, err, errlen))
		return -EINVAL;
	size_t used = 0;
	value[0] = '\0';
	for (int i = 0; i < c->otlp.nheaders && used < sizeof(value); i++)
		used += snprintf(value + used, sizeof(value) - used, "%s%s=%s", i ? "," : "",
				 c->otlp.headers[i][0], c->otlp.headers[i][1]);
	if (value[0] && !getenv(otlp_setting_env(OTLP_HEADERS)) &&
	    otlp_config_set_flag(o, OTLP_HEADERS, "otlp.headers", value, err, errlen))
		return -EINVAL;
	return 0;
}

static int sampler_from_config(const struct agent_config *c, struct sampler_config *s, char *err,
			       size_t errlen)
{
	if (sampler_config_from_env(s, err, errlen))
		return -EINVAL;
	if (!getenv("OTEL_TRACES_SAMPLER") && c->traces.sampler[0] &&
	    sampler_parse_kind(c->traces.sampler, &s->kind)) {
		snprintf(err, errlen, "traces.sampler: '%s' is not a sampler", c->traces.sampler);
		return -EINVAL;
	}
	if (!getenv("OTEL_TRACES_SAMPLER_ARG"))
		s->ratio = c->traces.sampler_arg;
	s->keep_errors = c->traces.keep_errors;
	s->keep_slower_than_ns = (uint64_t)c->traces.keep_slower_than_ms * 1000000ULL;
	return 0;
}

int agent_settings_from_config(const struct agent_config *cfg, const char *otlp_endpoint_flag,
			       struct agent_settings *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (otlp_from_config(cfg, &out->otlp, err, errlen) ||
	    sampler_from_config(cfg, &out->sampler, err, errlen))
		return -EINVAL;
	if (otlp_endpoint_flag && otlp_config_set_flag(&out->otlp, OTLP_ENDPOINT, "--otlp-endpoint",
						       otlp_endpoint_flag, err, errlen))
		return -EINVAL;
	return 0;
}

static int on_procwatch(void *ctx, void *data, size_t len)
{
	struct agent *ag = ctx;
	if (len < sizeof(struct procwatch_event))
		return 0;
	const struct procwatch_event *ev = data;
	log_debug("procwatch: %s pid %u", ev->kind == PROCWATCH_EXIT ? "exit" : "exec", ev->pid);
	if (ev->kind == PROCWATCH_EXIT)
		targets_exit(ag->targets, (pid_t)ev->pid);
	else
		targets_exec(ag->targets, (pid_t)ev->pid);
	return 0;
}

static void scan_proc(struct agent *ag)
{
	DIR *d = opendir("/proc");
	if (!d) {
		log_warn("cannot list /proc: %s; only processes started from now on are found",
			 strerror(errno));
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		pid_t pid;
		if (parse_pid(e->d_name, &pid))
			targets_consider(ag->targets, pid);
	}
	closedir(d);
}

static int start_procwatch(struct agent *ag)
{
	ag->watch = procwatch_bpf__open_and_load();
	if (!ag->watch) {
		log_error("cannot load the process watcher's BPF programs: %s (run with -v for details)",
			  strerror(errno));
		return errno == EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	int err = procwatch_bpf__attach(ag->watch);
	if (err) {
		log_error("cannot attach the process watcher: %s", strerror(-err));
		return GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	ag->watch_rb = ring_buffer__new(bpf_map__fd(ag->watch->maps.events), on_procwatch, ag, NULL);
	if (!ag->watch_rb) {
		log_error("cannot open the process watcher's ring buffer: %s", strerror(errno));
		return GLIMPSE_EXIT_FAILURE;
	}
	return 0;
}

/* Exporters and consumers, in the order they depend on each other. */
static int agent_open(struct agent *ag, const struct agent_settings *s)
{
	int rc = 0;
	char err[1024];
	ag->reg = metrics_registry_new(0);
	ag->drivers = db_driver_cache_new();
	if (!ag->reg || !ag->drivers || !(ag->pm = process_metrics_new(ag->reg, true, &rc)))
		return rc ? rc : GLIMPSE_EXIT_FAILURE;
	if (!(ag->pools = sql_pools_new(ag->reg)))
		return GLIMPSE_EXIT_FAILURE;
	if (ag->cfg->nslos &&
	    !(ag->slos = slo_tracker_new(ag->reg, ag->cfg->slos, ag->cfg->nslos, err, sizeof(err)))) {
		log_error("slos: %s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	if (s->otlp.configured) {
		if (!(ag->otlp = otlp_exporter_start(&s->otlp, err, sizeof(err)))) {
			log_error("%s", err);
			return GLIMPSE_EXIT_USAGE;
		}
		signals_report_on_forced_exit("spans", otlp_exporter_queued(ag->otlp));

		otlp_exporter_register_metrics(ag->otlp, ag->reg);
		otlp_exporter_add_metrics(ag->otlp, ag->reg, s->otlp.metrics_interval_ms / 1000.0);
		struct trace_pipeline_opts topts = { .sampler = s->sampler,
						     .otlp = ag->otlp,
						     .builder = { .routes = ag->reg } };
		if (ag->cfg->prometheus_address[0] && !(topts.recent = ag->recent = trace_recent_new()))
			return GLIMPSE_EXIT_FAILURE;
		if (!(ag->traces = trace_pipeline_new(&topts, ag->drivers)) ||
		    trace_pipeline_register_metrics(ag->traces, ag->reg))
			return GLIMPSE_EXIT_FAILURE;
	}
	bool logs = false;
	for (int i = 0; i < ag->cfg->nselectors; i++)
		logs |= ag->cfg->selectors[i].signals.logs;
	if (logs && !ag->otlp)
		log_warn("a selector asks for logs but no OTLP endpoint is configured (otlp.endpoint or "
			 "OTEL_EXPORTER_OTLP_ENDPOINT): no logs");
	struct log_pipeline_opts lopts = { .otlp = ag->otlp };
	if (logs && ag->otlp &&
	    (!(ag->logs = log_pipeline_new(&lopts)) || log_pipeline_register_metrics(ag->logs, ag->reg)))
		return GLIMPSE_EXIT_FAILURE;
	/* CPU profiles go somewhere: their samples get request labels. */
	if ((ag->cfg->profiles.directory[0] || (ag->cfg->profiles.otlp && ag->otlp)) &&
	    !(ag->labels = profile_labels_new()))
		return GLIMPSE_EXIT_FAILURE;
	struct targets_consumers c = { ag->cfg,	 ag->reg,  ag->pm,    ag->traces, ag->drivers,
				       ag->slos, ag->logs, ag->pools, ag->labels };
	if (!(ag->targets = targets_new(&c)))
		return GLIMPSE_EXIT_FAILURE;
	if (ag->cfg->prometheus_address[0] &&
	    !(ag->prom = run_start_exporter(ag->cfg->prometheus_address, ag->reg, &rc)))
		return rc;
	if (ag->prom)
		prom_exporter_set_traces(ag->prom, ag->recent);
	return 0;
}

/* The one cleanup path, whatever agent_open and agent_run got to. Consumers before what they
 * feed: held spans reach the OTLP exporter before its last flush; the exporter reads the
 * targets' and the pipeline's counters until it stops. */
static void agent_close(struct agent *ag)
{
	request_stop();
	profiles_stop(ag->profiles);
	prom_exporter_stop(ag->prom);
	ring_buffer__free(ag->watch_rb);
	procwatch_bpf__destroy(ag->watch);
	if (ag->targets)
		targets_remove_all(ag->targets);
	if (ag->traces)
		trace_pipeline_flush(ag->traces);
	if (ag->logs)
		log_pipeline_flush(ag->logs);
	if (ag->otlp)
		otlp_exporter_stop(ag->otlp, OTLP_SHUTDOWN_MS);
	trace_pipeline_free(ag->traces);
	trace_recent_free(ag->recent);
	targets_free(ag->targets);
	otlp_exporter_free(ag->otlp);
	log_pipeline_free(ag->logs); /* after the socket probe that feeds it and the exporters */
	db_driver_cache_free(ag->drivers);
	process_metrics_free(ag->pm);
	sql_pools_free(ag->pools);
	slo_tracker_free(ag->slos);
	metrics_registry_free(ag->reg);
	profile_labels_free(ag->labels); /* after the targets and the profiles that use it */
}

int agent_run(const struct agent_config *cfg, const struct agent_settings *s)
{
	bool uprobes = false;
	for (int i = 0; i < cfg->nselectors; i++)
		uprobes |= cfg->selectors[i].signals.http_metrics || cfg->selectors[i].signals.traces ||
			   cfg->selectors[i].signals.logs;
	int rc = preflight_privileges(uprobes);
	if (!rc)
		rc = preflight_kernel();
	if (rc)
		return rc;

	struct agent ag = { .cfg = cfg };
	if ((rc = agent_open(&ag, s)))
		goto out;
	/* Watch first, then scan: a process started in between is seen by one or the other. */
	if ((rc = start_procwatch(&ag)))
		goto out;
	scan_proc(&ag);
	ag.profiles = profiles_start(cfg, ag.targets, ag.otlp);
	log_event(LOG_INFO, "agent running", "selectors=%d targets=%d metrics=%s otlp=%s", cfg->nselectors,
		  targets_count(ag.targets), ag.prom ? prom_exporter_url(ag.prom) : "off",
		  s->otlp.configured ? s->otlp.traces_url : "off");

	struct run_loop loop;
	run_loop_init(&loop, 0, 1);
	while (run_loop_running(&loop)) {
		int n = ring_buffer__poll(ag.watch_rb, POLL_MS / 2);
		if (n < 0 && n != -EINTR)
			log_warn("process watcher: %s", strerror(-n));
		targets_poll(ag.targets);
		if (run_loop_tick(&loop)) {
			targets_tick(ag.targets);
			slo_tracker_sample(ag.slos, clock_mono_ns());
			if (ag.traces)
				trace_pipeline_tick(ag.traces);
			if (ag.logs)
				log_pipeline_tick(ag.logs);
		}
	}
	log_info("agent stopping");
out:
	agent_close(&ag);
	return rc;
}
