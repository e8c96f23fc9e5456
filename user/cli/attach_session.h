/* SPDX-License-Identifier: Apache-2.0 */
/* What measures an attached target: the Go tracer's uprobes, the socket probe, or both (a Go
 * program's database wire), chosen by --capture and by what the target is. It feeds decoded
 * calls to the metrics registry, the trace and log pipelines and the profile's labels, and
 * serves its own gauges (active requests, probe hits, drops) from copies refreshed on the
 * event thread, so exporter threads never touch the probes, which go away before they do. */
#ifndef GLIMPSE_ATTACH_SESSION_H
#define GLIMPSE_ATTACH_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/attach_options.h"
#include "gotrace/call_metrics.h"
#include "gotrace/target.h"

struct attach_session {
	/* Set by the caller before attach_session_start; owned by it. */
	struct metrics_registry *reg;
	struct trace_pipeline *traces;	/* NULL when no span has anywhere to go */
	struct log_pipeline *logs;	/* --logs */
	struct attach_profile *profile; /* NULL: --profile is off */
	struct db_driver_cache *drivers;
	int target;
	pid_t pid;
	/* Chosen by attach_session_choose. */
	bool sockets;	     /* the socket path measures HTTP (any program, or --capture socket) */
	bool go_routes;	     /* sockets, and a Go ServeMux's patterns give http.route */
	struct go_target go; /* the Go program (zero for another) */
	/* Owned by the session. */
	struct go_tracer *tracer;
	struct sock_capture *sock;  /* the socket path, a Go target's database wire, or its logs */
	bool sock_db;		    /* sock is a Go target's database wire (else only its logs) */
	struct sql_pools *pools;    /* database/sql pools, read at scrape time */
	struct gotrace_types types; /* where the target's ResponseWriters and connections are */
	bool unmeasured_reported;
	_Atomic int64_t active_requests;
	_Atomic uint64_t events_dropped, unmeasured, probe_hits, spans_sampled, spans_unsampled;
};

/* Picks the capture path for o->pid and opens its Go binary when one is needed. 0 or an exit
 * code after logging why. */
int attach_session_choose(struct attach_session *s, const struct attach_opts *o);
/* Registers the session's gauges and starts its probes. 0 or an exit code after logging why. */
int attach_session_start(struct attach_session *s, const struct attach_opts *o);
/* Reads queued events for up to timeout_ms: how many, or -errno. */
int attach_session_poll(struct attach_session *s, int timeout_ms);
/* Copies the probes' counters for the gauges and the live view. */
void attach_session_refresh(struct attach_session *s);
/* Detaches every probe (the target stops paying at once), drains the tracer and logs what was
 * learnt (routes, oversized headers). The counters stay readable. */
void attach_session_detach(struct attach_session *s);
/* Frees what the session owns; after the exporters that read its gauges have stopped. */
void attach_session_free(struct attach_session *s);

#endif
