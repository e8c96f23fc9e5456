/* SPDX-License-Identifier: Apache-2.0 */
/* User space's side of a probe family's watched-processes bitmap (bpf/watched.bpf.h): the map
 * mapped into glimpse, and one bit per tgid flipped with atomic operations (the kernel's
 * programs flip bits of the same words: the socket probe's fork and exit programs). */
#ifndef GLIMPSE_BASE_WATCHED_H
#define GLIMPSE_BASE_WATCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct watched {
	uint64_t *words; /* NULL: not mapped */
};

/* Maps the bitmap behind map_fd (a WATCHED_MAP). 0, or -errno after logging why (`what`: the
 * probe it belongs to, for the message). Only the pages of words in use become resident. */
int watched_map(struct watched *w, int map_fd, const char *what);
/* False for a pid that has no bit (<= 0, or past the kernel's limit). */
bool watched_fits(pid_t pid);
/* Sets or clears pid's bit (a pid that does not fit is ignored). */
void watched_set(struct watched *w, pid_t pid, bool on);
void watched_unmap(struct watched *w);

#endif
