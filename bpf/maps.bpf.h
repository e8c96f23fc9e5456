/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Map helpers every probe family uses: a per-CPU counter bump and lookup-or-create. */
#ifndef GLIMPSE_MAPS_BPF_H
#define GLIMPSE_MAPS_BPF_H

#include <bpf/bpf_helpers.h>
#include "glimpse.bpf.h"

/* Adds one to slot `which` of a per-CPU array of __u64 counters (what user space sums and
 * reports: drops, full maps, unparseable input). Per-CPU, so no atomic is needed. */
static __always_inline void counter_inc(void *counters, __u32 which)
{
	__u64 *v = bpf_map_lookup_elem(counters, &which);
	if (v)
		(*v)++;
}

/* Adds n to slot `which` (see counter_inc). */
static __always_inline void counter_add(void *counters, __u32 which, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(counters, &which);
	if (v)
		*v += n;
}

/* key's entry, created from init when missing (another CPU may create it first: that is
 * fine). NULL when the map is full; *err then holds the update's error. */
static __always_inline void *map_lookup_or_try_init(void *map, const void *key, const void *init, long *err)
{
	void *v = bpf_map_lookup_elem(map, key);
	if (v)
		return v;
	*err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (*err && *err != -EEXIST)
		return NULL;
	*err = 0;
	return bpf_map_lookup_elem(map, key);
}

#endif
