/* SPDX-License-Identifier: Apache-2.0 */
/* The Go tracer's BPF lifecycle: open → set the binary's struct offsets → load → uprobes on
 * each hooked function's entry and every RET, for one process → poll the ring buffer → one
 * cleanup path. */
#ifndef GLIMPSE_GO_TRACER_H
#define GLIMPSE_GO_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "gotrace/target.h"
#include "gotrace.h"

struct go_tracer;
typedef void (*go_event_fn)(void *ctx, const struct gotrace_event *ev);

struct go_tracer_opts {
	/* Follow goroutine lineage (runtime.newproc1's RETs: 1 uprobe hit per goroutine started) so
	 * work a handler hands to other goroutines hangs under its request. Only traces need it. */
	bool lineage;
	/* Make trace context (trace ids, traceparent) at all; metrics alone do without. */
	bool tracing;
	/* Attach to the binary for every process that runs it, and trace only the processes
	 * added with go_tracer_add_pid (the agent: one set of uprobes per binary, not per
	 * replica). Otherwise the uprobes are for t->pid alone. */
	bool shared;
	/* Not shared: t->pid's types (go_target_runtime_types), in place before any probe can
	 * fire (shared tracers: go_tracer_set_types before go_tracer_add_pid). */
	const struct gotrace_types *types;
};

/* Shared tracers: start or stop tracing a process. 0 or -errno. */
int go_tracer_add_pid(struct go_tracer *tr, pid_t pid);
int go_tracer_remove_pid(struct go_tracer *tr, pid_t pid);

/* 0, or an exit code after logging why. */
int go_tracer_start(const struct go_target *t, const struct go_tracer_opts *opts, go_event_fn fn, void *ctx,
		    struct go_tracer **out);
/* Delivers queued events to fn; waits up to timeout_ms for more. Returns events handled or -errno. */
int go_tracer_poll(struct go_tracer *tr, int timeout_ms);
/* Server requests in flight in pid now. */
int64_t go_tracer_active_requests(const struct go_tracer *tr, pid_t pid);
/* Events the kernel could not queue (ring buffer full). */
uint64_t go_tracer_events_dropped(const struct go_tracer *tr);
/* Requests whose Header map was too large for the BPF walk: their traceparent was not looked
 * for, and their spans began new traces. */
uint64_t go_tracer_headers_too_big(const struct go_tracer *tr);
/* Where pid's interface types lie (go_target_runtime_types), for the walk to a request's local
 * port; until set, the process's requests carry no server.port. 0 or -errno. */
int go_tracer_set_types(struct go_tracer *tr, pid_t pid, const struct gotrace_types *types);
/* Uprobe hits in the traced processes so far (glimpse_probe_hits_total). */
uint64_t go_tracer_probe_hits(const struct go_tracer *tr);
/* The maps of calls in flight and of inherited contexts (bpf/gotrace.bpf.c), which the socket
 * probe reads to tie database calls made at the sockets to their goroutine's request
 * (sockcap/sock_tracer.h): descriptors the tracer keeps. */
void go_tracer_context_map_fds(const struct go_tracer *tr, int *calls_fd, int *inherited_fd);
/* Another probe family that reads those maps (the socket probe, the CPU profiler) holds them as
 * inner maps of an outer map: before its load, the template behind outer gets the value size
 * the tracer reported (0: nothing to do). 0, or -errno after logging which probe could not. */
struct bpf_map;
int go_tracer_size_inner_map(struct bpf_map *outer, uint64_t value_size, const char *probe);
/* Their value sizes, the same for every tracer of this build (read from the BPF object, not
 * loaded). 0 or -errno. */
int go_tracer_context_layout(uint32_t *calls_value, uint32_t *inherited_value);
/* Number of uprobes attached. */
int go_tracer_probe_count(const struct go_tracer *tr);
/* Detaches every probe (the target keeps running untouched), drains, frees. */
void go_tracer_stop(struct go_tracer *tr);

#endif
