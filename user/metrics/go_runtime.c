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
 * Stripped binaries: the variables are found by disassembling runtime functions present in
 * every Go program (the linker keeps them: the scheduler and GC call them):
 *   allgs            runtime.forEachG: the one address X loaded together with X+8 (ptr, len)
 *   allglen, allgptr runtime.forEachGRace: its two 8-byte loads, in that order (atomicAllG)
 *   memstats         runtime.gcMarkTermination: the one base B for which B+last_gc_unix,
 *                    B+pause_total_ns, B+numgc, B+numforcedgc and B+last_gc_nanotime are
 *                    all referenced (offsets from DWARF or the table)
 *   gcController     runtime.(*mheap).allocSpan (heapInUse, heapReleased, heapFree,
 *                    mappedReady) and runtime.(*mheap).freeSpanLocked (heapInUse, heapFree):
 *                    the one base that fits both
 * Anything ambiguous or missing is an error (or have_memory=false), never a guess; at open
 * the allgs slice is also checked against allglen/allgptr in the live process. */
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

#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "binfmt/gobinary.h"
#include "base/log.h"
#include "base/procfs.h"

#define G_IDLE 0 /* _Gidle: never in allgs */
#define G_DEAD 6 /* _Gdead */
/* _Gdeadextra (Go 1.26+): the g of an extra M kept for cgo callbacks, dead until a callback
 * runs on it, counted in sched.ngsys. Older versions leave such a g _Gdead; none has 11. */
#define G_DEAD_EXTRA   11
#define G_SCAN	       0x1000	  /* _Gscan: set while the GC scans the stack, on top of the status */
#define BATCH	       1024	  /* iovecs per process_vm_readv (UIO_MAXIOV) */
#define BUF_BYTES      (1u << 20) /* local buffer per process_vm_readv */
#define MERGE_GAP      1024	  /* read across gaps up to this size rather than start a new iovec */
#define MAX_RANGE      (64u << 10)
#define MAX_GS	       (1u << 24) /* sanity bound on allglen: 16M goroutines */
#define MAX_FUNC_BYTES (1u << 20)
#define MAX_REFS       8192
#define MAX_BASES      16

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

struct refs {
	struct rip_ref *v;
	size_t n;
};

static int function_refs(struct elf_module *m, const char *name, struct refs *out)
{
	uint64_t entry, end;
	out->v = NULL;
	out->n = 0;
	if (elf_module_find_function(m, name, &entry, &end) || end <= entry || end - entry > MAX_FUNC_BYTES)
		return -ENOENT;
	uint8_t *code = malloc(end - entry);
	struct rip_ref *refs = malloc(MAX_REFS * sizeof(*refs));
	int n = -ENOMEM;
	if (code && refs) {
		n = elf_module_read(m, entry, code, end - entry);
		if (n == 0)
			n = find_rip_refs(code, end - entry, entry, refs, MAX_REFS);
	}
	free(code);
	if (n < 0 || n > MAX_REFS) {
		free(refs);
		return n < 0 ? n : -E2BIG;
	}
	out->v = refs;
	out->n = (size_t)n;
	return 0;
}

static bool refers_to(const struct refs *r, uint64_t target)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].target == target)
			return true;
	return false;
}

/* The bases B for which B + offs[i] is referenced for every known (>= 0) offset: where a
 * struct variable sits if the function touches those fields of it. Returns how many (at most
 * max stored), 0 if fewer than two offsets are known (not a fingerprint). */
static size_t struct_bases(const struct refs *r, const int32_t *offs, size_t noffs, uint64_t *bases,
			   size_t max)
{
	size_t known = 0, first = 0;
	for (size_t i = 0; i < noffs; i++)
		if (offs[i] >= 0 && known++ == 0)
			first = i;
	if (known < 2)
		return 0;
	size_t found = 0;
	for (size_t i = 0; i < r->n; i++) {
		uint64_t base = r->v[i].target - (uint64_t)offs[first];
		bool all = true, dup = false;
		for (size_t k = 0; k < noffs && all; k++)
			if (offs[k] >= 0 && !refers_to(r, base + (uint64_t)offs[k]))
				all = false;
		for (size_t k = 0; k < found && k < max; k++)
			dup |= bases[k] == base;
		if (!all || dup)
			continue;
		if (found < max)
			bases[found] = base;
		found++;
	}
	return found;
}

/* The one base fitting fingerprint a in function fa and (if fb) fingerprint b in fb; 0 if
 * none or ambiguous. */
static uint64_t unique_base(struct elf_module *m, const char *fa, const int32_t *a, size_t na, const char *fb,
			    const int32_t *b, size_t nb)
{
	struct refs ra, rb = { 0 };
	uint64_t ba[MAX_BASES], bb[MAX_BASES], result = 0;
	if (function_refs(m, fa, &ra))
		return 0;
	size_t nfa = struct_bases(&ra, a, na, ba, MAX_BASES), nfb = 0, hits = 0;
	if (fb && function_refs(m, fb, &rb) == 0)
		nfb = struct_bases(&rb, b, nb, bb, MAX_BASES);
	if (nfa <= MAX_BASES && (!fb || nfb <= MAX_BASES)) {
		for (size_t i = 0; i < nfa; i++) {
			bool in_b = !fb;
			for (size_t k = 0; k < nfb; k++)
				in_b |= bb[k] == ba[i];
			if (in_b) {
				result = ba[i];
				hits++;
			}
		}
	}
	free(ra.v);
	free(rb.v);
	return hits == 1 ? result : 0;
}

/* allglen and allgptr: forEachGRace's inlined atomicAllG loads exactly these two words. */
static int allg_by_disasm(struct elf_module *m, struct go_runtime_layout *l)
{
	struct refs r;
	if (function_refs(m, "runtime.forEachGRace", &r))
		return -ENOENT;
	uint64_t loads[3];
	size_t n = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (r.v[i].lea || r.v[i].size != 8)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n && k < 3; k++)
			seen |= loads[k] == r.v[i].target;
		if (!seen && n++ < 3)
			loads[n - 1] = r.v[i].target;
	}
	free(r.v);
	if (n != 2)
		return -ENOENT;
	l->allglen = loads[0];
	l->allgptr = loads[1];
	static const int32_t slice[] = { 0, 8 };
	l->allgs = unique_base(m, "runtime.forEachG", slice, 2, NULL, NULL, 0);
	return l->allgs && l->allgs != l->allglen && l->allgs != l->allgptr ? 0 : -ENOENT;
}

static void memory_by_disasm(struct elf_module *m, struct go_runtime_layout *l)
{
	const struct go_runtime_offsets *o = &l->offsets;
	const int32_t ms[] = { o->mstats_last_gc_unix, o->mstats_pause_total_ns, o->mstats_numgc,
			       o->mstats_numforcedgc, o->mstats_last_gc_nanotime };
	const int32_t alloc[] = { o->gcc_heap_inuse, o->gcc_heap_released, o->gcc_heap_free,
				  o->gcc_mapped_ready };
	const int32_t freed[] = { o->gcc_heap_inuse, o->gcc_heap_free };
	if (o->mstats_numgc < 0 || o->gcc_heap_inuse < 0)
		return;
	l->memstats = unique_base(m, "runtime.gcMarkTermination", ms, 5, NULL, NULL, 0);
	l->gc_controller = unique_base(m, "runtime.(*mheap).allocSpan", alloc, 4,
				       "runtime.(*mheap).freeSpanLocked", freed, 2);
}

static uint64_t symbol(struct elf_module *m, const char *name)
{
	uint64_t addr, size;
	return elf_module_find_symbol(m, name, &addr, &size) == 0 ? addr : 0;
}

static int locate(struct elf_module *m, unsigned flags, struct go_runtime_layout *l, const char **why)
{
	memset(l, 0, sizeof(*l));
	*why = NULL;
	if (!elf_module_is_go(m)) {
		*why = "not a Go program (no .gopclntab)";
		return -ENOEXEC;
	}
	snprintf(l->go_version, sizeof(l->go_version), "%s",
		 elf_module_go_version(m) ? elf_module_go_version(m) : "unknown");
	if (!(flags & GO_RUNTIME_NO_DWARF) &&
	    go_runtime_offsets_from_dwarf_isolated(elf_module_elf(m), &l->offsets) == 0) {
		l->offsets_source = "DWARF";
	} else if (go_runtime_offsets_from_table(l->go_version, &l->offsets) == 0) {
		l->offsets_source = go_offsets_table_source(l->go_version, GO_OFFSETS_RUNTIME);
	} else {
		*why = "no DWARF and no offsets for this Go version in glimpse's table (see glimpse inspect "
		       "--emit-offsets and --offsets FILE)";
		return -ENOENT;
	}
	if (!(flags & GO_RUNTIME_NO_SYMTAB) && (l->allglen = symbol(m, "runtime.allglen")) &&
	    (l->allgptr = symbol(m, "runtime.allgptr")) && (l->allgs = symbol(m, "runtime.allgs"))) {
		l->vars_source = "symtab";
		if (l->offsets.mstats_numgc >= 0 && l->offsets.gcc_heap_inuse >= 0) {
			l->memstats = symbol(m, "runtime.memstats");
			l->gc_controller = symbol(m, "runtime.gcController");
		}
	} else {
		l->vars_source = "disassembly";
		if (allg_by_disasm(m, l)) {
			l->allgs = l->allglen = l->allgptr = 0;
			*why = "cannot find runtime.allgs (no symbols, and runtime.forEachG/forEachGRace do "
			       "not "
			       "have the expected shape)";
			return -ENOENT;
		}
		memory_by_disasm(m, l);
	}
	l->have_memory = l->memstats && l->gc_controller;
	return 0;
}

int go_runtime_layout_from_file(const char *path, unsigned flags, struct go_runtime_layout *out,
				const char **why)
{
	const char *reason = NULL;
	struct elf_module *m = elf_module_open(path);
	if (!m) {
		memset(out, 0, sizeof(*out));
		if (why)
			*why = "cannot read the binary";
		return -errno;
	}
	int rc = locate(m, flags, out, &reason);
	elf_module_close(m);
	if (why)
		*why = reason;
	return rc;
}

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
	char exe[64];
	struct stat st;
	proc_path(exe, sizeof(exe), pid, "/exe");
	if (stat(exe, &st))
		return -errno;
	struct proc_map *maps;
	size_t nmaps, nph;
	int rc = proc_exec_maps(pid, &maps, &nmaps);
	if (rc)
		return rc;
	rc = -ENOENT;
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nmaps && rc; i++) {
			if (maps[i].inode != (uint64_t)st.st_ino)
				continue;
			for (size_t k = 0; k < nph && rc; k++) {
				GElf_Phdr ph;
				if (!gelf_getphdr(elf, (int)k, &ph) || ph.p_type != PT_LOAD ||
				    !(ph.p_flags & PF_X))
					continue;
				if (ph.p_offset < maps[i].offset ||
				    ph.p_offset - maps[i].offset >= maps[i].end - maps[i].start)
					continue;
				*bias = maps[i].start + (ph.p_offset - maps[i].offset) - ph.p_vaddr;
				rc = 0;
			}
		}
	}
	free(maps);
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
	int rc = locate(m, 0, &l, &why);
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
