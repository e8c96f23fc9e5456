/* SPDX-License-Identifier: Apache-2.0 */
/* Processes that match no selector yet but may once they listen (a selector on a port): each
 * is looked at again for a while after it was first seen — after 50 ms, then at doubling
 * intervals up to 2 s, for 60 s (a server listens within moments of its start; a program that
 * never listens should cost little). At most 256 at a time: the oldest gives way. */
#ifndef GLIMPSE_AGENT_PENDING_PIDS_H
#define GLIMPSE_AGENT_PENDING_PIDS_H

#include <sys/types.h>

struct pending_pid;

struct pending_pids {
	struct pending_pid *by_pid; /* insertion order: oldest first */
};

/* Watches pid; one already watched keeps its first deadline. Out of memory: not watched. */
void pending_pids_add(struct pending_pids *set, pid_t pid);
/* Forgets pid (it matched, or exited); nothing if it is not watched. */
void pending_pids_remove(struct pending_pids *set, pid_t pid);
/* Calls consider(ctx, pid) for each process whose next look is due, after forgetting those
 * whose window closed or that are gone. consider may remove pid (and only pid) from the set. */
void pending_pids_recheck(struct pending_pids *set, void (*consider)(void *ctx, pid_t pid), void *ctx);
/* Forgets every process. */
void pending_pids_clear(struct pending_pids *set);

#endif
