// SPDX-License-Identifier: Apache-2.0
#include "agent/go_binaries.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/procfs.h"

/* How long a binary's uprobes outlive its last process. Detaching them takes seconds (each
 * uprobe's removal waits for an RCU grace period) and attaching them again a quarter of one:
 * a rolling restart, whose new process starts as the old one exits, would go untraced for
 * both. Idle uprobes cost nothing: only processes that map the binary hit them. */
#define BINARY_IDLE_NS (60ULL * 1000000000ULL)

int binary_key_of_pid(pid_t pid, struct binary_key *key)
{
	char exe[64];
	struct stat st;
	proc_path(exe, sizeof(exe), pid, "/exe");
	if (stat(exe, &st))
		return -errno;
	memset(key, 0, sizeof(*key));
	key->dev = st.st_dev;
	key->ino = st.st_ino;
	return 0;
}

struct go_binary *go_binaries_get(struct go_binaries *set, pid_t pid, const struct binary_key *exe,
				  const struct go_tracer_opts *opts, go_event_fn fn, void *ctx)
{
	struct go_binary *b;
	HASH_FIND(hh, set->by_key, exe, sizeof(*exe), b);
	if (b)
		return b;
	struct go_target gt;
	if (go_target_open_live(pid, &gt)) /* logs why (not Go, unknown layout), unless it is gone */
		return NULL;
	/* Attach through a descriptor of our own: the uprobes land on the binary even if the
	 * process exits meanwhile (short-lived processes), and it must still be the one read. */
	char path[64];
	proc_path(path, sizeof(path), pid, "/exe");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || st.st_dev != exe->dev || st.st_ino != exe->ino ||
	    !(b = calloc(1, sizeof(*b)))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	snprintf(gt.binary, sizeof(gt.binary), "/proc/self/fd/%d", fd);
	int rc = go_tracer_start(&gt, opts, fn, ctx, &b->tracer);
	close(fd); /* the uprobes hold the file now */
	if (rc) {
		free(b);
		return NULL;
	}
	b->key = *exe;
	b->types = gt.types;
	b->links_sql = go_target_links_sql(&gt);
	b->wire_clients = gt.wire_clients[0] != '\0';
	b->offsets = gt.offsets;
	b->map_layout = gt.map_layout;
	go_target_report_unmeasured(&gt);
	HASH_ADD(hh, set->by_key, key, sizeof(b->key), b);
	log_event(LOG_INFO, "probes attached", "pid=%d go=%s offsets=%s probes=%d", (int)pid, gt.go_version,
		  gt.offsets_source, go_tracer_probe_count(b->tracer));
	return b;
}

static void binary_stop(struct go_binaries *set, struct go_binary *b)
{
	set->dropped_by_stopped += go_tracer_events_dropped(b->tracer);
	set->hits_by_stopped += go_tracer_probe_hits(b->tracer);
	uint64_t t0 = clock_mono_ns();
	go_tracer_stop(b->tracer);
	log_debug("probes on binary %lu:%lu detached in %.3f s", (unsigned long)b->key.dev,
		  (unsigned long)b->key.ino, (double)(clock_mono_ns() - t0) / 1e9);
	HASH_DEL(set->by_key, b);
	free(b);
}

void go_binaries_release(struct go_binary *b, pid_t pid)
{
	if (!b)
		return;
	int err = go_tracer_remove_pid(b->tracer, pid);
	if (err)
		log_debug("pid %d was not in its tracer's filter: %s", (int)pid, strerror(-err));
	if (--b->users == 0)
		b->idle_since_ns = clock_mono_ns();
}

void go_binaries_poll(struct go_binaries *set)
{
	struct go_binary *b, *tmp;
	HASH_ITER (hh, set->by_key, b, tmp) {
		int n = go_tracer_poll(b->tracer, 0);
		if (n < 0)
			log_debug("go tracer poll: %s", strerror(-n));
	}
}

void go_binaries_stop_idle(struct go_binaries *set, uint64_t now)
{
	struct go_binary *b, *tmp;
	HASH_ITER (hh, set->by_key, b, tmp) {
		if (b->users == 0 && now - b->idle_since_ns > BINARY_IDLE_NS)
			binary_stop(set, b);
	}
}

void go_binaries_stop_all(struct go_binaries *set)
{
	struct go_binary *b, *tmp;
	HASH_ITER (hh, set->by_key, b, tmp)
		binary_stop(set, b);
}

void go_binaries_totals(const struct go_binaries *set, uint64_t *events_dropped, uint64_t *probe_hits)
{
	uint64_t dropped = set->dropped_by_stopped, hits = set->hits_by_stopped;
	for (const struct go_binary *b = set->by_key; b; b = b->hh.next) {
		dropped += go_tracer_events_dropped(b->tracer);
		hits += go_tracer_probe_hits(b->tracer);
	}
	*events_dropped = dropped;
	*probe_hits = hits;
}
