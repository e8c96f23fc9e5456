// SPDX-License-Identifier: Apache-2.0
#include "base/watched.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"
#include "watched_bits.h"

#define WATCHED_BYTES (WATCHED_WORDS * sizeof(uint64_t))

int watched_map(struct watched *w, int map_fd, const char *what)
{
	void *p = mmap(NULL, WATCHED_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;
		log_error("cannot map the %s's process filter: %s", what, strerror(err));
		w->words = NULL;
		return -err;
	}
	w->words = p;
	return 0;
}

bool watched_fits(pid_t pid)
{
	return pid > 0 && (uint32_t)pid < WATCHED_PID_LIMIT;
}

void watched_set(struct watched *w, pid_t pid, bool on)
{
	if (!w->words || !watched_fits(pid))
		return;
	uint64_t bit = WATCHED_BIT(pid);
	uint64_t *word = &w->words[WATCHED_WORD(pid)];
	if (on)
		__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST);
}

void watched_unmap(struct watched *w)
{
	if (w->words)
		munmap(w->words, WATCHED_BYTES);
	w->words = NULL;
}
