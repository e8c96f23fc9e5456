// SPDX-License-Identifier: Apache-2.0
/* glimpse attach's probes: the capture path chosen, started, polled and detached. */
#include <errno.h>
#include <malloc.h>
#include <string.h>

#include "cli/attach_session.h"
#include "cli/attach_profile.h"
#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/preflight.h"
#include "gotrace/tracer.h"
#include "logs/log_pipeline.h"
#include "metrics/sql_pools.h"
#include "sockcap/mux_learn.h"
#include "sockcap/sock_capture.h"
#include "trace/trace_pipeline.h"

static void on_event(void *ctx, const struct gotrace_event *ev)
{
	struct attach_session *a = ctx;
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
	struct attach_session *a = ctx;
	return target == a->target ? (double)a->active_requests : 0;
}

static void refresh_span_gauges(struct attach_session *a)
{
	if (a->traces) {
		struct trace_stats ts = trace_pipeline_stats(a->traces);
		a->spans_sampled = ts.sampled;
		a->spans_unsampled = ts.dropped;
	}
}

void attach_session_refresh(struct attach_session *a)
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

/* A Go target's database wire (pgx, go-redis, any driver) at its sockets, beside the uprobes:
 * HTTP and database/sql stay theirs. NULL (said once) when the socket probe cannot run. */
static struct sock_capture *start_go_db_capture(struct attach_session *a, const struct go_target *t)
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
static int start_go_logs_capture(struct attach_session *a)
{
	malloc_trim(0); /* as above */
	int rc = sock_capture_start(a->reg, NULL, a->logs, &a->sock);
	return rc ? rc : sock_capture_add_go_target(a->sock, a->pid, a->target, SOCK_LOGS, a->tracer);
}

int attach_session_choose(struct attach_session *s, const struct attach_opts *o)
{
	pid_t pid = o->pid;
	int rc;
	/* Only a program known not to be Go goes to the sockets by default: one that cannot be read
	 * takes the uprobe path, whose checks say why (permission, a kernel thread, gone). */
	s->sockets = o->capture == ATTACH_CAPTURE_SOCKETS ||
		     (o->capture == ATTACH_CAPTURE_AUTO && go_target_is_go_program(pid) == 0);
	if (s->sockets && (rc = preflight_target(pid)))
		return rc;
	/* A Go program on the socket path: its binary tells where its ServeMux's patterns are. */
	int is_go = s->sockets ? go_target_is_go_program(pid) : 0;
	if (is_go < 0)
		log_warn("process %d: its executable cannot be read (%s): if it is a Go program, its "
			 "http.route comes from the path heuristic",
			 (int)pid, strerror(-is_go));
	s->go_routes = is_go == 1 && !go_target_open(pid, &s->go);
	if (is_go == 1 && !s->go_routes)
		log_warn("process %d: socket capture goes on without its ServeMux patterns: its http.route "
			 "comes from the path heuristic",
			 (int)pid);
	if (!s->sockets && (rc = go_target_open(pid, &s->go)))
		return rc;
	return 0;
}

/* HTTP (and whatever else it speaks) at the target's sockets; a Go ServeMux's patterns, when
 * its binary can be read, learnt in a short uprobe window. */
static int start_sockets(struct attach_session *s, const struct attach_opts *o)
{
	unsigned sigs = SOCK_METRICS | SOCK_SPANS | (o->logs ? SOCK_LOGS : 0);
	int rc;
	if ((rc = sock_capture_start(s->reg, s->traces, s->logs, &s->sock)) ||
	    (rc = s->go_routes ? sock_capture_add_go_http_target(s->sock, s->pid, s->target, sigs, &s->go)
			       : sock_capture_add_target(s->sock, s->pid, s->target, sigs)))
		return rc;
	char routes[256];
	if (s->go_routes && sock_capture_routes(s->sock, s->pid, routes, sizeof(routes)))
		log_info("HTTP/1: socket capture; http.route: the ServeMux patterns, read from memory "
			 "once a short uprobe window (at most %d hits) has seen each server's handler",
			 MUX_LEARN_MAX_HITS);
	else if (s->go_routes)
		log_info("HTTP/1: socket capture; http.route: the path heuristic");
	if (s->go_routes) /* the learning window's hits: 0 without one */
		metrics_registry_add_value_at(
			s->reg, "glimpse.probe.hits", "",
			"Uprobe hits in the target: each costs it a trap into the kernel.", true,
			&s->probe_hits);
	return 0;
}

/* A Go program's HTTP and database/sql through uprobes; its database wire (pgx, go-redis) and
 * its logs at the sockets when asked for. */
static int start_uprobes(struct attach_session *s, const struct attach_opts *o)
{
	int rc;
	go_target_runtime_types(&s->go.types, s->pid, &s->types);
	/* Log lines carry their request's trace context, and profile labels join samples to
	 * requests by their span ids: the tracer makes them even with no span to export (no
	 * uprobe more; the lineage probe stays off unless spans or logs are wanted). */
	bool tracing = s->traces != NULL || o->logs;
	struct go_tracer_opts tracer_opts = { .lineage = tracing,
					      .tracing = tracing || o->profile.on,
					      .types = &s->types };
	go_target_report_unmeasured(&s->go);
	if (!(s->pools = sql_pools_new(s->reg)))
		return GLIMPSE_EXIT_FAILURE;
	if (go_target_links_sql(&s->go) &&
	    sql_pools_add_target(s->pools, s->target, s->pid, &s->go.offsets, s->go.map_layout) == -ENOMEM)
		return GLIMPSE_EXIT_FAILURE;
	if ((rc = go_tracer_start(&s->go, &tracer_opts, on_event, s, &s->tracer)))
		return rc;
	metrics_registry_add_updown(s->reg, "http.server.active_requests", "{request}",
				    "Number of active HTTP server requests.", active_requests, s, true);
	/* Only where it buys something: the read/write tracepoints cost every request. */
	if ((o->capture == ATTACH_CAPTURE_AUTO && s->go.wire_clients[0]) ||
	    o->capture == ATTACH_CAPTURE_UPROBES_DB)
		s->sock_db = (s->sock = start_go_db_capture(s, &s->go)) != NULL;
	if (o->logs && !s->sock && (rc = start_go_logs_capture(s)))
		return rc;
	metrics_registry_add_value_at(s->reg, "glimpse.events_dropped", "",
				      "Events the kernel could not queue to glimpse.", true,
				      &s->events_dropped);
	metrics_registry_add_value_at(s->reg, "glimpse.requests.unmeasured", "",
				      "Server requests not measured: their ResponseWriter is not net/http's "
				      "HTTP/1 or HTTP/2 one.",
				      true, &s->unmeasured);
	metrics_registry_add_value_at(s->reg, "glimpse.probe.hits", "",
				      "Uprobe hits in the target: each costs it a trap into the kernel.",
				      true, &s->probe_hits);
	return 0;
}

int attach_session_start(struct attach_session *s, const struct attach_opts *o)
{
	if (s->traces) {
		metrics_registry_add_value_at(s->reg, "glimpse.spans.sampled", "{span}",
					      "Spans kept by sampling.", true, &s->spans_sampled);
		metrics_registry_add_value_at(s->reg, "glimpse.spans.unsampled", "{span}",
					      "Spans sampling left out.", true, &s->spans_unsampled);
	}
	return s->sockets ? start_sockets(s, o) : start_uprobes(s, o);
}

int attach_session_poll(struct attach_session *s, int timeout_ms)
{
	int n = s->tracer ? go_tracer_poll(s->tracer, s->sock ? timeout_ms / 2 : timeout_ms) : 0;
	if (s->sock && n >= 0) {
		int m = sock_capture_poll(s->sock, s->tracer ? timeout_ms / 2 : timeout_ms);
		n = m < 0 ? m : n + m;
	}
	return n;
}

void attach_session_detach(struct attach_session *s)
{
	attach_session_refresh(s);
	sock_capture_detach(s->sock);
	if (s->logs) {
		log_pipeline_flush(s->logs);
		struct log_stats ls = log_pipeline_stats(s->logs);
		log_event(LOG_INFO, "logs", "records=%llu truncated=%llu dropped=%llu",
			  (unsigned long long)ls.records, (unsigned long long)ls.truncated,
			  (unsigned long long)ls.dropped);
	}
	if (s->go_routes && s->sock) {
		char routes[512] = "";
		attach_session_refresh(s);
		if (sock_capture_routes(s->sock, s->pid, routes, sizeof(routes)))
			log_event(LOG_INFO, "routes", "uprobe_hits=%llu %s",
				  (unsigned long long)s->probe_hits,
				  routes[0] ? routes : "no HTTP server seen");
	}
	uint64_t too_big = s->tracer ? go_tracer_headers_too_big(s->tracer) : 0;
	if (too_big)
		log_warn("%llu requests had more headers than glimpse walks: their traceparent was not "
			 "looked for and their spans began new traces",
			 (unsigned long long)too_big);
	go_tracer_stop(s->tracer);
	s->tracer = NULL;
}

void attach_session_free(struct attach_session *s)
{
	go_tracer_stop(s->tracer);
	s->tracer = NULL;
	sock_capture_free(s->sock);
	s->sock = NULL;
	sql_pools_free(s->pools);
	s->pools = NULL;
}
