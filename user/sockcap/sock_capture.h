/* SPDX-License-Identifier: Apache-2.0 */
/* Socket capture for a set of targets, feeding a metrics registry: the socket probe
 * (sock_tracer), the per-connection parsers (sock_streams) and the metrics of their calls
 * (sock_metrics), with glimpse's own counters of what could not be measured.
 *
 * Lifecycle: start (load and attach; registers its gauges) → add targets → poll → detach (the
 * targets stop paying; what is queued is drained) → free, after every reader of the registry
 * has stopped (its gauges read this object). */
#ifndef GLIMPSE_SOCKCAP_SOCK_CAPTURE_H
#define GLIMPSE_SOCKCAP_SOCK_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "metrics/registry.h"
#include "gotrace/target.h"
#include "gotrace/tracer.h"
#include "trace/trace_pipeline.h"

struct sock_capture;

/* What a target's calls feed. */
enum sock_signals {
	SOCK_METRICS = 1 << 0,
	SOCK_SPANS = 1 << 1, /* only with a trace pipeline */
	/* A Go program whose HTTP and database/sql the uprobes measure (gotrace): here only its
	 * database wire protocols (PostgreSQL, Redis), minus the calls database/sql made; its
	 * database spans hang under the request of the goroutine that made them. */
	SOCK_GO_DB = 1 << 2,
	/* With SOCK_GO_DB: the program links database/sql (its calls are probed). A connection's
	 * calls made outside a probed call wait (sockcap/sock_hold.h) until the connection is
	 * known to be database/sql's (they are dropped) or the hold time passes (recorded). */
	SOCK_GO_SQL = 1 << 3,
	/* What the process writes to stdout and stderr, to the log pipeline (sock_capture_start);
	 * with none of the flags above, its sockets are not captured at all. */
	SOCK_LOGS = 1 << 4,
};

struct log_pipeline;
/* traces may be NULL (no spans); logs too (no SOCK_LOGS target's lines go anywhere). 0, or an
 * exit code after logging why. */
int sock_capture_start(struct metrics_registry *reg, struct trace_pipeline *traces, struct log_pipeline *logs,
		       struct sock_capture **out);

/* Captures pid and its descendants (present and future) as registry target reg_target,
 * feeding `signals` (enum sock_signals). 0, or an exit code after logging why. */
int sock_capture_add_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals);
/* The same for a Go program whose uprobes tracer is tr: its writes carry their goroutine's
 * request. SOCK_GO_DB: its database wire (the default, unless signals is SOCK_LOGS alone). */
int sock_capture_add_go_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals,
			       const struct go_tracer *tr);
/* A Go program measured by the socket path alone (`attach --capture socket`): as
 * sock_capture_add_target, and its HTTP server requests take their ServeMux's pattern as
 * http.route (sockcap/mux_learn.h: a bounded uprobe window learns each server's mux; where it
 * cannot, it says why once and the path heuristic applies). t: go_target_open's. */
int sock_capture_add_go_http_target(struct sock_capture *c, pid_t pid, int reg_target, unsigned signals,
				    const struct go_target *t);
void sock_capture_remove_target(struct sock_capture *c, pid_t pid);
/* Handles queued events; waits up to timeout_ms. Events handled or -errno. */
int sock_capture_poll(struct sock_capture *c, int timeout_ms);
/* Database calls of SOCK_GO_DB targets left to the uprobes: made inside database/sql, or on a
 * connection database/sql owns. */
uint64_t sock_capture_sql_deferred(const struct sock_capture *c);
/* Tracepoint runs in the captured processes so far (each costs them well under a µs). */
uint64_t sock_capture_hits(const struct sock_capture *c);
/* Writes to stdout and stderr the kernel sent so far (SOCK_LOGS targets). */
uint64_t sock_capture_log_writes(const struct sock_capture *c);
/* Uprobe hits of the ServeMux learning windows so far (they stop when each closes). */
uint64_t sock_capture_uprobe_hits(const struct sock_capture *c);
/* What was learned of pid's ServeMux routes ("port 8080: ServeMux, 7 patterns"); false when
 * its routes are not learned (not a Go target, or it could not be). */
bool sock_capture_routes(const struct sock_capture *c, pid_t pid, char *buf, size_t len);
/* Detaches and drains; then says once what could not be measured (encrypted or unknown
 * protocols, unparseable bytes, unanswered requests). */
void sock_capture_detach(struct sock_capture *c);
void sock_capture_free(struct sock_capture *c);

#endif
