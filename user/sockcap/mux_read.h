/* SPDX-License-Identifier: Apache-2.0 */
/* The patterns registered on a Go 1.22+ http.ServeMux, read from the target's memory with
 * process_vm_readv: its routing tree (ServeMux.tree) is walked node by node — children kept in
 * a slice of entries, or past eight of them in a Go map (either map layout) — and every node
 * that ends a pattern gives that pattern's original string (pattern.str), which mux_match
 * parses and rebuilds into a tree of its own. Field offsets come from the binary's DWARF or
 * the generated table (binfmt/go_offsets.h).
 *
 * Everything read is checked before it is used: pointers non-null and in user space, lengths
 * bounded, strings valid UTF-8 that parse as patterns, at most MUX_MAX_PATTERNS patterns and
 * MUX_READ_MAX_NODES nodes; a tree that changes under the walk can only fail the read (it is
 * tried again later), never give a mix of two states that is used. */
#ifndef GLIMPSE_SOCKCAP_MUX_READ_H
#define GLIMPSE_SOCKCAP_MUX_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "binfmt/go_offsets.h"
#include "sockcap/mux_match.h"

#define MUX_READ_MAX_NODES 20000

/* Whether this binary's offsets let its ServeMux be read (Go 1.22+, every field known). */
bool mux_read_supported(const struct go_http_offsets *off, uint32_t map_layout);

/* Reads the ServeMux at address mux of process pid into a new set of routes (*out, the
 * caller's to free): 0, or -EFAULT (memory unreadable), -EINVAL (what was read is not a tree
 * of patterns), -E2BIG (too large), -ENOTSUP (offsets or map layout unknown), -ENOMEM. */
int mux_read(pid_t pid, uint64_t mux, const struct go_http_offsets *off, uint32_t map_layout,
	     enum mux_syntax syntax, struct mux_routes **out);

#endif
