/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's Go tracers: one set of uprobes per Go binary, shared by every target that runs
 * it and kept a while after its last process exits (a restarted process of the same binary is
 * traced at once). A binary is known by its file's device and inode. */
#ifndef GLIMPSE_AGENT_GO_BINARIES_H
#define GLIMPSE_AGENT_GO_BINARIES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "gotrace/target.h"
#include "gotrace/tracer.h"

struct binary_key {
	dev_t dev;
	ino_t ino;
};

/* The program pid runs (its /proc/PID/exe), or -errno when it is gone. */
int binary_key_of_pid(pid_t pid, struct binary_key *key);

struct go_binary {
	struct binary_key key;
	struct go_tracer *tracer;
	struct go_type_offsets types;	/* go_target's: the types the walk to server.port checks */
	bool links_sql;			/* database/sql's calls are probed */
	bool wire_clients;		/* links pgx or go-redis (go_target.wire_clients) */
	struct go_http_offsets offsets; /* and the map layout: where its sql.DB pools' fields are */
	uint32_t map_layout;
	int users;		/* targets running it; the caller counts them in */
	uint64_t idle_since_ns; /* when users fell to 0 */
	UT_hash_handle hh;
};

struct go_binaries {
	struct go_binary *by_key;
	uint64_t dropped_by_stopped, hits_by_stopped; /* of the tracers stopped so far */
};

/* The binary pid runs (exe: its key, read by the caller), its tracer started with opts and fn
 * on first use. NULL when it cannot be traced (logged: not Go, unknown layout) or is gone. */
struct go_binary *go_binaries_get(struct go_binaries *set, pid_t pid, const struct binary_key *exe,
				  const struct go_tracer_opts *opts, go_event_fn fn, void *ctx);
/* pid leaves b's filter; b becomes idle when it was its last user. b may be NULL. */
void go_binaries_release(struct go_binary *b, pid_t pid);
/* Reads every tracer's queued events (never blocks). */
void go_binaries_poll(struct go_binaries *set);
/* Stops the tracers idle for long (now: clock_mono_ns()). */
void go_binaries_stop_idle(struct go_binaries *set, uint64_t now);
/* Stops every tracer. */
void go_binaries_stop_all(struct go_binaries *set);
/* Events the kernel could not queue and uprobe hits, of every tracer, stopped ones included. */
void go_binaries_totals(const struct go_binaries *set, uint64_t *events_dropped, uint64_t *probe_hits);

#endif
