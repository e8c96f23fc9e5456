// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the .debug_line reader (user/binfmt/dwarf_lines.c, dwarf_lines_elf.c). Ground
 * truth: line-number programs built here byte by byte (DWARF 4 and 5, 32- and 64-bit), whose
 * rows are known by construction, inflated or not; and libdw's answers (dwarf_getsrc_die) on
 * Debian's libc debug file (libc6-dbg: DWARF 5, zlib-compressed sections) and a program built
 * here with gcc -gz, for addresses across every function of their .symtab. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "binfmt/debug_file.h"
#include "binfmt/dwarf_lines.h"
#include "elf_harness.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* ---- a byte builder ---- */

struct bytes {
	uint8_t b[1024];
	size_t n;
};

static void put(struct bytes *o, uint64_t v, size_t width)
{
	assert_true(o->n + width <= sizeof(o->b));
	for (size_t i = 0; i < width; i++)
		o->b[o->n++] = (uint8_t)(v >> (8 * i));
}

static void put_uleb(struct bytes *o, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;
		v >>= 7;
		put(o, byte | (v ? 0x80 : 0), 1);
	} while (v);
}

static void put_sleb(struct bytes *o, int64_t v)
{
	for (;;) {
		uint8_t byte = v & 0x7f;
		v >>= 7;
		bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
		put(o, byte | (done ? 0 : 0x80), 1);
		if (done)
			return;
	}
}

static void put_str(struct bytes *o, const char *s)
{
	size_t len = strlen(s) + 1;
	assert_true(o->n + len <= sizeof(o->b));
	memcpy(o->b + o->n, s, len);
	o->n += len;
}

static void set_address(struct bytes *o, uint64_t addr)
{
	put(o, 0, 1);
	put_uleb(o, 9);
	put(o, 2, 1); /* DW_LNE_set_address */
	put(o, addr, 8);
}

static void end_sequence(struct bytes *o)
{
	put(o, 0, 1);
	put_uleb(o, 1);
	put(o, 1, 1);
}

/* Special opcode for (address, line) advances with line_base -5, line_range 14. */
static uint8_t special(int addr, int line, int opcode_base)
{
	return (uint8_t)((line + 5) + 14 * addr + opcode_base);
}

/* The unit's fixed header fields after header_length (opcode_base 14: opcode 13 is one this
 * reader does not know, with 2 ULEB operands). */
static void common_header(struct bytes *h, int version)
{
	put(h, 1, 1); /* minimum_instruction_length */
	if (version >= 4)
		put(h, 1, 1); /* maximum_operations_per_instruction */
	put(h, 1, 1);	      /* default_is_stmt */
	put(h, (uint8_t)-5, 1);
	put(h, 14, 1);
	put(h, 14, 1);
	static const uint8_t lengths[13] = { 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 2 };
	for (int i = 0; i < 13; i++)
		put(h, lengths[i], 1);
}

/* Wraps header h and program p into a unit appended to out. */
static void unit(struct bytes *out, int version, bool dwarf64, const struct bytes *h, const struct bytes *p)
{
	size_t off = dwarf64 ? 8 : 4;
	uint64_t length = 2 + (version >= 5 ? 2 : 0) + off + h->n + p->n;
	if (dwarf64) {
		put(out, 0xffffffff, 4);
		put(out, length, 8);
	} else {
		put(out, length, 4);
	}
	put(out, (uint64_t)version, 2);
	if (version >= 5) {
		put(out, 8, 1);
		put(out, 0, 1);
	}
	put(out, h->n, off);
	memcpy(out->b + out->n, h->b, h->n);
	out->n += h->n;
	memcpy(out->b + out->n, p->b, p->n);
	out->n += p->n;
}

/* line_str for the DWARF 5 unit. */
static const char LINE_STR[] = "/src\0inc";

/* DWARF 5: directories "/src" and "inc" (.debug_line_str), files main.c (dir 0) and h.h
 * (dir 1), with MD5s. Rows: 0x1000 main.c:10, 0x1004 main.c:12 then main.c:13 (the last row
 * at an address wins), 0x1010 h.h:5, end 0x1040; 0x2000 h.h:1 (file 1 after a reset), 0x2002
 * h.h:1, end 0x2004. */
static void v5_unit(struct bytes *out, bool dwarf64)
{
	struct bytes h = { 0 }, p = { 0 };
	common_header(&h, 5);
	put(&h, 1, 1);	    /* directory formats */
	put_uleb(&h, 1);    /* DW_LNCT_path */
	put_uleb(&h, 0x1f); /* DW_FORM_line_strp */
	put_uleb(&h, 2);    /* directories */
	put(&h, 0, dwarf64 ? 8 : 4);
	put(&h, 5, dwarf64 ? 8 : 4);
	put(&h, 3, 1); /* file formats */
	put_uleb(&h, 1);
	put_uleb(&h, 0x08); /* path: DW_FORM_string */
	put_uleb(&h, 2);
	put_uleb(&h, 0x0f); /* directory index: DW_FORM_udata */
	put_uleb(&h, 5);
	put_uleb(&h, 0x1e); /* MD5: DW_FORM_data16 */
	put_uleb(&h, 2);
	put_str(&h, "main.c");
	put_uleb(&h, 0);
	for (int i = 0; i < 16; i++)
		put(&h, 0xaa, 1);
	put_str(&h, "h.h");
	put_uleb(&h, 1);
	for (int i = 0; i < 16; i++)
		put(&h, 0xbb, 1);

	set_address(&p, 0x1000);
	put(&p, 4, 1); /* DW_LNS_set_file 0 */
	put_uleb(&p, 0);
	put(&p, 3, 1); /* DW_LNS_advance_line 9 */
	put_sleb(&p, 9);
	put(&p, 1, 1);	/* DW_LNS_copy: 0x1000 main.c:10 */
	put(&p, 13, 1); /* unknown standard opcode, 2 ULEBs */
	put_uleb(&p, 200);
	put_uleb(&p, 5);
	put(&p, special(4, 2, 14), 1); /* 0x1004 main.c:12 */
	put(&p, 3, 1);
	put_sleb(&p, 1);
	put(&p, 1, 1); /* 0x1004 main.c:13 */
	put(&p, 4, 1);
	put_uleb(&p, 1);
	put(&p, 2, 1); /* DW_LNS_advance_pc 12 */
	put_uleb(&p, 12);
	put(&p, 3, 1);
	put_sleb(&p, -8);
	put(&p, 1, 1); /* 0x1010 h.h:5 */
	put(&p, 8, 1); /* DW_LNS_const_add_pc: +17 */
	put(&p, 9, 1); /* DW_LNS_fixed_advance_pc 0x1f */
	put(&p, 0x1f, 2);
	end_sequence(&p); /* 0x1040 */
	set_address(&p, 0x2000);
	put(&p, 1, 1);
	put(&p, special(2, 0, 14), 1);
	put(&p, 2, 1);
	put_uleb(&p, 2);
	end_sequence(&p);
	unit(out, 5, dwarf64, &h, &p);
}

/* DWARF 4: include_directories "/usr/include"; files a.c (dir 0: the compilation directory,
 * unknown here) and stdio.h (dir 1). Rows: 0x3000 a.c:1, 0x3008 stdio.h:5, end 0x3010. */
static void v4_unit(struct bytes *out)
{
	struct bytes h = { 0 }, p = { 0 };
	common_header(&h, 4);
	put_str(&h, "/usr/include");
	put(&h, 0, 1);
	put_str(&h, "a.c");
	put_uleb(&h, 0);
	put_uleb(&h, 0);
	put_uleb(&h, 0);
	put_str(&h, "stdio.h");
	put_uleb(&h, 1);
	put_uleb(&h, 0);
	put_uleb(&h, 0);
	put(&h, 0, 1);
	set_address(&p, 0x3000);
	put(&p, 1, 1);
	put(&p, 4, 1);
	put_uleb(&p, 2);
	put(&p, 3, 1);
	put_sleb(&p, 4);
	put(&p, special(8, 0, 14), 1);
	put(&p, 2, 1);
	put_uleb(&p, 8);
	end_sequence(&p);
	unit(out, 4, false, &h, &p);
}

static const struct {
	uint64_t addr;
	const char *file;
	uint32_t line;
} WANT[] = {
	{ 0x0fff, NULL, 0 },
	{ 0x1000, "/src/main.c", 10 },
	{ 0x1003, "/src/main.c", 10 },
	{ 0x1004, "/src/main.c", 13 },
	{ 0x100f, "/src/main.c", 13 },
	{ 0x1010, "/src/inc/h.h", 5 },
	{ 0x103f, "/src/inc/h.h", 5 },
	{ 0x1040, NULL, 0 },
	{ 0x2000, "/src/inc/h.h", 1 },
	{ 0x2003, "/src/inc/h.h", 1 },
	{ 0x2004, NULL, 0 },
	{ 0x3000, "a.c", 1 },
	{ 0x3007, "a.c", 1 },
	{ 0x3008, "/usr/include/stdio.h", 5 },
	{ 0x300f, "/usr/include/stdio.h", 5 },
	{ 0x3010, NULL, 0 },
};
#define NWANT (sizeof(WANT) / sizeof(WANT[0]))

static void check_answers(const struct dwarf_line_query *q)
{
	for (size_t i = 0; i < NWANT; i++) {
		if (!WANT[i].file) {
			assert_null(q[i].file);
		} else {
			assert_non_null(q[i].file);
			assert_string_equal(q[i].file, WANT[i].file);
		}
		assert_int_equal(q[i].line, WANT[i].line);
	}
}

static void queries(struct dwarf_line_query *q)
{
	for (size_t i = 0; i < NWANT; i++)
		q[i] = (struct dwarf_line_query){ .addr = WANT[i].addr };
}

static const struct dwarf_line_strings STRS = { (const uint8_t *)LINE_STR, sizeof(LINE_STR), NULL, 0 };

static void test_known_rows(void **state)
{
	(void)state;
	for (int dwarf64 = 0; dwarf64 <= 1; dwarf64++) {
		struct bytes sec = { 0 };
		v5_unit(&sec, dwarf64);
		v4_unit(&sec);
		struct dwarf_line_query q[NWANT];
		queries(q);
		struct dwarf_line_files *files = dwarf_line_files_new();
		assert_int_equal(dwarf_lines_lookup_buffer(sec.b, sec.n, &STRS, q, NWANT, files), 0);
		check_answers(q);
		/* Each path is kept once. */
		assert_ptr_equal(q[1].file, q[2].file);

		/* The same section zlib-compressed, inflated as a stream. */
		uint8_t z[2048];
		uLongf zlen = sizeof(z);
		assert_int_equal(compress2(z, &zlen, sec.b, sec.n, 9), Z_OK);
		queries(q);
		assert_int_equal(dwarf_lines_lookup_zlib(z, zlen, &STRS, q, NWANT, files), 0);
		check_answers(q);
		dwarf_line_files_free(files);
	}
}

/* Every truncation and every single-byte change of the section: no read outside it (ASan
 * builds) and no answer that is not one of the section's rows. */
static void test_damaged_sections(void **state)
{
	(void)state;
	struct bytes sec = { 0 };
	v5_unit(&sec, false);
	v4_unit(&sec);
	struct dwarf_line_files *files = dwarf_line_files_new();
	struct dwarf_line_query q[NWANT];
	for (size_t len = 0; len < sec.n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, sec.b, len);
		queries(q);
		assert_int_equal(dwarf_lines_lookup_buffer(copy, len, &STRS, q, NWANT, files), 0);
		for (size_t i = 0; i < NWANT; i++)
			if (q[i].file && WANT[i].file && !strcmp(q[i].file, WANT[i].file))
				assert_int_equal(q[i].line, WANT[i].line);
		free(copy);
	}
	for (size_t at = 0; at < sec.n; at++) {
		struct bytes bad = sec;
		bad.b[at] ^= 0xff;
		queries(q);
		assert_int_equal(dwarf_lines_lookup_buffer(bad.b, bad.n, &STRS, q, NWANT, files), 0);
	}
	dwarf_line_files_free(files);
}

static void test_unsorted_queries_refused(void **state)
{
	(void)state;
	struct bytes sec = { 0 };
	v4_unit(&sec);
	struct dwarf_line_query q[2] = { { .addr = 0x3008 }, { .addr = 0x3000 } };
	assert_int_equal(dwarf_lines_lookup_buffer(sec.b, sec.n, &STRS, q, 2, NULL), -EINVAL);
}

/* Hands out the units of a section held in memory, counting the calls. */
struct counted_units {
	const uint8_t *p;
	size_t left;
	int calls;
};

static int counted_next(void *ctx, const uint8_t **unit, size_t *len)
{
	struct counted_units *u = ctx;
	u->calls++;
	if (!u->left)
		return 0;
	*unit = u->p;
	*len = dwarf_lines_unit_size(u->p, u->left);
	u->p += *len;
	u->left -= *len;
	return 1;
}

/* Queries the first unit answers end the pass there: the second is never asked for (with a
 * compressed section, never inflated); a query no unit answers reads them all. */
static void test_stops_once_all_answered(void **state)
{
	(void)state;
	struct bytes sec = { 0 };
	v5_unit(&sec, false);
	v4_unit(&sec);
	struct dwarf_line_files *files = dwarf_line_files_new();
	struct dwarf_line_query q[2] = { { .addr = 0x1004 }, { .addr = 0x2003 } };
	struct counted_units u = { sec.b, sec.n, 0 };
	assert_int_equal(dwarf_lines_lookup(counted_next, &u, &STRS, q, 2, files), 0);
	assert_int_equal(u.calls, 1);
	assert_string_equal(q[0].file, "/src/main.c");
	assert_int_equal(q[0].line, 13);
	assert_string_equal(q[1].file, "/src/inc/h.h");
	assert_int_equal(q[1].line, 1);
	struct dwarf_line_query q2[2] = { { .addr = 0x1004 }, { .addr = 0x3010 } };
	u = (struct counted_units){ sec.b, sec.n, 0 };
	assert_int_equal(dwarf_lines_lookup(counted_next, &u, &STRS, q2, 2, files), 0);
	assert_int_equal(u.calls, 3); /* both units, then the end */
	assert_null(q2[1].file);
	dwarf_line_files_free(files);
}

/* ---- Debian's libc debug file against libdw ---- */

static int query_cmp(const void *a, const void *b)
{
	const struct dwarf_line_query *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* Addresses across libc's functions: each one's entry, middle and last byte. */
static size_t function_addresses(Elf *elf, struct dwarf_line_query **out)
{
	Elf_Scn *scn = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_value || !sym.st_size)
				continue;
			if (n + 3 > cap) {
				cap = cap ? 2 * cap : 1024;
				*out = realloc(*out, cap * sizeof(**out));
				assert_non_null(*out);
			}
			uint64_t at[3] = { sym.st_value, sym.st_value + sym.st_size / 2,
					   sym.st_value + sym.st_size - 1 };
			for (int k = 0; k < 3; k++)
				(*out)[n++] = (struct dwarf_line_query){ .addr = at[k] };
		}
	}
	qsort(*out, n, sizeof(**out), query_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || (*out)[i].addr != (*out)[u - 1].addr)
			(*out)[u++] = (*out)[i];
	return u;
}

/* Compares the reader's answers for q[0..n) with libdw's: the same line and the very same path
 * wherever libdw has one, none where it has none. Returns how many have a line. */
static size_t compare_with_libdw(Elf *elf, struct dwarf_line_query *q, size_t n)
{
	struct dwarf_line_files *files = dwarf_line_files_new();
	assert_int_equal(dwarf_lines_lookup_elf(elf, q, n, files), 0);
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	assert_non_null(dw);
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Die cu;
		Dwarf_Line *l;
		int lineno = 0;
		const char *want = NULL;
		if (dwarf_addrdie(dw, q[i].addr, &cu) && (l = dwarf_getsrc_die(&cu, q[i].addr)) &&
		    dwarf_lineno(l, &lineno) == 0)
			want = dwarf_linesrc(l, NULL, NULL);
		if (!want) {
			assert_null(q[i].file);
			continue;
		}
		if (!q[i].file || strcmp(q[i].file, want) || q[i].line != (uint32_t)lineno)
			fail_msg("%#lx: libdw %s:%d, read %s:%u", (unsigned long)q[i].addr, want, lineno,
				 q[i].file ? q[i].file : "none", q[i].line);
		found++;
	}
	dwarf_end(dw);
	dwarf_line_files_free(files);
	for (size_t i = 0; i < n; i++) /* the paths went with the files */
		q[i].file = NULL;
	return found;
}

static void test_libc_debug_file_like_libdw(void **state)
{
	(void)state;
	struct opened lib, dbg;
	char id[2 * 64 + 1], path[256];
	assert_int_equal(elf_build_id_hex(open_elf(LIBC, &lib), id, sizeof(id)), 0);
	close_elf(&lib);
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", id, id + 2);
	if (access(path, R_OK))
		fail_msg("%s missing: install libc6-dbg (make deps)", path);
	Elf *elf = open_elf(path, &dbg);
	assert_true(dwarf_lines_elf_preferred(elf, false)); /* compressed: the case this reader is for */
	struct dwarf_line_query *q;
	size_t n = function_addresses(elf, &q);
	assert_true(n > 5000);
	size_t found = compare_with_libdw(elf, q, n);
	print_message("libc: %zu of %zu addresses with a line, each as libdw reads it\n", found, n);
	assert_true(found > n / 2);

	/* The cache: announced addresses answered by one pass, the same rows. */
	struct dwarf_line_files *files = dwarf_line_files_new();
	assert_int_equal(dwarf_lines_lookup_elf(elf, q, n, files), 0);
	struct dwarf_line_cache *c = dwarf_line_cache_new(elf);
	for (size_t i = 0; i < n; i += 97)
		dwarf_line_cache_want(c, q[i].addr);
	for (size_t i = 0; i < n; i += 97) {
		const char *file;
		uint32_t line;
		dwarf_line_cache_find(c, q[i].addr, &file, &line);
		assert_int_equal(line, q[i].line);
		assert_true(file == q[i].file || (file && q[i].file && !strcmp(file, q[i].file)));
	}
	dwarf_line_cache_free(c);
	dwarf_line_files_free(files);
	free(q);
	close_elf(&dbg);
}

/* A program built here with compressed DWARF (gcc -gz): DWARF 5 is read by this reader, with
 * libdw's answers; DWARF 4 is left to libdw, whose paths include the compilation directory. */
static void test_compressed_program(void **state)
{
	(void)state;
	const char *src = getenv("GLIMPSE_SRC");
	char dir[] = "/tmp/test_dwarf_lines.XXXXXX", cmd[8192], bin[256];
	assert_non_null(mkdtemp(dir));
	for (int v = 4; v <= 5; v++) {
		snprintf(bin, sizeof(bin), "%s/cqsort-dwarf%d", dir, v);
		snprintf(cmd, sizeof(cmd), "gcc -O2 -gdwarf-%d -gz=zlib %s/tests/apps/cqsort.c -o %s", v,
			 src ? src : ".", bin);
		assert_int_equal(system(cmd), 0);
		struct opened o;
		Elf *elf = open_elf(bin, &o);
		assert_int_equal(dwarf_lines_elf_preferred(elf, false), v == 5);
		assert_int_equal(dwarf_lines_elf_preferred(elf, true), v == 5);
		if (v == 5) {
			struct dwarf_line_query *q;
			size_t n = function_addresses(elf, &q);
			size_t found = compare_with_libdw(elf, q, n);
			print_message("gcc -gdwarf-5 -gz: %zu of %zu addresses with a line\n", found, n);
			assert_true(found >= 6); /* main, the burners and the comparators at least */
			free(q);
		}
		close_elf(&o);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_rows),
		cmocka_unit_test(test_damaged_sections),
		cmocka_unit_test(test_unsorted_queries_refused),
		cmocka_unit_test(test_stops_once_all_answered),
		cmocka_unit_test(test_libc_debug_file_like_libdw),
		cmocka_unit_test(test_compressed_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
