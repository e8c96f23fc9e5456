/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The watched-processes bitmap on the BPF side (layout: watched_bits.h; user space's side:
 * user/base/watched.h). A probe family declares its own with WATCHED_MAP(name): each family
 * watches its own set of processes (the socket probe follows forks, the scheduler probe does
 * not). Testing a bit is an array load the verifier inlines (no helper call): the programs on
 * the machine's hottest tracepoints reject what they do not watch with it.
 *
 * A bit is a hint that is never wrongly clear: set once the family's own per-process state
 * exists, cleared only once it is gone, so a set bit without state costs only the lookup that
 * follows. Both sides flip bits with atomic operations (the words are shared). */
#ifndef GLIMPSE_WATCHED_BPF_H
#define GLIMPSE_WATCHED_BPF_H

#include <bpf/bpf_helpers.h>
#include "watched_bits.h"

#define WATCHED_MAP(name)                           \
	struct {                                    \
		__uint(type, BPF_MAP_TYPE_ARRAY);   \
		__uint(map_flags, BPF_F_MMAPABLE);  \
		__uint(max_entries, WATCHED_WORDS); \
		__type(key, __u32);                 \
		__type(value, __u64);               \
	} name SEC(".maps")

static __always_inline bool watched_test(void *map, __u32 tgid)
{
	__u32 word = WATCHED_WORD(tgid);
	__u64 *w = bpf_map_lookup_elem(map, &word);
	return w && (*w & WATCHED_BIT(tgid));
}

static __always_inline void watched_set(void *map, __u32 tgid, bool on)
{
	__u32 word = WATCHED_WORD(tgid);
	__u64 *w = bpf_map_lookup_elem(map, &word);
	if (!w)
		return;
	if (on)
		__sync_fetch_and_or(w, WATCHED_BIT(tgid));
	else
		__sync_fetch_and_and(w, ~WATCHED_BIT(tgid));
}

#endif
