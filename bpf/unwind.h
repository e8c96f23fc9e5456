/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Unwind tables for native code without frame pointers (x86-64), shared between the BPF walker
 * (bpf/unwind.bpf.h) and user space, which compiles them from .eh_frame / .debug_frame
 * (user/binfmt/cfi_table.c) and loads them (user/profile/unwind_tables.c). Fixed-width types.
 *
 * A table is the rows of one binary, sorted by pc; a row holds from its pc to the next row's.
 * Every row the walker can follow says where the canonical frame address (CFA: the stack pointer
 * before the call) is — RSP or RBP plus an offset — and where the caller's RBP was saved; the
 * return address is always at CFA - 8 (rows where the CFI says otherwise are UNSUPPORTED). */
#ifndef GLIMPSE_BPF_UNWIND_H
#define GLIMPSE_BPF_UNWIND_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum unwind_row_kind {
	UNWIND_ROW_GAP = 0,	    /* no CFI covers these addresses: the walk stops (counted) */
	UNWIND_ROW_CFA_RSP = 1,	    /* CFA = RSP + cfa_off */
	UNWIND_ROW_CFA_RBP = 2,	    /* CFA = RBP + cfa_off */
	UNWIND_ROW_END = 3,	    /* return address undefined: the outermost frame (_start, clone) */
	UNWIND_ROW_UNSUPPORTED = 4, /* a rule the walker cannot follow (an expression, another
				     * register, an offset too large): the walk stops (counted) */
	UNWIND_ROW_PLT = 5,	    /* a 16-byte PLT entry: CFA = RSP + 8, + 8 more from the entry's
				     * byte cfa_off on (after its push) */
};

/* rbp_off8 values besides a save slot (CFA + 8 * rbp_off8, always negative). */
#define UNWIND_RBP_SAME 0      /* the caller's RBP is still in RBP */
#define UNWIND_RBP_LOST (-128) /* undefined or not expressible: RBP is unknown above this frame */

struct unwind_row {
	__u32 pc; /* from the table's base (user space subtracts it with the load bias) */
	__s16 cfa_off;
	__u8 kind; /* enum unwind_row_kind */
	__s8 rbp_off8;
};

/* Executable mappings of one process that have a table, sorted by start (gdb maps 59 binaries
 * without frame pointers; 128 take 4 KiB per process and 7 halvings to search). */
#define UNWIND_MAX_PROC_MAPS	128
#define UNWIND_MAP_SEARCH_STEPS 8
/* Tables loaded at once (one per distinct binary). */
#define UNWIND_MAX_TABLES 1024
/* Rows per table: the binary search takes at most this many halvings (2^24 rows). */
#define UNWIND_SEARCH_STEPS 24

struct unwind_map {
	__u64 start, end; /* the mapping's addresses in the process */
	__u64 base;	  /* row pc = address - base */
	__u32 table;	  /* index into unwind_tables */
	__u32 nrows;
};

struct unwind_proc {
	__u32 nmaps;
	__u32 tick_ns; /* one clock tick of start_ticks */
	/* When the process started (/proc/PID/stat's starttime, clock ticks after boot): a new
	 * process that got the PID of an exited one does not match and is not walked with these. */
	__u64 start_ticks;
	struct unwind_map maps[UNWIND_MAX_PROC_MAPS];
};

#endif
