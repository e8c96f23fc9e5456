/* SPDX-License-Identifier: Apache-2.0 */
/* The socket probe's BPF lifecycle (bpf/sockcap.bpf.c): open → size the wakeup batch → load →
 * attach the tracepoints (socket send and receive, TCP state, process fork and exit; sys_exit
 * for logs only while some target's logs are read) → add processes → poll the ring buffer →
 * one cleanup path. One tracer serves any number of processes: the tracepoints are global and
 * filter on the process in the kernel. */
#ifndef GLIMPSE_SOCKCAP_SOCK_TRACER_H
#define GLIMPSE_SOCKCAP_SOCK_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockcap.h"

struct sock_tracer;
typedef void (*sock_event_fn)(void *ctx, const struct sockcap_event *ev);

/* The value sizes of the Go tracer's maps the probe reads to tie a Go target's writes to its
 * requests and its database/sql calls (go_tracer_context_layout). */
struct sock_go_maps {
	uint32_t calls_value, inherited_value;
};

/* go may be NULL (no Go target will be marked). 0, or an exit code after logging why. */
int sock_tracer_start(sock_event_fn fn, void *ctx, const struct sock_go_maps *go, struct sock_tracer **out);
/* pid is a Go program the uprobes measure too, with that tracer's maps (descriptors): its
 * writes carry their goroutine and context. 0 or -errno. */
int sock_tracer_mark_go(struct sock_tracer *t, pid_t pid, int calls_fd, int inherited_fd);
/* Captures pid's sockets and/or logs (capture: enum sockcap_capture), and those of the
 * processes it forks from now on, as root's (a target: its own root). 0 or -errno. */
int sock_tracer_add_pid(struct sock_tracer *t, pid_t pid, pid_t root, unsigned capture);
/* Adds target and every process already descended from it (nginx workers, PostgreSQL
 * backends); returns how many descendants were added, or -errno. */
int sock_tracer_add_target(struct sock_tracer *t, pid_t target, unsigned capture);
/* Stops capturing target and the descendants found through it. */
void sock_tracer_remove_target(struct sock_tracer *t, pid_t target);
/* User space gave up on a connection's bytes (not a protocol glimpse parses): the kernel stops
 * sending them. A connection since closed and reopened on the same fd is left alone. */
void sock_tracer_skip_conn(struct sock_tracer *t, uint32_t tgid, int32_t fd, uint64_t conn_id);
/* Polls another ring buffer (map fd) beside the probe's, with its own callback (a ring buffer
 * whose records are doorbells: sockcap/mux_learn.h). 0 or -errno. */
int sock_tracer_add_ring(struct sock_tracer *t, int map_fd, int (*fn)(void *ctx, void *data, size_t len),
			 void *ctx);
/* Delivers queued events to fn; waits up to timeout_ms for more. Events handled or -errno. */
int sock_tracer_poll(struct sock_tracer *t, int timeout_ms);
/* A kernel-side counter, summed over CPUs. */
uint64_t sock_tracer_counter(const struct sock_tracer *t, enum sockcap_counter which);
/* Detaches (the processes stop paying at once), drains what is queued, frees. */
void sock_tracer_stop(struct sock_tracer *t);

#endif
