// SPDX-License-Identifier: Apache-2.0
/* Unit tests for user/gobinary.c. Ground truth comes from the real Go builds in $GLIMPSE_APPS
 * (goburner-<ver>[-stripped]): the non-stripped build's .symtab and main.go's source lines.
 * Formats without a fixture binary (Go 1.16/1.17 pclntab, pre-1.18 buildinfo) are checked on
 * synthetic tables built here. Malformed input must give NULL/-EINVAL, never a crash (run
 * under ASan or valgrind to make out-of-bounds reads fail loudly). */
#define _GNU_SOURCE /* memfd_create */
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
#include <sys/mman.h>
#include <unistd.h>

#include "binfmt/gobinary.h"

static const char *const versions[] = { "1.19", "1.21", "1.22", "1.23", "1.26", "1.27" };
#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

/* ---- fixtures ---- */

static const char *apps_dir(void)
{
	const char *d = getenv("GLIMPSE_APPS");
	if (!d || !*d) {
		print_message("GLIMPSE_APPS is not set: skipping tests on real Go binaries\n");
		return NULL;
	}
	return d;
}

struct bin {
	int fd;
	Elf *elf;
};

static void bin_open(struct bin *b, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", apps_dir(), name);
	b->fd = open(path, O_RDONLY);
	if (b->fd < 0)
		fail_msg("cannot open %s: %s (run `make apps`)", path, strerror(errno));
	b->elf = elf_begin(b->fd, ELF_C_READ_MMAP, NULL);
	if (!b->elf)
		fail_msg("elf_begin %s: %s", path, elf_errmsg(-1));
}

static void bin_close(struct bin *b)
{
	elf_end(b->elf);
	close(b->fd);
}

static Elf_Scn *section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		gelf_getshdr(scn, sh);
		const char *n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* Exact-size heap copy of a section, so ASan/valgrind flag any read past its end. */
static uint8_t *section_copy(Elf *elf, const char *name, size_t *size, uint64_t *addr)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section(elf, name, &sh);
	assert_non_null(scn);
	Elf_Data *d = elf_rawdata(scn, NULL);
	assert_non_null(d);
	uint8_t *p = malloc(d->d_size);
	assert_non_null(p);
	memcpy(p, d->d_buf, d->d_size);
	*size = d->d_size;
	if (addr)
		*addr = sh.sh_addr;
	return p;
}

/* Calls fn for every sized STT_FUNC symbol of .symtab; returns how many there were. */
static size_t for_each_func_sym(Elf *elf, void (*fn)(const char *, const GElf_Sym *, void *), void *arg)
{
	size_t count = 0;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			gelf_getsym(d, (int)i, &sym);
			/* size 0: markers such as runtime.text/etext, not functions */
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0)
				continue;
			fn(elf_strptr(elf, sh.sh_link, sym.st_name), &sym, arg);
			count++;
		}
	}
	return count;
}

/* Go writes ABI0 (assembly ABI) functions to .symtab as "name.abi0"; the pclntab has "name". */
static bool same_func_name(const char *sym, const char *name)
{
	size_t n = strlen(name);
	return strncmp(sym, name, n) == 0 && (sym[n] == 0 || strcmp(sym + n, ".abi0") == 0);
}

static bool sym_value(Elf *elf, const char *name, uint64_t *value, uint64_t *size)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			gelf_getsym(d, (int)i, &sym);
			if (GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
			    same_func_name(elf_strptr(elf, sh.sh_link, sym.st_name), name)) {
				*value = sym.st_value;
				if (size)
					*size = sym.st_size;
				return true;
			}
		}
	}
	return false;
}

/* 1-based line of the first line of main.go starting with prefix. */
static uint32_t source_line(const char *prefix)
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
	char buf[1024];
	uint32_t n = 0, found = 0;
	while (!found && fgets(buf, sizeof(buf), f)) {
		n++;
		if (strncmp(buf, prefix, strlen(prefix)) == 0)
			found = n;
	}
	fclose(f);
	if (!found)
		fail_msg("no line starting with '%s' in %s", prefix, path);
	return found;
}

/* Last line of the function whose "func" line is start (its closing brace at column 0). */
static uint32_t source_func_end(uint32_t start)
{
	char path[4096];
	const char *src = getenv("GLIMPSE_SRC");
	if (src && *src)
		snprintf(path, sizeof(path), "%s/tests/apps/goburner/main.go", src);
	else
		snprintf(path, sizeof(path), "%s/../../tests/apps/goburner/main.go", apps_dir());
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[1024];
	uint32_t n = 0, end = 0;
	while (!end && fgets(buf, sizeof(buf), f))
		if (++n > start && buf[0] == '}')
			end = n;
	fclose(f);
	assert_int_not_equal(end, 0);
	return end;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- real binaries ---- */

struct symcheck {
	struct gopclntab *t;
	size_t checked;
};

static void check_sym(const char *name, const GElf_Sym *sym, void *arg)
{
	struct symcheck *c = arg;
	if (strncmp(name, "main.", 5) != 0 && strncmp(name, "runtime.", 8) != 0)
		return;
	struct go_func fn;
	if (gopclntab_lookup(c->t, sym->st_value, &fn, NULL, NULL) != 0)
		fail_msg("%s at %#lx: not in the pclntab", name, (unsigned long)sym->st_value);
	if (fn.entry != sym->st_value || !same_func_name(name, fn.name))
		fail_msg("%s at %#lx: pclntab says %s at %#lx", name, (unsigned long)sym->st_value, fn.name,
			 (unsigned long)fn.entry);
	assert_true(fn.end > fn.entry);
	assert_true(fn.end >= sym->st_value + sym->st_size);
	c->checked++;
}

/* Every main./runtime. function of .symtab is in the pclntab at the same address, by pc
 * and by name; the function table is sorted and consistent with lookups. */
static void test_symtab_agrees(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	for (size_t v = 0; v < NVERSIONS; v++) {
		char name[64];
		snprintf(name, sizeof(name), "goburner-%s", versions[v]);
		struct bin b;
		bin_open(&b, name);
		struct gopclntab *t = gopclntab_from_elf(b.elf);
		if (!t)
			fail_msg("%s: gopclntab_from_elf failed", name);
		struct symcheck c = { .t = t };
		for_each_func_sym(b.elf, check_sym, &c);
		print_message("%s: %zu functions in pclntab, %zu main/runtime symbols match\n", name,
			      gopclntab_nfuncs(t), c.checked);
		assert_true(c.checked > 500);

		size_t n = gopclntab_nfuncs(t);
		struct go_func prev = { 0 }, fn, again;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(gopclntab_func(t, i, &fn), 0);
			assert_non_null(fn.name);
			assert_true(fn.entry <= fn.end);
			if (i > 0)
				assert_int_equal(prev.end, fn.entry);
			if (fn.end > fn.entry) {
				assert_int_equal(gopclntab_lookup(t, fn.end - 1, &again, NULL, NULL), 0);
				assert_int_equal(again.entry, fn.entry);
			}
			prev = fn;
		}
		assert_int_equal(gopclntab_func(t, n, &fn), -ENOENT);
		assert_int_equal(gopclntab_func(t, 0, &fn), 0);
		assert_int_equal(gopclntab_lookup(t, fn.entry - 1, &again, NULL, NULL), -ENOENT);
		assert_int_equal(gopclntab_lookup(t, prev.end, &again, NULL, NULL), -ENOENT);
		assert_int_equal(gopclntab_lookup(t, 0, &again, NULL, NULL), -ENOENT);
		assert_int_equal(gopclntab_lookup(t, UINT64_MAX, &again, NULL, NULL), -ENOENT);

		uint64_t want;
		assert_true(sym_value(b.elf, "main.burnB", &want, NULL));
		assert_int_equal(gopclntab_find(t, "main.burnB", &fn), 0);
		assert_string_equal(fn.name, "main.burnB");
		assert_int_equal(fn.entry, want);
		assert_int_equal(gopclntab_find(t, "main.burnB.nonexistent", &fn), -ENOENT);
		assert_int_equal(gopclntab_find(t, "main.burn", &fn), -ENOENT);
		assert_int_equal(gopclntab_find(t, "", &fn), -ENOENT);
		gopclntab_close(t);
		bin_close(&b);
	}
}

/* The stripped build has no .symtab but the same functions, names and addresses. */
/* The stripped build finds every function where the non-stripped build's .symtab has it. */
static void check_stripped_same_functions(const char *app, const char *version, const char *const *names,
					  size_t nnames)
{
	char name[64], sname[80];
	snprintf(name, sizeof(name), "%s-%s", app, version);
	snprintf(sname, sizeof(sname), "%s-%s-stripped", app, version);
	struct bin b, s;
	bin_open(&b, name);
	bin_open(&s, sname);
	GElf_Shdr sh;
	assert_null(section(s.elf, ".symtab", &sh));
	struct gopclntab *t = gopclntab_from_elf(b.elf), *ts = gopclntab_from_elf(s.elf);
	assert_non_null(t);
	if (!ts)
		fail_msg("%s: gopclntab_from_elf failed", sname);
	for (size_t i = 0; i < nnames; i++) {
		struct go_func f, fs;
		uint64_t want;
		assert_true(sym_value(b.elf, names[i], &want, NULL));
		if (gopclntab_find(ts, names[i], &fs) != 0)
			fail_msg("%s: %s not found", sname, names[i]);
		assert_int_equal(gopclntab_find(t, names[i], &f), 0);
		if (fs.entry != want)
			fail_msg("%s: %s at 0x%llx, the symbol says 0x%llx", sname, names[i],
				 (unsigned long long)fs.entry, (unsigned long long)want);
		assert_int_equal(fs.end, f.end);
		assert_int_equal(gopclntab_lookup(ts, want + 1, &fs, NULL, NULL), 0);
		assert_string_equal(fs.name, names[i]);
	}
	/* Whole function list: same names in the same order. */
	assert_int_equal(gopclntab_nfuncs(t), gopclntab_nfuncs(ts));
	for (size_t i = 0; i < gopclntab_nfuncs(t); i++) {
		struct go_func f, fs;
		assert_int_equal(gopclntab_func(t, i, &f), 0);
		assert_int_equal(gopclntab_func(ts, i, &fs), 0);
		assert_string_equal(f.name, fs.name);
	}
	gopclntab_close(ts);
	gopclntab_close(t);
	bin_close(&s);
	bin_close(&b);
}

static void test_stripped_same_functions(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	static const char *const names[] = { "main.burnA",  "main.burnB",     "main.burnC",	 "main.main",
					     "main.worker", "runtime.goexit", "runtime.newproc1" };
	/* dbsvc links SQLite's C code (external linking: .text starts with the C runtime, not
	 * with Go's runtime.text). */
	static const char *const cgo_names[] = { "main.main", "net/http.serverHandler.ServeHTTP",
						 "database/sql.(*DB).queryDC", "runtime.newproc1" };
	for (size_t v = 0; v < NVERSIONS; v++) {
		check_stripped_same_functions("goburner", versions[v], names,
					      sizeof(names) / sizeof(names[0]));
		check_stripped_same_functions("dbsvc", versions[v], cgo_names,
					      sizeof(cgo_names) / sizeof(cgo_names[0]));
	}
}

/* pc -> file:line: burnA's entry is on its `func burnA` line; every pc of its code (size from
 * the non-stripped .symtab) is in main.go, on that line or in the inlined spin (reported as
 * burnA: inlining is not expanded); the padding up to the next function has no position. */
static void test_burnA_source_position(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	uint32_t decl = source_line("func burnA("), spin = source_line("func spin(");
	uint32_t spin_end = source_func_end(spin);
	for (size_t v = 0; v < 2 * NVERSIONS; v++) {
		char name[64];
		snprintf(name, sizeof(name), "goburner-%s%s", versions[v / 2], v % 2 ? "-stripped" : "");
		char full[64];
		snprintf(full, sizeof(full), "goburner-%s", versions[v / 2]);
		struct bin b;
		bin_open(&b, full);
		uint64_t sym_entry = 0, sym_size = 0;
		assert_true(sym_value(b.elf, "main.burnA", &sym_entry, &sym_size));
		bin_close(&b);
		bin_open(&b, name);
		struct gopclntab *t = gopclntab_from_elf(b.elf);
		assert_non_null(t);
		struct go_func a, fn;
		assert_int_equal(gopclntab_find(t, "main.burnA", &a), 0);
		assert_int_equal(a.entry, sym_entry);
		assert_true(a.end >= a.entry + sym_size);
		const char *file = NULL;
		uint32_t line = 0;
		assert_int_equal(gopclntab_lookup(t, a.entry, &fn, &file, &line), 0);
		assert_string_equal(fn.name, "main.burnA");
		assert_non_null(file);
		if (!ends_with(file, "tests/apps/goburner/main.go"))
			fail_msg("%s: file %s", name, file);
		if (line != decl)
			fail_msg("%s: burnA entry at line %u, declared at %u", name, line, decl);
		bool saw_spin = false;
		for (uint64_t pc = a.entry; pc < a.end; pc++) {
			assert_int_equal(gopclntab_lookup(t, pc, &fn, &file, &line), 0);
			assert_int_equal(fn.entry, a.entry);
			assert_string_equal(fn.name, "main.burnA");
			if (pc >= a.entry + sym_size) {
				assert_null(file);
				assert_int_equal(line, 0);
				continue;
			}
			assert_non_null(file);
			assert_true(ends_with(file, "tests/apps/goburner/main.go"));
			if (line != decl && (line <= spin || line > spin_end))
				fail_msg("%s: pc %#lx at line %u, not burnA (%u) or spin (%u-%u)", name,
					 (unsigned long)pc, line, decl, spin + 1, spin_end);
			saw_spin |= line != decl;
		}
		assert_true(saw_spin);
		/* file/line are optional outputs */
		assert_int_equal(gopclntab_lookup(t, a.entry, &fn, NULL, &line), 0);
		assert_int_equal(line, decl);
		assert_int_equal(gopclntab_lookup(t, a.entry, &fn, &file, NULL), 0);
		assert_non_null(file);
		gopclntab_close(t);
		bin_close(&b);
	}
}

static void test_buildinfo_version(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	for (size_t v = 0; v < 2 * NVERSIONS; v++) {
		char name[64], want[16], buf[64];
		snprintf(name, sizeof(name), "goburner-%s%s", versions[v / 2], v % 2 ? "-stripped" : "");
		snprintf(want, sizeof(want), "go%s", versions[v / 2]);
		struct bin b;
		bin_open(&b, name);
		assert_int_equal(go_buildinfo_version(b.elf, buf, sizeof(buf)), 0);
		size_t n = strlen(want);
		if (strncmp(buf, want, n) != 0 || (buf[n] != '.' && buf[n] != 0))
			fail_msg("%s: version %s, want %s[.N]", name, buf, want);
		char small[4];
		assert_int_equal(go_buildinfo_version(b.elf, small, sizeof(small)), -ERANGE);
		assert_int_equal(go_buildinfo_version(b.elf, buf, strlen(buf)), -ERANGE);
		char exact[64];
		assert_int_equal(go_buildinfo_version(b.elf, exact, strlen(buf) + 1), 0);
		assert_string_equal(exact, buf);
		bin_close(&b);
	}
}

/* Module versions from the build info agree with the Go toolchain's own `go version -m` on a
 * stripped module build: every dependency it lists, and nothing for a module not linked. */
static void test_buildinfo_dep_versions(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	char cmd[4096 + 64], line[1024], got[64];
	snprintf(cmd, sizeof(cmd),
		 "GOTOOLCHAIN=local /usr/local/go/bin/go version -m %s/routersvc-1.26-stripped", apps_dir());
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	struct bin b;
	bin_open(&b, "routersvc-1.26-stripped");
	int deps = 0;
	while (fgets(line, sizeof(line), f)) {
		char kind[8], path[512], version[64];
		if (sscanf(line, " %7s %511s %63s", kind, path, version) != 3 || strcmp(kind, "dep"))
			continue;
		assert_int_equal(go_buildinfo_dep_version(b.elf, path, got, sizeof(got)), 0);
		assert_string_equal(got, version);
		deps++;
	}
	assert_int_equal(pclose(f), 0);
	assert_true(deps >= 5); /* the five routers at least */
	assert_int_equal(go_buildinfo_dep_version(b.elf, "github.com/gin-gonic", got, sizeof(got)), -ENOENT);
	assert_int_equal(go_buildinfo_dep_version(b.elf, "example.com/absent", got, sizeof(got)), -ENOENT);
	assert_int_equal(go_buildinfo_dep_version(b.elf, "github.com/gin-gonic/gin", got, 4), -ERANGE);
	bin_close(&b);
}

/* A C program is not a Go binary. */
static void test_not_go(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	struct bin b;
	bin_open(&b, "cburner");
	char buf[64];
	assert_int_equal(go_buildinfo_version(b.elf, buf, sizeof(buf)), -ENOENT);
	assert_null(gopclntab_from_elf(b.elf));
	bin_close(&b);
	assert_null(gopclntab_from_elf(NULL));
	assert_int_equal(go_buildinfo_version(NULL, buf, sizeof(buf)), -ENOENT);
	static char notelf[] = "this is not an ELF file at all, just some text";
	Elf *e = elf_memory(notelf, sizeof(notelf));
	assert_non_null(e);
	assert_null(gopclntab_from_elf(e));
	assert_int_equal(go_buildinfo_version(e, buf, sizeof(buf)), -ENOENT);
	elf_end(e);
	gopclntab_close(NULL);
	assert_int_equal(gopclntab_nfuncs(NULL), 0);
}

/* ---- malformed input ---- */

/* Tables opened on a copy of exactly size bytes (so that ASan sees any read past them), and
 * their copies, which the table reads until close_copy. */
static struct {
	struct gopclntab *t;
	uint8_t *bytes;
} copies[8];

static struct gopclntab *open_copy(const uint8_t *d, size_t size, uint64_t addr)
{
	uint8_t *p = malloc(size ? size : 1);
	assert_non_null(p);
	memcpy(p, d, size);
	struct gopclntab *t = gopclntab_open(p, size, addr, 0x401000);
	if (!t) {
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++)
		if (!copies[i].t) {
			copies[i].t = t;
			copies[i].bytes = p;
			return t;
		}
	fail_msg("more than %zu tables open at once", sizeof(copies) / sizeof(copies[0]));
	return NULL;
}

static void close_copy(struct gopclntab *t)
{
	if (!t)
		return;
	gopclntab_close(t);
	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++)
		if (copies[i].t == t) {
			free(copies[i].bytes);
			copies[i].t = NULL;
			copies[i].bytes = NULL;
			return;
		}
	fail_msg("close_copy of a table open_copy did not open");
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Exercises every function on t; the answers may be garbage, but must be in bounds. */
static void poke(struct gopclntab *t)
{
	size_t n = gopclntab_nfuncs(t);
	for (size_t i = 0; i < n; i += 1 + n / 64) {
		struct go_func fn, fn2;
		const char *file;
		uint32_t line;
		assert_int_equal(gopclntab_func(t, i, &fn), 0);
		(void)strlen(fn.name);
		if (fn.end == fn.entry)
			continue;
		uint64_t pc = fn.entry + (fn.end - fn.entry) / 2;
		assert_int_equal(gopclntab_lookup(t, pc, &fn2, &file, &line), 0);
		assert_int_equal(fn2.entry, fn.entry);
		if (file)
			(void)strlen(file);
	}
	struct go_func fn;
	gopclntab_find(t, "main.burnA", &fn);
}

static void test_malformed(void **state)
{
	(void)state;
	if (!apps_dir())
		skip();
	struct bin b;
	bin_open(&b, "goburner-1.23");
	size_t size;
	uint64_t addr;
	uint8_t *orig = section_copy(b.elf, ".gopclntab", &size, &addr);
	struct gopclntab *t = open_copy(orig, size, addr);
	assert_non_null(t);
	poke(t);
	close_copy(t);

	/* NULL and empty */
	assert_null(gopclntab_open(NULL, 100, 0, 0));
	assert_null(gopclntab_open(orig, 0, 0, 0));

	/* Truncated: the function table and _func records come last, so a cut loses part of
	 * them, except in the last record's trailing pcdata/funcdata arrays, which are not read:
	 * such a table may open, but must stay in bounds. */
	static const size_t cuts[] = { 1, 4, 7, 8, 15, 16, 40, 71, 72, 73, 100, 4096 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		assert_null(open_copy(orig, cuts[i], addr));
	for (size_t cut = size / 2; cut < size; cut += (size - cut + 1) / 2) {
		t = open_copy(orig, cut, addr);
		if (cut < size - 64)
			assert_null(t);
		else if (t)
			poke(t);
		close_copy(t);
	}

	uint8_t *d = malloc(size);
	assert_non_null(d);
#define MUTATE(stmt)                                            \
	do {                                                    \
		memcpy(d, orig, size);                          \
		stmt;                                           \
		struct gopclntab *m = open_copy(d, size, addr); \
		if (m)                                          \
			fail_msg("accepted: %s", #stmt);        \
	} while (0)
	MUTATE(put32(d, 0xfffffffb)); /* Go 1.2-1.15: unsupported */
	MUTATE(put32(d, 0xfeedface)); /* wrong magic */
	MUTATE(put32(d, 0xf1ffffff)); /* big-endian 1.20 magic */
	MUTATE(d[4] = 1);	      /* pad */
	MUTATE(d[6] = 3);	      /* quantum */
	MUTATE(d[7] = 2);	      /* pointer size */
	MUTATE(put64(d + 8, 0));      /* no functions */
	MUTATE(put64(d + 8, UINT64_MAX));
	MUTATE(put64(d + 8, 1ULL << 62));
	MUTATE(put64(d + 8, 1ULL << 32));
	MUTATE(put64(d + 8, size));
	MUTATE(put64(d + 8, size / 8));
	for (int w = 3; w < 8; w++) { /* region offsets: past the end, inside the header */
		MUTATE(put64(d + 8 + 8 * w, size + 1));
		MUTATE(put64(d + 8 + 8 * w, UINT64_MAX));
		MUTATE(put64(d + 8 + 8 * w, 8));
	}
	/* function table: first function's _func offset out of range, unsorted entries */
	uint64_t ftab = 0;
	for (int i = 0; i < 8; i++)
		ftab |= (uint64_t)orig[8 + 8 * 7 + i] << (8 * i);
	MUTATE(put32(d + ftab + 4, (uint32_t)(size - ftab)));
	MUTATE(put32(d + ftab + 4, UINT32_MAX));
	MUTATE(put32(d + ftab + 8, 0xfffffff0)); /* entry of function 1 before function 0... */
	MUTATE(put32(d + ftab, 0x7fffffff));	 /* ...or function 0 after function 1 */
#undef MUTATE
	/* Name offset of function 0 outside funcnametab, or at its last byte (no NUL after it):
	 * _func records are read when looked up, not at open, and such a name reads as a
	 * placeholder, never as the bytes after the table's names. */
	uint32_t f0 =
		orig[ftab + 4] | orig[ftab + 5] << 8 | orig[ftab + 6] << 16 | (uint32_t)orig[ftab + 7] << 24;
	uint64_t names = 0, names_end = 0;
	for (int i = 0; i < 8; i++) {
		names |= (uint64_t)orig[8 + 8 * 3 + i] << (8 * i);
		names_end |= (uint64_t)orig[8 + 8 * 4 + i] << (8 * i);
	}
	const uint32_t bad_names[] = { UINT32_MAX, 0x7fffffff, (uint32_t)(names_end - names) };
	for (size_t k = 0; k < sizeof(bad_names) / sizeof(bad_names[0]); k++) {
		memcpy(d, orig, size);
		put32(d + ftab + f0 + 4, bad_names[k]);
		if (k == 2)
			d[names_end - 1] = 'x'; /* the table's last name loses its NUL */
		t = open_copy(d, size, addr);
		assert_non_null(t);
		struct go_func f;
		assert_int_equal(gopclntab_func(t, 0, &f), 0);
		assert_string_equal(f.name, GOPCLNTAB_BAD_NAME);
		poke(t);
		close_copy(t);
	}

	/* Corrupt pc-value/cu/file data: open succeeds, lookups stay in bounds and the
	 * sentinel values give NULL file / line 0 rather than garbage addresses. */
	memcpy(d, orig, size);
	uint64_t pctab = 0, cutab = 0;
	for (int i = 0; i < 8; i++) {
		pctab |= (uint64_t)orig[8 + 8 * 6 + i] << (8 * i);
		cutab |= (uint64_t)orig[8 + 8 * 4 + i] << (8 * i);
	}
	memset(d + pctab, 0xff, ftab - pctab);	/* endless varints everywhere */
	memset(d + cutab, 0xff, pctab - cutab); /* no file for any cu */
	t = open_copy(d, size, addr);
	assert_non_null(t);
	struct go_func fn;
	const char *file = "x";
	uint32_t line = 7;
	assert_int_equal(gopclntab_find(t, "main.burnA", &fn), 0);
	assert_int_equal(gopclntab_lookup(t, fn.entry + 3, &fn, &file, &line), 0);
	assert_null(file);
	assert_int_equal(line, 0);
	poke(t);
	close_copy(t);

	/* Random corruption of header, function table, _func records and pc tables. */
	srand(12345);
	size_t accepted = 0;
	for (int iter = 0; iter < 300; iter++) {
		memcpy(d, orig, size);
		int nflips = 1 + rand() % 4;
		for (int k = 0; k < nflips; k++) {
			size_t pos;
			switch (rand() % 3) {
			case 0:
				pos = (size_t)rand() % 72;
				break;
			case 1:
				pos = ftab + (size_t)rand() % (size - ftab);
				break;
			default:
				pos = pctab + (size_t)rand() % (ftab - pctab);
			}
			d[pos] = rand() % 4 ? (uint8_t)rand() : d[pos] ^ 0x80;
		}
		t = open_copy(d, size, addr);
		if (t) {
			accepted++;
			poke(t);
			close_copy(t);
		}
	}
	print_message("random corruption: %zu/300 still opened (and stayed in bounds)\n", accepted);
	free(d);
	free(orig);
	bin_close(&b);
}

/* ---- synthetic tables: Go 1.16/1.17 has no fixture here; also exercises ptrsize 4 ---- */

struct sbuf {
	uint8_t *p;
	size_t len, cap;
};

static size_t sb_add(struct sbuf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	size_t off = b->len;
	if (data)
		memcpy(b->p + off, data, n);
	else
		memset(b->p + off, 0, n);
	b->len += n;
	return off;
}

static void sb_uint(struct sbuf *b, uint64_t v, int size)
{
	uint8_t x[8];
	put64(x, v);
	sb_add(b, x, (size_t)size);
}

static void sb_varint(struct sbuf *b, uint32_t v)
{
	do {
		uint8_t c = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		sb_add(b, &c, 1);
		v >>= 7;
	} while (v);
}

/* One (value, pc) step of a pc-value table: value delta zig-zag coded, pc delta in quanta. */
static void sb_step(struct sbuf *b, int32_t delta, uint32_t pcdelta, uint32_t quantum)
{
	uint32_t u = delta < 0 ? ((uint32_t)~delta << 1) | 1 : (uint32_t)delta << 1;
	sb_varint(b, u);
	sb_varint(b, pcdelta / quantum);
}

struct synfunc {
	const char *name;
	uint32_t size;	  /* bytes of code */
	const char *file; /* NULL: cu without file (cutab entry ~0) */
	uint32_t split;	  /* pc offset where the line changes */
	int32_t line1, line2;
};

static const struct synfunc synfuncs[] = {
	{ "runtime.first", 0x20, "/src/runtime/a.s", 0x10, 10, 12 },
	{ "main.f", 0x40, "/src/main.go", 0x08, 100, 90 },
	{ "main.nofile", 0x10, NULL, 0x8, 5, 6 },
	{ "main.g", 0x30, "/src/main.go", 0x2c, 7, 300 },
};
#define NSYN	 (sizeof(synfuncs) / sizeof(synfuncs[0]))
#define SYN_TEXT 0x401000ULL

/* Builds a pclntab of version ver (116, 118, 120) with functions back to back from SYN_TEXT.
 * hdr_text goes into the 1.18+ header's textStart. */
static uint8_t *build_table(int ver, int ptrsize, uint32_t quantum, uint64_t hdr_text, size_t *size)
{
	struct sbuf names = { 0 }, cutab = { 0 }, files = { 0 }, pc = { 0 }, ft = { 0 }, out = { 0 };
	uint32_t nameoff[NSYN], pcfile[NSYN], pcln[NSYN];
	sb_add(&pc, NULL, 1); /* offset 0 means "no table" */
	for (size_t i = 0; i < NSYN; i++) {
		const struct synfunc *f = &synfuncs[i];
		nameoff[i] = (uint32_t)sb_add(&names, f->name, strlen(f->name) + 1);
		uint32_t fo = UINT32_MAX;
		if (f->file)
			fo = (uint32_t)sb_add(&files, f->file, strlen(f->file) + 1);
		sb_uint(&cutab, fo, 4); /* one cu per function, file index 0 */
		pcfile[i] = (uint32_t)pc.len;
		sb_step(&pc, 1, f->size, quantum); /* -1 -> 0 */
		sb_add(&pc, NULL, 1);
		pcln[i] = (uint32_t)pc.len;
		sb_step(&pc, f->line1 + 1, f->split, quantum);
		sb_step(&pc, f->line2 - f->line1, f->size - f->split, quantum);
		sb_add(&pc, NULL, 1);
	}
	int fsz = ver >= 118 ? 4 : ptrsize;
	int esz = ver >= 118 ? 4 : ptrsize; /* _func entry field */
	size_t funcs = (NSYN * 2 + 1) * (size_t)fsz;
	sb_add(&ft, NULL, funcs);
	uint64_t entry = SYN_TEXT;
	for (size_t i = 0; i <= NSYN; i++) {
		uint64_t e = ver >= 118 ? entry - SYN_TEXT : entry;
		uint8_t x[8];
		put64(x, e);
		memcpy(ft.p + 2 * i * (size_t)fsz, x, (size_t)fsz);
		if (i == NSYN)
			break;
		while (ft.len % (size_t)ptrsize)
			sb_add(&ft, NULL, 1);
		put64(x, ft.len);
		memcpy(ft.p + (2 * i + 1) * (size_t)fsz, x, (size_t)fsz);
		sb_uint(&ft, e, esz);
		uint32_t fields[] = { nameoff[i], 0, 0, 0, pcfile[i], pcln[i], 0, (uint32_t)i, 0, 0 };
		for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
			sb_uint(&ft, fields[k], 4);
		entry += synfuncs[i].size;
	}
	int nwords = ver >= 118 ? 8 : 7;
	size_t hdr = 8 + (size_t)nwords * (size_t)ptrsize;
	uint32_t magic = ver == 116 ? 0xfffffffa : ver == 118 ? 0xfffffff0 : 0xfffffff1;
	sb_uint(&out, magic, 4);
	uint8_t hb[4] = { 0, 0, (uint8_t)quantum, (uint8_t)ptrsize };
	sb_add(&out, hb, 4);
	size_t o_names = hdr, o_cu = o_names + names.len, o_files = o_cu + cutab.len,
	       o_pc = o_files + files.len, o_ft = o_pc + pc.len;
	sb_uint(&out, NSYN, ptrsize);
	sb_uint(&out, 3, ptrsize);
	if (ver >= 118)
		sb_uint(&out, hdr_text, ptrsize);
	sb_uint(&out, o_names, ptrsize);
	sb_uint(&out, o_cu, ptrsize);
	sb_uint(&out, o_files, ptrsize);
	sb_uint(&out, o_pc, ptrsize);
	sb_uint(&out, o_ft, ptrsize);
	assert_int_equal(out.len, hdr);
	sb_add(&out, names.p, names.len);
	sb_add(&out, cutab.p, cutab.len);
	sb_add(&out, files.p, files.len);
	sb_add(&out, pc.p, pc.len);
	sb_add(&out, ft.p, ft.len);
	free(names.p);
	free(cutab.p);
	free(files.p);
	free(pc.p);
	free(ft.p);
	*size = out.len;
	return out.p;
}

static void check_synthetic(struct gopclntab *t, uint32_t quantum)
{
	assert_non_null(t);
	assert_int_equal(gopclntab_nfuncs(t), NSYN);
	uint64_t entry = SYN_TEXT;
	for (size_t i = 0; i < NSYN; i++) {
		const struct synfunc *s = &synfuncs[i];
		struct go_func fn;
		const char *file;
		uint32_t line;
		assert_int_equal(gopclntab_func(t, i, &fn), 0);
		assert_string_equal(fn.name, s->name);
		assert_int_equal(fn.entry, entry);
		assert_int_equal(fn.end, entry + s->size);
		assert_int_equal(gopclntab_find(t, s->name, &fn), 0);
		assert_int_equal(fn.entry, entry);
		for (uint32_t off = 0; off < s->size; off += quantum) {
			assert_int_equal(gopclntab_lookup(t, entry + off, &fn, &file, &line), 0);
			assert_string_equal(fn.name, s->name);
			if (s->file)
				assert_string_equal(file, s->file);
			else
				assert_null(file);
			assert_int_equal(line, (uint32_t)(off < s->split ? s->line1 : s->line2));
		}
		entry += s->size;
	}
	struct go_func fn;
	assert_int_equal(gopclntab_lookup(t, SYN_TEXT - 1, &fn, NULL, NULL), -ENOENT);
	assert_int_equal(gopclntab_lookup(t, entry, &fn, NULL, NULL), -ENOENT);
	assert_int_equal(gopclntab_find(t, "main", &fn), -ENOENT);
}

static void test_synthetic_formats(void **state)
{
	(void)state;
	static const struct {
		int ver, ptrsize;
		uint32_t quantum;
	} cases[] = {
		{ 116, 8, 1 }, { 118, 8, 1 }, { 120, 8, 1 }, { 120, 8, 4 }, { 116, 4, 1 }, { 120, 4, 4 },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t size;
		uint8_t *d = build_table(cases[c].ver, cases[c].ptrsize, cases[c].quantum, SYN_TEXT, &size);
		/* text_start is a fallback only: a wrong one must not matter here */
		struct gopclntab *t = gopclntab_open(d, size, 0x500000, 0x123);
		check_synthetic(t, cases[c].quantum);
		gopclntab_close(t);
		free(d);

		/* every truncation is rejected up to the last _func's unread fields (startLine,
		 * funcID, flag, nfuncdata: 8 bytes); past that the table still opens */
		d = build_table(cases[c].ver, cases[c].ptrsize, cases[c].quantum, SYN_TEXT, &size);
		for (size_t cut = 0; cut < size; cut++) {
			t = open_copy(d, cut, 0);
			if (cut < size - 8)
				assert_null(t);
			else
				assert_non_null(t);
			close_copy(t);
		}
		free(d);
	}
	/* 1.18+ with textStart left 0 (unrelocated): the caller's text_start is used */
	size_t size;
	uint8_t *d = build_table(120, 8, 1, 0, &size);
	struct gopclntab *t = gopclntab_open(d, size, 0x500000, SYN_TEXT);
	check_synthetic(t, 1);
	gopclntab_close(t);
	free(d);
}

/* ---- buildinfo, synthetic ELF files ---- */

struct synsec {
	const char *name;
	uint64_t addr;
	const void *data;
	size_t size;
};

/* Writes an ELF64 little-endian file with the given allocated PROGBITS sections into a memfd
 * and opens it; *fd receives the descriptor. */
static Elf *build_elf(const struct synsec *secs, size_t n, int *fd)
{
	*fd = memfd_create("gobinary-test", 0);
	assert_true(*fd >= 0);
	Elf *e = elf_begin(*fd, ELF_C_WRITE, NULL);
	assert_non_null(e);
	GElf_Ehdr eh;
	assert_non_null(gelf_newehdr(e, ELFCLASS64));
	gelf_getehdr(e, &eh);
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;

	struct sbuf strtab = { 0 };
	sb_add(&strtab, "", 1);
	size_t *names = calloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = sb_add(&strtab, secs[i].name, strlen(secs[i].name) + 1);
	names[n] = sb_add(&strtab, ".shstrtab", 10);
	for (size_t i = 0; i <= n; i++) {
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d = elf_newdata(scn);
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		sh.sh_name = names[i];
		if (i < n) {
			d->d_buf = (void *)secs[i].data;
			d->d_size = secs[i].size;
			sh.sh_type = SHT_PROGBITS;
			sh.sh_flags = SHF_ALLOC;
			sh.sh_addr = secs[i].addr;
		} else {
			d->d_buf = strtab.p;
			d->d_size = strtab.len;
			sh.sh_type = SHT_STRTAB;
			eh.e_shstrndx = elf_ndxscn(scn);
		}
		d->d_type = ELF_T_BYTE;
		d->d_version = EV_CURRENT;
		d->d_align = 1;
		sh.sh_addralign = 1;
		gelf_update_shdr(scn, &sh);
	}
	gelf_update_ehdr(e, &eh);
	if (elf_update(e, ELF_C_WRITE) < 0)
		fail_msg("elf_update: %s", elf_errmsg(-1));
	elf_end(e);
	free(strtab.p);
	free(names);
	Elf *r = elf_begin(*fd, ELF_C_READ, NULL);
	assert_non_null(r);
	return r;
}

/* 16-byte aligned blob at offset 16 of the section, after some padding. */
static void buildinfo_header(uint8_t *bi, uint8_t ptrsize, uint8_t flags)
{
	memset(bi, 0, 16);
	memcpy(bi + 16, "\xff Go buildinf:", 14);
	bi[16 + 14] = ptrsize;
	bi[16 + 15] = flags;
}

static void test_buildinfo_synthetic(void **state)
{
	(void)state;
	char buf[64];
	int fd;
	/* Go < 1.18: pointer to runtime.buildVersion, a {ptr, len} string header */
	uint8_t bi[64] = { 0 }, hdr[16], str[] = "go1.16.15";
	buildinfo_header(bi, 8, 0);
	put64(bi + 32, 0x520000); /* &runtime.buildVersion */
	put64(bi + 40, 0x520010); /* &runtime.modinfo */
	put64(hdr, 0x4a0003);	  /* string bytes in .rodata */
	put64(hdr + 8, strlen((char *)str));
	uint8_t rodata[32] = "xyz";
	memcpy(rodata + 3, str, strlen((char *)str));
	struct synsec secs[] = {
		{ ".rodata", 0x4a0000, rodata, sizeof(rodata) },
		{ ".go.buildinfo", 0x510000, bi, sizeof(bi) },
		{ ".noptrdata", 0x520000, hdr, sizeof(hdr) },
	};
	Elf *e = build_elf(secs, 3, &fd);
	assert_int_equal(go_buildinfo_version(e, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "go1.16.15");
	elf_end(e);
	close(fd);

	/* big-endian pointers, 4 bytes */
	uint8_t bi4[48] = { 0 }, hdr4[8];
	buildinfo_header(bi4, 4, 1);
	uint8_t be[4] = { 0x00, 0x52, 0x00, 0x00 };
	memcpy(bi4 + 32, be, 4);
	uint8_t sbe[8] = { 0x00, 0x4a, 0x00, 0x03, 0, 0, 0, 9 };
	memcpy(hdr4, sbe, 8);
	secs[1].data = bi4;
	secs[1].size = sizeof(bi4);
	secs[2].data = hdr4;
	secs[2].size = sizeof(hdr4);
	e = build_elf(secs, 3, &fd);
	assert_int_equal(go_buildinfo_version(e, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "go1.16.15");
	elf_end(e);
	close(fd);

	/* dangling pointers / lengths */
	static const struct {
		uint64_t hdr_addr, str_addr, len;
	} bad[] = {
		{ 0x600000, 0x4a0003, 9 }, /* header not mapped */
		{ 0x52000c, 0x4a0003, 9 }, /* header straddles the section end */
		{ 0x520000, 0x4a001c, 9 }, /* string runs past .rodata */
		{ 0x520000, 0x4a0003, 0 }, /* empty */
		{ 0x520000, 0x4a0003, UINT64_MAX }, { 0x520000, 0x4a0003, 10 }, /* includes a NUL */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buildinfo_header(bi, 8, 0);
		put64(bi + 32, bad[i].hdr_addr);
		put64(hdr, bad[i].str_addr);
		put64(hdr + 8, bad[i].len);
		secs[1].data = bi;
		secs[1].size = sizeof(bi);
		secs[2].data = hdr;
		secs[2].size = sizeof(hdr);
		e = build_elf(secs, 3, &fd);
		assert_int_equal(go_buildinfo_version(e, buf, sizeof(buf)), -EINVAL);
		elf_end(e);
		close(fd);
	}

	/* Go >= 1.18: inline varint-prefixed strings after the 32-byte header */
	uint8_t in[80] = { 0 };
	buildinfo_header(in, 8, 2);
	in[48] = 9;
	memcpy(in + 49, "go1.22.12", 9);
	struct synsec one[] = { { ".go.buildinfo", 0x510000, in, 0 } };
	static const struct {
		size_t size;
		uint8_t len;
		int ret;
	} cases[] = {
		{ sizeof(in), 9, 0 },
		{ 58, 9, 0 },		       /* ends right after the string */
		{ 57, 9, -EINVAL },	       /* string cut */
		{ 48, 9, -EINVAL },	       /* length byte missing */
		{ 47, 9, -ENOENT },	       /* header cut */
		{ sizeof(in), 0x80, -EINVAL }, /* unterminated varint ... */
		{ sizeof(in), 60, -EINVAL },   /* longer than the section */
		{ sizeof(in), 0, -EINVAL },    /* empty */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in[48] = cases[i].len;
		if (cases[i].len == 0x80)
			memset(in + 49, 0xff, sizeof(in) - 49);
		else
			memcpy(in + 49, "go1.22.12", 9);
		one[0].size = cases[i].size;
		e = build_elf(one, 1, &fd);
		int ret = go_buildinfo_version(e, buf, sizeof(buf));
		if (ret != cases[i].ret)
			fail_msg("case %zu: %d, want %d", i, ret, cases[i].ret);
		if (ret == 0)
			assert_string_equal(buf, "go1.22.12");
		elf_end(e);
		close(fd);
	}
	/* magic only at a 16-byte aligned offset counts */
	memmove(in + 8, in + 16, 64);
	one[0].size = sizeof(in);
	e = build_elf(one, 1, &fd);
	assert_int_equal(go_buildinfo_version(e, buf, sizeof(buf)), -ENOENT);
	elf_end(e);
	close(fd);
}

int main(void)
{
	elf_version(EV_CURRENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symtab_agrees),
		cmocka_unit_test(test_stripped_same_functions),
		cmocka_unit_test(test_burnA_source_position),
		cmocka_unit_test(test_buildinfo_version),
		cmocka_unit_test(test_buildinfo_dep_versions),
		cmocka_unit_test(test_not_go),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_synthetic_formats),
		cmocka_unit_test(test_buildinfo_synthetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
