// SPDX-License-Identifier: Apache-2.0
#include "gotrace/go_map_read.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/procfs.h"
#include "gotrace.h"

#define MAP_SLOTS	 8
#define MIN_TOPHASH	 5    /* runtime: below are empty and evacuated marks */
#define SWISS_CTRL_EMPTY 0x80 /* high bit set: empty or deleted */
#define MAX_MAP_B	 15
#define MAX_OVERFLOW	 64
#define MAX_SWISS_DIR	 4096

/* Go 1.17-1.23 runtime.hmap: 2^B buckets (and the old ones while it grows), each with 8
 * tophash bytes, 8 keys, 8 values and an overflow pointer. */
static int each_bucket_entry(pid_t pid, uint64_t map, uint64_t max_entries, go_map_visit_fn visit, void *ctx)
{
	struct {
		uint64_t count;
		uint8_t flags, b;
		uint16_t noverflow;
		uint32_t hash0;
		uint64_t buckets, oldbuckets;
	} h;
	struct {
		uint8_t tophash[MAP_SLOTS];
		struct go_str keys[MAP_SLOTS];
		uint64_t values[MAP_SLOTS];
		uint64_t overflow;
	} b;
	int err = proc_mem_read(pid, map, &h, sizeof(h));
	if (err)
		return err;
	if (h.b > MAX_MAP_B || h.count > max_entries)
		return -E2BIG;
	uint64_t seen = 0;
	for (int old = 0; old < 2; old++) {
		uint64_t base = old ? h.oldbuckets : h.buckets;
		uint64_t nb = old ? (h.b ? 1ull << (h.b - 1) : 0) : 1ull << h.b;
		if (!base)
			continue;
		for (uint64_t i = 0; i < nb; i++) {
			uint64_t at = base + i * sizeof(b);
			for (int chain = 0; at; chain++) {
				if (chain > MAX_OVERFLOW)
					return -E2BIG;
				if ((err = proc_mem_read(pid, at, &b, sizeof(b))))
					return err;
				for (int s = 0; s < MAP_SLOTS; s++) {
					if (b.tophash[s] < MIN_TOPHASH)
						continue;
					if (++seen > max_entries)
						return -E2BIG;
					if ((err = visit(ctx, b.keys[s], b.values[s])))
						return err;
				}
				at = b.overflow;
			}
		}
	}
	return seen == h.count ? 0 : -EINVAL; /* changed under the walk */
}

/* Go 1.24+ Swiss map: one group when small (dirLen 0), else a directory of tables of groups;
 * a group is 8 control bytes and 8 (key, value) slots. */
static int each_swiss_entry(pid_t pid, uint64_t map, uint64_t max_entries, go_map_visit_fn visit, void *ctx)
{
	struct {
		uint64_t used, seed, dir_ptr;
		int64_t dir_len;
	} m;
	struct {
		uint64_t ctrl;
		struct {
			struct go_str key;
			uint64_t value;
		} slots[MAP_SLOTS];
	} g;
	int err = proc_mem_read(pid, map, &m, sizeof(m));
	if (err)
		return err;
	if (m.used > max_entries || m.dir_len < 0 || m.dir_len > MAX_SWISS_DIR)
		return -E2BIG;
	uint64_t seen = 0, *tables = NULL;
	int64_t ntables = m.dir_len ? m.dir_len : 1;
	if (m.dir_len) {
		if (!(tables = malloc((size_t)m.dir_len * sizeof(uint64_t))))
			return -ENOMEM;
		if ((err = proc_mem_read(pid, m.dir_ptr, tables, (size_t)m.dir_len * sizeof(uint64_t))))
			goto out;
	}
	for (int64_t t = 0; t < ntables; t++) {
		uint64_t groups = m.dir_ptr, mask = 0;
		if (m.dir_len) {
			bool dup = false; /* a table spans several directory slots */
			for (int64_t u = 0; u < t && !dup; u++)
				dup = tables[u] == tables[t];
			if (dup)
				continue;
			struct {
				uint16_t used, capacity, growth_left;
				uint8_t local_depth, pad;
				int64_t index;
				uint64_t data, length_mask;
			} tb;
			if ((err = proc_mem_read(pid, tables[t], &tb, sizeof(tb))))
				goto out;
			err = -E2BIG;
			if (tb.length_mask >= max_entries)
				goto out;
			groups = tb.data;
			mask = tb.length_mask;
		}
		for (uint64_t i = 0; i <= mask; i++) {
			if ((err = proc_mem_read(pid, groups + i * sizeof(g), &g, sizeof(g))))
				goto out;
			for (int s = 0; s < MAP_SLOTS; s++) {
				if ((g.ctrl >> (8 * s)) & SWISS_CTRL_EMPTY)
					continue;
				err = -E2BIG;
				if (++seen > max_entries)
					goto out;
				if ((err = visit(ctx, g.slots[s].key, g.slots[s].value)))
					goto out;
			}
		}
	}
	err = seen == m.used ? 0 : -EINVAL; /* changed under the walk */
out:
	free(tables);
	return err;
}

int go_map_each(pid_t pid, uint64_t map, uint32_t layout, uint64_t max_entries, go_map_visit_fn visit,
		void *ctx)
{
	switch (layout) {
	case GOTRACE_MAP_BUCKETS:
		return each_bucket_entry(pid, map, max_entries, visit, ctx);
	case GOTRACE_MAP_SWISS:
		return each_swiss_entry(pid, map, max_entries, visit, ctx);
	default:
		return -ENOTSUP;
	}
}
