// SPDX-License-Identifier: Apache-2.0
/* Finds a Go binary's pclntab, the runtime's moduledata (text start, go:func.* data) and the
 * build info in an ELF file; see gobinary.h. Layouts follow Go's runtime/symtab.go
 * (moduledata) and debug/buildinfo. Untrusted input: every read is bounds-checked. */
#include "binfmt/gobinary.h"
#include "binfmt/gobinary_bytes.h"

#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The runtime's moduledata describes the module: its first two words point at the pclntab and
 * at its function-name table; further on are text (the code start: Go 1.26+ no longer stores
 * it in the pclntab header, and earlier PIE builds leave it to a dynamic relocation) and gofunc
 * (the go:func.* data that funcdata offsets are relative to). Found by those two pointers, in
 * the file's bytes or, in PIE builds where the file holds zeros there, in the relative
 * relocations that fill them. The .text section is no substitute for text: with external (cgo)
 * linking it starts with the C runtime, and every Go function would be named wrong. */
#define MODULEDATA_FUNCNAMES 8
#define MODULEDATA_TEXT	     176 /* the same from Go 1.18 to 1.27 */
#define MODULEDATA_SPAN	     352 /* bytes read: up to gofunc, the last field used */

/* Offset of gofunc, preceded by rodata, by Go release: covctrs/ecovctrs came in 1.20,
 * typedesclen and itaboffset/itabsize in 1.27. 0 if unknown. */
static size_t moduledata_gofunc(int minor)
{
	if (minor >= 27)
		return 344;
	if (minor >= 20)
		return 320;
	if (minor >= 18)
		return 304;
	return 0;
}

struct moduledata {
	Elf *elf;
	uint64_t addr;
	const uint8_t *bytes; /* MODULEDATA_SPAN bytes in the file, or NULL: read relocations */
	const GElf_Shdr *rela_sh;
	Elf_Data *rela;
};

static bool is_relative_reloc(const GElf_Rela *r)
{
	uint32_t type = GELF_R_TYPE(r->r_info);
	return type == R_X86_64_RELATIVE || type == R_AARCH64_RELATIVE;
}

/* The value a relative relocation stores at addr, 0 if none does. */
static uint64_t reloc_value(const struct moduledata *md, uint64_t addr)
{
	size_t n = md->rela ? md->rela->d_size / md->rela_sh->sh_entsize : 0;
	GElf_Rela r;
	for (size_t i = 0; i < n; i++)
		if (gelf_getrela(md->rela, (int)i, &r) && is_relative_reloc(&r) && r.r_offset == addr)
			return (uint64_t)r.r_addend;
	return 0;
}

/* A word of moduledata: the file's bytes, or the relocation that fills it at load time. */
static uint64_t moduledata_word(const struct moduledata *md, size_t off)
{
	uint64_t v = md->bytes ? le64(md->bytes + off) : 0;
	return v ? v : reloc_value(md, md->addr + off);
}

static bool moduledata_find(Elf *elf, uint64_t pcheader, uint64_t funcnames, struct moduledata *md,
			    GElf_Shdr *rela_sh)
{
	static const char *const names[] = { ".go.module", ".noptrdata", ".data", ".data.rel.ro" };
	memset(md, 0, sizeof(*md));
	md->elf = elf;
	Elf_Scn *scn = find_section(elf, ".rela.dyn", rela_sh);
	md->rela = scn && rela_sh->sh_entsize ? elf_getdata(scn, NULL) : NULL;
	md->rela_sh = rela_sh;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		GElf_Shdr sh;
		size_t size;
		const uint8_t *d = section_bytes(find_section(elf, names[i], &sh), &sh, &size);
		for (size_t off = 0; d && off + MODULEDATA_SPAN <= size; off += 8)
			if (le64(d + off) == pcheader && le64(d + off + MODULEDATA_FUNCNAMES) == funcnames) {
				md->addr = sh.sh_addr + off;
				md->bytes = d + off;
				return true;
			}
	}
	size_t n = md->rela ? md->rela->d_size / rela_sh->sh_entsize : 0;
	GElf_Rela r;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getrela(md->rela, (int)i, &r) || !is_relative_reloc(&r) ||
		    (uint64_t)r.r_addend != pcheader)
			continue;
		md->addr = r.r_offset;
		if (reloc_value(md, md->addr + MODULEDATA_FUNCNAMES) == funcnames)
			return true;
	}
	return false;
}

/* Minor release from "go1.21.5", 0 if the version does not say. */
static int go_minor(Elf *elf)
{
	char v[32];
	int major, minor;
	if (go_buildinfo_version(elf, v, sizeof(v)) || sscanf(v, "go%d.%d", &major, &minor) != 2 ||
	    major != 1)
		return 0;
	return minor;
}

/* Hands the go:func.* data to the table: from moduledata.gofunc to the end of the allocated
 * section holding it (.rodata; .gopclntab since Go 1.26). moduledata.rodata, just before it,
 * must point into a read-only allocated section too (.rodata, where external linking puts C
 * data first), below gofunc: a check that the layout guessed from the Go version is the one
 * in the file; gopclntab_set_funcdata then checks every record. */
static void load_funcdata(struct gopclntab *t, Elf *elf, const struct moduledata *md)
{
	size_t at = moduledata_gofunc(go_minor(elf));
	if (!at)
		return;
	uint64_t rodata = moduledata_word(md, at - 8), gofunc = moduledata_word(md, at);
	const uint8_t *data = NULL;
	size_t size = 0;
	bool rodata_ok = false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		size_t n;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_flags & (SHF_ALLOC | SHF_WRITE)) != SHF_ALLOC)
			continue;
		rodata_ok |= rodata >= sh.sh_addr && rodata - sh.sh_addr < sh.sh_size;
		if (gofunc < sh.sh_addr || gofunc - sh.sh_addr >= sh.sh_size)
			continue;
		const uint8_t *d = section_bytes(scn, &sh, &n);
		if (d && n == sh.sh_size) {
			data = d + (gofunc - sh.sh_addr);
			size = n - (gofunc - sh.sh_addr);
		}
	}
	if (data && rodata_ok && rodata <= gofunc)
		gopclntab_set_funcdata(t, data, size);
}

static struct gopclntab *open_at(Elf *elf, const uint8_t *d, size_t size, uint64_t addr)
{
	int ver = gopclntab_header_version(d, size);
	if (!ver)
		return NULL;
	size_t ptr = d[7];
	if (ver < GOPCLNTAB_VER118 || size < 8 + 4 * ptr)
		return gopclntab_open(d, size, addr, 0);
	uint64_t funcnames = addr + read_uint(d + 8 + 3 * ptr, (uint32_t)ptr), text = 0;
	struct moduledata md;
	GElf_Shdr rela_sh;
	bool have_md = ptr == 8 && moduledata_find(elf, addr, funcnames, &md, &rela_sh);
	if (read_uint(d + 8 + 2 * ptr, (uint32_t)ptr) == 0) {
		text = symtab_lookup(elf, "runtime.text");
		if (!text && have_md)
			text = moduledata_word(&md, MODULEDATA_TEXT);
		if (!text)
			return NULL;
	}
	struct gopclntab *t = gopclntab_open(d, size, addr, text);
	if (t && have_md)
		load_funcdata(t, elf, &md);
	return t;
}

/* moduledata.types and .etypes (the type descriptors' range) by Go release: covctrs/ecovctrs
 * came in 1.20, typedesclen (between them) in 1.27. 0 if unknown. */
static size_t moduledata_types(int minor, size_t *etypes)
{
	size_t at = minor >= 20 ? 296 : minor >= 18 ? 280 : 0;
	*etypes = at + (minor >= 27 ? 16 : 8);
	return at;
}

int go_moduledata_types(Elf *elf, uint64_t *types, uint64_t *etypes)
{
	GElf_Shdr sh, rela_sh;
	size_t size, at_end, at = moduledata_types(go_minor(elf), &at_end);
	const uint8_t *d = NULL;
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !d; i++)
		d = section_bytes(find_section(elf, names[i], &sh), &sh, &size);
	if (!d || !at || gopclntab_header_version(d, size) < GOPCLNTAB_VER118 || d[7] != 8 ||
	    size < 8 + 4 * 8)
		return -ENOENT;
	struct moduledata md;
	if (!moduledata_find(elf, sh.sh_addr, sh.sh_addr + le64(d + 8 + 3 * 8), &md, &rela_sh))
		return -ENOENT;
	*types = moduledata_word(&md, at);
	*etypes = moduledata_word(&md, at_end);
	return *types && *etypes > *types ? 0 : -ENOENT;
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
		if (!gopclntab_header_version(d + off, size - off))
			continue;
		struct gopclntab *t = open_at(elf, d + off, size - off, sh.sh_addr + off);
		if (t)
			return t;
	}
	return NULL;
}

/* Build info. */

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
