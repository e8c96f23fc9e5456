// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the unwind-table compiler (user/binfmt/cfi_table.c). Ground truth: binutils'
 * `readelf --debug-dump=frames-interp` (-wF), its own interpretation of every FDE's rules, row by
 * row — for Debian's libc (no frame pointers), the cqsort test program ($GLIMPSE_APPS) and a
 * .debug_frame-only object built here. Every readelf row must find the row it implies: CFA from
 * RSP or RBP and its offset, RBP's save slot, the return address at CFA - 8 or undefined (the
 * outermost frame), anything else not followed; and an FDE's end with no FDE after it a gap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binfmt/cfi_check.h"
#include "binfmt/cfi_table.h"
#include "elf_harness.h"

#define FMT(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))
#define LIBC	      "/lib/x86_64-linux-gnu/libc.so.6"

/* The PLT sections of the binary checked: their entries' CFA expression is the one followed. */
static struct {
	uint64_t lo, hi;
} plt[2];

static void find_plt(Elf *elf)
{
	size_t shstrndx;
	memset(plt, 0, sizeof(plt));
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		int i = name && !strcmp(name, ".plt") ? 0 : name && !strcmp(name, ".plt.sec") ? 1 : -1;
		if (i >= 0) {
			plt[i].lo = sh.sh_addr;
			plt[i].hi = sh.sh_addr + sh.sh_size;
		}
	}
}

static bool in_plt(uint64_t addr)
{
	return (addr >= plt[0].lo && addr < plt[0].hi) || (addr >= plt[1].lo && addr < plt[1].hi);
}

/* The row readelf's CFA, RBP and RA columns imply at address loc. readelf prints a DWARF
 * expression as "exp": in a PLT section it is the PLT entries' (push at byte 11 of each). */
static struct unwind_row expected(uint64_t loc, const char *cfa, const char *rbp, const char *ra)
{
	struct unwind_row r = { .kind = UNWIND_ROW_UNSUPPORTED };
	char reg[8];
	int off, n = 0;
	if (!strcmp(ra, "u"))
		return (struct unwind_row){ .kind = UNWIND_ROW_END };
	if (!strcmp(cfa, "exp") && !strcmp(ra, "c-8") && in_plt(loc))
		return (struct unwind_row){ .kind = UNWIND_ROW_PLT,
					    .cfa_off = plt[1].lo <= loc && loc < plt[1].hi ? 10 : 11 };
	if (strcmp(ra, "c-8") || sscanf(cfa, "%3[a-z]%d%n", reg, &off, &n) != 2 || cfa[n] ||
	    (strcmp(reg, "rsp") && strcmp(reg, "rbp")) || off < INT16_MIN || off > INT16_MAX)
		return r;
	r.kind = !strcmp(reg, "rsp") ? UNWIND_ROW_CFA_RSP : UNWIND_ROW_CFA_RBP;
	r.cfa_off = (int16_t)off;
	int save;
	if (!strcmp(rbp, "u"))
		r.rbp_off8 = UNWIND_RBP_SAME;
	else if (sscanf(rbp, "c-%d%n", &save, &n) == 1 && !rbp[n] && save > 0 && save % 8 == 0 &&
		 save / 8 < 128)
		r.rbp_off8 = (int8_t)(-save / 8);
	else
		r.rbp_off8 = UNWIND_RBP_LOST;
	return r;
}

/* Splits a readelf -wF line into columns ("r10 (r10)" is one). */
static int columns(char *line, char **col, int max)
{
	int n = 0;
	for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n")) {
		if (t[0] == '(' && n)
			continue;
		if (n < max)
			col[n++] = t;
	}
	return n;
}

/* Checks every row readelf prints for path against the compiled table; returns rows checked. */
static size_t check_against_readelf(const char *path, const struct cfi_table *t, const char *what)
{
	char cmd[4200], line[4096], *col[64], *names[64];
	FMT(cmd, "readelf %s '%s' 2>/dev/null", what, path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	int nnames = 0;
	bool in_fde = false;
	size_t checked = 0, gaps = 0;
	uint64_t lo, hi;
	static uint64_t fde_lo[1 << 16], fde_hi[1 << 16];
	size_t nfdes = 0;
	static char saved[64][32];
	while (fgets(line, sizeof(line), f)) {
		char *pc = strstr(line, " pc=");
		if (strstr(line, " FDE ") && pc && sscanf(pc, " pc=%lx..%lx", &lo, &hi) == 2) {
			in_fde = true;
			assert_true(nfdes < sizeof(fde_lo) / sizeof(fde_lo[0]));
			fde_lo[nfdes] = lo;
			fde_hi[nfdes++] = hi;
			continue;
		}
		if (strstr(line, " CIE ")) {
			in_fde = false;
			continue;
		}
		int n = columns(line, col, 64);
		if (n && !strcmp(col[0], "LOC")) {
			nnames = n;
			for (int i = 0; i < n; i++) {
				snprintf(saved[i], sizeof(saved[i]), "%s", col[i]);
				names[i] = saved[i];
			}
			continue;
		}
		uint64_t loc;
		if (!in_fde || n < 2 || n != nnames || strlen(col[0]) != 16 ||
		    sscanf(col[0], "%lx", &loc) != 1)
			continue;
		const char *cfa = "", *rbp = "u", *ra = "u";
		for (int i = 1; i < n; i++) {
			if (!strcmp(names[i], "CFA"))
				cfa = col[i];
			else if (!strcmp(names[i], "rbp"))
				rbp = col[i];
			else if (!strcmp(names[i], "ra"))
				ra = col[i];
		}
		struct unwind_row want = expected(loc, cfa, rbp, ra);
		const struct unwind_row *got = cfi_table_find(t, loc);
		if (!got || got->kind != want.kind ||
		    ((want.kind == UNWIND_ROW_CFA_RSP || want.kind == UNWIND_ROW_CFA_RBP) &&
		     (got->cfa_off != want.cfa_off || got->rbp_off8 != want.rbp_off8)) ||
		    (want.kind == UNWIND_ROW_PLT && got->cfa_off != want.cfa_off))
			fail_msg("%s at %#lx: readelf CFA %s rbp %s ra %s; table kind %d cfa %d rbp %d", path,
				 loc, cfa, rbp, ra, got ? got->kind : -1, got ? got->cfa_off : 0,
				 got ? got->rbp_off8 : 0);
		checked++;
	}
	pclose(f);
	/* Past an FDE's end, unless another FDE covers it, there are no rules: a gap. */
	for (size_t i = 0; i < nfdes; i++) {
		bool covered = false;
		for (size_t j = 0; j < nfdes && !covered; j++)
			covered = fde_lo[j] <= fde_hi[i] && fde_hi[i] < fde_hi[j];
		if (covered)
			continue;
		const struct unwind_row *r = cfi_table_find(t, fde_hi[i]);
		if (r && r->kind != UNWIND_ROW_GAP)
			fail_msg("%s: FDE end %#lx is not a gap (kind %d)", path, fde_hi[i], r->kind);
		gaps++;
	}
	assert_true(gaps > 0);
	return checked;
}

static void compiles_like_readelf(const char *path, size_t min_rows)
{
	struct opened o;
	struct cfi_table t;
	assert_int_equal(cfi_table_compile(open_elf(path, &o), NULL, &t), 0);
	find_plt(o.elf);
	assert_string_equal(t.source, ".eh_frame");
	assert_true(t.nrows >= min_rows);
	assert_int_equal(t.fdes_skipped, 0);
	/* Rows are sorted, and the last marks where the table stops. */
	for (size_t i = 1; i < t.nrows; i++)
		assert_true(t.rows[i - 1].pc < t.rows[i].pc);
	assert_true(t.rows[t.nrows - 1].kind == UNWIND_ROW_GAP);
	assert_true(check_against_readelf(path, &t, "-wF") >= min_rows / 2);
	cfi_table_free(&t);
	close_elf(&o);
}

static void test_libc_like_readelf(void **state)
{
	(void)state;
	compiles_like_readelf(LIBC, 10000);
}

static void test_cqsort_like_readelf(void **state)
{
	(void)state;
	char path[4096];
	const char *apps = getenv("GLIMPSE_APPS");
	if (!apps)
		skip();
	FMT(path, "%s/cqsort", apps);
	compiles_like_readelf(path, 20);
}

/* gcc -fno-asynchronous-unwind-tables -g: no .eh_frame for the code, its CFI in .debug_frame. */
static void test_debug_frame_only(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_cfi_table.XXXXXX", cmd[512], path[128];
	assert_non_null(mkdtemp(dir));
	FMT(path, "%s/obj.o", dir);
	FMT(cmd,
	    "printf 'int g(int);\\nint f(int x){int a[64];for(int i=0;i<64;i++)a[i]=g(x+i);return "
	    "a[x&63]+g(a[3]);}\\n' "
	    "| gcc -x c -O2 -fomit-frame-pointer -fno-asynchronous-unwind-tables -g -c - -o %s",
	    path);
	assert_int_equal(system(cmd), 0);
	struct opened o;
	struct cfi_table t;
	assert_int_equal(cfi_table_compile(open_elf(path, &o), NULL, &t), 0);
	find_plt(o.elf);
	assert_string_equal(t.source, ".debug_frame");
	assert_true(t.nrows >= 3);
	const struct unwind_row *first = cfi_table_find(&t, t.base);
	assert_non_null(first);
	assert_int_equal(first->kind, UNWIND_ROW_CFA_RSP);
	assert_int_equal(first->cfa_off, 8);
	check_against_readelf(path, &t, "--debug-dump=frames-interp");
	cfi_table_free(&t);
	close_elf(&o);
	FMT(cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_refuses_what_it_cannot_read(void **state)
{
	(void)state;
	static char junk[4096] = "\177ELF";
	struct cfi_table t;
	elf_version(EV_CURRENT);
	Elf *e = elf_memory(junk, sizeof(junk));
	assert_int_equal(cfi_table_compile(e, NULL, &t), -ENOTSUP);
	assert_int_equal(t.nrows, 0);
	assert_null(cfi_table_find(&t, 0x1000));
	elf_end(e);
	assert_int_equal(cfi_table_compile(NULL, NULL, &t), -ENOTSUP);
}

/* What libdw is never given: it would run any of these (a register number of millions makes it
 * allocate gigabytes: found by tests/fuzz/fuzz_cfi_table.c). */
static void test_instruction_check(void **state)
{
	(void)state;
	/* push %rbp; mov %rsp,%rbp as gcc writes it, then a remembered state restored 100 times */
	static const uint8_t frame[] = { 0x41, 0x0e, 0x10, 0x86, 0x02, 0x43, 0x0d, 0x06 };
	assert_true(cfi_check_instructions(frame, frame + sizeof(frame)));
	uint8_t pairs[200];
	for (int i = 0; i < 100; i++) {
		pairs[2 * i] = 0x0a; /* DW_CFA_remember_state */
		pairs[2 * i + 1] = 0x0b;
	}
	assert_true(cfi_check_instructions(pairs, pairs + sizeof(pairs)));
	uint8_t nested[CFI_MAX_REMEMBERED + 1];
	memset(nested, 0x0a, sizeof(nested));
	assert_true(cfi_check_instructions(nested, nested + CFI_MAX_REMEMBERED));
	assert_false(cfi_check_instructions(nested, nested + sizeof(nested)));
	static const uint8_t big_reg[] = {
		0x05, 0x80, 0x80, 0x80, 0x02, 0x01
	}; /* offset_extended r4194304 */
	assert_false(cfi_check_instructions(big_reg, big_reg + sizeof(big_reg)));
	static const uint8_t last_reg[] = { 0x07, 0xff, 0x01 }; /* undefined r255 */
	assert_true(cfi_check_instructions(last_reg, last_reg + sizeof(last_reg)));
	static const uint8_t cut[] = { 0x0c, 0x07 };			/* def_cfa r7 without its offset */
	static const uint8_t long_block[] = { 0x0f, 0x05, 0x77, 0x08 }; /* an expression past the end */
	static const uint8_t set_loc[] = { 0x01, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t unknown[] = { 0x3f };
	assert_false(cfi_check_instructions(cut, cut + sizeof(cut)));
	assert_false(cfi_check_instructions(long_block, long_block + sizeof(long_block)));
	assert_false(cfi_check_instructions(set_loc, set_loc + sizeof(set_loc)));
	assert_false(cfi_check_instructions(unknown, unknown + sizeof(unknown)));
}

/* A whole .eh_frame whose one FDE names a register of millions: no table, nothing allocated. */
static void test_hostile_section_is_refused(void **state)
{
	(void)state;
	static const uint8_t eh[] = {
		/* CIE: length 20, id 0, version 1, "zR", code 1, data -8, ra 16, aug 1: pcrel|sdata4 */
		0x14,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0x01,
		'z',
		'R',
		0,
		0x01,
		0x78,
		0x10,
		0x01,
		0x1b,
		0x0c,
		0x07,
		0x08,
		0x90,
		0x01,
		0,
		0,
		/* FDE: length 20, CIE pointer 28, pc -0x100 relative, range 16, aug 0, then the bomb */
		0x14,
		0,
		0,
		0,
		0x1c,
		0,
		0,
		0,
		0x00,
		0xff,
		0xff,
		0xff,
		0x10,
		0,
		0,
		0,
		0x00,
		0x05,
		0x80,
		0x80,
		0x80,
		0x02,
		0x01,
		0,
	};
	char *image;
	struct cfi_table t;
	Elf *elf = cfi_check_image(".eh_frame", eh, sizeof(eh), 0x10000, &image);
	assert_non_null(elf);
	assert_int_equal(cfi_table_compile(elf, NULL, &t), -EINVAL);
	assert_int_equal(t.nrows, 0);
	elf_end(elf);
	free(image);
	/* The same FDE with a real rule (DW_CFA_def_cfa_offset 16) compiles: the check is the cause. */
	uint8_t good[sizeof(eh)];
	memcpy(good, eh, sizeof(eh));
	memcpy(good + 24 + 17, (const uint8_t[]){ 0x0e, 0x10, 0, 0, 0, 0 }, 6);
	elf = cfi_check_image(".eh_frame", good, sizeof(good), 0x10000, &image);
	assert_int_equal(cfi_table_compile(elf, NULL, &t), 0);
	assert_true(t.nrows >= 2);
	cfi_table_free(&t);
	elf_end(elf);
	free(image);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libc_like_readelf), cmocka_unit_test(test_cqsort_like_readelf),
		cmocka_unit_test(test_debug_frame_only),  cmocka_unit_test(test_refuses_what_it_cannot_read),
		cmocka_unit_test(test_instruction_check), cmocka_unit_test(test_hostile_section_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
