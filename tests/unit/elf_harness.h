/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests that read a real ELF file from disk (libc, its debug file): open it read-only,
 * mapped, and fail the test at once if that is not possible. Include after cmocka.h. */
#ifndef GLIMPSE_TESTS_ELF_HARNESS_H
#define GLIMPSE_TESTS_ELF_HARNESS_H

#include <fcntl.h>
#include <libelf.h>
#include <unistd.h>

struct opened {
	int fd;
	Elf *elf;
};

static Elf *open_elf(const char *path, struct opened *o)
{
	elf_version(EV_CURRENT);
	o->fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(o->fd >= 0);
	o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(o->elf);
	return o->elf;
}

static void close_elf(struct opened *o)
{
	elf_end(o->elf);
	close(o->fd);
}

#endif
