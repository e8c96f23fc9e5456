/* SPDX-License-Identifier: Apache-2.0 */
/* Where a Go binary keeps the runtime variables go_runtime reads (the goroutine list, memory
 * statistics) and the struct offsets to read them: from .symtab, or — stripped — by
 * disassembling runtime functions that reference them; offsets from DWARF or the generated
 * table. Used by go_runtime_open, glimpse inspect and tests. */
#ifndef GLIMPSE_GO_RUNTIME_LAYOUT_H
#define GLIMPSE_GO_RUNTIME_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "binfmt/go_offsets.h"

/* Link-time virtual addresses of the runtime's variables; 0 where not found. */
struct go_runtime_layout {
	char go_version[32];
	const char *vars_source;    /* "symtab" or "disassembly" */
	const char *offsets_source; /* "DWARF", "table" or "offsets file" */
	struct go_runtime_offsets offsets;
	uint64_t allgs;		/* runtime.allgs, a []*g (ptr, len, cap) */
	uint64_t allglen;	/* runtime.allglen, uintptr: len(allgs), published after allgptr */
	uint64_t allgptr;	/* runtime.allgptr, **g: &allgs[0] */
	uint64_t memstats;	/* runtime.memstats (numgc lives there) */
	uint64_t gc_controller; /* runtime.gcController (heapInUse lives there) */
	bool have_memory;	/* memstats, gc_controller and their offsets are known */
};

enum {
	GO_RUNTIME_NO_SYMTAB = 1 << 0, /* locate variables by disassembly even if .symtab exists */
	GO_RUNTIME_NO_DWARF = 1 << 1,  /* take offsets from the table even if DWARF exists */
};

/* Fills *out for the Go binary at path. 0, or -errno: -ENOEXEC not Go, -ENOENT the goroutine
 * list or the offsets cannot be found (memory alone missing is not an error: have_memory).
 * On failure out->go_version is still set when known, and *why (if not NULL) says what is
 * missing, for messages. */
int go_runtime_layout_from_file(const char *path, unsigned flags, struct go_runtime_layout *out,
				const char **why);

struct elf_module;
/* The same for a binary already open; *why is set (static text) on failure. */
int go_runtime_layout_locate(struct elf_module *m, unsigned flags, struct go_runtime_layout *l,
			     const char **why);

#endif
