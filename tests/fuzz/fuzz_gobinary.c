// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for user/binfmt/gobinary.c, which parses bytes from whatever binary a profiled
 * process runs. Two targets from this file (see tests/fuzz/Makefile):
 *   default       input = raw .gopclntab section: gopclntab_open + every query on the result,
 *                 with the input itself as go:func.* data too (inline trees);
 *   -DFUZZ_ELF    input = an ELF file: gopclntab_from_elf (section lookup, symbol and scan
 *                 fallbacks) and go_buildinfo_version, through libelf's elf_memory.
 * Built with -DGOBINARY_SEEDGEN instead, it is a plain program writing small synthetic tables
 * of each supported format into a directory, as seeds next to the real sections: the real
 * tables are ~0.5 MB, where random mutations rarely reach the header and function table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libelf.h>

#include "binfmt/gobinary.h"

/* Runs every query; results may be nonsense for corrupt input but must stay in bounds. */
static void exercise(struct gopclntab *t, const uint8_t *data, size_t size)
{
	size_t n = gopclntab_nfuncs(t);
	volatile size_t sink = 0;
	for (size_t i = 0; i < n && i < 256; i++) {
		struct go_func fn, fn2;
		const char *file;
		uint32_t line;
		if (gopclntab_func(t, i, &fn) != 0)
			abort();
		sink += strlen(fn.name);
		uint64_t pcs[] = { fn.entry, fn.entry + (fn.end - fn.entry) / 2, fn.end - 1 };
		for (size_t k = 0; k < 3; k++) {
			if (gopclntab_lookup(t, pcs[k], &fn2, &file, &line) == 0) {
				sink += strlen(fn2.name) + line;
				if (file)
					sink += strlen(file);
				if (fn2.entry > pcs[k] || fn2.end <= pcs[k])
					abort(); /* lookup returned a function not covering pc */
				struct go_frame frames[4];
				size_t nf = gopclntab_frames(t, pcs[k], frames, 4);
				if (nf == 0 || nf > 4 || strcmp(frames[nf - 1].func, fn2.name))
					abort(); /* the physical function comes last */
				for (size_t f = 0; f < nf; f++)
					sink += strlen(frames[f].func) +
						(frames[f].file ? strlen(frames[f].file) : 0);
			}
		}
		if (i < 8 && strcmp(fn.name, GOPCLNTAB_BAD_NAME) && gopclntab_find(t, fn.name, &fn2) != 0)
			abort(); /* a listed name must be findable */
	}
	struct go_func fn;
	gopclntab_find(t, "main.main", &fn);
	if (size >= 8) { /* an arbitrary pc taken from the input */
		uint64_t pc;
		memcpy(&pc, data + size - 8, 8);
		const char *file;
		uint32_t line;
		gopclntab_lookup(t, pc, &fn, &file, &line);
	}
	(void)sink;
}

#ifndef GOBINARY_SEEDGEN

#ifdef FUZZ_ELF
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		elf_version(EV_CURRENT);
		init = 1;
	}
	char *copy = malloc(size ? size : 1); /* elf_memory takes a mutable image */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	Elf *elf = elf_memory(copy, size);
	if (elf) {
		char version[64];
		if (go_buildinfo_version(elf, version, sizeof(version)) == 0 &&
		    strlen(version) >= sizeof(version))
			abort();
		if (go_buildinfo_dep_version(elf, "github.com/gin-gonic/gin", version, sizeof(version)) ==
			    0 &&
		    (strlen(version) >= sizeof(version) || version[0] != 'v'))
			abort();
		struct gopclntab *t = gopclntab_from_elf(elf);
		if (t) {
			exercise(t, data, size);
			gopclntab_close(t); /* before the Elf, whose bytes it reads */
		}
		elf_end(elf);
	}
	free(copy);
	return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gopclntab *t = gopclntab_open(data, size, 0x4c0000, 0x401000);
	if (t) {
		gopclntab_set_funcdata(t, data, size);
		exercise(t, data, size);
		gopclntab_close(t);
	}
	return 0;
}
#endif

#else /* GOBINARY_SEEDGEN */

struct buf {
	uint8_t p[4096];
	size_t len;
};

static size_t add(struct buf *b, const void *d, size_t n)
{
	size_t off = b->len;
	if (off + n > sizeof(b->p))
		abort();
	if (d)
		memcpy(b->p + off, d, n);
	else
		memset(b->p + off, 0, n);
	b->len += n;
	return off;
}

static void add_uint(struct buf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		add(b, &c, 1);
	}
}

static void set_uint(struct buf *b, size_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b->p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* One value step (zig-zag delta) and pc step of a pc-value table; small values only. */
static void add_step(struct buf *b, int delta, unsigned pcdelta)
{
	uint8_t v[2] = { (uint8_t)(delta < 0 ? (~delta << 1) | 1 : delta << 1), (uint8_t)pcdelta };
	add(b, v, 2);
}

/* Three functions, two files (one CU without a file), two lines each. */
static size_t build(int ver, int ptrsize, uint8_t *out)
{
	static const char *const names[] = { "runtime.text", "main.main", "main.f" };
	static const unsigned sizes[] = { 0x20, 0x40, 0x10 };
	struct buf nt = { .len = 0 }, cu = { .len = 0 }, ft = { .len = 0 }, pc = { .len = 0 },
		   fn = { .len = 0 };
	uint32_t nameoff[3], pcfile[3], pcln[3];
	add(&pc, NULL, 1);
	uint32_t file0 = (uint32_t)add(&ft, "/src/main.go", 13);
	add(&ft, "/src/runtime/asm.s", 19);
	for (int i = 0; i < 3; i++) {
		nameoff[i] = (uint32_t)add(&nt, names[i], strlen(names[i]) + 1);
		add_uint(&cu, i == 2 ? UINT32_MAX : file0, 4);
		pcfile[i] = (uint32_t)pc.len;
		add_step(&pc, 1, sizes[i]);
		add(&pc, NULL, 1);
		pcln[i] = (uint32_t)pc.len;
		add_step(&pc, 11 + i, sizes[i] / 2);
		add_step(&pc, -3, sizes[i] / 2);
		add(&pc, NULL, 1);
	}
	int fsz = ver >= 118 ? 4 : ptrsize;
	add(&fn, NULL, (size_t)(3 * 2 + 1) * (size_t)fsz);
	uint64_t text = 0x401000, entry = text;
	for (int i = 0; i <= 3; i++) {
		uint64_t e = ver >= 118 ? entry - text : entry;
		set_uint(&fn, (size_t)(2 * i * fsz), e, fsz);
		if (i == 3)
			break;
		while (fn.len % (size_t)ptrsize)
			add(&fn, NULL, 1);
		set_uint(&fn, (size_t)((2 * i + 1) * fsz), fn.len, fsz);
		add_uint(&fn, e, fsz);
		uint32_t f[] = { nameoff[i], 8, 0, 0, pcfile[i], pcln[i], 0, (uint32_t)i, 1, 0 };
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			add_uint(&fn, f[k], 4);
		entry += sizes[i];
	}
	struct buf o = { .len = 0 };
	uint32_t magic = ver == 116 ? 0xfffffffa : ver == 118 ? 0xfffffff0 : 0xfffffff1;
	add_uint(&o, magic, 4);
	add(&o, (uint8_t[]){ 0, 0, 1, (uint8_t)ptrsize }, 4);
	size_t hdr = 8 + (size_t)(ver >= 118 ? 8 : 7) * (size_t)ptrsize;
	add_uint(&o, 3, ptrsize);
	add_uint(&o, 2, ptrsize);
	if (ver >= 118)
		add_uint(&o, text, ptrsize);
	size_t off = hdr;
	struct buf *parts[] = { &nt, &cu, &ft, &pc, &fn };
	for (int i = 0; i < 5; i++) {
		add_uint(&o, off, ptrsize);
		off += parts[i]->len;
	}
	for (int i = 0; i < 5; i++)
		add(&o, parts[i]->p, parts[i]->len);
	memcpy(out, o.p, o.len);
	return o.len;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	static const int formats[][2] = { { 116, 8 }, { 118, 8 }, { 120, 8 }, { 120, 4 } };
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		uint8_t table[4096];
		size_t n = build(formats[i][0], formats[i][1], table);
		struct gopclntab *t = gopclntab_open(table, n, 0x4c0000, 0);
		if (!t || gopclntab_nfuncs(t) != 3) {
			fprintf(stderr, "seedgen: synthetic %d/%d table does not open\n", formats[i][0],
				formats[i][1]);
			return 1;
		}
		exercise(t, table, n);
		gopclntab_close(t);
		char path[4096];
		snprintf(path, sizeof(path), "%s/syn-%d-ptr%d.bin", argv[1], formats[i][0], formats[i][1]);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(table, 1, n, f) != n || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

#endif
