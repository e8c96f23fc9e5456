// SPDX-License-Identifier: Apache-2.0
/* dwarf_lines over an ELF file: .debug_line read in place, or inflated as a stream when it is
 * compressed (SHF_COMPRESSED, ELFCOMPRESS_ZLIB), holding one unit at a time. */
#include "binfmt/dwarf_lines.h"

#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A unit larger than this is taken as corrupt (libc's largest is about 100 kB). */
#define MAX_UNIT   (64u << 20)
#define FIRST_SIZE (64u << 10)
/* A compressed string section larger than this once inflated is not read: its paths stay
 * unknown rather than the whole section being held in memory. */
#define MAX_STRINGS (4u << 20)

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		const char *n;
		if (gelf_getshdr(scn, sh) && sh->sh_type != SHT_NOBITS &&
		    (n = elf_strptr(elf, shstrndx, sh->sh_name)) && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* A section's stored bytes; when compressed, the zlib stream after its header and *size its
 * inflated size. -ENOTSUP for another compression (zstd). */
static int section_raw(Elf *elf, const char *name, const uint8_t **p, size_t *len, bool *zlib, uint64_t *size)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, name, &sh);
	Elf_Data *d = scn ? elf_rawdata(scn, NULL) : NULL;
	if (!d || !d->d_buf || !d->d_size)
		return -ENOENT;
	*p = d->d_buf;
	*len = d->d_size;
	*zlib = false;
	if (!(sh.sh_flags & SHF_COMPRESSED))
		return 0;
	GElf_Chdr ch;
	size_t head = gelf_getclass(elf) == ELFCLASS32 ? sizeof(Elf32_Chdr) : sizeof(Elf64_Chdr);
	if (!gelf_getchdr(scn, &ch) || *len < head)
		return -ENOENT;
	if (ch.ch_type != ELFCOMPRESS_ZLIB)
		return -ENOTSUP;
	*p += head;
	*len -= head;
	*zlib = true;
	*size = ch.ch_size;
	return 0;
}

/* The DWARF version of the first unit of .debug_line, 0 if unreadable. */
static int first_version(const uint8_t *raw, size_t len, bool zlib)
{
	uint8_t head[14];
	size_t have = len < sizeof(head) ? len : sizeof(head);
	if (zlib) {
		z_stream z = { .next_in = (Bytef *)raw,
			       .avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len };
		if (inflateInit(&z) != Z_OK)
			return 0;
		z.next_out = head;
		z.avail_out = sizeof(head);
		inflate(&z, Z_SYNC_FLUSH);
		have = sizeof(head) - z.avail_out;
		inflateEnd(&z);
	} else {
		memcpy(head, raw, have);
	}
	size_t at = have >= 4 && head[0] == 0xff && head[1] == 0xff && head[2] == 0xff && head[3] == 0xff ? 12
													  : 4;
	return have >= at + 2 ? head[at] | head[at + 1] << 8 : 0;
}

bool dwarf_lines_elf_preferred(Elf *elf, bool debug_file)
{
	const uint8_t *raw;
	size_t len;
	bool zlib;
	uint64_t size;
	GElf_Shdr sh;
	GElf_Ehdr eh;
	if (!gelf_getehdr(elf, &eh) || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    section_raw(elf, ".debug_line", &raw, &len, &zlib, &size))
		return false; /* none, big-endian, or zstd: libdw's (when built with it) */
	/* Before DWARF 5 a line table's paths are relative to a directory only .debug_info names:
	 * libdw's paths are whole. */
	if (first_version(raw, len, zlib) < 5)
		return false;
	return debug_file || zlib ||
	       (find_section(elf, ".debug_info", &sh) && (sh.sh_flags & SHF_COMPRESSED));
}

/* A string section, inflated into *owned when compressed (and not too large). */
static void load_strings(Elf *elf, const char *name, const uint8_t **p, size_t *len, uint8_t **owned)
{
	const uint8_t *raw;
	size_t rawlen;
	bool zlib;
	uint64_t size = 0;
	*p = NULL;
	*len = 0;
	if (section_raw(elf, name, &raw, &rawlen, &zlib, &size))
		return;
	if (!zlib) {
		*p = raw;
		*len = rawlen;
		return;
	}
	uLongf out = (uLongf)size;
	if (!size || size > MAX_STRINGS || rawlen > UINT32_MAX || !(*owned = malloc(size)))
		return;
	if (uncompress(*owned, &out, raw, (uLong)rawlen) != Z_OK) {
		free(*owned);
		*owned = NULL;
		return;
	}
	*p = *owned;
	*len = out;
}

/* Units inflated from a zlib stream: buf[pos, have) is inflated and not yet handed out. */
struct zunits {
	z_stream z;
	bool ended;
	uint8_t *buf;
	size_t cap, have, pos;
};

/* Inflates until want bytes are held (or the stream ends). */
static int zfill(struct zunits *u, size_t want)
{
	if (u->pos) {
		memmove(u->buf, u->buf + u->pos, u->have - u->pos);
		u->have -= u->pos;
		u->pos = 0;
	}
	while (u->have < want && !u->ended) {
		if (u->have == u->cap) {
			size_t cap = u->cap ? 2 * u->cap : FIRST_SIZE;
			uint8_t *b = cap <= 2 * (size_t)MAX_UNIT ? realloc(u->buf, cap) : NULL;
			if (!b)
				return -ENOMEM;
			u->buf = b;
			u->cap = cap;
		}
		u->z.next_out = u->buf + u->have;
		u->z.avail_out = (uInt)(u->cap - u->have);
		int r = inflate(&u->z, Z_NO_FLUSH);
		u->have = u->cap - u->z.avail_out;
		if (r == Z_STREAM_END || (r == Z_BUF_ERROR && !u->z.avail_in))
			u->ended = true; /* a truncated stream ends where its data does */
		else if (r != Z_OK && r != Z_BUF_ERROR)
			return -EIO;
	}
	return 0;
}

static int znext(void *ctx, const uint8_t **unit, size_t *len)
{
	struct zunits *u = ctx;
	int err = zfill(u, 12);
	if (err)
		return err;
	size_t held = u->have - u->pos;
	if (!held)
		return 0;
	/* The unit's declared size, to inflate it whole (dwarf_lines_unit_size caps it at held). */
	const uint8_t *p = u->buf + u->pos;
	uint64_t size = held;
	if (held >= 4) {
		uint32_t len32 =
			(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (len32 < 0xfffffff0u) {
			size = 4 + (uint64_t)len32;
		} else if (len32 == 0xffffffffu && held >= 12) {
			uint64_t len64 = 0;
			for (int i = 0; i < 8; i++)
				len64 |= (uint64_t)p[4 + i] << (8 * i);
			size = len64 > MAX_UNIT ? len64 : 12 + len64;
		}
	}
	if (size > MAX_UNIT)
		return -EFBIG;
	if ((err = zfill(u, (size_t)size)))
		return err;
	*unit = u->buf;
	*len = dwarf_lines_unit_size(u->buf, u->have);
	u->pos = *len;
	return 1;
}

int dwarf_lines_lookup_zlib(const uint8_t *z, size_t len, const struct dwarf_line_strings *strs,
			    struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files)
{
	struct zunits u = { 0 };
	if (len > UINT32_MAX)
		return -EFBIG;
	u.z.next_in = (Bytef *)z;
	u.z.avail_in = (uInt)len;
	if (inflateInit(&u.z) != Z_OK)
		return -ENOMEM;
	int err = dwarf_lines_lookup(znext, &u, strs, q, n, files);
	inflateEnd(&u.z);
	free(u.buf);
	return err;
}

int dwarf_lines_lookup_elf(Elf *elf, struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files)
{
	GElf_Ehdr eh;
	if (!gelf_getehdr(elf, &eh) || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOTSUP;
	const uint8_t *raw;
	size_t len;
	bool zlib;
	uint64_t size;
	int err = section_raw(elf, ".debug_line", &raw, &len, &zlib, &size);
	if (err)
		return err;
	struct dwarf_line_strings strs;
	uint8_t *line_str = NULL, *str = NULL;
	load_strings(elf, ".debug_line_str", &strs.line_str, &strs.line_str_len, &line_str);
	load_strings(elf, ".debug_str", &strs.str, &strs.str_len, &str);
	err = zlib ? dwarf_lines_lookup_zlib(raw, len, &strs, q, n, files)
		   : dwarf_lines_lookup_buffer(raw, len, &strs, q, n, files);
	free(line_str);
	free(str);
	return err;
}

struct dwarf_line_cache {
	Elf *elf;
	struct dwarf_line_files *files;
	struct dwarf_line_query *answers; /* sorted by addr, unique */
	size_t nanswers;
	uint64_t *wanted;
	size_t nwanted, wanted_cap;
};

struct dwarf_line_cache *dwarf_line_cache_new(Elf *elf)
{
	struct dwarf_line_cache *c = calloc(1, sizeof(*c));
	if (c && !(c->files = dwarf_line_files_new())) {
		free(c);
		return NULL;
	}
	if (c)
		c->elf = elf;
	return c;
}

void dwarf_line_cache_free(struct dwarf_line_cache *c)
{
	if (!c)
		return;
	dwarf_line_files_free(c->files);
	free(c->answers);
	free(c->wanted);
	free(c);
}

void dwarf_line_cache_want(struct dwarf_line_cache *c, uint64_t addr)
{
	if (c->nwanted == c->wanted_cap) {
		size_t cap = c->wanted_cap ? 2 * c->wanted_cap : 256;
		uint64_t *w = realloc(c->wanted, cap * sizeof(*w));
		if (!w)
			return; /* found later by a pass of its own */
		c->wanted = w;
		c->wanted_cap = cap;
	}
	c->wanted[c->nwanted++] = addr;
}

static const struct dwarf_line_query *cache_get(const struct dwarf_line_cache *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nanswers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->answers[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nanswers && c->answers[lo].addr == addr ? &c->answers[lo] : NULL;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* One pass over .debug_line for every wanted address not answered yet; their answers (found
 * or not) are kept, so no address costs a second pass. */
static void cache_fill(struct dwarf_line_cache *c)
{
	size_t n = 0;
	qsort(c->wanted, c->nwanted, sizeof(*c->wanted), u64_cmp);
	for (size_t i = 0; i < c->nwanted; i++)
		if ((!n || c->wanted[i] != c->wanted[n - 1]) && !cache_get(c, c->wanted[i]))
			c->wanted[n++] = c->wanted[i];
	c->nwanted = 0;
	struct dwarf_line_query *q = calloc(n ? n : 1, sizeof(*q));
	struct dwarf_line_query *merged = realloc(c->answers, (c->nanswers + n) * sizeof(*merged) + 1);
	if (!q || !merged) {
		free(q);
		if (merged)
			c->answers = merged;
		return;
	}
	c->answers = merged;
	for (size_t i = 0; i < n; i++)
		q[i].addr = c->wanted[i];
	dwarf_lines_lookup_elf(c->elf, q, n, c->files); /* on failure the rest stay unknown */
	/* Merge from the back: both are sorted, and the answers array has room for both. */
	size_t i = c->nanswers, j = n, k = c->nanswers + n;
	while (j > 0) {
		if (i > 0 && c->answers[i - 1].addr > q[j - 1].addr)
			c->answers[--k] = c->answers[--i];
		else
			c->answers[--k] = q[--j];
	}
	c->nanswers += n;
	free(q);
}

void dwarf_line_cache_find(struct dwarf_line_cache *c, uint64_t addr, const char **file, uint32_t *line)
{
	const struct dwarf_line_query *a = cache_get(c, addr);
	if (!a) {
		dwarf_line_cache_want(c, addr);
		cache_fill(c);
		a = cache_get(c, addr);
	}
	*file = a ? a->file : NULL;
	*line = a ? a->line : 0;
}
