// SPDX-License-Identifier: Apache-2.0
#include "sockcap/mux_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/procfs.h"
#include "base/utf8.h"
#include "gotrace.h"
#include "gotrace/go_map_read.h"

#define MAX_DEPTH	(MUX_MAX_SEGMENTS + 4) /* host, method, segments, the multi child */
#define MAX_MAP_ENTRIES (2 * MUX_READ_MAX_NODES)

struct walker {
	pid_t pid;
	const struct go_http_offsets *off;
	uint32_t map_layout;
	struct mux_routes *routes;
	size_t nodes, entries;
};

static int peek_word(pid_t pid, uint64_t addr, uint64_t *v)
{
	return proc_mem_read(pid, addr, v, sizeof(*v));
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

/* A child node, from the slice or the map of its parent. */
static int visit_child(struct walker *w, uint64_t child, int depth)
{
	if (++w->entries > MAX_MAP_ENTRIES)
		return -E2BIG;
	return walk(w, child, depth + 1);
}

/* A map[string]*routingNode entry: the child node (its key is not needed: the pattern strings
 * say everything). */
struct map_visit {
	struct walker *w;
	int depth;
};

static int visit_map_child(void *ctx, struct go_str key, uint64_t child)
{
	const struct map_visit *v = ctx;
	(void)key;
	return visit_child(v->w, child, v->depth);
}

static int add_pattern(struct walker *w, uint64_t pattern)
{
	struct go_str s;
	char buf[MUX_PATTERN_MAX];
	int err = proc_mem_read(w->pid, pattern + (uint64_t)w->off->pattern_str, &s, sizeof(s));
	if (err)
		return err;
	if (!s.len || s.len >= sizeof(buf))
		return -EINVAL;
	if ((err = proc_mem_read(w->pid, s.ptr, buf, s.len)))
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
	    (err = proc_mem_read(w->pid, node + (uint64_t)(o->node_children + o->mapping_s), slice,
				 sizeof(slice))) ||
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
	if (map && (err = go_map_each(w->pid, map, w->map_layout, MAX_MAP_ENTRIES, visit_map_child,
				      &(struct map_visit){ w, depth })))
		return err;
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
