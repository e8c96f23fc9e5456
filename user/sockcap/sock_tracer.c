// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bpf_read.h"
#include "base/log.h"
#include "base/procfs.h"
#include "base/watched.h"
#include "cli/exit_codes.h"
#include "base/bpf_child.h"
#include "sockcap/sock_probe.h"

/* Woken early once this much waits (a quarter of the 2 MiB ring): at 100k requests/s of ~300
 * bytes each, ~20 ms of traffic, under the 100 ms the reader sleeps otherwise. */
#define WAKEUP_BYTES	(512u << 10)
#define MAX_DESCENDANTS 4096

struct sock_tracer {
	int fds[SOCK_NFDS];
	struct watched watched; /* the probe's bitmap of the tgids in its pids map */
	int logs_link;		/* the logs program's attachment, -1 while no target's logs are read */
	int logs_targets;	/* targets whose logs are read */
	struct ring_buffer *rb;
	sock_event_fn fn;
	void *ctx;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct sock_tracer *t = ctx;
	const struct sockcap_event *ev = data;
	if (len >= SOCKCAP_EVENT_HEADER_SIZE && len >= SOCKCAP_EVENT_HEADER_SIZE + ev->len)
		t->fn(t->ctx, ev);
	return 0;
}

/* Whether two link descriptors are one link (the probe sends its sys_exit link twice). */
static bool same_link(int a, int b)
{
	struct bpf_link_info ia = { 0 }, ib = { 0 };
	__u32 la = sizeof(ia), lb = sizeof(ib);
	return !bpf_obj_get_info_by_fd(a, &ia, &la) && !bpf_obj_get_info_by_fd(b, &ib, &lb) && ia.id == ib.id;
}

int sock_tracer_start(sock_event_fn fn, void *ctx, const struct sock_go_maps *go, struct sock_tracer **out)
{
	struct sock_tracer *t = calloc(1, sizeof(*t));
	if (!t)
		return GLIMPSE_EXIT_FAILURE;
	memset(t->fds, -1, sizeof(t->fds));
	t->logs_link = -1;
	t->fn = fn;
	t->ctx = ctx;
	const uint64_t params[SOCK_NPARAMS] = {
		[SOCK_PARAM_WAKEUP_BYTES] = WAKEUP_BYTES,
		[SOCK_PARAM_GO_CALLS_VALUE] = go ? go->calls_value : 0,
		[SOCK_PARAM_GO_INHERITED_VALUE] = go ? go->inherited_value : 0,
	};
	int rc = bpf_child_load(SOCK_PROBE_NAME, params, SOCK_NPARAMS, t->fds, SOCK_NFDS);
	if (rc)
		goto fail;
	if (same_link(t->fds[SOCK_FD_LINKS], t->fds[SOCK_FD_LINKS + 1]))
		log_warn("this kernel has no sock:sock_send_length tracepoint (Linux 6.3+): socket capture "
			 "reads every system call's exit instead, which costs every process of the machine "
			 "about 0.2 us a system call while glimpse runs");
	/* The kernel's fork and exit programs flip bits of the same words. */
	if (watched_map(&t->watched, t->fds[SOCK_FD_WATCHED], "socket probe")) {
		rc = GLIMPSE_EXIT_FAILURE;
		goto fail;
	}
	t->rb = ring_buffer__new(t->fds[SOCK_FD_EVENTS], on_event, t, NULL);
	if (!t->rb) {
		log_error("cannot open the socket probe's ring buffer: %s", strerror(errno));
		rc = GLIMPSE_EXIT_FAILURE;
		goto fail;
	}
	*out = t;
	return 0;
fail:
	sock_tracer_stop(t);
	return rc;
}

int sock_tracer_add_ring(struct sock_tracer *t, int map_fd, int (*fn)(void *ctx, void *data, size_t len),
			 void *ctx)
{
	return ring_buffer__add(t->rb, map_fd, fn, ctx);
}

int sock_tracer_add_pid(struct sock_tracer *t, pid_t pid, pid_t root, unsigned capture)
{
	__u32 key = (__u32)pid;
	struct sockcap_pid value = { .root = (__u32)root, .capture = capture };
	if (!watched_fits(pid))
		return -EINVAL;
	if (bpf_map_update_elem(t->fds[SOCK_FD_PIDS], &key, &value, BPF_ANY))
		return -errno;
	/* Set only once its pids entry exists, cleared only once it is gone: never wrongly clear. */
	watched_set(&t->watched, pid, true);
	return 0;
}

/* The span of pid's executable's code: where Go's own system calls are made from. */
static int exe_text(pid_t pid, struct sockcap_go_proc *out)
{
	char path[64];
	struct stat st;
	if (stat(proc_path(path, sizeof(path), pid, "/exe"), &st))
		return -errno;
	struct proc_map *maps = NULL;
	size_t n = 0;
	int err = proc_exec_maps(pid, &maps, &n);
	if (err)
		return err < 0 ? err : -err;
	out->text_lo = UINT64_MAX;
	out->text_hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (maps[i].inode != st.st_ino)
			continue;
		if (maps[i].start < out->text_lo)
			out->text_lo = maps[i].start;
		if (maps[i].end > out->text_hi)
			out->text_hi = maps[i].end;
	}
	free(maps);
	return out->text_hi ? 0 : -ENOENT;
}

int sock_tracer_mark_go(struct sock_tracer *t, pid_t pid, int calls_fd, int inherited_fd)
{
	__u32 key = (__u32)pid;
	struct sockcap_go_proc proc;
	int err = exe_text(pid, &proc);
	if (err)
		return err;
	if (bpf_map_update_elem(t->fds[SOCK_FD_GO_CALLS], &key, &calls_fd, BPF_ANY) ||
	    bpf_map_update_elem(t->fds[SOCK_FD_GO_INHERITED], &key, &inherited_fd, BPF_ANY) ||
	    bpf_map_update_elem(t->fds[SOCK_FD_GO_PROCS], &key, &proc, BPF_ANY)) {
		err = -errno;
		bpf_map_delete_elem(t->fds[SOCK_FD_GO_CALLS], &key);
		bpf_map_delete_elem(t->fds[SOCK_FD_GO_INHERITED], &key);
		return err;
	}
	return 0;
}

/* Whether target is one of ours whose logs are read. */
static bool logs_read(const struct sock_tracer *t, pid_t target)
{
	__u32 key = (__u32)target;
	struct sockcap_pid p;
	return !bpf_map_lookup_elem(t->fds[SOCK_FD_PIDS], &key, &p) && p.root == key &&
	       (p.capture & SOCKCAP_CAP_LOGS);
}

/* The logs program runs on every system call of the machine: attached while some target's
 * logs are read, detached with the last. 0 or -errno. */
static int logs_hold(struct sock_tracer *t)
{
	if (t->logs_link < 0) {
		int fd = bpf_raw_tracepoint_open(NULL, t->fds[SOCK_FD_LOGS_PROG]);
		if (fd < 0) {
			int err = -errno;
			log_error("cannot attach the logs program (sys_exit): %s", strerror(-err));
			return err;
		}
		t->logs_link = fd;
	}
	t->logs_targets++;
	return 0;
}

static void logs_release(struct sock_tracer *t)
{
	if (t->logs_targets > 0 && --t->logs_targets == 0)
		bpf_child_close(&t->logs_link, 1);
}

int sock_tracer_add_target(struct sock_tracer *t, pid_t target, unsigned capture)
{
	bool logs = (capture & SOCKCAP_CAP_LOGS) && !logs_read(t, target);
	int err = logs ? logs_hold(t) : 0;
	/* The target first: a child it forks from here on is followed by the kernel, so the scan
	 * below misses none (one forked in between is simply found twice). */
	if (!err)
		err = sock_tracer_add_pid(t, target, target, capture);
	if (err) {
		if (logs)
			logs_release(t);
		return err;
	}
	pid_t kids[MAX_DESCENDANTS];
	int n = proc_descendants(target, kids, MAX_DESCENDANTS);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if ((err = sock_tracer_add_pid(t, kids[i], target, capture)))
			return err;
	return n;
}

void sock_tracer_remove_target(struct sock_tracer *t, pid_t target)
{
	if (logs_read(t, target))
		logs_release(t);
	int fd = t->fds[SOCK_FD_PIDS];
	__u32 key, next;
	struct sockcap_pid p;
	/* Deleting while iterating restarts the walk; the map is small. */
	bool found = true;
	while (found) {
		found = false;
		for (int err = bpf_map_get_next_key(fd, NULL, &next); !err;
		     err = bpf_map_get_next_key(fd, &key, &next)) {
			key = next;
			if (!bpf_map_lookup_elem(fd, &key, &p) && p.root == (__u32)target) {
				bpf_map_delete_elem(fd, &key);
				watched_set(&t->watched, (pid_t)key, false);
				bpf_map_delete_elem(t->fds[SOCK_FD_GO_PROCS], &key);
				bpf_map_delete_elem(t->fds[SOCK_FD_GO_CALLS], &key);
				bpf_map_delete_elem(t->fds[SOCK_FD_GO_INHERITED], &key);
				found = true;
				break;
			}
		}
	}
}

void sock_tracer_skip_conn(struct sock_tracer *t, uint32_t tgid, int32_t fd, uint64_t conn_id)
{
	struct sockcap_conn_key key = { .tgid = tgid, .fd = fd };
	struct sockcap_conn c;
	int map = t->fds[SOCK_FD_CONNS];
	if (bpf_map_lookup_elem(map, &key, &c) || c.id != conn_id)
		return;
	c.flags |= SOCKCAP_CONN_SKIP;
	bpf_map_update_elem(map, &key, &c, BPF_EXIST);
}

int sock_tracer_poll(struct sock_tracer *t, int timeout_ms)
{
	return bpf_ring_drain(t->rb, timeout_ms);
}

uint64_t sock_tracer_counter(const struct sock_tracer *t, enum sockcap_counter which)
{
	return bpf_percpu_counter(t->fds[SOCK_FD_COUNTERS], which);
}

void sock_tracer_stop(struct sock_tracer *t)
{
	if (!t)
		return;
	/* Detach first, so that what is drained is all there will be. */
	bpf_child_close(&t->logs_link, 1);
	bpf_child_close(t->fds + SOCK_FD_LINKS, SOCK_NFDS - SOCK_FD_LINKS);
	if (t->rb) {
		ring_buffer__consume(t->rb);
		ring_buffer__free(t->rb);
	}
	watched_unmap(&t->watched);
	bpf_child_close(t->fds, SOCK_NFDS);
	free(t);
}
