// SPDX-License-Identifier: Apache-2.0
/* base/watched.c: the watched-process bitmap as user space flips it, in the layout the BPF side
 * tests (bpf/watched_bits.h: word tgid / 64, bit tgid % 64). Ground truth: the words of a
 * memory file mapped the way a map's fd is, read back directly. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/watched.h"
#include "watched_bits.h"

#define BYTES (WATCHED_WORDS * sizeof(uint64_t))

static int bitmap_file(void)
{
	int fd = memfd_create("watched", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, BYTES), 0);
	return fd;
}

static void test_bits_land_where_bpf_reads_them(void **state)
{
	(void)state;
	int fd = bitmap_file();
	struct watched w;
	assert_int_equal(watched_map(&w, fd, "test probe"), 0);
	const uint64_t *words = mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(words != MAP_FAILED);

	watched_set(&w, 1, true);
	watched_set(&w, 63, true);
	watched_set(&w, 64, true);
	watched_set(&w, WATCHED_PID_LIMIT - 1, true);
	assert_int_equal(words[0], (1ull << 1) | (1ull << 63));
	assert_int_equal(words[1], 1ull);
	assert_int_equal(words[WATCHED_WORDS - 1], 1ull << 63);

	watched_set(&w, 63, false);
	watched_set(&w, 64, false);
	watched_set(&w, 64, false); /* clearing twice is harmless */
	assert_int_equal(words[0], 1ull << 1);
	assert_int_equal(words[1], 0);

	munmap((void *)words, BYTES);
	watched_unmap(&w);
	assert_null(w.words);
	watched_unmap(&w); /* once more: nothing to do */
	close(fd);
}

static void test_pids_without_a_bit_change_nothing(void **state)
{
	(void)state;
	assert_false(watched_fits(0));
	assert_false(watched_fits(-5));
	assert_false(watched_fits((pid_t)WATCHED_PID_LIMIT));
	assert_true(watched_fits(1));
	assert_true(watched_fits((pid_t)WATCHED_PID_LIMIT - 1));

	int fd = bitmap_file();
	struct watched w;
	assert_int_equal(watched_map(&w, fd, "test probe"), 0);
	watched_set(&w, 0, true);
	watched_set(&w, -1, true);
	watched_set(&w, (pid_t)WATCHED_PID_LIMIT, true);
	for (size_t i = 0; i < WATCHED_WORDS; i++)
		if (w.words[i])
			fail_msg("word %zu is %#llx", i, (unsigned long long)w.words[i]);
	watched_unmap(&w);
	close(fd);
}

static void test_unmappable_fd_is_an_error(void **state)
{
	(void)state;
	struct watched w = { 0 };
	assert_int_equal(watched_map(&w, -1, "test probe"), -EBADF);
	assert_null(w.words);
	watched_set(&w, 1, true); /* not mapped: ignored */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits_land_where_bpf_reads_them),
		cmocka_unit_test(test_pids_without_a_bit_change_nothing),
		cmocka_unit_test(test_unmappable_fd_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
