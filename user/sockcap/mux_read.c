// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE /* process_vm_readv */
#include "sockcap/mux_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "base/utf8.h"
#include "gotrace.h"

#define ADDR_MIN	 4096
#define ADDR_MAX	 0x00007fffffffffffull
#define MAX_DEPTH	 (MUX_MAX_SEGMENTS + 4) /* host, method, segments, the multi child */
#define MAP_SLOTS	 8
#define MAX_MAP_ENTRIES	 (2 * MUX_READ_MAX_NODES)
#define MIN_TOPHASH	 5    /* runtime: below are empty and evacuated marks */
#define SWISS_CTRL_EMPTY 0x80 /* high bit set: empty or deleted */
#define MAX_MAP_B	 15
#define MAX_OVERFLOW	 64
#define MAX_SWISS_DIR	 4096

struct go_str {
	uint64_t ptr, len;
};

struct walker {
	pid_t pid;
	const struct go_http_offsets *off;
	uint32_t map_layout;
	struct mux_routes *routes;
	size_t nodes, entries;
};

static bool user_addr(uint64_t a)
{
	return a >= ADDR_MIN && a <= ADDR_MAX;
}

static int peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	if (!user_addr(addr) || len > ADDR_MAX - addr)
		return -EFAULT;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

static int peek_word(pid_t pid, uint64_t addr, uint64_t *v)
{
	return peek(pid, addr, v, sizeof(*v));
}

bool mux_read_supported(const struct go_http_offsets *o, uint32_t map_layout)
{
	return o->servemux_tree >= 0 && o->node_pattern >= 0 && o->node_children >= 0 && o->node_empty >= 0 &&
	       o->mapping_s >= 0 && o->mapping_m >= 0 && o->pattern_str >= 0 &&
	       /* entry[string, *routingNode]: the layout Go gives {string; pointer} */
	       o->entry_key == 0 && o->entry_value == 16 &&
	       (map_layout == GOTRACE_MAP_BUCKETS || map_layout == GOTRACE_MAP_SWISS);
}

static int walk(struct walker *w, uint64_t node, int depth);

/* A map[string]*routingNode value: the child node (its key is not needed: the pattern strings
 * say everything). */
static int visit_child(struct walker *w, uint64_t child, int depth)
{
	if (++w->entries > MAX_MAP_ENTRIES)
		return -E2BIG;
	return walk(w, child, depth + 1);
}

/* Go 1.17-1.23 runtime.hmap: 2^B buckets (and the old ones while it grows), each with 8
 * tophash bytes, 8 keys, 8 values and an overflow pointer. */
static int each_bucket_entry(struct walker *w, uint64_t map, int depth)
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
	int err = peek(w->pid, map, &h, sizeof(h));
	if (err)
		return err;
	if (h.b > MAX_MAP_B || h.count > MAX_MAP_ENTRIES)
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
				if ((err = peek(w->pid, at, &b, sizeof(b))))
					return err;
				for (int s = 0; s < MAP_SLOTS; s++) {
					if (b.tophash[s] < MIN_TOPHASH)
						continue;
					seen++;
					if ((err = visit_child(w, b.values[s], depth)))
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
static int each_swiss_entry(struct walker *w, uint64_t map, int depth)
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
	int err = peek(w->pid, map, &m, sizeof(m));
	if (err)
		return err;
	if (m.used > MAX_MAP_ENTRIES || m.dir_len < 0 || m.dir_len > MAX_SWISS_DIR)
		return -E2BIG;
	uint64_t seen = 0, *tables = NULL;
	int64_t ntables = m.dir_len ? m.dir_len : 1;
	if (m.dir_len) {
		if (!(tables = malloc((size_t)m.dir_len * sizeof(uint64_t))))
			return -ENOMEM;
		if ((err = peek(w->pid, m.dir_ptr, tables, (size_t)m.dir_len * sizeof(uint64_t))))
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
			if ((err = peek(w->pid, tables[t], &tb, sizeof(tb))))
				goto out;
			err = -E2BIG;
			if (tb.length_mask >= MAX_MAP_ENTRIES)
				goto out;
			groups = tb.data;
			mask = tb.length_mask;
		}
		for (uint64_t i = 0; i <= mask; i++) {
			if ((err = peek(w->pid, groups + i * sizeof(g), &g, sizeof(g))))
				goto out;
			for (int s = 0; s < MAP_SLOTS; s++) {
				if ((g.ctrl >> (8 * s)) & SWISS_CTRL_EMPTY)
					continue;
				seen++;
				if ((err = visit_child(w, g.slots[s].value, depth)))
					goto out;
			}
		}
	}
	err = seen == m.used ? 0 : -EINVAL; /* changed under the walk */
out:
	free(tables);
	return err;
}

static int add_pattern(struct walker *w, uint64_t pattern)
{
	struct go_str s;
	char buf[MUX_PATTERN_MAX];
	int err = peek(w->pid, pattern + (uint64_t)w->off->pattern_str, &s, sizeof(s));
	if (err)
		return err;
	if (!s.len || s.len >= sizeof(buf))
		return -EINVAL;
	if ((err = peek(w->pid, s.ptr, buf, s.len)))
		return err;
	for (size_t i = 0; i < s.len;) {
		size_t n = utf8_decode((const unsigned char *)buf + i, s.len - i, NULL);
		if (!n)
			return -EINVAL;
		i += n;
	}
	err = mux_routes_add(w->routes, buf, s.len);
	return err == -EEXIST ? -EINVAL : err;
}

/* One routingNode: its pattern, then its children (slice or map), empty and multi children. */
static int walk(struct walker *w, uint64_t node, int depth)
{
	const struct go_http_offsets *o = w->off;
	if (!node)
		return 0;
	if (depth > MAX_DEPTH)
		return -EINVAL;
	if (++w->nodes > MUX_READ_MAX_NODES)
		return -E2BIG;
	uint64_t pattern, slice[3], map, empty, multi = 0;
	int err;
	if ((err = peek_word(w->pid, node + (uint64_t)o->node_pattern, &pattern)) ||
	    (err = peek(w->pid, node + (uint64_t)(o->node_children + o->mapping_s), slice, sizeof(slice))) ||
	    (err = peek_word(w->pid, node + (uint64_t)(o->node_children + o->mapping_m), &map)) ||
	    (err = peek_word(w->pid, node + (uint64_t)o->node_empty, &empty)) ||
	    (o->node_multi >= 0 && (err = peek_word(w->pid, node + (uint64_t)o->node_multi, &multi))))
		return err;
	if (pattern && (err = add_pattern(w, pattern)))
		return err;
	if (slice[1] > slice[2] || slice[1] > MAX_MAP_ENTRIES)
		return -EINVAL;
	for (uint64_t i = 0; i < slice[1]; i++) {
		uint64_t child; /* entry{key string; value *routingNode}: 24 bytes */
		if ((err = peek_word(w->pid, slice[0] + 24 * i + (uint64_t)o->entry_value, &child)) ||
		    (err = visit_child(w, child, depth)))
			return err;
	}
	if (map) {
		err = w->map_layout == GOTRACE_MAP_SWISS ? each_swiss_entry(w, map, depth)
							 : each_bucket_entry(w, map, depth);
		if (err)
			return err;
	}
	if ((err = walk(w, empty, depth + 1)))
		return err;
	return walk(w, multi, depth + 1);
}

int mux_read(pid_t pid, uint64_t mux, const struct go_http_offsets *off, uint32_t map_layout,
	     enum mux_syntax syntax, struct mux_routes **out)
{
	*out = NULL;
	if (!mux_read_supported(off, map_layout))
		return -ENOTSUP;
	struct walker w = { .pid = pid, .off = off, .map_layout = map_layout };
	if (!(w.routes = mux_routes_new(syntax)))
		return -ENOMEM;
	int err = walk(&w, mux + (uint64_t)off->servemux_tree, 0);
	if (err) {
		mux_routes_free(w.routes);
		return err;
	}
	*out = w.routes;
	return 0;
}
