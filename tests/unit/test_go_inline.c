// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the inline-tree decoder (gopclntab_set_funcdata, gopclntab_frames in
 * user/binfmt/gobinary.c, found through the runtime's moduledata by gobinary_elf.c). Ground
 * truth: the real goburner builds in $GLIMPSE_APPS for every Go version, normal and stripped,
 * and the source lines of tests/apps/goburner/main.go, where `go build -gcflags=-m` reports
 * inlA, inlB (with inlC inlined into it) and inlD inlined into worker, and spin into burnA. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binfmt/gobinary.h"

static const char *const versions[] = { "1.19", "1.21", "1.22", "1.23", "1.26", "1.27" };
#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))
#define MAXF	  16

static const char *apps_dir(void)
{
	const char *d = getenv("GLIMPSE_APPS");
	return d && *d ? d : NULL;
}

static FILE *open_source(void)
{
	char path[4096];
	const char *src = getenv("GLIMPSE_SRC");
	if (src && *src)
		snprintf(path, sizeof(path), "%s/tests/apps/goburner/main.go", src);
	else /* GLIMPSE_APPS is <repo>/build/apps */
		snprintf(path, sizeof(path), "%s/../../tests/apps/goburner/main.go", apps_dir());
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (set GLIMPSE_SRC to the repository root)", path);
	return f;
}

/* 1-based line of the first line of main.go containing needle. */
static uint32_t line_of(const char *needle)
{
	FILE *f = open_source();
	char buf[1024];
	uint32_t n = 0, found = 0;
	while (!found && fgets(buf, sizeof(buf), f))
		if (++n && strstr(buf, needle))
			found = n;
	fclose(f);
	if (!found)
		fail_msg("no line with '%s' in main.go", needle);
	return found;
}

/* The body of the function declared on line start: (start, closing brace]. */
static bool in_body(uint32_t line, uint32_t start)
{
	FILE *f = open_source();
	char buf[1024];
	uint32_t n = 0, end = 0;
	while (!end && fgets(buf, sizeof(buf), f))
		if (++n > start && buf[0] == '}')
			end = n;
	fclose(f);
	return line > start && line < end;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);
	return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

struct bin {
	int fd;
	Elf *elf;
	struct gopclntab *t;
};

static void bin_open(struct bin *b, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", apps_dir(), name);
	b->fd = open(path, O_RDONLY);
	if (b->fd < 0)
		fail_msg("cannot open %s: %s (run `make apps`)", path, strerror(errno));
	elf_version(EV_CURRENT);
	b->elf = elf_begin(b->fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(b->elf);
	b->t = gopclntab_from_elf(b->elf);
	if (!b->t)
		fail_msg("%s: gopclntab_from_elf failed", name);
}

/* The table reads the Elf's bytes: it goes first. */
static void bin_close(struct bin *b)
{
	gopclntab_close(b->t);
	elf_end(b->elf);
	close(b->fd);
}

/* What the frames at one pc must be, innermost first. */
struct chain {
	const char *func[3];
	uint32_t decl[3]; /* line of the inlined function's `func` (body check); 0: no check */
	uint32_t line[3]; /* exact line, for callers; 0: in the body of decl */
	int n;
	bool seen;
};

static bool chain_matches(const struct chain *c, const struct go_frame *f, size_t n)
{
	if ((int)n != c->n)
		return false;
	for (int k = 0; k < c->n; k++) {
		if (strcmp(f[k].func, c->func[k]) || !ends_with(f[k].file, "tests/apps/goburner/main.go"))
			return false;
		if (c->line[k] ? f[k].line != c->line[k] : !in_body(f[k].line, c->decl[k]))
			return false;
	}
	return true;
}

/* Every pc of fn: each chain of frames expected is seen, and every multi-frame answer is one
 * of them or an inlined call from the standard library (time.Now, rand.New...). */
static void check_function(const struct bin *b, const char *name, const char *fn_name, struct chain *chains,
			   size_t nchains)
{
	struct go_func fn;
	assert_int_equal(gopclntab_find(b->t, fn_name, &fn), 0);
	for (uint64_t pc = fn.entry; pc < fn.end; pc++) {
		struct go_frame f[MAXF];
		size_t n = gopclntab_frames(b->t, pc, f, MAXF);
		assert_true(n >= 1);
		assert_string_equal(f[n - 1].func, fn_name); /* the physical function is last */
		if (n == 1 || strncmp(f[0].func, "main.", 5))
			continue;
		bool known = false;
		for (size_t c = 0; c < nchains; c++)
			if (chain_matches(&chains[c], f, n))
				known = chains[c].seen = true;
		if (!known)
			fail_msg("%s: pc %#llx of %s: %s:%u <- %s:%u ... unexpected", name,
				 (unsigned long long)pc, fn_name, f[0].func, f[0].line, f[1].func, f[1].line);
	}
	for (size_t c = 0; c < nchains; c++)
		if (!chains[c].seen)
			fail_msg("%s: no pc of %s gives %s inlined", name, fn_name, chains[c].func[0]);
}

static void test_inlined_frames_every_build(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	uint32_t a = line_of("func inlA("), bb = line_of("func inlB("), c = line_of("func inlC("),
		 d = line_of("func inlD("), spin = line_of("func spin(");
	uint32_t call_a = line_of("x := inlA("), call_b = line_of("x = inlB("),
		 call_c = line_of("return inlC("), call_d = line_of("sink = inlD("),
		 burn_a = line_of("func burnA(");
	for (size_t v = 0; v < 2 * NVERSIONS; v++) {
		char name[64];
		snprintf(name, sizeof(name), "goburner-%s%s", versions[v / 2], v % 2 ? "-stripped" : "");
		struct bin b;
		bin_open(&b, name);
		if (!gopclntab_has_inline(b.t))
			fail_msg("%s: no inline trees loaded", name);
		struct chain worker[] = {
			{ { "main.inlA", "main.worker" }, { a, 0 }, { 0, call_a }, 2, false },
			{ { "main.inlB", "main.worker" }, { bb, 0 }, { 0, call_b }, 2, false },
			{ { "main.inlC", "main.inlB", "main.worker" },
			  { c, 0, 0 },
			  { 0, call_c, call_b },
			  3,
			  false },
			{ { "main.inlD", "main.worker" }, { d, 0 }, { 0, call_d }, 2, false },
		};
		check_function(&b, name, "main.worker", worker, sizeof(worker) / sizeof(worker[0]));
		struct chain burn[] = {
			{ { "main.spin", "main.burnA" }, { spin, 0 }, { 0, burn_a }, 2, false }
		};
		check_function(&b, name, "main.burnA", burn, 1);
		bin_close(&b);
	}
}

/* Stripping (-s -w) removes symbols and DWARF, not the pclntab or go:func.*: the same frames at
 * every pc of the worker. */
static void test_stripped_same_frames(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	for (size_t v = 0; v < NVERSIONS; v++) {
		char name[64], sname[80];
		snprintf(name, sizeof(name), "goburner-%s", versions[v]);
		snprintf(sname, sizeof(sname), "%s-stripped", name);
		struct bin b, s;
		bin_open(&b, name);
		bin_open(&s, sname);
		struct go_func fb, fs;
		assert_int_equal(gopclntab_find(b.t, "main.worker", &fb), 0);
		assert_int_equal(gopclntab_find(s.t, "main.worker", &fs), 0);
		assert_int_equal(fb.end - fb.entry, fs.end - fs.entry);
		for (uint64_t off = 0; off < fb.end - fb.entry; off++) {
			struct go_frame x[MAXF], y[MAXF];
			size_t n = gopclntab_frames(b.t, fb.entry + off, x, MAXF);
			assert_int_equal(gopclntab_frames(s.t, fs.entry + off, y, MAXF), n);
			for (size_t k = 0; k < n; k++) {
				assert_string_equal(x[k].func, y[k].func);
				assert_int_equal(x[k].line, y[k].line);
			}
		}
		bin_close(&b);
		bin_close(&s);
	}
}

/* cgo programs linked externally (sqlmin: SQLite in C) put C data at the start of .rodata and
 * keep the runtime's moduledata behind relocations: the trees load there too, and stripping
 * changes no frame of any function. */
static void test_cgo_linked(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	static const char *const cgo_versions[] = { "1.23", "1.26" };
	for (size_t v = 0; v < 2; v++) {
		char name[64], sname[80];
		snprintf(name, sizeof(name), "sqlmin-%s", cgo_versions[v]);
		snprintf(sname, sizeof(sname), "%s-stripped", name);
		struct bin b, s;
		bin_open(&b, name);
		bin_open(&s, sname);
		assert_true(gopclntab_has_inline(b.t));
		assert_true(gopclntab_has_inline(s.t));
		assert_int_equal(gopclntab_nfuncs(b.t), gopclntab_nfuncs(s.t));
		size_t inlined = 0;
		for (size_t i = 0; i < gopclntab_nfuncs(b.t); i++) {
			struct go_func fb, fs;
			assert_int_equal(gopclntab_func(b.t, i, &fb), 0);
			assert_int_equal(gopclntab_func(s.t, i, &fs), 0);
			assert_string_equal(fb.name, fs.name);
			for (uint64_t off = 0; off < fb.end - fb.entry; off += 3) {
				struct go_frame x[MAXF], y[MAXF];
				size_t n = gopclntab_frames(b.t, fb.entry + off, x, MAXF);
				assert_int_equal(gopclntab_frames(s.t, fs.entry + off, y, MAXF), n);
				inlined += n > 1;
				for (size_t k = 0; k < n; k++) {
					assert_string_equal(x[k].func, y[k].func);
					assert_int_equal(x[k].line, y[k].line);
				}
			}
		}
		assert_true(inlined > 1000);
		bin_close(&b);
		bin_close(&s);
	}
}

/* Bytes that are not go:func.* are refused whole, and the table keeps working without them;
 * a pc in no function gives no frame; max bounds the answer and keeps the physical function. */
static void test_bad_funcdata_and_limits(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	struct bin b;
	bin_open(&b, "goburner-1.26-stripped");
	struct go_func fn;
	assert_int_equal(gopclntab_find(b.t, "main.worker", &fn), 0);
	uint64_t pc = 0;
	for (uint64_t p = fn.entry; p < fn.end && !pc; p++) {
		struct go_frame f[MAXF];
		if (gopclntab_frames(b.t, p, f, MAXF) == 3 && !strcmp(f[0].func, "main.inlC"))
			pc = p;
	}
	assert_true(pc != 0);
	struct go_frame f[MAXF];
	assert_int_equal(gopclntab_frames(b.t, pc, f, 2), 2); /* the outer inlB dropped */
	assert_string_equal(f[0].func, "main.inlC");
	assert_string_equal(f[1].func, "main.worker");
	assert_int_equal(gopclntab_frames(b.t, pc, f, 1), 1);
	assert_string_equal(f[0].func, "main.worker");
	assert_int_equal(gopclntab_frames(b.t, pc, f, 0), 0);
	assert_int_equal(gopclntab_frames(b.t, 1, f, MAXF), 0);

	static uint8_t junk[1 << 16];
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(gopclntab_set_funcdata(b.t, junk, sizeof(junk)), -EINVAL);
	assert_false(gopclntab_has_inline(b.t));
	assert_int_equal(gopclntab_frames(b.t, pc, f, MAXF), 1);
	assert_string_equal(f[0].func, "main.worker");
	assert_int_equal(gopclntab_set_funcdata(b.t, junk, 16), -EINVAL); /* too short for the trees */
	assert_int_equal(gopclntab_set_funcdata(NULL, junk, 16), -ENOENT);
	bin_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inlined_frames_every_build),
		cmocka_unit_test(test_stripped_same_frames),
		cmocka_unit_test(test_cgo_linked),
		cmocka_unit_test(test_bad_funcdata_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
