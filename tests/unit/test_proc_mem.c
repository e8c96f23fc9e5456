// SPDX-License-Identifier: Apache-2.0
/* base/procfs.h's readers of another process: its memory (proc_mem_read), checked before and
 * after reading, and where its executable's file offsets are mapped (proc_exe_addr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/procfs.h"

static const char text[] = "the bytes a child process shares with its parent";

static void test_reads_what_is_there(void **state)
{
	(void)state;
	char buf[sizeof(text)];
	pid_t child = fork();
	assert_true(child >= 0);
	if (!child) {
		pause();
		_exit(0);
	}
	/* After fork the child has text at the same address. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(proc_mem_read(child, (uintptr_t)text, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, text, sizeof(text));
	/* Not user space: refused without asking the kernel. */
	assert_int_equal(proc_mem_read(child, 0, buf, 8), -EFAULT);
	assert_int_equal(proc_mem_read(child, 16, buf, 8), -EFAULT);
	assert_int_equal(proc_mem_read(child, 0xffffffff81000000ull, buf, 8), -EFAULT);
	assert_int_equal(proc_mem_read(child, 0x00007ffffffffffcull, buf, 8), -EFAULT);
	/* An unmapped user address: the kernel's EFAULT. */
	assert_int_equal(proc_mem_read(child, 0x1000, buf, 8), -EFAULT);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);
	/* The process is gone: -ESRCH, which callers tell apart from a bad address. */
	assert_int_equal(proc_mem_read(child, (uintptr_t)text, buf, sizeof(buf)), -ESRCH);
}

/* This test's own executable: an offset inside its code mapping is found there, one past every
 * mapping is not; a process that is gone has no maps. */
static void test_exe_offsets(void **state)
{
	(void)state;
	struct proc_exe_maps x;
	assert_int_equal(proc_exe_maps_read(getpid(), &x), 0);
	const struct proc_map *code = NULL;
	uint64_t past = 0;
	for (size_t i = 0; i < x.n; i++)
		if (x.maps[i].inode == x.ino) {
			if (!code)
				code = &x.maps[i];
			if (x.maps[i].offset + (x.maps[i].end - x.maps[i].start) > past)
				past = x.maps[i].offset + (x.maps[i].end - x.maps[i].start);
		}
	assert_non_null(code);
	assert_int_equal(proc_exe_addr(&x, code->offset + 0x10), code->start + 0x10);
	assert_int_equal(proc_exe_addr(&x, past), 0);
	proc_exe_maps_free(&x);

	pid_t child = fork();
	assert_true(child >= 0);
	if (!child)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_true(proc_exe_maps_read(child, &x) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_what_is_there),
		cmocka_unit_test(test_exe_offsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
