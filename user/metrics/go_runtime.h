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
#include "metrics/go_runtime_layout.h"

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

#endif
