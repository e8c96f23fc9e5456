// SPDX-License-Identifier: Apache-2.0
/* Go pclntab and buildinfo reader. Layouts follow Go's runtime/symtab.go (pcHeader, functab,
 * _func) and debug/buildinfo; see gobinary.h for the contract. Untrusted input: everything
 * read from the section is checked against the section size once, in gopclntab_open, so the
 * lookup path only does the checks that depend on the pc. */
#include "binfmt/gobinary.h"

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
	VER116 = 116,
	VER118 = 118,
	VER120 = 120
};

/* A sub-range [off, end) of the table. */
struct region {
	size_t off, end;
};

struct gopclntab {
	uint8_t *buf; /* copy of the section plus one NUL, so any string in it terminates */
	size_t size;
	uint64_t section_addr;
	int ver;
	uint32_t quantum, ptrsize;
	size_t nfunc;
	struct region names, cutab, filetab, pctab, functab;
	uint64_t *entry;   /* nfunc + 1 ascending addresses; entry[nfunc] ends the last function */
	uint32_t *funcoff; /* per function: offset of its _func from functab.off, validated */
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t read_uint(const uint8_t *p, uint32_t size)
{
	return size == 4 ? le32(p) : le64(p);
}

/* Version from the 8-byte header prefix, 0 if it is not a supported pclntab. */
static int header_version(const uint8_t *d, size_t size)
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
#define FUNC_CUOFF   7

static uint32_t func_entry_size(const struct gopclntab *t)
{
	return t->ver >= VER118 ? 4 : t->ptrsize;
}

static uint32_t func_field(const struct gopclntab *t, size_t i, int field)
{
	const uint8_t *f = t->buf + t->functab.off + t->funcoff[i];
	return le32(f + func_entry_size(t) + 4 * field);
}

void gopclntab_close(struct gopclntab *t)
{
	if (!t)
		return;
	free(t->entry);
	free(t->funcoff);
	free(t->buf);
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

/* Validates the header and function table of data and fills t's tables; t->buf is not used,
 * so a candidate can be rejected without copying it. */
static bool parse(struct gopclntab *t, const uint8_t *d, size_t size, uint64_t text_start)
{
	t->ver = header_version(d, size);
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
	size_t namelen = t->names.end - t->names.off;
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
		uint32_t nameoff = le32(ft + off + func_entry_size(t) + 4 * FUNC_NAMEOFF);
		if (nameoff >= namelen)
			return false;
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
	t->buf = malloc(size + 1);
	if (!t->buf)
		goto fail;
	memcpy(t->buf, data, size);
	t->buf[size] = 0;
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

static void fill_func(const struct gopclntab *t, size_t i, struct go_func *fn)
{
	fn->name = (const char *)t->buf + t->names.off + func_field(t, i, FUNC_NAMEOFF);
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
	const char *names = (const char *)t->buf + t->names.off;
	for (size_t i = 0; i < t->nfunc; i++) {
		if (strcmp(names + func_field(t, i, FUNC_NAMEOFF), name) == 0) {
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
	const uint8_t *p = t->buf + t->pctab.off + off, *end = t->buf + t->pctab.end;
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
	uint32_t off = le32(t->buf + t->cutab.off + idx * 4);
	if (off >= t->filetab.end - t->filetab.off) /* includes the ~0 "no file" marker */
		return NULL;
	return (const char *)t->buf + t->filetab.off + off;
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

/* ---- ELF access ---- */

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		if (!gelf_getshdr(scn, sh))
			continue;
		const char *n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* The section's bytes, or NULL (absent, NOBITS, unreadable). */
static const uint8_t *section_bytes(Elf_Scn *scn, const GElf_Shdr *sh, size_t *size)
{
	if (!scn || sh->sh_type == SHT_NOBITS)
		return NULL;
	Elf_Data *d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size == 0)
		return NULL;
	*size = d->d_size;
	return d->d_buf;
}

/* n bytes at link-time address addr, contiguous inside one allocated section; NULL if not. */
static const uint8_t *read_vaddr(Elf *elf, uint64_t addr, size_t n)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		size_t size;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || addr < sh.sh_addr)
			continue;
		const uint8_t *d = section_bytes(scn, &sh, &size);
		if (!d || size > sh.sh_size)
			continue;
		uint64_t off = addr - sh.sh_addr;
		if (off < size && n <= size - off)
			return d + off;
	}
	return NULL;
}

/* Value of the first symbol called name in .symtab, 0 if none. */
static uint64_t symtab_lookup(Elf *elf, const char *name)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t n = d->d_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym))
				break;
			const char *s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && strcmp(s, name) == 0)
				return sym.st_value;
		}
	}
	return 0;
}

/* Go 1.26+ no longer stores the text start in the pclntab header, and earlier PIE builds leave
 * it to a dynamic relocation. The runtime takes it from its moduledata, whose first two words
 * point at the pclntab and at its function-name table, and whose word at offset 176 is text
 * (the layout is the same from Go 1.18 to 1.27; 1.26+ give it its own section, .go.module).
 * Found by those two pointers, in the file's bytes or, in PIE builds where the file holds zeros
 * there, in the relative relocations that fill them. The .text section is no substitute: with external (cgo) linking it starts with
 * the C runtime, and every Go function would be named wrong. */
#define MODULEDATA_FUNCNAMES 8
#define MODULEDATA_TEXT	     176

static uint64_t moduledata_text_in_data(Elf *elf, uint64_t pcheader, uint64_t funcnames)
{
	static const char *const names[] = { ".go.module", ".noptrdata", ".data", ".data.rel.ro" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		GElf_Shdr sh;
		size_t size;
		const uint8_t *d = section_bytes(find_section(elf, names[i], &sh), &sh, &size);
		for (size_t off = 0; d && off + MODULEDATA_TEXT + 8 <= size; off += 8)
			if (le64(d + off) == pcheader && le64(d + off + MODULEDATA_FUNCNAMES) == funcnames)
				return le64(d + off + MODULEDATA_TEXT);
	}
	return 0;
}

static bool is_relative_reloc(const GElf_Rela *r)
{
	uint32_t type = GELF_R_TYPE(r->r_info);
	return type == R_X86_64_RELATIVE || type == R_AARCH64_RELATIVE;
}

static uint64_t moduledata_text_in_relocs(Elf *elf, uint64_t pcheader, uint64_t funcnames)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, ".rela.dyn", &sh);
	Elf_Data *d = scn && sh.sh_entsize ? elf_getdata(scn, NULL) : NULL;
	if (!d)
		return 0;
	size_t n = d->d_size / sh.sh_entsize;
	GElf_Rela r;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getrela(d, (int)i, &r) || !is_relative_reloc(&r) ||
		    (uint64_t)r.r_addend != pcheader)
			continue;
		uint64_t at = r.r_offset, text = 0;
		bool names = false;
		for (size_t j = 0; j < n; j++) {
			GElf_Rela q;
			if (!gelf_getrela(d, (int)j, &q) || !is_relative_reloc(&q))
				continue;
			if (q.r_offset == at + MODULEDATA_FUNCNAMES)
				names = (uint64_t)q.r_addend == funcnames;
			else if (q.r_offset == at + MODULEDATA_TEXT)
				text = (uint64_t)q.r_addend;
		}
		if (names && text)
			return text;
	}
	return 0;
}

static struct gopclntab *open_at(Elf *elf, const uint8_t *d, size_t size, uint64_t addr)
{
	uint64_t text = 0;
	int ver = header_version(d, size);
	if (!ver)
		return NULL;
	size_t ptr = d[7];
	if (ver >= VER118 && size >= 8 + 4 * ptr && read_uint(d + 8 + 2 * ptr, (uint32_t)ptr) == 0) {
		uint64_t funcnames = addr + read_uint(d + 8 + 3 * ptr, (uint32_t)ptr);
		text = symtab_lookup(elf, "runtime.text");
		if (!text)
			text = moduledata_text_in_data(elf, addr, funcnames);
		if (!text)
			text = moduledata_text_in_relocs(elf, addr, funcnames);
		if (!text)
			return NULL;
	}
	return gopclntab_open(d, size, addr, text);
}

struct gopclntab *gopclntab_from_elf(Elf *elf)
{
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		return NULL;
	GElf_Shdr sh;
	size_t size;
	const uint8_t *d;
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		Elf_Scn *scn = find_section(elf, names[i], &sh);
		if (scn && (d = section_bytes(scn, &sh, &size)))
			return open_at(elf, d, size, sh.sh_addr);
	}
	/* External linking merges the table into .data.rel.ro: use the symbols when present. */
	uint64_t start = symtab_lookup(elf, "runtime.pclntab");
	uint64_t end = symtab_lookup(elf, "runtime.epclntab");
	if (start && end > start && (d = read_vaddr(elf, start, end - start)))
		return open_at(elf, d, end - start, start);
	/* Stripped: look for a valid header at pointer-aligned addresses. */
	Elf_Scn *scn = find_section(elf, ".data.rel.ro", &sh);
	if (!scn || !(d = section_bytes(scn, &sh, &size)))
		return NULL;
	for (size_t off = (8 - sh.sh_addr % 8) % 8; off + 8 <= size; off += 8) {
		if (!header_version(d + off, size - off))
			continue;
		struct gopclntab *t = open_at(elf, d + off, size - off, sh.sh_addr + off);
		if (t)
			return t;
	}
	return NULL;
}

/* ---- build info ---- */

#define BUILDINFO_MAGIC	    "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR	    32

static int copy_version(const uint8_t *s, uint64_t n, char *buf, size_t len)
{
	if (n == 0)
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -EINVAL;
	if (n >= len)
		return -ERANGE;
	memcpy(buf, s, n);
	buf[n] = 0;
	return 0;
}

/* The Go >= 1.18 build info's header (16-byte aligned in .go.buildinfo), *end the section's
 * end; NULL if absent. */
static const uint8_t *buildinfo_header(Elf *elf, const uint8_t **end)
{
	GElf_Shdr sh;
	size_t size;
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		return NULL;
	const uint8_t *d = section_bytes(find_section(elf, ".go.buildinfo", &sh), &sh, &size);
	if (!d)
		return NULL;
	size_t off = 0;
	while (off <= size && size - off >= BUILDINFO_HDR &&
	       memcmp(d + off, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0)
		off += 16;
	if (off > size || size - off < BUILDINFO_HDR)
		return NULL;
	*end = d + size;
	return d + off;
}

/* A varint length and that many bytes at *p (advanced past them); NULL if malformed. */
static const uint8_t *varint_string(const uint8_t **p, const uint8_t *end, uint64_t *n)
{
	*n = 0;
	for (int shift = 0;; shift += 7) {
		if (*p >= end || shift > 63)
			return NULL;
		uint8_t b = *(*p)++;
		*n |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (*n > (uint64_t)(end - *p))
		return NULL;
	const uint8_t *s = *p;
	*p += *n;
	return s;
}

/* The next tab-separated field of line [*p, end) into buf; false if none or too long. */
static bool next_field(const char **p, const char *end, char *buf, size_t len)
{
	const char *s = *p, *tab = memchr(s, '\t', (size_t)(end - s));
	size_t n = tab ? (size_t)(tab - s) : (size_t)(end - s);
	if (s > end || n == 0 || n >= len)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = tab ? tab + 1 : end;
	return true;
}

int go_buildinfo_dep_version(Elf *elf, const char *module, char *buf, size_t len)
{
	const uint8_t *end, *h = module && buf && len ? buildinfo_header(elf, &end) : NULL;
	if (!h)
		return -ENOENT;
	if (!(h[15] & 2))
		return -ENOENT; /* before Go 1.18 the module list is not inline */
	const uint8_t *p = h + BUILDINFO_HDR, *s;
	uint64_t n;
	if (!varint_string(&p, end, &n) || !(s = varint_string(&p, end, &n)))
		return -EINVAL;
	/* Lines "dep\tPATH\tVERSION[\tSUM]", each maybe followed by "=>\tPATH\tVERSION\tSUM" when
	 * replaced (a replacement by a directory has no version: not known). */
	const char *text = (const char *)s, *text_end = text + n;
	bool found = false;
	while (text < text_end) {
		const char *nl = memchr(text, '\n', (size_t)(text_end - text));
		const char *line_end = nl ? nl : text_end, *q = text;
		char kind[8], path[256], version[64];
		if (next_field(&q, line_end, kind, sizeof(kind)) &&
		    next_field(&q, line_end, path, sizeof(path))) {
			bool dep = !strcmp(kind, "dep"), replaced = !strcmp(kind, "=>");
			if (found && !replaced)
				return 0;
			if ((dep && !strcmp(path, module)) || (found && replaced)) {
				if (!next_field(&q, line_end, version, sizeof(version)) || version[0] != 'v')
					return -ENOENT;
				if (strlen(version) >= len)
					return -ERANGE;
				strcpy(buf, version);
				if (replaced)
					return 0;
				found = true;
			}
		}
		text = nl ? nl + 1 : text_end;
	}
	return found ? 0 : -ENOENT;
}

int go_buildinfo_version(Elf *elf, char *buf, size_t len)
{
	if (!elf || elf_kind(elf) != ELF_K_ELF || !buf || len == 0)
		return -ENOENT;
	GElf_Shdr sh;
	size_t size;
	Elf_Scn *scn = find_section(elf, ".go.buildinfo", &sh);
	const uint8_t *d = section_bytes(scn, &sh, &size);
	if (!d)
		return -ENOENT;
	size_t off = 0; /* the blob is 16-byte aligned in the section */
	while (off <= size && size - off >= BUILDINFO_HDR &&
	       memcmp(d + off, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0)
		off += 16;
	if (off > size || size - off < BUILDINFO_HDR)
		return -ENOENT;
	const uint8_t *h = d + off;
	uint8_t ptrsize = h[14], flags = h[15];

	if (flags & 2) { /* Go >= 1.18: varint length + bytes right after the header */
		const uint8_t *p = h + BUILDINFO_HDR, *end = d + size;
		uint64_t n = 0;
		for (int shift = 0;; shift += 7) {
			if (p >= end || shift > 63)
				return -EINVAL;
			uint8_t b = *p++;
			n |= (uint64_t)(b & 0x7f) << shift;
			if (!(b & 0x80))
				break;
		}
		if (n > (uint64_t)(end - p))
			return -EINVAL;
		return copy_version(p, n, buf, len);
	}

	/* Go < 1.18: address of runtime.buildVersion, a Go string header {ptr, len}. */
	if (ptrsize != 4 && ptrsize != 8)
		return -EINVAL;
	bool big = flags & 1;
#define PTR(p) (ptrsize == 8 ? (big ? be64(p) : le64(p)) : (big ? be32(p) : le32(p)))
	const uint8_t *str = read_vaddr(elf, PTR(h + 16), 2 * (size_t)ptrsize);
	if (!str)
		return -EINVAL;
	uint64_t saddr = PTR(str), slen = PTR(str + ptrsize);
#undef PTR
	if (slen == 0 || slen > 4096)
		return -EINVAL;
	const uint8_t *s = read_vaddr(elf, saddr, slen);
	if (!s)
		return -EINVAL;
	return copy_version(s, slen, buf, len);
}
