// SPDX-License-Identifier: Apache-2.0
/* Where a Go binary keeps allgs, allglen/allgptr, memstats and gcController: from .symtab,
 * or, in stripped binaries, found by disassembling runtime functions present in every Go
 * program (the linker keeps them: the scheduler and GC call them):
 *   allgs            runtime.forEachG: the one address X loaded together with X+8 (ptr, len)
 *   allglen, allgptr runtime.forEachGRace: its two 8-byte loads, in that order (atomicAllG)
 *   memstats         runtime.gcMarkTermination: the one base B for which B+last_gc_unix,
 *                    B+pause_total_ns, B+numgc, B+numforcedgc and B+last_gc_nanotime are
 *                    all referenced (offsets from DWARF or the table)
 *   gcController     runtime.(*mheap).allocSpan (heapInUse, heapReleased, heapFree,
 *                    mappedReady) and runtime.(*mheap).freeSpanLocked (heapInUse, heapFree):
 *                    the one base that fits both
 * Anything ambiguous or missing is an error (or have_memory=false), never a guess. */
#include "metrics/go_runtime_layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "binfmt/gobinary.h"

#define MAX_FUNC_BYTES (1u << 20)
#define MAX_REFS       8192
#define MAX_BASES      16

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

int go_runtime_layout_locate(struct elf_module *m, unsigned flags, struct go_runtime_layout *l,
			     const char **why)
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
	int rc = go_runtime_layout_locate(m, flags, out, &reason);
	elf_module_close(m);
	if (why)
		*why = reason;
	return rc;
}
