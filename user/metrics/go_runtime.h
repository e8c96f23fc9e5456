/* SPDX-License-Identifier: Apache-2.0 */
/* Reads a Go process's runtime state from outside, with process_vm_readv: no probe, no
 * cost to the target. The goroutine list and memory statistics are found through the
 * binary's symbols, or — stripped — by disassembling runtime functions that reference them;
 * struct offsets come from DWARF or the generated table (go_offsets). */
#ifndef GLIMPSE_GO_RUNTIME_H
#define GLIMPSE_GO_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "binfmt/go_offsets.h"

struct go_runtime;

struct go_runtime_stats {
	int64_t goroutines;  /* what runtime.NumGoroutine() would return */
	bool have_memory;    /* the fields below are valid */
	uint64_t heap_inuse; /* go.memory.used: bytes in in-use heap spans (MemStats.HeapInuse) */
	uint64_t gc_count;   /* completed GC cycles (MemStats.NumGC) */
};

/* NULL (after a warning that says why) if pid is not a Go program glimpse can read. */
struct go_runtime *go_runtime_open(pid_t pid);
/* 0, or -errno (-ESRCH once the process is gone). */
int go_runtime_read(struct go_runtime *rt, struct go_runtime_stats *out);
void go_runtime_close(struct go_runtime *rt);

/* ---- What go_runtime_open finds in a binary (for glimpse inspect and tests) ---- */

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

#endif
