// SPDX-License-Identifier: Apache-2.0
#include "agent/targets.h"
#include "metrics/slo_tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "agent/container.h"
#include "agent/go_binaries.h"
#include "agent/pending_pids.h"
#include "agent/profile_labels.h"
#include "agent/resource.h"
#include "agent/selector.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/procfs.h"
#include "gotrace/call_metrics.h"
#include "gotrace/target.h"
#include "gotrace/tracer.h"
#include "logs/log_pipeline.h"
#include "metrics/process_metrics.h"
#include "metrics/sql_pools.h"
#include "metrics/registry.h"
#include "sockcap/sock_capture.h"
#include "trace/trace_pipeline.h"

struct target {
	pid_t pid;
	struct binary_key exe; /* the program it runs: an exec event for the same program is stale */
	int selector;
	int id; /* metrics registry target */
	struct go_binary *binary;
	bool sockets; /* measured at its sockets (and its children's) instead */
	bool go_db;   /* a Go target whose database wire is captured at its sockets too */
	bool logs;    /* its stdout and stderr are captured (the socket probe) */
	struct resource res;
	struct gotrace_types types; /* in this process: its writers and connections, by address */
	bool unmeasured_reported;
	UT_hash_handle hh;
};

struct agent_targets {
	struct targets_consumers c;
	pthread_mutex_t lock; /* by_pid: the profiler threads read it */
	struct target *by_pid;
	struct go_binaries binaries; /* the Go tracers */
	struct sock_capture *sock;   /* started for the first target measured at its sockets */
	_Atomic int count;
	_Atomic uint64_t events_dropped; /* of every tracer, stopped ones included */
	_Atomic uint64_t events_unattributed;
	_Atomic uint64_t unmeasured; /* server requests whose status cannot be read */
	_Atomic uint64_t probe_hits; /* of every tracer, stopped ones included */
	struct pending_pids pending; /* may match once they listen */
};

static const struct agent_signals *signals_of(const struct agent_targets *ts, const struct target *t)
{
	return &ts->c.cfg->selectors[t->selector].signals;
}

static struct target *find(struct agent_targets *ts, pid_t pid)
{
	struct target *t;
	HASH_FIND_INT(ts->by_pid, &pid, t);
	return t;
}

static void on_event(void *ctx, const struct gotrace_event *ev)
{
	struct agent_targets *ts = ctx;
	struct target *t = find(ts, (pid_t)ev->pid);
	if (!t) {
		/* Cannot happen while removal reads a target's queue before it leaves the filter;
		 * counted should it ever. */
		ts->events_unattributed++;
		return;
	}
	const struct agent_signals *sig = signals_of(ts, t);
	struct call c; /* decoded once, for spans and metrics alike */
	if (!call_decode(ev, ts->c.drivers, &t->types, &c)) {
		if (c.unmeasured) {
			ts->unmeasured++;
			call_report_unmeasured(&c, &t->unmeasured_reported);
		}
		return;
	}
	if (sig->traces && ts->c.traces)
		trace_pipeline_call(ts->c.traces, &c, t->id);
	if (sig->http_metrics)
		metrics_record_call(ts->c.reg, t->id, &c);
	if (sig->http_metrics && c.kind == CALL_DB)
		sql_pools_saw(ts->c.pools, t->id, ev->db, c.db_system);
	if (sig->cpu_profile)
		profile_labels_call(ts->c.labels, ts->c.reg, t->id, &c);
}

static struct go_binary *binary_for(struct agent_targets *ts, pid_t pid, const struct target *t)
{
	/* Log lines carry their request's trace context: the tracer makes it for them too. */
	bool traces = (ts->c.traces && signals_of(ts, t)->traces) || (ts->c.logs && signals_of(ts, t)->logs);
	/* And CPU samples are keyed by their request's server span (no uprobe more). */
	bool labels = ts->c.labels && signals_of(ts, t)->cpu_profile;
	struct go_tracer_opts opts = { .lineage = traces, .tracing = traces || labels, .shared = true };
	return go_binaries_get(&ts->binaries, pid, &t->exe, &opts, on_event, ts);
}

static void resource_add_container(struct resource *res, const struct container_info *ci)
{
	snprintf(res->container_id, sizeof(res->container_id), "%s", ci->container_id);
	snprintf(res->k8s_pod_uid, sizeof(res->k8s_pod_uid), "%s", ci->pod_uid);
	snprintf(res->k8s_pod_name, sizeof(res->k8s_pod_name), "%s", ci->pod_name);
	snprintf(res->k8s_namespace_name, sizeof(res->k8s_namespace_name), "%s", ci->namespace_name);
}

enum removal {
	REMOVE_EXITED,	/* the process is gone */
	REMOVE_EXECED,	/* it runs another program now */
	REMOVE_STOPPING /* the agent stops; the process runs on */
};

/* The one way out: the target's queued events are read, then every consumer forgets it. */
static void remove_target(struct agent_targets *ts, struct target *t, enum removal why)
{
	/* Its last requests may still be queued (the tracer wakes us only in batches): read them
	 * while it is known, or their spans and counts would be lost. */
	if (t->binary) {
		int n = go_tracer_poll(t->binary->tracer, 0);
		if (n < 0)
			log_debug("reading pid %d's last events: %s", (int)t->pid, strerror(-n));
	}
	if (t->sockets || t->go_db || t->logs) {
		sock_capture_poll(ts->sock, 0);
		sock_capture_remove_target(ts->sock, t->pid);
	}
	if (t->logs) { /* its unfinished lines first, while their resource is known */
		log_pipeline_process_exit(ts->c.logs, (uint32_t)t->pid);
		log_pipeline_remove_target(ts->c.logs, t->id);
	}
	pthread_mutex_lock(&ts->lock);
	HASH_DEL(ts->by_pid, t);
	pthread_mutex_unlock(&ts->lock);
	ts->count--;
	go_binaries_release(t->binary, t->pid);
	if (signals_of(ts, t)->runtime)
		process_metrics_remove(ts->c.pm, t->id);
	sql_pools_remove_target(ts->c.pools, t->id);
	if (ts->c.traces && trace_pipeline_remove_target(ts->c.traces, t->id))
		log_debug("pid %d had no trace pipeline entry", (int)t->pid);
	slo_tracker_remove_target(ts->c.slos, t->id);
	if (metrics_registry_remove_target(ts->c.reg, t->id))
		log_debug("pid %d had no metrics registry entry", (int)t->pid);
	if (why == REMOVE_EXITED)
		log_event(LOG_INFO, "process exited", "pid=%d service=%s", (int)t->pid, t->res.service_name);
	else if (why == REMOVE_EXECED)
		log_event(LOG_INFO, "process execed", "pid=%d service=%s", (int)t->pid, t->res.service_name);
	else
		log_debug("stopped watching pid %d (%s)", (int)t->pid, t->res.service_name);
	free(t);
}

/* pending_pids_recheck's callback. */
static void consider_pending(void *ctx, pid_t pid)
{
	targets_consider(ctx, pid);
}

/* Which path measures a process's HTTP and database calls (agent_signals.capture). */
static bool wants_sockets(const struct agent_signals *sig, pid_t pid)
{
	if (!strcmp(sig->capture, "socket"))
		return true;
	if (!strcmp(sig->capture, "uprobes"))
		return false;
	return go_target_is_go_program(pid) == 0;
}

/* The socket probe is loaded once, for the first target that needs it, and serves all. */
static int sock_start(struct agent_targets *ts)
{
	if (ts->sock)
		return 0;
	return sock_capture_start(ts->c.reg, ts->c.traces, ts->c.logs, &ts->sock) ? -1 : 0;
}

/* SOCK_LOGS when the target's selector asks for logs and they have somewhere to go. */
static unsigned logs_signal(const struct agent_targets *ts, const struct target *t)
{
	return ts->c.logs && signals_of(ts, t)->logs ? SOCK_LOGS : 0;
}

static int sockets_add(struct agent_targets *ts, const struct target *t)
{
	if (sock_start(ts)) {
		log_warn("pid %d: socket capture is unavailable, its calls are not measured", (int)t->pid);
		return -1;
	}
	const struct agent_signals *sig = signals_of(ts, t);
	unsigned what =
		(sig->http_metrics ? SOCK_METRICS : 0) | (sig->traces ? SOCK_SPANS : 0) | logs_signal(ts, t);
	/* A Go program (capture: socket): its ServeMux patterns give http.route, as attach's. */
	struct go_target *go = NULL;
	if (go_target_is_go_program(t->pid) == 1 && (go = calloc(1, sizeof(*go))) &&
	    go_target_open_live(t->pid, go)) {
		free(go);
		go = NULL;
	}
	int rc = go ? sock_capture_add_go_http_target(ts->sock, t->pid, t->id, what, go)
		    : sock_capture_add_target(ts->sock, t->pid, t->id, what);
	free(go);
	return rc ? -1 : 0;
}

/* A Go target's database wire (pgx, go-redis, any driver) at its sockets, beside its uprobes:
 * HTTP and database/sql stay theirs (capture "auto" when it links such a client, or
 * "uprobes+socket"). */
static bool go_db_add(struct agent_targets *ts, const struct target *t)
{
	const struct agent_signals *sig = signals_of(ts, t);
	if (!strcmp(sig->capture, "uprobes") || !strcmp(sig->capture, "socket"))
		return false; /* only "auto" (the default) adds the sockets to the uprobes */
	if (!t->binary->wire_clients && strcmp(sig->capture, "uprobes+socket"))
		return false; /* no pgx or go-redis: the tracepoints would cost and measure nothing */
	if (sock_start(ts)) {
		log_warn("pid %d: socket capture is unavailable, its database calls outside database/sql "
			 "are not measured",
			 (int)t->pid);
		return false;
	}
	unsigned what = (sig->http_metrics ? SOCK_METRICS : 0) | (sig->traces ? SOCK_SPANS : 0) |
			(t->binary->links_sql ? SOCK_GO_SQL : 0) | logs_signal(ts, t);
	return sock_capture_add_go_target(ts->sock, t->pid, t->id, what, t->binary->tracer) == 0;
}

/* Logs of a target whose sockets are not captured otherwise (a Go target on its uprobes
 * alone, or one with no other signal): the probe follows only its writes to fds 1 and 2. */
static bool logs_add(struct agent_targets *ts, const struct target *t)
{
	if (sock_start(ts)) {
		log_warn("pid %d: socket capture is unavailable, its logs are not read", (int)t->pid);
		return false;
	}
	int err = t->binary
			  ? sock_capture_add_go_target(ts->sock, t->pid, t->id, SOCK_LOGS, t->binary->tracer)
			  : sock_capture_add_target(ts->sock, t->pid, t->id, SOCK_LOGS);
	return err == 0;
}

/* The target measured at its sockets that pid descends from, if any: the kernel follows a
 * socket target's children (nginx workers, PostgreSQL backends) as part of it, so making one
 * a target of its own would split the service's counts. */
static const struct target *socket_ancestor(struct agent_targets *ts, pid_t pid)
{
	for (int depth = 0; depth < 32 && pid > 1; depth++) {
		pid = proc_parent(pid);
		const struct target *t = pid > 1 ? find(ts, pid) : NULL;
		if (t && t->sockets)
			return t;
	}
	return NULL;
}

int targets_consider(struct agent_targets *ts, pid_t pid)
{
	if (pid == getpid() || find(ts, pid))
		return 0;
	struct process_facts facts;
	if (process_facts_read(pid, &facts))
		return 0;
	int sel = selector_match(ts->c.cfg, &facts);
	if (sel < 0) {
		if (selector_may_match_later(ts->c.cfg, &facts))
			pending_pids_add(&ts->pending, pid);
		return 0;
	}
	pending_pids_remove(&ts->pending, pid);
	const struct target *ancestor = socket_ancestor(ts, pid);
	if (ancestor) {
		log_debug("pid %d is measured with pid %d, which forked it: its sockets are captured as "
			  "that target's",
			  (int)pid, (int)ancestor->pid);
		return 0;
	}
	struct target *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (resource_for_pid(pid, &t->res) || binary_key_of_pid(pid, &t->exe)) {
		free(t); /* gone already */
		return 0;
	}
	t->pid = pid;
	t->selector = sel;
	resource_add_container(&t->res, &facts.container);
	/* Probes first, series second: once a target shows in /metrics, its requests count. */
	const struct agent_signals *sig = signals_of(ts, t);
	t->sockets = (sig->http_metrics || (sig->traces && ts->c.traces)) && wants_sockets(sig, pid);
	/* A Go target's logs need its tracer too: their trace context is the tracer's. */
	if (!t->sockets && (sig->http_metrics || (sig->traces && ts->c.traces) || logs_signal(ts, t))) {
		t->binary = binary_for(ts, pid, t);
		int err = 0;
		if (t->binary) { /* types before the pid: before its events can come */
			go_target_runtime_types(&t->binary->types, pid, &t->types);
			err = go_tracer_set_types(t->binary->tracer, pid, &t->types);
		}
		if (t->binary && !err)
			err = go_tracer_add_pid(t->binary->tracer, pid);
		if (err)
			log_warn("cannot trace pid %d: %s", (int)pid, strerror(-err));
		if (t->binary && !err)
			t->binary->users++;
		else
			t->binary = NULL;
	}
	t->id = metrics_registry_add_target(ts->c.reg, &t->res);
	if (t->id < 0) {
		go_binaries_release(t->binary, pid);
		free(t);
		return -ENOMEM;
	}
	if (slo_tracker_add_target(ts->c.slos, t->id, t->res.service_name) < 0)
		log_warn("no SLOs for pid %d: out of memory", (int)pid);
	if (t->sockets && sockets_add(ts, t))
		t->sockets = false;
	if (t->binary)
		t->go_db = go_db_add(ts, t);
	if (logs_signal(ts, t) && !log_pipeline_add_target(ts->c.logs, t->id, &t->res))
		t->logs = t->sockets || t->go_db || logs_add(ts, t);
	if (logs_signal(ts, t) && !t->logs) {
		log_warn("pid %d: its logs are not read", (int)pid);
		log_pipeline_remove_target(ts->c.logs, t->id);
	}
	if (t->binary && t->binary->links_sql && sig->http_metrics && ts->c.pools &&
	    sql_pools_add_target(ts->c.pools, t->id, pid, &t->binary->offsets, t->binary->map_layout) ==
		    -ENOMEM)
		log_warn("no database/sql pool metrics for pid %d: out of memory", (int)pid);
	int err = sig->runtime ? process_metrics_add(ts->c.pm, t->id, pid) : 0;
	if (err)
		log_warn("no runtime metrics for pid %d: %s", (int)pid, strerror(err < 0 ? -err : err));
	/* On failure its spans are counted as dropped (glimpse_spans_dropped_total). */
	if (ts->c.traces && (err = trace_pipeline_add_target(ts->c.traces, t->id, &t->res)))
		log_warn("spans of pid %d will be dropped: %s", (int)pid, strerror(-err));
	pthread_mutex_lock(&ts->lock);
	HASH_ADD_INT(ts->by_pid, pid, t);
	pthread_mutex_unlock(&ts->lock);
	ts->count++;
	log_event(LOG_INFO, "instrumented",
		  "pid=%d selector=%s service=%s exe=%s container=%s pod=%s http=%s logs=%s", (int)pid,
		  ts->c.cfg->selectors[sel].name, t->res.service_name, facts.exe,
		  facts.container.container_id[0] ? facts.container.container_id : "-",
		  facts.container.pod_name[0] ? facts.container.pod_name : "-",
		  t->go_db     ? "uprobes+socket-db"
		  : t->binary  ? "uprobes"
		  : t->sockets ? "socket"
			       : "no",
		  t->logs ? "on" : "off");
	return 1;
}

void targets_exit(struct agent_targets *ts, pid_t pid)
{
	pending_pids_remove(&ts->pending, pid);
	struct target *t = find(ts, pid);
	if (t)
		remove_target(ts, t, REMOVE_EXITED);
}

void targets_exec(struct agent_targets *ts, pid_t pid)
{
	/* Events are read after the fact: the program may already be the one instrumented. */
	struct target *t = find(ts, pid);
	struct binary_key now;
	if (t && binary_key_of_pid(pid, &now) == 0 && memcmp(&now, &t->exe, sizeof(now)) == 0)
		return;
	if (t)
		remove_target(ts, t, REMOVE_EXECED);
	targets_consider(ts, pid);
}

void targets_poll(struct agent_targets *ts)
{
	pending_pids_recheck(&ts->pending, consider_pending, ts);
	if (ts->sock) {
		int n = sock_capture_poll(ts->sock, 0);
		if (n < 0)
			log_debug("socket capture poll: %s", strerror(-n));
	}
	go_binaries_poll(&ts->binaries);
}

void targets_tick(struct agent_targets *ts)
{
	/* An exit event can be lost under load: sweep for the dead. */
	struct target *t, *ttmp;
	HASH_ITER (hh, ts->by_pid, t, ttmp) {
		if (!proc_exists(t->pid)) {
			log_debug("sweep: pid %d is gone", (int)t->pid);
			targets_exit(ts, t->pid);
		}
	}
	go_binaries_stop_idle(&ts->binaries, clock_mono_ns());
	uint64_t dropped, hits;
	go_binaries_totals(&ts->binaries, &dropped, &hits);
	ts->events_dropped = dropped;
	ts->probe_hits = hits;
}

int targets_profile_pids(struct agent_targets *ts, bool offcpu, pid_t *pids, int max, int *hz)
{
	int n = 0;
	pthread_mutex_lock(&ts->lock);
	for (struct target *t = ts->by_pid; t && n < max; t = t->hh.next) {
		const struct agent_signals *sig = signals_of(ts, t);
		if (offcpu ? sig->offcpu_profile : sig->cpu_profile) {
			pids[n++] = t->pid;
			*hz = sig->cpu_profile_hz;
		}
	}
	pthread_mutex_unlock(&ts->lock);
	return n;
}

struct profile_labels *targets_labels(const struct agent_targets *ts)
{
	return ts->c.labels;
}

int targets_calls_map(struct agent_targets *ts, pid_t pid)
{
	int fd = -1, calls = -1, inherited = -1;
	pthread_mutex_lock(&ts->lock);
	struct target *t;
	HASH_FIND_INT(ts->by_pid, &pid, t);
	/* A target in by_pid holds its binary: the tracer lives while the lock is held. */
	if (t && t->binary) {
		go_tracer_context_map_fds(t->binary->tracer, &calls, &inherited);
		if (calls >= 0)
			fd = fcntl(calls, F_DUPFD_CLOEXEC, 0);
	}
	pthread_mutex_unlock(&ts->lock);
	return fd;
}

size_t targets_resources(struct agent_targets *ts, const pid_t *pids, int n, struct resource *out)
{
	size_t k = 0;
	pthread_mutex_lock(&ts->lock);
	for (int i = 0; i < n; i++) {
		struct target *t;
		HASH_FIND_INT(ts->by_pid, &pids[i], t);
		if (t)
			out[k++] = t->res;
	}
	pthread_mutex_unlock(&ts->lock);
	return k;
}

int targets_count(const struct agent_targets *ts)
{
	return ts->count;
}

static double count_value(void *ctx, int target)
{
	(void)target;
	return targets_count(ctx);
}

struct agent_targets *targets_new(const struct targets_consumers *c)
{
	struct agent_targets *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	ts->c = *c;
	pthread_mutex_init(&ts->lock, NULL);
	if (metrics_registry_add_gauge(c->reg, "glimpse.agent.targets", "{process}",
				       "Processes the agent instruments.", false, count_value, ts, false) ||
	    metrics_registry_add_value_at(c->reg, "glimpse.events_dropped", "",
					  "Events the kernel could not queue to glimpse.", true,
					  &ts->events_dropped) ||
	    metrics_registry_add_value_at(c->reg, "glimpse.agent.events_unattributed", "",
					  "Traced events of a process the agent no longer knew.", true,
					  &ts->events_unattributed) ||
	    metrics_registry_add_value_at(
		    c->reg, "glimpse.requests.unmeasured", "",
		    "Server requests not measured: their ResponseWriter is not net/http's "
		    "HTTP/1 or HTTP/2 one.",
		    true, &ts->unmeasured) ||
	    metrics_registry_add_value_at(c->reg, "glimpse.probe.hits", "",
					  "Uprobe hits in the instrumented processes: each costs a trap into "
					  "the kernel.",
					  true, &ts->probe_hits)) {
		targets_free(ts);
		return NULL;
	}
	return ts;
}

void targets_remove_all(struct agent_targets *ts)
{
	targets_poll(ts); /* what the targets queued last still counts */
	struct target *t, *ttmp;
	HASH_ITER (hh, ts->by_pid, t, ttmp)
		remove_target(ts, t, REMOVE_STOPPING);
	go_binaries_stop_all(&ts->binaries);
	sock_capture_detach(ts->sock);
	uint64_t dropped, hits;
	go_binaries_totals(&ts->binaries, &dropped, &hits);
	ts->events_dropped = dropped;
	ts->probe_hits = hits;
}

void targets_free(struct agent_targets *ts)
{
	if (!ts)
		return;
	targets_remove_all(ts);
	pending_pids_clear(&ts->pending);
	sock_capture_free(ts->sock);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}
