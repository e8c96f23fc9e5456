// SPDX-License-Identifier: Apache-2.0
/* Unit tests of separate debug files (user/binfmt/debug_file.c, elf_module_load_debug_file).
 * Fixtures: $GLIMPSE_APPS/debuglink/ (tests/apps/Makefile): prog, stripped of every symbol,
 * with a .gnu_debuglink to prog.debug (objcopy --only-keep-debug), and prog-noid, the same
 * without a build id. Ground truth: hidden_work, a static function only the debug file's
 * .symtab names, and the source line of its loop in tests/apps/debuglink.c. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "binfmt/debug_file.h"
#include "binfmt/elf_module.h"

/* snprintf that fails the test instead of truncating. */
#define FMT(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static char dir[4096];				    /* $GLIMPSE_APPS/debuglink */
static char root[] = "/tmp/test_debug_file.XXXXXX"; /* a target's root directory */

static int setup(void **state)
{
	(void)state;
	const char *apps = getenv("GLIMPSE_APPS");
	if (!apps || !*apps)
		return 0;
	FMT(dir, "%s/debuglink", apps);
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	if (!dir[0])
		return 0;
	FMT(cmd, "rm -rf %s", root);
	return system(cmd);
}

static void copy(const char *from, const char *to)
{
	char cmd[8192];
	FMT(cmd, "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'", to, from, to);
	assert_int_equal(system(cmd), 0);
}

/* hidden_work's [start, end) from a file's .symtab, false if it has none naming it. */
static bool symtab_range(const char *path, uint64_t *start, uint64_t *end)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	bool found = false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && !found; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;
			if (gelf_getsym(d, (int)i, &sym) &&
			    (name = elf_strptr(elf, sh.sh_link, sym.st_name)) &&
			    !strcmp(name, "hidden_work")) {
				*start = sym.st_value;
				*end = sym.st_value + sym.st_size;
				found = true;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

static uint32_t loop_line(void)
{
	char path[4096];
	FMT(path, "%s/../../../tests/apps/debuglink.c", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char buf[512];
	uint32_t n = 0, found = 0;
	while (!found && fgets(buf, sizeof(buf), f))
		if (++n && strstr(buf, "debuglink: the line of the loop body"))
			found = n;
	fclose(f);
	assert_int_not_equal(found, 0);
	return found;
}

/* Opens binary (its path as the target sees it, inside target_root) and checks hidden_work is
 * named, with the loop's line, exactly when want_found. */
static void check(const char *target_root, const char *binary, const char *debug_truth, bool want_found)
{
	uint64_t start, end;
	char full[8192];
	FMT(full, "%s%s", target_root, binary);
	assert_true(symtab_range(debug_truth, &start, &end));
	assert_false(symtab_range(full, &start, &end)); /* stripped: the name is not there */
	assert_true(symtab_range(debug_truth, &start, &end));
	struct elf_module *m = elf_module_open(full);
	assert_non_null(m);
	assert_int_equal(elf_module_load_debug_file(m, target_root, binary), want_found ? 0 : -ENOENT);
	struct elf_symbol sym;
	elf_module_symbolize(m, start, &sym);
	if (!want_found) {
		assert_true(!sym.func || strcmp(sym.func, "hidden_work"));
		elf_module_close(m);
		return;
	}
	assert_string_equal(sym.func, "hidden_work");
	bool loop_seen = false;
	uint32_t want = loop_line();
	for (uint64_t pc = start; pc < end; pc++) {
		elf_module_symbolize(m, pc, &sym);
		assert_string_equal(sym.func, "hidden_work");
		if (sym.file && strstr(sym.file, "debuglink.c") && sym.line == want)
			loop_seen = true;
	}
	assert_true(loop_seen);
	assert_true(elf_module_has_lines(m));
	elf_module_close(m);
}

/* The debug file next to the binary, named by .gnu_debuglink (no build id to go by). */
static void test_debuglink_same_dir(void **state)
{
	(void)state;
	if (!dir[0])
		skip();
	char bin[8192], dbg[8192];
	FMT(bin, "%s/prog-noid", dir);
	FMT(dbg, "%s/prog-noid.debug", dir);
	check("", bin, dbg, true); /* our own root */
}

/* In a target's root: the .debug/ subdirectory and /usr/lib/debug/<dir>/, by debuglink. */
static void test_debuglink_debug_dirs(void **state)
{
	(void)state;
	if (!dir[0])
		skip();
	char src[8192], dst[8192], dbg[8192];
	FMT(src, "%s/prog-noid", dir);
	FMT(dbg, "%s/prog-noid.debug", dir);
	FMT(dst, "%s/opt/a/prog-noid", root);
	copy(src, dst);
	FMT(dst, "%s/opt/a/.debug/prog-noid.debug", root);
	copy(dbg, dst);
	check(root, "/opt/a/prog-noid", dbg, true);

	FMT(dst, "%s/opt/b/prog-noid", root);
	copy(src, dst);
	FMT(dst, "%s/usr/lib/debug/opt/b/prog-noid.debug", root);
	copy(dbg, dst);
	check(root, "/opt/b/prog-noid", dbg, true);
}

/* By build id under the target's root, where no debuglink path leads. */
static void test_build_id(void **state)
{
	(void)state;
	if (!dir[0])
		skip();
	char src[8192], dst[8192], dbg[8192], id[2 * 64 + 1];
	FMT(src, "%s/prog", dir);
	FMT(dbg, "%s/prog.debug", dir);
	int fd = open(src, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_int_equal(elf_build_id_hex(elf, id, sizeof(id)), 0);
	elf_end(elf);
	close(fd);
	FMT(dst, "%s/srv/prog", root);
	copy(src, dst);
	FMT(dst, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root, id, id + 2);
	copy(dbg, dst);
	check(root, "/srv/prog", dbg, true);
}

/* A debug file whose CRC is not the one recorded, or of another build, is not used. */
static void test_mismatches_refused(void **state)
{
	(void)state;
	if (!dir[0])
		skip();
	char src[8192], dst[8192], dbg[8192], cmd[16384];
	FMT(src, "%s/prog-noid", dir);
	FMT(dbg, "%s/prog-noid.debug", dir);
	FMT(dst, "%s/opt/c/prog-noid", root);
	copy(src, dst);
	FMT(dst, "%s/opt/c/prog-noid.debug", root);
	copy(dbg, dst);
	FMT(cmd, "printf 'X' | dd of='%s' bs=1 seek=100 conv=notrunc status=none", dst);
	assert_int_equal(system(cmd), 0);
	check(root, "/opt/c/prog-noid", dbg, false);

	/* prog's build id, but the file is prog-noid's debug file. */
	char id[2 * 64 + 1];
	FMT(src, "%s/prog", dir);
	int fd = open(src, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_int_equal(elf_build_id_hex(elf, id, sizeof(id)), 0);
	elf_end(elf);
	close(fd);
	FMT(dst, "%s/srv2/prog", root);
	copy(src, dst);
	FMT(dst, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root, id, id + 2);
	copy(dbg, dst); /* overwrites test_build_id's good one: wrong build id now */
	check(root, "/srv2/prog", dbg, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debuglink_same_dir),
		cmocka_unit_test(test_debuglink_debug_dirs),
		cmocka_unit_test(test_build_id),
		cmocka_unit_test(test_mismatches_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
