/* SPDX-License-Identifier: Apache-2.0 */
/* A Go map[string]*T of another process, read entry by entry with process_vm_readv in either
 * map layout: Go 1.17-1.23's runtime.hmap (2^B buckets of 8 slots, their overflow chains and,
 * while it grows, the old buckets) and Go 1.24+'s Swiss map (one group when small, else a
 * directory of tables of groups). Every count and pointer is checked before it is used, and a
 * map whose entry count does not match the slots seen (it changed under the walk) is refused.
 * httprouter's trees (router_tree.c) are read with it. */
#ifndef GLIMPSE_GOTRACE_GO_MAP_READ_H
#define GLIMPSE_GOTRACE_GO_MAP_READ_H

#include <stdint.h>
#include <sys/types.h>

/* A Go string header as it lies in memory. */
struct go_str {
	uint64_t ptr, len;
};

/* Called once per entry: 0 to go on, else the error that ends the walk. */
typedef int (*go_map_visit_fn)(void *ctx, struct go_str key, uint64_t value);

/* Visits every entry of the map at map (its *hmap or *maps.Map) of process pid, layout
 * GOTRACE_MAP_BUCKETS or GOTRACE_MAP_SWISS (gotrace.h). 0; visit's error; -E2BIG when the map
 * has more than max_entries entries (or an implausible shape); -EINVAL when it changed under
 * the walk; -ENOTSUP for another layout; -ENOMEM; proc_mem_read's errors. */
int go_map_each(pid_t pid, uint64_t map, uint32_t layout, uint64_t max_entries, go_map_visit_fn visit,
		void *ctx);

#endif
