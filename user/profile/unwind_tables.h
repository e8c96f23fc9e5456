/* SPDX-License-Identifier: Apache-2.0 */
/* Loads unwind tables for the BPF stack walker (bpf/unwind.bpf.h) as processes are tracked.
 * A process whose executable mappings include native code built without frame pointers (the
 * frame-pointer share of binfmt/elf_module.h, Go excepted: Go keeps frame pointers) gets an
 * entry in the unwind_procs map naming, per such mapping, its binary's table and load bias;
 * every other process keeps the kernel's frame-pointer walk. Each binary's table is compiled
 * once (binfmt/cfi_table.h), when a process first maps it, into an array map of exactly its
 * rows, inside the unwind_tables array of maps; the rows are not kept in user space. */
#ifndef GLIMPSE_UNWIND_TABLES_H
#define GLIMPSE_UNWIND_TABLES_H

#include <stdint.h>
#include <sys/types.h>

struct symbolizer;
struct unwind_tables;

struct unwind_table_stats {
	uint64_t tables;      /* binaries with a table loaded */
	uint64_t rows;	      /* their rows, together */
	uint64_t unsupported; /* rows the walker stops at */
	uint64_t no_cfi;      /* binaries without frame pointers and without usable CFI */
	uint64_t processes;   /* processes walked with tables */
};

/* tables_fd, procs_fd: the BPF object's unwind_tables and unwind_procs maps. NULL: no memory. */
struct unwind_tables *unwind_tables_new(int tables_fd, int procs_fd, struct symbolizer *syms);
/* Points pid's entry at the tables of its mappings as the symbolizer has them now (loading the
 * tables not loaded yet); removes the entry when none needs one. 0 or -errno. */
int unwind_tables_sync(struct unwind_tables *u, pid_t pid);
const struct unwind_table_stats *unwind_tables_stats(const struct unwind_tables *u);

/* The BPF walker's counters (bpf/profile.h PROFILE_UNWIND_*). */
struct unwind_walk_stats {
	uint64_t walked, no_cfi, unsupported, read, no_rbp, depth;
};
/* Logs what was unwound with tables and, when 5 % or more of those walks stopped early, why. */
void unwind_tables_report(const struct unwind_table_stats *ts, const struct unwind_walk_stats *w);
void unwind_tables_free(struct unwind_tables *u);

#endif
