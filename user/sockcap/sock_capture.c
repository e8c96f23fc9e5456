// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_capture.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "cli/exit_codes.h"
#include "logs/log_pipeline.h"
#include "sockcap/mux_learn.h"
#include "sockcap/sock_hold.h"
#include "sockcap/sock_metrics.h"
#include "sockcap/sock_spans.h"
#include "sockcap/sock_streams.h"
#include "sockcap/sock_tracer.h"

#define MAX_TARGETS 256

struct sock_capture {
	struct metrics_registry *reg;
	struct sock_tracer *tracer;
	struct sock_streams *streams;
	struct sock_spans *spans;  /* NULL without a trace pipeline */
	struct sock_hold *hold;	   /* calls of SOCK_GO_SQL targets' connections of unknown owner */
	struct log_pipeline *logs; /* SOCK_LOGS targets' stdout and stderr */
	struct {
		pid_t pid;
		int reg_target;
		unsigned signals;
		bool go;		  /* its writes carry their goroutine (a Go tracer runs beside) */
		struct mux_learn *routes; /* a Go target's ServeMux routes, NULL: heuristic */
	} targets[MAX_TARGETS];
	int ntargets;
	/* Copied from the tracer and the streams on the polling thread, read by the exporters'. */
	_Atomic uint64_t hits, dropped, unparseable, unanswered, unrecognized, encrypted;
	uint64_t log_writes; /* SOCKCAP_LOG events the kernel sent */
	uint64_t not_fd;     /* socket calls whose fd did not name their socket: not read */
	bool log_not_go_reported;
	uint64_t sql_deferred;
};

static int target_index(const struct sock_capture *c, uint32_t root)
{
	for (int i = 0; i < c->ntargets; i++)
		if (c->targets[i].pid == (pid_t)root)
			return i;
	return -1;
}

static void record(struct sock_capture *c, int i, const struct sock_call *call)
{
	if (c->targets[i].signals & SOCK_METRICS)
		sock_metrics_record(c->reg, c->targets[i].reg_target, call);
	if (c->spans && (c->targets[i].signals & SOCK_SPANS))
		sock_spans_call(c->spans, call, c->targets[i].reg_target);
}

/* A held call whose connection database/sql did not claim in time: a native driver's. */
static void on_released(void *ctx, const struct sock_call *call, int target)
{
	struct sock_capture *c = ctx;
	(void)target;
	int i = target_index(c, call->root);
	if (i >= 0)
		record(c, i, call);
}

static void on_call(void *ctx, const struct sock_call *call)
{
	struct sock_capture *c = ctx;
	int i = target_index(c, call->root);
	if (i < 0)
		return;
	unsigned signals = c->targets[i].signals;
	if ((signals & SOCK_GO_DB) && call->pid != call->root)
		return; /* a program a Go target started is not part of it */
	if ((signals & SOCK_GO_DB) && !call->server) {
		if (call->go_sql_conn || (call->go && (call->go->flags & SOCKCAP_GO_IN_SQL))) {
			/* database/sql's connection: the uprobes measured what they probe, and what
			 * they do not (a Prepare, BEGIN) stays unmeasured, as without the socket path. */
			c->sql_deferred += 1 + sock_hold_drop(c->hold, call->conn_id);
			return;
		}
		if ((signals & SOCK_GO_SQL) && sock_hold_add(c->hold, call, 0, clock_mono_ns()))
			return;
	}
	if (c->targets[i].routes && call->server && call->wire->protocol == WIRE_HTTP1 &&
	    call->pid == call->root && call->wire->route_exact) {
		const struct wire_call *w = call->wire;
		struct sock_call routed = *call;
		routed.go_pattern = mux_learn_pattern(c->targets[i].routes, call->local_port, w->method,
						      w->host, w->path);
		record(c, i, &routed);
		return;
	}
	record(c, i, call);
}

static void on_request_read(void *ctx, uint32_t tid, uint64_t conn_id)
{
	struct sock_capture *c = ctx;
	if (c->spans)
		sock_spans_request_read(c->spans, tid, conn_id);
}

/* A Go target's HTTP is the uprobes' (they see its routes and goroutines): not measured twice. */
static bool on_accept(void *ctx, uint32_t root, enum wire_protocol p)
{
	struct sock_capture *c = ctx;
	int i = target_index(c, root);
	return i < 0 || !(c->targets[i].signals & SOCK_GO_DB) || sock_db_system(p);
}

static void on_skip(void *ctx, uint32_t tgid, int32_t fd, uint64_t conn_id)
{
	struct sock_capture *c = ctx;
	sock_tracer_skip_conn(c->tracer, tgid, fd, conn_id);
}

static void put_id(uint8_t *out, uint64_t id)
{
	for (int i = 7; i >= 0; i--, id >>= 8)
		out[i] = (uint8_t)id;
}

/* A write to stdout or stderr, with the request its goroutine served (Go targets). */
static void on_log(struct sock_capture *c, const struct sockcap_event *ev)
{
	int i = target_index(c, ev->root);
	if (i < 0 || !c->logs || !(c->targets[i].signals & SOCK_LOGS))
		return;
	struct log_origin o = {
		.target = c->targets[i].reg_target,
		.pid = ev->tgid,
		.tid = ev->tid,
		.fd = ev->fd,
		.mono_ns = ev->end_ns,
		.has_trace = (ev->go.flags & SOCKCAP_GO_CTX) != 0,
	};
	if (c->targets[i].go && ev->tgid == ev->root && !(ev->go.flags & SOCKCAP_GO_SEEN) &&
	    !c->log_not_go_reported) {
		/* C code (cgo, a C library) wrote it: no goroutine to ask which request it served. */
		log_warn("process %u wrote to %s from outside its Go code (cgo or a C library): such lines "
			 "carry no trace",
			 ev->tgid, ev->fd == 2 ? "stderr" : "stdout");
		c->log_not_go_reported = true;
	}
	if (o.has_trace) {
		memcpy(o.trace_id, ev->go.trace_id, sizeof(o.trace_id));
		put_id(o.span_id, ev->go.span_id);
		o.trace_flags = (ev->go.go_flags & GOTRACE_F_SAMPLED) ? 1 : 0;
	}
	log_pipeline_write(c->logs, &o, (const char *)ev->data, ev->len, ev->total);
}

static void on_event(void *ctx, const struct sockcap_event *ev)
{
	struct sock_capture *c = ctx;
	if (ev->kind == SOCKCAP_LOG) {
		on_log(c, ev);
		return;
	}
	if (ev->kind == SOCKCAP_PROC_EXIT && c->logs)
		log_pipeline_process_exit(c->logs, ev->tgid);
	sock_streams_event(c->streams, ev);
}

#define GAUGE(field)                                                \
	static double gauge_##field(void *ctx, int target)          \
	{                                                           \
		(void)target;                                       \
		return (double)((struct sock_capture *)ctx)->field; \
	}
GAUGE(hits)
GAUGE(dropped)
GAUGE(unparseable)
GAUGE(unanswered)
GAUGE(unrecognized)
GAUGE(encrypted)

static int add_gauges(struct sock_capture *c)
{
	static const struct {
		const char *name, *help;
		metric_value_fn fn;
	} gauges[] = {
		{ "glimpse.socket.tracepoint.hits",
		  "Socket-probe tracepoint runs in the captured processes (no trap: a fraction of a µs "
		  "each).",
		  gauge_hits },
		{ "glimpse.socket.events_dropped", "Socket events the kernel could not queue to glimpse.",
		  gauge_dropped },
		{ "glimpse.socket.unparseable",
		  "System calls whose bytes did not parse where a message had to start.", gauge_unparseable },
		{ "glimpse.socket.unanswered",
		  "Requests dropped without a response (closed, or out of sync).", gauge_unanswered },
		{ "glimpse.socket.connections.unrecognized",
		  "Connections glimpse stopped reading: no protocol it parses (TLS included).",
		  gauge_unrecognized },
		{ "glimpse.socket.connections.encrypted",
		  "Connections carrying TLS: their bytes are not readable at the socket.", gauge_encrypted },
	};
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		if (metrics_registry_add_gauge(c->reg, gauges[i].name, "", gauges[i].help, true, gauges[i].fn,
					       c, false))
			return -1;
	return 0;
}

/* What Go targets need of the probe, known before any Go tracer runs (the agent may start the
 * probe for another program first). */
static int go_layout(struct sock_go_maps *go)
{
	int err = go_tracer_context_layout(&go->calls_value, &go->inherited_value);
	if (err)
		log_warn("the socket probe cannot follow Go programs' goroutines: %s", strerror(-err));
	return err;
}

int sock_capture_start(struct metrics_registry *reg, struct trace_pipeline *traces, struct log_pipeline *logs,
		       struct sock_capture **out)
{
	static const struct sock_streams_callbacks cb = {
		.call = on_call,
		.skip = on_skip,
		.request_read = on_request_read,
		.accept = on_accept,
	};
	struct sock_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return GLIMPSE_EXIT_FAILURE;
	struct sock_go_maps go;
	c->reg = reg;
	c->logs = logs;
	c->streams = sock_streams_new(&cb, c);
	c->hold = sock_hold_new();
	int rc = GLIMPSE_EXIT_FAILURE;
	if (!c->streams || !c->hold || (traces && !(c->spans = sock_spans_new(traces))) ||
	    (rc = sock_tracer_start(on_event, c, go_layout(&go) ? NULL : &go, &c->tracer))) {
		sock_capture_free(c);
		return rc;
	}
	/* Last: from here the registry holds c, which then lives until sock_capture_free. */
	if (add_gauges(c))
		log_warn("out of memory: glimpse's socket-capture counters are not exported");
	*out = c;
	return 0;
}

static int add_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals,
		      const struct go_tracer *tr);

int sock_capture_add_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals)
{
	return add_target(c, pid, reg_target, signals & ~(unsigned)(SOCK_GO_DB | SOCK_GO_SQL), NULL);
}

int sock_capture_add_go_http_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals,
				    const struct go_target *t)
{
	int rc = add_target(c, pid, reg_target, signals & ~(unsigned)(SOCK_GO_DB | SOCK_GO_SQL), NULL);
	if (rc)
		return rc;
	struct mux_learn *l;
	if (mux_learn_start(t, &l))
		return 0; /* said why: the heuristic applies */
	int err = sock_tracer_add_ring(c->tracer, mux_learn_events_fd(l), mux_learn_on_event, l);
	if (err) {
		log_warn("process %d: cannot watch the ServeMux learning probe (%s): the socket path's "
			 "http.route comes from the path heuristic",
			 (int)pid, strerror(-err));
		mux_learn_free(l);
		return 0;
	}
	c->targets[c->ntargets - 1].routes = l;
	return 0;
}

int sock_capture_add_go_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals,
			       const struct go_tracer *tr)
{
	if (signals != SOCK_LOGS)
		signals |= SOCK_GO_DB;
	return add_target(c, pid, reg_target, signals, tr);
}

static int add_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals,
		      const struct go_tracer *tr)
{
	if (c->ntargets == MAX_TARGETS) {
		log_error("glimpse captures the sockets of at most %d targets at once", MAX_TARGETS);
		return GLIMPSE_EXIT_FAILURE;
	}
	c->targets[c->ntargets].pid = pid;
	c->targets[c->ntargets].reg_target = reg_target;
	c->targets[c->ntargets].signals = signals;
	c->targets[c->ntargets].go = tr != NULL;
	c->targets[c->ntargets].routes = NULL;
	c->ntargets++;
	int n = 0;
	if (tr) {
		int calls, inherited;
		go_tracer_context_map_fds(tr, &calls, &inherited);
		n = sock_tracer_mark_go(c->tracer, pid, calls, inherited);
	}
	unsigned capture = (signals & SOCK_LOGS) ? SOCKCAP_CAP_LOGS : 0;
	if (signals & (SOCK_METRICS | SOCK_SPANS | SOCK_GO_DB))
		capture |= SOCKCAP_CAP_SOCKETS;
	if (tr && !n)
		capture |= SOCKCAP_CAP_GO;
	if (!n)
		n = sock_tracer_add_target(c->tracer, pid, capture);
	if (n < 0) {
		log_error("cannot capture the sockets of process %d: %s", (int)pid, strerror(-n));
		c->ntargets--;
		return GLIMPSE_EXIT_FAILURE;
	}
	if (n > 0)
		log_info("process %d: its %d child process%s captured too", (int)pid, n,
			 n == 1 ? " is" : "es are");
	return 0;
}

void sock_capture_remove_target(struct sock_capture *c, pid_t pid)
{
	if (c->tracer)
		sock_tracer_remove_target(c->tracer, pid);
	for (int i = 0; i < c->ntargets; i++)
		if (c->targets[i].pid == pid) {
			mux_learn_free(c->targets[i].routes);
			c->targets[i] = c->targets[--c->ntargets];
			break;
		}
}

static void refresh(struct sock_capture *c)
{
	const struct sock_stream_stats *st = sock_streams_stats(c->streams);
	if (c->tracer) {
		c->hits = sock_tracer_counter(c->tracer, SOCKCAP_CTR_HITS);
		c->dropped = sock_tracer_counter(c->tracer, SOCKCAP_CTR_DROPPED);
		c->log_writes = sock_tracer_counter(c->tracer, SOCKCAP_CTR_LOG_WRITES);
		c->not_fd = sock_tracer_counter(c->tracer, SOCKCAP_CTR_NOT_FD);
		if (c->logs)
			log_pipeline_set_lost(c->logs,
					      sock_tracer_counter(c->tracer, SOCKCAP_CTR_LOG_DROPPED));
	}
	c->unparseable = st->wire.unparseable;
	c->unanswered = st->wire.unanswered;
	c->unrecognized = st->unrecognized;
	c->encrypted = st->encrypted;
}

int sock_capture_poll(struct sock_capture *c, int timeout_ms)
{
	if (!c->tracer)
		return 0; /* detached */
	int n = sock_tracer_poll(c->tracer, timeout_ms);
	for (int i = 0; i < c->ntargets; i++)
		mux_learn_tick(c->targets[i].routes);
	sock_hold_release(c->hold, clock_mono_ns() - SOCK_HOLD_NS, on_released, c);
	refresh(c);
	return n;
}

uint64_t sock_capture_sql_deferred(const struct sock_capture *c)
{
	return c->sql_deferred;
}

uint64_t sock_capture_hits(const struct sock_capture *c)
{
	return c->hits;
}

uint64_t sock_capture_log_writes(const struct sock_capture *c)
{
	return c->log_writes;
}

uint64_t sock_capture_uprobe_hits(const struct sock_capture *c)
{
	uint64_t n = 0;
	for (int i = 0; i < c->ntargets; i++)
		n += c->targets[i].routes ? mux_learn_hits(c->targets[i].routes) : 0;
	return n;
}

bool sock_capture_routes(const struct sock_capture *c, pid_t pid, char *buf, size_t len)
{
	for (int i = 0; i < c->ntargets; i++)
		if (c->targets[i].pid == pid && c->targets[i].routes) {
			mux_learn_describe(c->targets[i].routes, buf, len);
			return true;
		}
	return false;
}

void sock_capture_detach(struct sock_capture *c)
{
	if (!c || !c->tracer)
		return;
	sock_tracer_poll(c->tracer, 0);
	refresh(c);
	for (int i = 0; i < c->ntargets; i++)
		mux_learn_close(c->targets[i].routes);
	sock_tracer_stop(c->tracer); /* drains what came in meanwhile */
	c->tracer = NULL;
	sock_hold_release(c->hold, UINT64_MAX, on_released, c);
	refresh(c);
	bool go_db_only = c->ntargets > 0;
	for (int i = 0; i < c->ntargets; i++)
		go_db_only &= (c->targets[i].signals & SOCK_GO_DB) != 0;
	if (c->encrypted && go_db_only)
		/* Which of them were HTTPS (measured by the uprobes) and which, if any, a database
		 * the socket cannot read is not known here: say what holds either way. */
		log_info(
			"%llu connection%s carried TLS: HTTPS is the uprobes' to measure; a PostgreSQL or "
			"Redis connection among them could not be read at the socket, and its calls would be "
			"missing",
			(unsigned long long)c->encrypted, c->encrypted == 1 ? "" : "s");
	else if (c->encrypted)
		log_warn("%llu connection%s carried TLS: encrypted bytes cannot be read at the socket, so "
			 "those requests were not measured",
			 (unsigned long long)c->encrypted, c->encrypted == 1 ? "" : "s");
	if (c->unrecognized > c->encrypted && go_db_only)
		log_info("%llu connection%s spoke neither PostgreSQL nor Redis at the socket (HTTP/2 "
			 "and gRPC are the uprobes' to measure; any other database's calls were not)",
			 (unsigned long long)(c->unrecognized - c->encrypted),
			 c->unrecognized - c->encrypted == 1 ? "" : "s");
	else if (c->unrecognized > c->encrypted)
		log_warn("%llu connection%s spoke no protocol glimpse parses at the socket (HTTP/1, "
			 "PostgreSQL, Redis): not measured",
			 (unsigned long long)(c->unrecognized - c->encrypted),
			 c->unrecognized - c->encrypted == 1 ? "" : "s");
	if (c->unparseable || c->unanswered || c->dropped)
		log_warn("socket capture: %llu system calls did not parse, %llu requests got no response "
			 "glimpse saw, %llu events were dropped",
			 (unsigned long long)c->unparseable, (unsigned long long)c->unanswered,
			 (unsigned long long)c->dropped);
	if (c->not_fd)
		log_warn("socket capture: %llu socket call%s went to a socket its system call's fd did not "
			 "name (made by the kernel under another call): not read",
			 (unsigned long long)c->not_fd, c->not_fd == 1 ? "" : "s");
}

void sock_capture_free(struct sock_capture *c)
{
	if (!c)
		return;
	sock_tracer_stop(c->tracer);
	sock_streams_free(c->streams);
	for (int i = 0; i < c->ntargets; i++)
		mux_learn_free(c->targets[i].routes);
	sock_spans_free(c->spans);
	sock_hold_free(c->hold);
	free(c);
}
