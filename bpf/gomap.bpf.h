/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Finding one key of a Go map[string][]string (net/http's Header) from BPF, in both of the
 * layouts Go has used. User space tells which one a binary has (enum gotrace_map_layout); with
 * neither known nothing is read, so a wrong guess can never join a request to someone else's
 * trace.
 *
 * Buckets (Go 1.17-1.23, runtime.hmap): {count, flags, B, noverflow, hash0, buckets, ...};
 * 2^B buckets of {tophash[8], keys[8], values[8], overflow}. A tophash below 5 marks an empty
 * slot; full buckets chain overflow buckets. A grow's old buckets are not walked.
 *
 * Swiss tables (Go 1.24+, internal/runtime/maps.Map): {used, seed, dirPtr, dirLen, ...}. With
 * dirLen 0 the map is small and dirPtr is one group; otherwise dirPtr is an array of dirLen
 * *table (an entry may repeat), each {used, capacity, growthLeft, localDepth, index,
 * groups.data, groups.lengthMask}. A group is a control word (one byte per slot, high bit
 * clear for a full slot) followed by 8 (key, value) slots.
 *
 * Both walks are bounded: a header map too large for them is counted (the caller starts a new
 * trace) rather than followed. */
#ifndef GLIMPSE_BPF_GOMAP_H
#define GLIMPSE_BPF_GOMAP_H

#include "gotrace.h"

#define GOMAP_SLOTS	       8
#define GOMAP_MAX_B	       3  /* 8 buckets: up to 52 headers before a grow */
#define GOMAP_MAX_BUCKET_READS 16 /* main and overflow buckets together */
#define GOMAP_MIN_TOPHASH      5
#define GOMAP_MAX_TABLES       2 /* directory entries walked */
#define GOMAP_MAX_GROUPS       8 /* groups per table: 64 slots, 56 headers at 7/8 load */
#define GOMAP_SWISS_FULL_MASK  0x80

struct go_string_header {
	__u64 ptr, len;
};

struct go_slice_header {
	__u64 ptr, len, cap;
};

struct go_bucket {
	__u8 tophash[GOMAP_SLOTS];
	struct go_string_header keys[GOMAP_SLOTS];
	struct go_slice_header values[GOMAP_SLOTS];
	__u64 overflow;
};

struct go_group {
	__u64 ctrl;
	struct {
		struct go_string_header key;
		struct go_slice_header value;
	} slots[GOMAP_SLOTS];
};

union go_map_scratch {
	struct go_bucket bucket;
	struct go_group group;
};

/* Too big for the BPF stack: one per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, union go_map_scratch);
	__uint(max_entries, 1);
} gomap_scratch SEC(".maps");

enum gomap_result {
	GOMAP_NOT_FOUND,
	GOMAP_FOUND,
	GOMAP_TOO_BIG, /* the walk stopped at its bound before seeing every slot */
	GOMAP_UNREADABLE,
};

/* Is the Go string (ptr, len) equal to want (want_len bytes, at most 32)? */
static __always_inline bool gomap_key_equals(struct go_string_header key, const char *want, __u32 want_len)
{
	char buf[32];
	if (key.len != want_len || want_len > sizeof(buf) ||
	    bpf_probe_read_user(buf, want_len & 31, (void *)key.ptr))
		return false;
	for (__u32 i = 0; i < sizeof(buf); i++) {
		if (i >= want_len)
			break;
		if (buf[i] != want[i])
			return false;
	}
	return true;
}

static __always_inline enum gomap_result gomap_find_in_buckets(__u64 hmap, const char *key, __u32 key_len,
							       union go_map_scratch *s,
							       struct go_slice_header *value)
{
	struct {
		__u64 count;
		__u8 flags, b;
		__u16 noverflow;
		__u32 hash0;
		__u64 buckets, oldbuckets;
	} h = {};
	if (bpf_probe_read_user(&h, sizeof(h), (void *)hmap))
		return GOMAP_UNREADABLE;
	if (!h.count || !h.buckets)
		return GOMAP_NOT_FOUND;
	if (h.b > GOMAP_MAX_B)
		return GOMAP_TOO_BIG;
	/* Main buckets in order, each followed by its overflow chain, up to a number of reads. */
	__u32 nbuckets = 1u << h.b, index = 0;
	__u64 at = h.buckets;
	for (__u32 reads = 0; reads < GOMAP_MAX_BUCKET_READS; reads++) {
		if (bpf_probe_read_user(&s->bucket, sizeof(s->bucket), (void *)at))
			return GOMAP_UNREADABLE;
		for (int j = 0; j < GOMAP_SLOTS; j++) {
			if (s->bucket.tophash[j] < GOMAP_MIN_TOPHASH ||
			    !gomap_key_equals(s->bucket.keys[j], key, key_len))
				continue;
			*value = s->bucket.values[j];
			return GOMAP_FOUND;
		}
		if (s->bucket.overflow) {
			at = s->bucket.overflow;
		} else if (++index < nbuckets) {
			at = h.buckets + index * sizeof(s->bucket);
		} else {
			/* Mid-grow, entries not yet evacuated are still in the old buckets, which
			 * are not walked. */
			return h.oldbuckets ? GOMAP_TOO_BIG : GOMAP_NOT_FOUND;
		}
	}
	return GOMAP_TOO_BIG;
}

static __always_inline enum gomap_result gomap_find_in_group(__u64 group, const char *key, __u32 key_len,
							     union go_map_scratch *s,
							     struct go_slice_header *value)
{
	if (bpf_probe_read_user(&s->group, sizeof(s->group), (void *)group))
		return GOMAP_UNREADABLE;
	for (int j = 0; j < GOMAP_SLOTS; j++) {
		if ((s->group.ctrl >> (8 * j)) & GOMAP_SWISS_FULL_MASK ||
		    !gomap_key_equals(s->group.slots[j].key, key, key_len))
			continue;
		*value = s->group.slots[j].value;
		return GOMAP_FOUND;
	}
	return GOMAP_NOT_FOUND;
}

static __always_inline enum gomap_result gomap_find_in_swiss(__u64 map, const char *key, __u32 key_len,
							     union go_map_scratch *s,
							     struct go_slice_header *value)
{
	struct {
		__u64 used, seed, dir_ptr, dir_len;
	} m = {};
	if (bpf_probe_read_user(&m, sizeof(m), (void *)map))
		return GOMAP_UNREADABLE;
	if (!m.used || !m.dir_ptr)
		return GOMAP_NOT_FOUND;
	if (!m.dir_len)
		return gomap_find_in_group(m.dir_ptr, key, key_len, s, value);
	if (m.dir_len > GOMAP_MAX_TABLES)
		return GOMAP_TOO_BIG;
	for (__u32 t = 0; t < GOMAP_MAX_TABLES; t++) {
		if (t >= m.dir_len)
			break;
		__u64 table = 0;
		struct {
			__u16 used, capacity, growth_left;
			__u8 local_depth, pad;
			__u64 index, groups, length_mask;
		} tb = {};
		if (bpf_probe_read_user(&table, sizeof(table), (void *)(m.dir_ptr + t * 8)) ||
		    bpf_probe_read_user(&tb, sizeof(tb), (void *)table))
			return GOMAP_UNREADABLE;
		if (tb.length_mask >= GOMAP_MAX_GROUPS)
			return GOMAP_TOO_BIG;
		for (__u32 g = 0; g < GOMAP_MAX_GROUPS; g++) {
			if (g > tb.length_mask)
				break;
			enum gomap_result r = gomap_find_in_group(tb.groups + g * sizeof(struct go_group),
								  key, key_len, s, value);
			if (r != GOMAP_NOT_FOUND)
				return r;
		}
	}
	return GOMAP_NOT_FOUND;
}

/* Looks key up in the Go map at map (a map[string][]string); on GOMAP_FOUND, *value is its
 * []string header. */
static __always_inline enum gomap_result gomap_find_string_key(__u64 map, __u32 layout, const char *key,
							       __u32 key_len, struct go_slice_header *value)
{
	__u32 zero = 0;
	union go_map_scratch *s = bpf_map_lookup_elem(&gomap_scratch, &zero);
	if (!map || !s)
		return GOMAP_NOT_FOUND;
	if (layout == GOTRACE_MAP_BUCKETS)
		return gomap_find_in_buckets(map, key, key_len, s, value);
	if (layout == GOTRACE_MAP_SWISS)
		return gomap_find_in_swiss(map, key, key_len, s, value);
	return GOMAP_NOT_FOUND;
}

#endif
