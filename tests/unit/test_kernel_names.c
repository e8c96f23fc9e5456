// SPDX-License-Identifier: Apache-2.0
/* Kernel names (profile/kernel_names.c, binfmt/ksyms.c) from a kallsyms file the test writes:
 * per address (one pass per batch of new addresses) and whole (one read, then no pass), both
 * answering alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile/kernel_names.h"

static char path[] = "/tmp/glimpse-kallsyms-XXXXXX";

/* Out of address order, as module symbols come; an alias; data symbols; a module's function
 * (the kernel writes a tab before the module); a line that is not a symbol; the last line
 * without its newline. */
static const char kallsyms[] = "ffffffff81000000 T _stext\n"
			       "ffffffff81001000 T do_syscall_64\n"
			       "ffffffff81001000 t do_syscall_alias\n"
			       "ffffffff81002000 D some_data\n"
			       "ffffffff81003000 t schedule\n"
			       "not a symbol line\n"
			       "ffffffffc0001000 t nf_hook\t[nf_tables]\n"
			       "ffffffff81004000 W weak_fn";

static int setup(void **state)
{
	(void)state;
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, kallsyms, sizeof(kallsyms) - 1) != (ssize_t)(sizeof(kallsyms) - 1))
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static const struct {
	uint64_t addr;
	const char *name;
} want[] = {
	{ 0xffffffff81001000, "do_syscall_64" }, /* the first listed of two at one address */
	{ 0xffffffff81001abc, "do_syscall_64" },
	{ 0xffffffff81002800, "do_syscall_64" }, /* data symbols do not end a function */
	{ 0xffffffff81003010, "schedule" },
	{ 0xffffffffc0001004, "nf_hook [nf_tables]" },
	{ 0xffffffff81004001, "weak_fn" },
	{ 0xffffffff80000000, NULL },		   /* below every function */
	{ 0xffffffff81004000 + (1u << 20), NULL }, /* too far past the last one */
};

static void check(struct kernel_names *kn)
{
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *got = kernel_names_find(kn, want[i].addr);
		if (want[i].name)
			assert_string_equal(got, want[i].name);
		else
			assert_null(got);
	}
}

static void test_per_address(void **state)
{
	(void)state;
	struct kernel_names *kn = kernel_names_new(path, false);
	uint64_t first[] = { want[0].addr, want[1].addr, want[0].addr };
	assert_int_equal(kernel_names_add(kn, first, 3), 0);
	assert_int_equal(kernel_names_passes(kn), 1);
	assert_int_equal(kernel_names_add(kn, first, 3), 0); /* known: no pass */
	assert_int_equal(kernel_names_passes(kn), 1);
	uint64_t all[sizeof(want) / sizeof(want[0])];
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		all[i] = want[i].addr;
	assert_int_equal(kernel_names_add(kn, all, sizeof(all) / sizeof(all[0])), 0);
	assert_int_equal(kernel_names_passes(kn), 2);
	assert_true(kernel_names_readable(kn));
	check(kn);
	kernel_names_free(kn);
}

static void test_whole(void **state)
{
	(void)state;
	struct kernel_names *kn = kernel_names_new(path, true);
	assert_int_equal(kernel_names_passes(kn), 1);
	uint64_t all[sizeof(want) / sizeof(want[0])];
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		all[i] = want[i].addr;
	assert_int_equal(kernel_names_add(kn, all, sizeof(all) / sizeof(all[0])), 0);
	assert_int_equal(kernel_names_passes(kn), 1); /* read once, never again */
	check(kn);
	kernel_names_free(kn);
}

/* Hidden addresses (kptr_restrict: all zero) or no file: unnamed, said once, not an error
 * that stops the profile. */
static void test_unreadable(void **state)
{
	(void)state;
	struct kernel_names *kn = kernel_names_new("/nonexistent/kallsyms", true);
	uint64_t a = want[0].addr;
	assert_int_not_equal(kernel_names_add(kn, &a, 1), 0);
	assert_false(kernel_names_readable(kn));
	assert_null(kernel_names_find(kn, a));
	kernel_names_free(kn);
}

/* A kallsyms larger than one read block (lines straddle the blocks) with a name longer than
 * the 255 bytes kept: every function named, per address and whole, the long one cut. */
static void test_large(void **state)
{
	(void)state;
	char big[] = "/tmp/glimpse-kallsyms-big-XXXXXX";
	int fd = mkstemp(big);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	enum {
		NSYMS = 20000
	};
	char longname[301];
	memset(longname, 'x', 300);
	longname[300] = '\0';
	for (int i = 0; i < NSYMS; i++)
		fprintf(f, "%016llx T func_%d%s\n", 0xffffffff81000000ull + 0x100ull * (unsigned)i, i,
			i == NSYMS / 2 ? longname : "");
	fclose(f);
	uint64_t addrs[] = { 0xffffffff81000000ull, 0xffffffff81000000ull + 0x100ull * 12345 + 0x42,
			     0xffffffff81000000ull + 0x100ull * (NSYMS / 2) + 1,
			     0xffffffff81000000ull + 0x100ull * (NSYMS - 1) + 0xff };
	char want_long[400];
	snprintf(want_long, sizeof(want_long), "func_%d%s", NSYMS / 2, longname);
	want_long[255] = '\0'; /* cut */
	const char *names[] = { "func_0", "func_12345", want_long, "func_19999" };
	for (int whole = 0; whole < 2; whole++) {
		struct kernel_names *kn = kernel_names_new(big, whole);
		assert_int_equal(kernel_names_add(kn, addrs, 4), 0);
		for (int i = 0; i < 4; i++)
			assert_string_equal(kernel_names_find(kn, addrs[i]), names[i]);
		assert_int_equal(strlen(kernel_names_find(kn, addrs[2])), 255);
		kernel_names_free(kn);
	}
	unlink(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_address),
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
