// SPDX-License-Identifier: Apache-2.0
#include "agent/pending_pids.h"

#include <stdint.h>
#include <stdlib.h>
#include <uthash.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/procfs.h"

#define PENDING_FIRST_NS   (50ULL * 1000000ULL)
#define PENDING_MAX_GAP_NS (2000ULL * 1000000ULL)
#define PENDING_WINDOW_NS  (60ULL * 1000000000ULL)
#define PENDING_MAX	   256

struct pending_pid {
	pid_t pid;
	uint64_t until_ns, next_ns, gap_ns;
	UT_hash_handle hh;
};

void pending_pids_remove(struct pending_pids *set, pid_t pid)
{
	struct pending_pid *p;
	HASH_FIND_INT(set->by_pid, &pid, p);
	if (p) {
		HASH_DEL(set->by_pid, p);
		free(p);
	}
}

void pending_pids_add(struct pending_pids *set, pid_t pid)
{
	struct pending_pid *p;
	HASH_FIND_INT(set->by_pid, &pid, p);
	if (p)
		return; /* keeps its first deadline */
	if (HASH_COUNT(set->by_pid) >= PENDING_MAX) {
		struct pending_pid *oldest = set->by_pid;
		log_debug("pid %d is no longer watched for a listening socket: %d newer processes are",
			  (int)oldest->pid, PENDING_MAX);
		HASH_DEL(set->by_pid, oldest);
		free(oldest);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	p->pid = pid;
	uint64_t now = clock_mono_ns();
	p->until_ns = now + PENDING_WINDOW_NS;
	p->gap_ns = PENDING_FIRST_NS;
	p->next_ns = now + p->gap_ns;
	HASH_ADD_INT(set->by_pid, pid, p);
	log_debug("pid %d may match once it listens: watching it", (int)pid);
}

/* Servers open their sockets after exec: look again at those that would match once listening. */
void pending_pids_recheck(struct pending_pids *set, void (*consider)(void *ctx, pid_t pid), void *ctx)
{
	uint64_t now = clock_mono_ns();
	struct pending_pid *p, *tmp;
	HASH_ITER (hh, set->by_pid, p, tmp) {
		pid_t pid = p->pid;
		if (now < p->next_ns)
			continue;
		if (now > p->until_ns || !proc_exists(pid)) { /* exits are removed by their event too */
			pending_pids_remove(set, pid);
			continue;
		}
		p->gap_ns = p->gap_ns * 2 < PENDING_MAX_GAP_NS ? p->gap_ns * 2 : PENDING_MAX_GAP_NS;
		p->next_ns = now + p->gap_ns;
		consider(ctx, pid); /* removes it from the set (p is freed) when it matches */
	}
}

void pending_pids_clear(struct pending_pids *set)
{
	struct pending_pid *p, *tmp;
	HASH_ITER (hh, set->by_pid, p, tmp) {
		HASH_DEL(set->by_pid, p);
		free(p);
	}
}
