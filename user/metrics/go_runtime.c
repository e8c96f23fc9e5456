// SPDX-License-Identifier: Apache-2.0
/* go.goroutine.count and go.memory.used from outside a Go process.
 *
 * Goroutines: the runtime keeps every g it ever made in allgs (gs are never freed; dead ones
 * wait on free lists for reuse). runtime.NumGoroutine() = gcount() = len(allgs) - free gs -
 * system goroutines, where a goroutine is "system" when isSystemGoroutine(g, false) held at
 * its creation (sched.ngsys). That is the same as counting the gs of allgs whose status is not
 * _Gdead and whose start function is not a system one — which is what we do, reading
 * allglen/allgptr (the runtime's lock-free view of allgs: allglen is published after
 * allgptr, so reading allglen first never overruns the array) and then a window of each g
 * holding atomicstatus and startpc, 1024 gs per process_vm_readv.
 *
 * isSystemGoroutine(g, false), Go 1.19-1.27: the function containing startpc is named
 * "runtime.*", except runtime.main, runtime.corostart (1.22+, iter.Pull coroutines) and
 * runtime.handleAsyncEvent (wasm only); runtime.runfinq (and, 1.24+, runtime.runCleanups,
 * whose goroutines count alike) is system unless it is running a
 * finalizer at that moment — and ngsys is decided once, when runfinq is created (not
 * running one), so NumGoroutine never counts it: treating it as always system is exact for
 * NumGoroutine, not an approximation. A g with startpc 0 (the extra M of cgo callbacks) is
 * not system, as in the runtime (findfunc fails). The set of system functions is computed
 * once from the pclntab at open (sorted [entry, end) ranges), so a verdict is a binary search
 * with no per-goroutine state; the pclntab itself is not kept.
 *
 * Differences from NumGoroutine are transient only: a g between allgadd/gfget and its
 * first run, or between goexit0's _Gdead and gfput, is counted by gcount and not here (or the
 * reverse for a g whose status we read mid-change) — a handful at most under heavy churn.
 *
 * Memory: MemStats.HeapInuse is gcController.heapInUse.load() and MemStats.NumGC is
 * memstats.numgc in Go 1.19-1.23 (mstats.go readmemstats_m), both kept current by the
 * runtime, so reading them live equals what ReadMemStats would return at that instant.
 *
 * Where the variables are: go_runtime_layout.c (symbols, or disassembly when stripped). At
 * open the allgs slice is also checked against allglen/allgptr in the live process. */
#define _GNU_SOURCE /* process_vm_readv */
#include "metrics/go_runtime.h"

#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "binfmt/elf_module.h"
#include "binfmt/gobinary.h"
#include "base/log.h"
#include "base/procfs.h"

#define G_IDLE 0 /* _Gidle: never in allgs */
#define G_DEAD 6 /* _Gdead */
/* _Gdeadextra (Go 1.26+): the g of an extra M kept for cgo callbacks, dead until a callback
 * runs on it, counted in sched.ngsys. Older versions leave such a g _Gdead; none has 11. */
#define G_DEAD_EXTRA 11
#define G_SCAN	     0x1000	/* _Gscan: set while the GC scans the stack, on top of the status */
#define BATCH	     1024	/* iovecs per process_vm_readv (UIO_MAXIOV) */
#define BUF_BYTES    (1u << 20) /* local buffer per process_vm_readv */
#define MERGE_GAP    1024	/* read across gaps up to this size rather than start a new iovec */
#define MAX_RANGE    (64u << 10)
#define MAX_GS	     (1u << 24) /* sanity bound on allglen: 16M goroutines */

struct range {
	uint64_t start, end;
};

struct go_runtime {
	pid_t pid;
	pthread_mutex_t lock;
	/* Runtime (biased) addresses. */
	uint64_t allglen, allgptr, heap_inuse, numgc;
	bool have_memory;
	uint64_t bias;
	/* Each g is read as one window [g + win_lo, g + win_lo + win_len). */
	uint32_t win_lo, win_len, status_at, startpc_at;
	struct range *sys; /* link-time ranges of system goroutine start functions */
	size_t nsys;
	uint64_t *gs; /* reusable: the g pointers */
	size_t gs_cap;
	uint8_t *buf; /* reusable: BUF_BYTES, what one process_vm_readv reads */
	uint32_t *at; /* reusable, one per g of a batch: where its window is in buf */
	struct iovec riov[BATCH];
};

static int system_ranges(struct elf_module *m, struct go_runtime *rt)
{
	const struct gopclntab *t = elf_module_gopclntab(m);
	size_t n = gopclntab_nfuncs(t), cap = 256;
	rt->sys = malloc(cap * sizeof(*rt->sys));
	if (!rt->sys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct go_func fn;
		if (gopclntab_func(t, i, &fn) || strncmp(fn.name, "runtime.", 8))
			continue;
		if (!strcmp(fn.name, "runtime.main") || !strcmp(fn.name, "runtime.corostart") ||
		    !strcmp(fn.name, "runtime.handleAsyncEvent"))
			continue;
		if (rt->nsys == cap) {
			struct range *grown = realloc(rt->sys, 2 * cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			rt->sys = grown;
			cap *= 2;
		}
		/* Address order: adjacent system functions merge into one range. */
		if (rt->nsys && rt->sys[rt->nsys - 1].end == fn.entry)
			rt->sys[rt->nsys - 1].end = fn.end;
		else
			rt->sys[rt->nsys++] = (struct range){ fn.entry, fn.end };
	}
	return 0;
}

/* PIE: where the kernel put the executable segment, from /proc/PID/maps. */
static int load_bias(pid_t pid, struct elf_module *m, uint64_t *bias)
{
	Elf *elf = elf_module_elf(m);
	GElf_Ehdr eh;
	*bias = 0;
	if (!gelf_getehdr(elf, &eh))
		return -ENOEXEC;
	if (eh.e_type != ET_DYN)
		return 0;
	struct proc_exe_maps x;
	size_t nph;
	int rc = proc_exe_maps_read(pid, &x);
	if (rc)
		return rc;
	rc = -ENOENT;
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t k = 0; k < nph && rc; k++) {
			GElf_Phdr ph;
			uint64_t at;
			if (!gelf_getphdr(elf, (int)k, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) ||
			    !(at = proc_exe_addr(&x, ph.p_offset)))
				continue;
			*bias = at - ph.p_vaddr;
			rc = 0;
		}
	}
	proc_exe_maps_free(&x);
	return rc;
}

static int remote_read(pid_t pid, void *buf, size_t len, const struct iovec *riov, unsigned long n)
{
	struct iovec local = { buf, len };
	ssize_t r = process_vm_readv(pid, &local, 1, riov, n, 0);
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EFAULT;
}

/* The runtime's variables must look right in the live process: allglen/allgptr agree with
 * the allgs slice (retried a few times: they differ briefly while a goroutine is added). */
static int check_live(pid_t pid, const struct go_runtime_layout *l, uint64_t bias)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		uint64_t v[5];
		struct iovec riov[3] = {
			{ (void *)(uintptr_t)(l->allglen + bias), 8 },
			{ (void *)(uintptr_t)(l->allgptr + bias), 8 },
			{ (void *)(uintptr_t)(l->allgs + bias), 24 },
		};
		int rc = remote_read(pid, v, sizeof(v), riov, 3);
		if (rc)
			return rc;
		/* v: allglen, allgptr, allgs.ptr, allgs.len, allgs.cap */
		if (v[0] == v[3] && v[1] == v[2] && v[3] <= v[4] && v[0] <= MAX_GS)
			return 0;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return -EINVAL;
}

struct go_runtime *go_runtime_open(pid_t pid)
{
	char exe[64], comm[32] = "?";
	proc_path(exe, sizeof(exe), pid, "/exe");
	proc_comm(pid, pid, comm, sizeof(comm));
	struct elf_module *m = elf_module_open(exe);
	if (!m && !proc_exists(pid)) {
		log_warn("go runtime metrics: process %d does not exist", (int)pid);
		return NULL;
	}
	if (!m) {
		log_warn("go runtime metrics: cannot read the executable of process %d (%s): %s", (int)pid,
			 comm, strerror(errno));
		return NULL;
	}
	struct go_runtime_layout l;
	const char *why = NULL;
	struct go_runtime *rt = calloc(1, sizeof(*rt));
	if (!rt) {
		elf_module_close(m);
		return NULL;
	}
	rt->pid = pid;
	int rc = go_runtime_layout_locate(m, 0, &l, &why);
	if (rc) {
		if (rc == -ENOEXEC) /* not Go: nothing to say, it gets the process metrics only */
			log_debug("go runtime metrics: process %d (%s): %s", (int)pid, comm, why);
		else
			log_warn("go runtime metrics: process %d (%s, %s): %s", (int)pid, comm, l.go_version,
				 why);
		goto fail;
	}
	if ((rc = load_bias(pid, m, &rt->bias))) {
		log_warn(
			"go runtime metrics: process %d (%s): cannot find where its executable is mapped: %s",
			(int)pid, comm, strerror(-rc));
		goto fail;
	}
	if ((rc = system_ranges(m, rt)))
		goto fail;
	if ((rc = check_live(pid, &l, rt->bias))) {
		log_warn("go runtime metrics: process %d (%s, %s): the goroutine list found by %s does not "
			 "look "
			 "right in the running process (%s); not reading it",
			 (int)pid, comm, l.go_version, l.vars_source,
			 rc == -EINVAL ? "inconsistent" : strerror(-rc));
		goto fail;
	}
	rt->allglen = l.allglen + rt->bias;
	rt->allgptr = l.allgptr + rt->bias;
	if (l.have_memory) {
		rt->have_memory = true;
		rt->heap_inuse = l.gc_controller + rt->bias + (uint64_t)l.offsets.gcc_heap_inuse;
		rt->numgc = l.memstats + rt->bias + (uint64_t)l.offsets.mstats_numgc;
	} else {
		log_warn("go runtime metrics: process %d (%s, %s): runtime.memstats/gcController not found "
			 "(by %s); reporting goroutines only",
			 (int)pid, comm, l.go_version, l.vars_source);
	}
	uint32_t st = (uint32_t)l.offsets.g_atomicstatus, pc = (uint32_t)l.offsets.g_startpc;
	rt->win_lo = st < pc ? st : pc;
	rt->win_len = (st + 4 > pc + 8 ? st + 4 : pc + 8) - rt->win_lo;
	rt->status_at = st - rt->win_lo;
	rt->startpc_at = pc - rt->win_lo;
	rt->buf = malloc(BUF_BYTES);
	rt->at = malloc((BUF_BYTES / rt->win_len + 1) * sizeof(*rt->at));
	if (!rt->buf || !rt->at)
		goto fail;
	pthread_mutex_init(&rt->lock, NULL);
	log_debug("go runtime metrics: process %d (%s, %s): variables from %s, offsets from %s, bias 0x%llx, "
		  "%zu system function ranges",
		  (int)pid, comm, l.go_version, l.vars_source, l.offsets_source, (unsigned long long)rt->bias,
		  rt->nsys);
	elf_module_close(m);
	return rt;
fail:
	elf_module_close(m);
	free(rt->sys);
	free(rt->buf);
	free(rt->at);
	free(rt);
	return NULL;
}

void go_runtime_close(struct go_runtime *rt)
{
	if (!rt)
		return;
	pthread_mutex_destroy(&rt->lock);
	free(rt->sys);
	free(rt->gs);
	free(rt->buf);
	free(rt->at);
	free(rt);
}

static bool is_system(const struct go_runtime *rt, uint64_t startpc)
{
	uint64_t pc = startpc - rt->bias;
	size_t lo = 0, hi = rt->nsys;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rt->sys[mid].end <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rt->nsys && rt->sys[lo].start <= pc;
}

/* Reads the ranges riov[0..n) into rt->buf (laid out back to back); a range that cannot be
 * read (which should not happen: gs are never freed) is zeroed, and a zero status is never
 * counted (allgadd refuses _Gidle gs). */
static int read_ranges(struct go_runtime *rt, size_t n, size_t bytes)
{
	size_t done = 0, at = 0;
	while (done < n) {
		struct iovec local = { rt->buf + at, bytes - at };
		ssize_t r = process_vm_readv(rt->pid, &local, 1, rt->riov + done, n - done, 0);
		if (r < 0 && errno != EFAULT)
			return -errno;
		size_t got = r < 0 ? 0 : (size_t)r;
		while (done < n && rt->riov[done].iov_len <= got) {
			got -= rt->riov[done].iov_len;
			at += rt->riov[done].iov_len;
			done++;
		}
		if (done < n) { /* riov[done] failed */
			memset(rt->buf + at, 0, rt->riov[done].iov_len);
			at += rt->riov[done].iov_len;
			done++;
		}
	}
	return 0;
}

static int64_t count_gs(const struct go_runtime *rt, size_t n)
{
	int64_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *w = rt->buf + rt->at[i];
		uint32_t status;
		uint64_t startpc;
		memcpy(&status, w + rt->status_at, sizeof(status));
		memcpy(&startpc, w + rt->startpc_at, sizeof(startpc));
		status &= ~(uint32_t)G_SCAN;
		if (status != G_DEAD && status != G_DEAD_EXTRA && status != G_IDLE && !is_system(rt, startpc))
			count++;
	}
	return count;
}

/* Counts the gs in rt->gs[0..len). Each g's window (status .. startpc) is one range to read,
 * but gs come from the same heap spans, mostly in allocation order, so the windows of
 * neighbours merge into one range: copying the bytes between them costs far less than the
 * kernel's per-iovec page pinning. */
static int count_all(struct go_runtime *rt, size_t len, int64_t *count)
{
	size_t i = 0;
	while (i < len) {
		size_t n = 0, bytes = 0, ngs = 0, range_at = 0;
		uint64_t start = 0, end = 0;
		for (; i < len; i++) {
			if (!rt->gs[i])
				continue;
			uint64_t s = rt->gs[i] + rt->win_lo, e = s + rt->win_len;
			if (n && s >= end && s - end <= MERGE_GAP && e - start <= MAX_RANGE &&
			    bytes + (e - end) <= BUF_BYTES) {
				/* extend the current range up to this g's window */
				rt->at[ngs++] = (uint32_t)(range_at + (s - start));
				bytes += e - end;
				end = e;
				rt->riov[n - 1].iov_len = end - start;
				continue;
			}
			if (n == BATCH || bytes + rt->win_len > BUF_BYTES)
				break;
			range_at = bytes;
			start = s;
			end = e;
			rt->riov[n].iov_base = (void *)(uintptr_t)s;
			rt->riov[n].iov_len = rt->win_len;
			n++;
			rt->at[ngs++] = (uint32_t)bytes;
			bytes += rt->win_len;
		}
		int rc = read_ranges(rt, n, bytes);
		if (rc)
			return rc;
		*count += count_gs(rt, ngs);
	}
	return 0;
}

static int read_locked(struct go_runtime *rt, struct go_runtime_stats *out)
{
	/* allglen before allgptr (the runtime's order for lock-free readers): one syscall. */
	uint8_t hdr[28];
	struct iovec riov[4] = {
		{ (void *)(uintptr_t)rt->allglen, 8 },
		{ (void *)(uintptr_t)rt->allgptr, 8 },
		{ (void *)(uintptr_t)rt->heap_inuse, 8 },
		{ (void *)(uintptr_t)rt->numgc, 4 },
	};
	int rc = remote_read(rt->pid, hdr, rt->have_memory ? 28 : 16, riov, rt->have_memory ? 4 : 2);
	if (rc)
		return rc;
	uint64_t len, ptr;
	memcpy(&len, hdr, 8);
	memcpy(&ptr, hdr + 8, 8);
	if (rt->have_memory) {
		uint32_t numgc;
		memcpy(&out->heap_inuse, hdr + 16, 8);
		memcpy(&numgc, hdr + 24, 4);
		out->gc_count = numgc;
		out->have_memory = true;
	}
	if (len > MAX_GS)
		return -EIO;
	if (len > rt->gs_cap) {
		size_t cap = len + len / 4 + 64;
		uint64_t *grown = realloc(rt->gs, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		rt->gs = grown;
		rt->gs_cap = cap;
	}
	if (len) {
		struct iovec all = { (void *)(uintptr_t)ptr, len * 8 };
		if ((rc = remote_read(rt->pid, rt->gs, len * 8, &all, 1)))
			return rc;
	}
	int64_t count = 0;
	if ((rc = count_all(rt, len, &count)))
		return rc;
	out->goroutines = count < 1 ? 1 : count; /* gcount's floor: at least the caller runs */
	return 0;
}

int go_runtime_read(struct go_runtime *rt, struct go_runtime_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&rt->lock);
	int rc = read_locked(rt, out);
	pthread_mutex_unlock(&rt->lock);
	if (rc == -ESRCH || (rc && !proc_exists(rt->pid)))
		return -ESRCH;
	return rc;
}
