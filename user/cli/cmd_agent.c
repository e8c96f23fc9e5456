// SPDX-License-Identifier: Apache-2.0
/* glimpse agent: one per node. Finds the processes its selectors describe — at start and as
 * they exec — instruments them with the signals each selector asks for, labels them with
 * their container and pod, frees their state when they exit, and exports everything. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "agent/agent_config.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "profile/cpu_profiler.h"
#include "profile/offcpu_profiler.h"
#include "cli/exit_codes.h"
#include "gotrace/target.h"
#include "gotrace/call_metrics.h"
#include "gotrace/tracer.h"
#include "metrics/registry.h"
#include "base/log.h"
#include "export/otlp.h"
#include "base/preflight.h"
#include "metrics/process_metrics.h"
#include "base/procfs.h"
#include "procwatch.h"
#include "procwatch.skel.h"
#include "profile/writers/profile_writers.h"
#include "export/prometheus.h"
#include "agent/resource.h"
#include "base/run_loop.h"
#include "trace/sampler.h"
#include "agent/selector.h"
#include "base/signals.h"
#include "trace/trace_pipeline.h"

#define MAX_TARGETS   256
#define MAX_BINARIES  64
#define POLL_MS	      100
#define OTLP_FLUSH_MS 5000

static const char usage[] =
	"Usage: glimpse agent [--config FILE] [options]\n"
	"\n"
	"Runs once per node: instruments every process a selector in FILE matches — those running\n"
	"now and those started later — and exports their metrics, traces and profiles. Without\n"
	"FILE: every Go program listening on TCP (see --print-config).\n"
	"\n"
	"  -c, --config FILE         YAML configuration (see README: 'glimpse agent')\n"
	"      --print-config        print the effective configuration and exit\n"
	"      --prometheus-addr A   override prometheus.address\n"
	"      --otlp-endpoint URL   override otlp.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT also does)\n"
	"  -v, --verbose             debug output      --log-format F   human or json (overrides the file)\n"
	"  -h, --help                this help\n";

enum {
	OPT_PRINT_CONFIG = CLI_OPT_FIRST_PRIVATE,
	OPT_PROM_ADDR,
	OPT_OTLP_ENDPOINT
};

/* One set of uprobes per Go binary, shared by every selected process that runs it. */
struct binary {
	dev_t dev;
	ino_t ino;
	struct go_tracer *tracer;
	int users;
};

struct target {
	pid_t pid;
	dev_t exe_dev; /* the program it runs: an exec event for the same program is stale */
	ino_t exe_ino;
	int selector;
	int id; /* metrics registry target */
	struct binary *binary;
	struct resource res;
	struct container_info container;
};

struct profile_kind;
struct profiler_arg {
	struct agent *ag;
	const struct profile_kind *kind;
};

struct agent {
	struct agent_config cfg;
	struct metrics_registry *reg;
	struct prom_exporter *prom;
	struct otlp_exporter *otlp;
	struct process_metrics *pm;
	struct db_driver_cache *drivers;
	struct trace_pipeline *traces;
	struct procwatch_bpf *watch;
	struct ring_buffer *watch_rb;
	pthread_mutex_t lock; /* targets: the profiler thread reads which pids to sample */
	struct target *targets[MAX_TARGETS];
	struct binary binaries[MAX_BINARIES];
	pthread_t profilers[2];
	struct profiler_arg profiler_args[2];
	int nprofilers;
	_Atomic uint64_t events_dropped;
	_Atomic int ntargets;
};

static struct target *find_target(struct agent *ag, pid_t pid)
{
	for (int i = 0; i < MAX_TARGETS; i++)
		if (ag->targets[i] && ag->targets[i]->pid == pid)
			return ag->targets[i];
	return NULL;
}

static void on_event(void *ctx, const struct gotrace_event *ev)
{
	struct agent *ag = ctx;
	struct target *t = find_target(ag, (pid_t)ev->pid);
	if (!t)
		return;
	const struct agent_signals *sig = &ag->cfg.selectors[t->selector].signals;
	if (sig->traces && ag->traces)
		trace_pipeline_event(ag->traces, ev, t->id);
	if (sig->http_metrics)
		metrics_record_event(ag->reg, t->id, ev, ag->drivers);
}

static struct binary *binary_for(struct agent *ag, pid_t pid, const struct target *t)
{
	char exe[64];
	struct stat st;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (stat(exe, &st))
		return NULL;
	struct binary *free_slot = NULL;
	for (int i = 0; i < MAX_BINARIES; i++) {
		struct binary *b = &ag->binaries[i];
		if (b->tracer && b->dev == st.st_dev && b->ino == st.st_ino)
			return b;
		if (!b->tracer && !free_slot)
			free_slot = b;
	}
	if (!free_slot)
		return NULL;
	struct go_target gt;
	if (go_target_open(pid, &gt)) /* logs why (not Go, unknown layout) */
		return NULL;
	bool traces = ag->traces && ag->cfg.selectors[t->selector].signals.traces;
	struct go_tracer_opts opts = { .lineage = traces, .tracing = traces, .shared = true };
	if (go_tracer_start(&gt, &opts, on_event, ag, &free_slot->tracer))
		return NULL;
	free_slot->dev = st.st_dev;
	free_slot->ino = st.st_ino;
	free_slot->users = 0;
	log_event(LOG_INFO, "probes attached", "binary=%s go=%s offsets=%s probes=%d", gt.binary,
		  gt.go_version, gt.offsets_source, go_tracer_probe_count(free_slot->tracer));
	return free_slot;
}

static void release_binary(struct binary *b, pid_t pid)
{
	if (!b)
		return;
	go_tracer_remove_pid(b->tracer, pid);
	if (--b->users == 0) {
		go_tracer_stop(b->tracer);
		b->tracer = NULL;
	}
}

static void resource_add_container(struct resource *res, const struct container_info *ci)
{
	snprintf(res->container_id, sizeof(res->container_id), "%s", ci->container_id);
	snprintf(res->k8s_pod_uid, sizeof(res->k8s_pod_uid), "%s", ci->pod_uid);
	snprintf(res->k8s_pod_name, sizeof(res->k8s_pod_name), "%s", ci->pod_name);
	snprintf(res->k8s_namespace_name, sizeof(res->k8s_namespace_name), "%s", ci->namespace_name);
}

/* Instruments pid if a selector matches it; quietly leaves it alone otherwise. */
static void consider(struct agent *ag, pid_t pid)
{
	if (pid == getpid() || find_target(ag, pid))
		return;
	struct process_facts facts;
	if (process_facts_read(pid, &facts))
		return;
	int sel = selector_match(&ag->cfg, &facts);
	if (sel < 0)
		return;
	int slot = -1;
	for (int i = 0; i < MAX_TARGETS && slot < 0; i++)
		if (!ag->targets[i])
			slot = i;
	if (slot < 0) {
		log_warn("process %d matches selector '%s' but the agent already watches %d processes",
			 (int)pid, ag->cfg.selectors[sel].name, MAX_TARGETS);
		return;
	}
	struct target *t = calloc(1, sizeof(*t));
	if (!t || resource_for_pid(pid, &t->res)) {
		free(t);
		return;
	}
	t->pid = pid;
	t->selector = sel;
	struct stat st;
	char exe[64];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (stat(exe, &st) == 0) {
		t->exe_dev = st.st_dev;
		t->exe_ino = st.st_ino;
	}
	t->container = facts.container;
	resource_add_container(&t->res, &facts.container);
	/* Probes first, series second: once a target shows in /metrics, its requests count. */
	const struct agent_signals *sig = &ag->cfg.selectors[sel].signals;
	if (sig->http_metrics || (sig->traces && ag->traces)) {
		t->binary = binary_for(ag, pid, t);
		if (t->binary && go_tracer_add_pid(t->binary->tracer, pid) == 0)
			t->binary->users++;
		else if (t->binary)
			t->binary = NULL;
	}
	t->id = metrics_registry_add_target(ag->reg, &t->res);
	if (t->id < 0) {
		release_binary(t->binary, pid);
		free(t);
		return;
	}
	if (sig->runtime)
		process_metrics_add(ag->pm, t->id, pid);
	if (ag->traces)
		trace_pipeline_add_target(ag->traces, t->id, &t->res);
	pthread_mutex_lock(&ag->lock);
	ag->targets[slot] = t;
	pthread_mutex_unlock(&ag->lock);
	ag->ntargets++;
	log_event(LOG_INFO, "instrumented",
		  "pid=%d selector=%s service=%s exe=%s container=%s pod=%s http=%s", (int)pid,
		  ag->cfg.selectors[sel].name, t->res.service_name, facts.exe,
		  t->container.container_id[0] ? t->container.container_id : "-",
		  t->container.pod_name[0] ? t->container.pod_name : "-", t->binary ? "yes" : "no");
}

static void forget(struct agent *ag, pid_t pid)
{
	pthread_mutex_lock(&ag->lock);
	struct target *t = NULL;
	for (int i = 0; i < MAX_TARGETS && !t; i++) {
		if (ag->targets[i] && ag->targets[i]->pid == pid) {
			t = ag->targets[i];
			ag->targets[i] = NULL;
		}
	}
	pthread_mutex_unlock(&ag->lock);
	if (!t)
		return;
	release_binary(t->binary, pid);
	process_metrics_remove(ag->pm, t->id);
	metrics_registry_remove_target(ag->reg, t->id);
	ag->ntargets--;
	log_event(LOG_INFO, "process exited", "pid=%d service=%s", (int)pid, t->res.service_name);
	free(t);
}

static int on_procwatch(void *ctx, void *data, size_t len)
{
	struct agent *ag = ctx;
	if (len < sizeof(struct procwatch_event))
		return 0;
	const struct procwatch_event *ev = data;
	log_debug("procwatch: %s pid %u", ev->kind == PROCWATCH_EXIT ? "exit" : "exec", ev->pid);
	if (ev->kind == PROCWATCH_EXIT) {
		forget(ag, (pid_t)ev->pid);
	} else {
		/* A process that execs becomes another program: match it afresh. Events are read
		 * after the fact, so the program may already be the one we instrumented. */
		struct target *t = find_target(ag, (pid_t)ev->pid);
		char exe[64];
		struct stat st;
		snprintf(exe, sizeof(exe), "/proc/%u/exe", ev->pid);
		if (t && stat(exe, &st) == 0 && st.st_dev == t->exe_dev && st.st_ino == t->exe_ino)
			return 0;
		forget(ag, (pid_t)ev->pid);
		consider(ag, (pid_t)ev->pid);
	}
	return 0;
}

static void scan_proc(struct agent *ag)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		pid_t pid;
		if (parse_pid(e->d_name, &pid))
			consider(ag, pid);
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

/* Continuous profiles: one profile per interval of every target whose selector asks for
 * one, written as a pprof file. Each interval runs the profiler afresh for the targets of
 * the moment. One thread per kind (CPU, off-CPU), so both cover the same intervals. */
struct profile_kind {
	const char *name; /* file prefix and log text */
	int (*run)(const struct profiler_opts *opts, struct stack_profile **out);
	bool offcpu;
};

static const struct profile_kind profile_kinds[] = {
	{ "cpu", cpu_profiler_run, false },
	{ "offcpu", offcpu_profiler_run, true },
};
#define NPROFILE_KINDS (sizeof(profile_kinds) / sizeof(profile_kinds[0]))

static void *profiler_thread(void *arg)
{
	struct agent *ag = ((struct profiler_arg *)arg)->ag;
	const struct profile_kind *kind = ((struct profiler_arg *)arg)->kind;
	while (!stop_requested()) {
		struct profiler_opts o = { .kernel_stacks = true,
					   .user_stacks = true,
					   .max_stacks = 16384,
					   .duration_s = ag->cfg.profiles.interval_ms / 1000.0,
					   .hz = 19,
					   .min_block_ns = 1000 };
		pthread_mutex_lock(&ag->lock);
		for (int i = 0; i < MAX_TARGETS && o.npids < PROFILER_MAX_PIDS; i++) {
			struct target *t = ag->targets[i];
			const struct agent_signals *sig = t ? &ag->cfg.selectors[t->selector].signals : NULL;
			if (sig && (kind->offcpu ? sig->offcpu_profile : sig->cpu_profile)) {
				o.pids[o.npids++] = t->pid;
				o.hz = sig->cpu_profile_hz;
			}
		}
		pthread_mutex_unlock(&ag->lock);
		if (!o.npids) {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
			continue;
		}
		struct stack_profile *sp;
		if (kind->run(&o, &sp))
			break;
		char path[PATH_MAX + 64], stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(path, sizeof(path), "%s/%s-%s.pb.gz", ag->cfg.profiles.directory, kind->name, stamp);
		int err = pprof_write(stack_profile_data(sp), path);
		if (err)
			log_warn("cannot write the %s profile %s: %s", kind->name, path, strerror(-err));
		else
			log_event(LOG_INFO, "wrote profile", "kind=%s file=%s processes=%d", kind->name, path,
				  o.npids);
		stack_profile_free(sp);
	}
	return NULL;
}

static double agent_targets(void *ctx, int target)
{
	(void)target;
	return ((struct agent *)ctx)->ntargets;
}

static double agent_events_dropped(void *ctx, int target)
{
	(void)target;
	return (double)((struct agent *)ctx)->events_dropped;
}

static void refresh_dropped(struct agent *ag)
{
	uint64_t total = 0;
	for (int i = 0; i < MAX_BINARIES; i++)
		if (ag->binaries[i].tracer)
			total += go_tracer_events_dropped(ag->binaries[i].tracer);
	if (total > ag->events_dropped)
		ag->events_dropped = total;
}

/* The file, then OTEL_* variables, then flags: a file value applies only where no variable
 * gives one. */
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

static void agent_stop(struct agent *ag)
{
	request_stop();
	for (int i = 0; i < ag->nprofilers; i++)
		pthread_join(ag->profilers[i], NULL);
	prom_exporter_stop(ag->prom);
	for (int i = 0; i < MAX_TARGETS; i++)
		if (ag->targets[i])
			forget(ag, ag->targets[i]->pid);
	ring_buffer__free(ag->watch_rb);
	procwatch_bpf__destroy(ag->watch);
	trace_pipeline_free(ag->traces);
	if (ag->otlp) {
		otlp_exporter_stop(ag->otlp, OTLP_FLUSH_MS);
		otlp_exporter_free(ag->otlp);
	}
	db_driver_cache_free(ag->drivers);
	process_metrics_free(ag->pm);
	metrics_registry_free(ag->reg);
	pthread_mutex_destroy(&ag->lock);
}

int cmd_agent(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
		{ "prometheus-addr", required_argument, NULL, OPT_PROM_ADDR },
		{ "otlp-endpoint", required_argument, NULL, OPT_OTLP_ENDPOINT },
		CLI_COMMON_LONG_OPTIONS,
		{ 0 },
	};
	const char *config = NULL, *prom_addr = NULL, *otlp_endpoint = NULL;
	bool print = false, log_format_flag = false;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:vh", longopts, NULL)) != -1) {
		if (opt == CLI_OPT_LOG_FORMAT)
			log_format_flag = true;
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case OPT_PRINT_CONFIG:
			print = true;
			break;
		case OPT_PROM_ADDR:
			prom_addr = optarg;
			break;
		case OPT_OTLP_ENDPOINT:
			otlp_endpoint = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return GLIMPSE_EXIT_OK;
		case ':':
			cli_usage_error("agent", "%s needs a value", argv[optind - 1]);
		default:
			cli_usage_error("agent", "unknown option '%s'", argv[optind - 1]);
		}
	}
	cli_apply_common();
	if (optind < argc)
		cli_usage_error("agent", "unexpected argument '%s'", argv[optind]);

	static struct agent ag;
	char err[1024];
	if (config ? agent_config_load(&ag.cfg, config, err, sizeof(err))
		   : agent_config_default(&ag.cfg, err, sizeof(err))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	if (prom_addr)
		snprintf(ag.cfg.prometheus_address, sizeof(ag.cfg.prometheus_address), "%s", prom_addr);
	if (otlp_endpoint)
		snprintf(ag.cfg.otlp.endpoint, sizeof(ag.cfg.otlp.endpoint), "%s", otlp_endpoint);
	if (!log_format_flag)
		log_set_json(ag.cfg.log_json);
	struct otlp_config otlp_cfg;
	struct trace_pipeline_opts topts = { 0 };
	if (otlp_from_config(&ag.cfg, &otlp_cfg, err, sizeof(err)) ||
	    sampler_from_config(&ag.cfg, &topts.sampler, err, sizeof(err))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	if (otlp_endpoint && otlp_config_set_flag(&otlp_cfg, OTLP_ENDPOINT, "--otlp-endpoint", otlp_endpoint,
						  err, sizeof(err))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	if (print) {
		agent_config_print(&ag.cfg, stdout);
		return GLIMPSE_EXIT_OK;
	}
	bool uprobes = false;
	for (int i = 0; i < ag.cfg.nselectors; i++)
		uprobes |= ag.cfg.selectors[i].signals.http_metrics || ag.cfg.selectors[i].signals.traces;
	int rc = preflight_privileges(uprobes);
	if (!rc)
		rc = preflight_kernel();
	if (rc)
		return rc;

	signals_install();
	pthread_mutex_init(&ag.lock, NULL);
	ag.reg = metrics_registry_new(0);
	ag.drivers = db_driver_cache_new();
	if (!ag.reg || !ag.drivers || !(ag.pm = process_metrics_new(ag.reg, true, &rc))) {
		rc = rc ? rc : GLIMPSE_EXIT_FAILURE;
		goto out;
	}
	metrics_registry_add_gauge(ag.reg, "glimpse.agent.targets", "{process}",
				   "Processes the agent instruments.", false, agent_targets, &ag, false);
	metrics_registry_add_gauge(ag.reg, "glimpse.events_dropped", "",
				   "Events the kernel could not queue to glimpse.", true,
				   agent_events_dropped, &ag, false);
	if (otlp_cfg.configured) {
		if (!(ag.otlp = otlp_exporter_start(&otlp_cfg, err, sizeof(err)))) {
			log_error("%s", err);
			rc = GLIMPSE_EXIT_USAGE;
			goto out;
		}
		otlp_exporter_register_metrics(ag.otlp, ag.reg);
		otlp_exporter_add_metrics(ag.otlp, ag.reg, otlp_cfg.metrics_interval_ms / 1000.0);
		topts.otlp = ag.otlp;
		if (!(ag.traces = trace_pipeline_new(&topts, ag.drivers))) {
			rc = GLIMPSE_EXIT_FAILURE;
			goto out;
		}
	}
	if (ag.cfg.prometheus_address[0] &&
	    !(ag.prom = run_start_exporter(ag.cfg.prometheus_address, ag.reg, &rc)))
		goto out;
	/* Watch first, then scan: a process started in between is seen by one or the other. */
	if ((rc = start_procwatch(&ag)))
		goto out;
	scan_proc(&ag);
	if (ag.cfg.profiles.directory[0]) {
		mkdir(ag.cfg.profiles.directory, 0755);
		for (size_t i = 0; i < NPROFILE_KINDS; i++) {
			ag.profiler_args[ag.nprofilers] = (struct profiler_arg){ &ag, &profile_kinds[i] };
			if (pthread_create(&ag.profilers[ag.nprofilers], NULL, profiler_thread,
					   &ag.profiler_args[ag.nprofilers]) == 0)
				ag.nprofilers++;
		}
	}
	log_event(LOG_INFO, "agent running", "selectors=%d targets=%d metrics=%s otlp=%s", ag.cfg.nselectors,
		  (int)ag.ntargets, ag.cfg.prometheus_address[0] ? ag.cfg.prometheus_address : "off",
		  otlp_cfg.configured ? otlp_cfg.traces_url : "off");

	struct run_loop loop;
	run_loop_init(&loop, 0, 1);
	while (run_loop_running(&loop)) {
		ring_buffer__poll(ag.watch_rb, POLL_MS / 2);
		for (int i = 0; i < MAX_BINARIES; i++)
			if (ag.binaries[i].tracer)
				go_tracer_poll(ag.binaries[i].tracer, 0);
		if (run_loop_tick(&loop)) {
			refresh_dropped(&ag);
			if (ag.traces)
				trace_pipeline_tick(ag.traces);
			/* An exit event can be lost under load: sweep for the dead once a second. */
			for (int i = 0; i < MAX_TARGETS; i++)
				if (ag.targets[i] && !proc_exists(ag.targets[i]->pid)) {
					log_debug("sweep: pid %d is gone", (int)ag.targets[i]->pid);
					forget(&ag, ag.targets[i]->pid);
				}
		}
	}
	rc = 0;
	log_info("agent stopping");
out:
	agent_stop(&ag);
	return rc;
}
