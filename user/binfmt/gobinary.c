// SPDX-License-Identifier: Apache-2.0
/* Go pclntab reader: functions, pc-value tables and inline trees. Layouts follow Go's
 * runtime/symtab.go and symtabinl.go (pcHeader, functab, _func, inlinedCall) for each release;
 * see gobinary.h for the contract (gobinary_elf.c finds the table in a file). Untrusted input:
 * everything read from the section is checked against the section size once, in
 * gopclntab_open (the inline trees in gopclntab_set_funcdata), so the lookup path only does
 * the checks that depend on the pc. */
#include "binfmt/gobinary.h"
#include "binfmt/gobinary_bytes.h"

#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define GO116_MAGIC 0xfffffffaU
#define GO118_MAGIC 0xfffffff0U
#define GO120_MAGIC 0xfffffff1U

enum {
	VER116 = GOPCLNTAB_VER116,
	VER118 = GOPCLNTAB_VER118,
	VER120 = GOPCLNTAB_VER120
};

/* A sub-range [off, end) of the table. */
struct region {
	size_t off, end;
};

struct gopclntab {
	/* The section's bytes, not copied: a large Go binary's table is tens of MB, and in an
	 * Elf opened with ELF_C_READ_MMAP only the pages a lookup touches count against glimpse's
	 * memory. Strings in it are used only once found terminated inside their region. */
	const uint8_t *data;
	size_t size;
	uint64_t section_addr;
	int ver;
	uint32_t quantum, ptrsize;
	size_t nfunc;
	struct region names, cutab, filetab, pctab, functab;
	uint64_t *entry;   /* nfunc + 1 ascending addresses; entry[nfunc] ends the last function */
	uint32_t *funcoff; /* per function: offset of its _func from functab.off, validated */
	/* go:func.* (gopclntab_set_funcdata), where inline trees are; a function's tree is read
	 * and checked when a lookup needs it. NULL: no inline trees. */
	const uint8_t *gofunc;
	size_t gofunc_size;
};

/* A function's inline tree: n checked records of inlined_call_size() bytes at rec, and the
 * pc-value table (pctab offset pcoff) that gives each pc's record. */
struct inltree {
	const uint8_t *rec;
	uint32_t pcoff, n;
};

int gopclntab_header_version(const uint8_t *d, size_t size)
{
	if (size < 8 || d[4] != 0 || d[5] != 0)
		return 0;
	if (d[6] != 1 && d[6] != 2 && d[6] != 4) /* pc quantum */
		return 0;
	if (d[7] != 4 && d[7] != 8) /* pointer size */
		return 0;
	switch (le32(d)) {
	case GO116_MAGIC:
		return VER116;
	case GO118_MAGIC:
		return VER118;
	case GO120_MAGIC:
		return VER120;
	default:
		return 0;
	}
}

/* Bytes of _func read here: the entry field, then 32-bit nameOff, args, deferreturn, pcsp,
 * pcfile, pcln, npcdata, cuOffset. Entry is a uintptr before 1.18, a uint32 offset since. */
#define FUNC_NAMEOFF 0
#define FUNC_PCSP    3
#define FUNC_PCFILE  4
#define FUNC_PCLN    5
#define FUNC_NPCDATA 6
#define FUNC_CUOFF   7

/* The pcdata table and funcdata slot of inlining (internal/abi's PCDATA_InlTreeIndex and
 * FUNCDATA_InlTree, the same since Go 1.12). */
#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE    3

static uint32_t func_entry_size(const struct gopclntab *t)
{
	return t->ver >= VER118 ? 4 : t->ptrsize;
}

static uint32_t func_field(const struct gopclntab *t, size_t i, int field)
{
	const uint8_t *f = t->data + t->functab.off + t->funcoff[i];
	return le32(f + func_entry_size(t) + 4 * field);
}

void gopclntab_close(struct gopclntab *t)
{
	if (!t)
		return;
	free(t->entry);
	free(t->funcoff);
	free(t);
}

/* Ends each region where the next one (in offset order) starts, the last at the section end:
 * the linker lays them out back to back, and this never lets a region run past the data. */
static void region_ends(struct region *r[], size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		size_t end = size;
		for (size_t j = 0; j < n; j++)
			if (r[j]->off > r[i]->off && r[j]->off < end)
				end = r[j]->off;
		r[i]->end = end;
	}
}

/* Validates the header and function table of data and fills t's tables. Reads the function
 * table only, not each function's _func: those are checked when a lookup reads them, so that
 * opening a large table touches a small part of it. */
static bool parse(struct gopclntab *t, const uint8_t *d, size_t size, uint64_t text_start)
{
	t->ver = gopclntab_header_version(d, size);
	if (!t->ver)
		return false;
	t->quantum = d[6];
	t->ptrsize = d[7];
	size_t nwords = t->ver >= VER118 ? 8 : 7;
	size_t hdr = 8 + nwords * t->ptrsize;
	if (size < hdr)
		return false;
#define WORD(n) read_uint(d + 8 + (size_t)(n)*t->ptrsize, t->ptrsize)
	uint64_t nfunc = WORD(0);
	size_t first = 2; /* index of the funcname offset word */
	if (t->ver >= VER118) {
		uint64_t hdr_text = WORD(2);
		if (hdr_text)
			text_start = hdr_text;
		first = 3;
	}
	struct region *r[] = { &t->names, &t->cutab, &t->filetab, &t->pctab, &t->functab };
	for (size_t i = 0; i < 5; i++) {
		uint64_t off = WORD(first + i);
		if (off < hdr || off > size)
			return false;
		r[i]->off = off;
	}
#undef WORD
	region_ends(r, 5, size);

	uint32_t fsz = t->ver >= VER118 ? 4 : t->ptrsize; /* functab field size */
	size_t flen = t->functab.end - t->functab.off;
	if (flen < fsz || nfunc == 0 || nfunc > (flen / fsz - 1) / 2)
		return false;
	t->nfunc = nfunc;
	t->entry = malloc((nfunc + 1) * sizeof(*t->entry));
	t->funcoff = malloc(nfunc * sizeof(*t->funcoff));
	if (!t->entry || !t->funcoff)
		return false;

	const uint8_t *ft = d + t->functab.off;
	size_t funclen = func_entry_size(t) + 4 * (FUNC_CUOFF + 1);
	for (size_t i = 0; i <= nfunc; i++) {
		uint64_t e = read_uint(ft + 2 * i * fsz, fsz);
		if (t->ver >= VER118)
			e += text_start;
		if (i > 0 && e < t->entry[i - 1])
			return false; /* not sorted: binary search would be wrong */
		t->entry[i] = e;
		if (i == nfunc)
			break;
		uint64_t off = read_uint(ft + (2 * i + 1) * fsz, fsz);
		if (off > flen || flen - off < funclen || off > UINT32_MAX)
			return false;
		t->funcoff[i] = (uint32_t)off;
	}
	return true;
}

struct gopclntab *gopclntab_open(const uint8_t *data, size_t size, uint64_t section_addr, uint64_t text_start)
{
	if (!data || size == 0 || size == SIZE_MAX)
		return NULL;
	struct gopclntab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (!parse(t, data, size, text_start))
		goto fail;
	t->data = data;
	t->size = size;
	t->section_addr = section_addr;
	return t;
fail:
	gopclntab_close(t);
	return NULL;
}

size_t gopclntab_nfuncs(const struct gopclntab *t)
{
	return t ? t->nfunc : 0;
}

/* The string at off in region r, or NULL unless it ends (NUL) inside the region. */
static const char *region_str(const struct gopclntab *t, const struct region *r, uint64_t off)
{
	size_t len = r->end - r->off;
	if (off >= len)
		return NULL;
	const char *str = (const char *)t->data + r->off + off;
	return memchr(str, 0, len - off) ? str : NULL;
}

static const char *func_name(const struct gopclntab *t, uint32_t nameoff)
{
	const char *name = region_str(t, &t->names, nameoff);
	return name ? name : GOPCLNTAB_BAD_NAME;
}

static void fill_func(const struct gopclntab *t, size_t i, struct go_func *fn)
{
	fn->name = func_name(t, func_field(t, i, FUNC_NAMEOFF));
	fn->entry = t->entry[i];
	fn->end = t->entry[i + 1];
}

int gopclntab_func(const struct gopclntab *t, size_t i, struct go_func *fn)
{
	if (!t || i >= t->nfunc)
		return -ENOENT;
	fill_func(t, i, fn);
	return 0;
}

int gopclntab_find(const struct gopclntab *t, const char *name, struct go_func *fn)
{
	if (!t || !name)
		return -ENOENT;
	for (size_t i = 0; i < t->nfunc; i++) {
		const char *have = region_str(t, &t->names, func_field(t, i, FUNC_NAMEOFF));
		if (have && strcmp(have, name) == 0) {
			fill_func(t, i, fn);
			return 0;
		}
	}
	return -ENOENT;
}

static bool read_varint(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
	const uint8_t *p = *pp;
	uint32_t x = 0;
	for (int shift = 0; shift < 35; shift += 7) {
		if (p >= end)
			return false;
		uint8_t b = *p++;
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*v = x;
			return true;
		}
	}
	return false; /* longer than a uint32 varint */
}

/* Value of the pc-value table at pctab offset off for targetpc in the function starting at
 * entry: a sequence of (zig-zag value delta, pc delta / quantum) varint pairs, value starting
 * at -1, ended by a zero value delta after the first pair. */
static bool pcvalue(const struct gopclntab *t, uint32_t off, uint64_t entry, uint64_t targetpc, int32_t *out)
{
	if (off == 0 || off >= t->pctab.end - t->pctab.off)
		return false;
	const uint8_t *p = t->data + t->pctab.off + off, *end = t->data + t->pctab.end;
	uint32_t val = (uint32_t)-1; /* unsigned: wraps instead of signed overflow */
	uint64_t pc = entry;
	for (bool first = true;; first = false) {
		uint32_t u, pcdelta;
		if (!read_varint(&p, end, &u) || (u == 0 && !first))
			return false;
		val += (u & 1) ? ~(u >> 1) : (u >> 1);
		if (!read_varint(&p, end, &pcdelta))
			return false;
		pc += (uint64_t)pcdelta * t->quantum;
		if (targetpc < pc) {
			*out = (int32_t)val;
			return true;
		}
	}
}

static const char *file_name(const struct gopclntab *t, size_t i, int32_t fno)
{
	uint32_t cu = func_field(t, i, FUNC_CUOFF);
	if (fno < 0 || cu == UINT32_MAX)
		return NULL;
	uint64_t idx = (uint64_t)cu + (uint64_t)fno;
	if (idx >= (t->cutab.end - t->cutab.off) / 4)
		return NULL;
	uint32_t off = le32(t->data + t->cutab.off + idx * 4);
	return region_str(t, &t->filetab, off); /* NULL for the ~0 "no file" marker too */
}

/* Index of the function containing pc, or -1. */
static ssize_t func_index(const struct gopclntab *t, uint64_t pc)
{
	if (!t || pc < t->entry[0] || pc >= t->entry[t->nfunc])
		return -1;
	size_t lo = 0, hi = t->nfunc; /* invariant: entry[lo] <= pc < entry[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->entry[mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return (ssize_t)lo;
}

int gopclntab_sp_delta(const struct gopclntab *t, uint64_t pc, int32_t *delta)
{
	ssize_t i = func_index(t, pc);
	if (i < 0)
		return -ENOENT;
	return pcvalue(t, func_field(t, (size_t)i, FUNC_PCSP), t->entry[i], pc, delta) && *delta >= 0
		       ? 0
		       : -ENOENT;
}

int gopclntab_lookup(const struct gopclntab *t, uint64_t pc, struct go_func *fn, const char **file,
		     uint32_t *line)
{
	ssize_t i = func_index(t, pc);
	if (i < 0)
		return -ENOENT;
	size_t lo = (size_t)i;
	fill_func(t, lo, fn);
	int32_t v;
	if (file)
		*file = pcvalue(t, func_field(t, lo, FUNC_PCFILE), fn->entry, pc, &v) ? file_name(t, lo, v)
										      : NULL;
	if (line)
		*line = pcvalue(t, func_field(t, lo, FUNC_PCLN), fn->entry, pc, &v) && v > 0 ? (uint32_t)v
											     : 0;
	return 0;
}

/* ---- inlined calls ---- */

/* _func's fixed part: after cuOffset come startLine (Go 1.20+), then funcID, flag, a pad byte
 * and nfuncdata; then npcdata uint32 pctab offsets and nfuncdata uint32 go:func.* offsets. */
static size_t func_header_size(const struct gopclntab *t)
{
	return func_entry_size(t) + 4 * (FUNC_CUOFF + 1) + (t->ver >= VER120 ? 4 : 0) + 4;
}

/* An inlinedCall record: Go 1.18/1.19 {parent int16, funcID, pad, file, line, nameOff,
 * parentPc int32}; Go 1.20+ {funcID, pad[3], nameOff, parentPc, startLine int32}. */
static size_t inlined_call_size(const struct gopclntab *t)
{
	return t->ver >= VER120 ? 16 : 20;
}

static uint32_t inlined_call_nameoff(const struct gopclntab *t, const uint8_t *rec)
{
	return le32(rec + (t->ver >= VER120 ? 4 : 12));
}

static uint32_t inlined_call_parentpc(const struct gopclntab *t, const uint8_t *rec)
{
	return le32(rec + (t->ver >= VER120 ? 8 : 16));
}

/* pcdata table offset (0 if none) and funcdata offset (UINT32_MAX if none) of function i;
 * false if its _func does not fit in the function table. */
static bool func_tables(const struct gopclntab *t, size_t i, uint32_t *pcdata_inl, uint32_t *funcdata_inl)
{
	size_t hdr = func_header_size(t), flen = t->functab.end - t->functab.off;
	const uint8_t *f = t->data + t->functab.off + t->funcoff[i];
	if (flen - t->funcoff[i] < hdr)
		return false;
	uint32_t npcdata = func_field(t, i, FUNC_NPCDATA), nfuncdata = f[hdr - 1];
	size_t words = (flen - t->funcoff[i] - hdr) / 4;
	if (nfuncdata > words || npcdata > words - nfuncdata)
		return false;
	*pcdata_inl = npcdata > PCDATA_INLTREEINDEX ? le32(f + hdr + 4 * PCDATA_INLTREEINDEX) : 0;
	*funcdata_inl =
		nfuncdata > FUNCDATA_INLTREE ? le32(f + hdr + 4 * (npcdata + FUNCDATA_INLTREE)) : UINT32_MAX;
	return true;
}

/* Largest value of the pc-value table at off over [entry, end), -1 if it never gets above -1;
 * false if the table is malformed. */
static bool pcvalue_max(const struct gopclntab *t, uint32_t off, uint64_t entry, uint64_t end, int32_t *max)
{
	if (off >= t->pctab.end - t->pctab.off)
		return false;
	const uint8_t *p = t->data + t->pctab.off + off, *pend = t->data + t->pctab.end;
	uint32_t val = (uint32_t)-1;
	*max = -1;
	for (uint64_t pc = entry; pc < end;) {
		uint32_t u, pcdelta;
		if (!read_varint(&p, pend, &u))
			return false;
		if (u == 0 && pc != entry)
			return true; /* the table ends before the function */
		val += (u & 1) ? ~(u >> 1) : (u >> 1);
		if (!read_varint(&p, pend, &pcdelta))
			return false;
		if ((int32_t)val > *max)
			*max = (int32_t)val;
		pc += (uint64_t)pcdelta * t->quantum;
	}
	return true;
}

/* Function i's inline tree (records 0..max of its pcdata table's values) in gofunc, each
 * record checked: it names a function and points back into i. 1 with *tree filled, 0 when the
 * function has none, -EINVAL when it is malformed. */
static int func_tree(const struct gopclntab *t, size_t i, struct inltree *tree)
{
	uint32_t pcoff, fdoff;
	int32_t max;
	if (!t->gofunc)
		return 0;
	if (!func_tables(t, i, &pcoff, &fdoff))
		return -EINVAL;
	if (fdoff == UINT32_MAX || pcoff == 0)
		return 0;
	if (!pcvalue_max(t, pcoff, t->entry[i], t->entry[i + 1], &max))
		return -EINVAL;
	if (max < 0)
		return 0;
	size_t esz = inlined_call_size(t), n = (size_t)max + 1;
	if (fdoff >= t->gofunc_size || n > (t->gofunc_size - fdoff) / esz)
		return -EINVAL;
	const uint8_t *rec = t->gofunc + fdoff;
	for (size_t k = 0; k < n; k++, rec += esz)
		if (!region_str(t, &t->names, inlined_call_nameoff(t, rec)) ||
		    inlined_call_parentpc(t, rec) >= t->entry[i + 1] - t->entry[i])
			return -EINVAL;
	*tree = (struct inltree){ t->gofunc + fdoff, pcoff, (uint32_t)n };
	return 1;
}

/* How many inline trees gopclntab_set_funcdata checks before it trusts the layout: enough
 * that a wrong guess of it fails, few enough that opening a large binary reads little. */
#define TREES_CHECKED 256

int gopclntab_set_funcdata(struct gopclntab *t, const uint8_t *gofunc, size_t size)
{
	if (!t || !gofunc || t->ver < VER118)
		return -ENOENT;
	t->gofunc = gofunc;
	t->gofunc_size = size;
	size_t found = 0;
	for (size_t i = 0; i < t->nfunc && found < TREES_CHECKED; i++) {
		struct inltree tree;
		int rc = func_tree(t, i, &tree);
		if (rc < 0 || (rc == 0 && i + 1 == t->nfunc && !found)) {
			/* One bad record: the layout is not what we think, trust none. */
			t->gofunc = NULL;
			t->gofunc_size = 0;
			return rc < 0 ? rc : 0;
		}
		found += (size_t)rc;
	}
	return 0;
}

bool gopclntab_has_inline(const struct gopclntab *t)
{
	return t && t->gofunc;
}

/* Go marks autogenerated wrappers (method value/pointer wrappers, hash and eq functions) with
 * this file; its tracebacks and pprof leave them out when inlined, and so does this. */
#define AUTOGENERATED	 "<autogenerated>"
#define MAX_INLINE_DEPTH 64

static void position(const struct gopclntab *t, size_t i, uint64_t pc, struct go_frame *out)
{
	int32_t v;
	out->file =
		pcvalue(t, func_field(t, i, FUNC_PCFILE), t->entry[i], pc, &v) ? file_name(t, i, v) : NULL;
	out->line = pcvalue(t, func_field(t, i, FUNC_PCLN), t->entry[i], pc, &v) && v > 0 ? (uint32_t)v : 0;
}

size_t gopclntab_frames(const struct gopclntab *t, uint64_t pc, struct go_frame *out, size_t max)
{
	ssize_t fi = func_index(t, pc);
	if (fi < 0 || max == 0)
		return 0;
	size_t i = (size_t)fi, n = 0, esz = inlined_call_size(t);
	struct inltree tree;
	bool inlined = func_tree(t, i, &tree) > 0; /* a malformed tree: the function alone */
	for (int depth = 0; inlined && depth < MAX_INLINE_DEPTH; depth++) {
		int32_t ix;
		if (!pcvalue(t, tree.pcoff, t->entry[i], pc, &ix) || ix < 0 || (uint32_t)ix >= tree.n)
			break;
		const uint8_t *rec = tree.rec + (size_t)ix * esz;
		struct go_frame f = { .func = func_name(t, inlined_call_nameoff(t, rec)) };
		position(t, i, pc, &f);
		if (n + 1 < max && !(f.file && !strcmp(f.file, AUTOGENERATED)))
			out[n++] = f;
		pc = t->entry[i] + inlined_call_parentpc(t, rec);
	}
	struct go_func fn;
	fill_func(t, i, &fn);
	out[n].func = fn.name;
	position(t, i, pc, &out[n]);
	return n + 1;
}
