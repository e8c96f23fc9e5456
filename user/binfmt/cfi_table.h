/* SPDX-License-Identifier: Apache-2.0 */
/* Compiles a binary's call frame information (.eh_frame, else .debug_frame, the latter from
 * its separate debug file too) into the compact unwind table the BPF walker reads
 * (bpf/unwind.h): one row per address range, sorted, saying where the caller's frame is.
 * libdw executes the CFI; this module enumerates the frame description entries, asks libdw the
 * rules at each row, and keeps what the walker can follow: CFA = RSP or RBP + offset, return
 * address at CFA - 8, RBP unchanged or saved at a CFA offset. Anything else (DWARF expressions,
 * signal frames, other registers, offsets too large) becomes an UNSUPPORTED row, where the walk
 * stops and is counted: never a guess. x86-64 only. Parses untrusted files: sizes are bounded. */
#ifndef GLIMPSE_CFI_TABLE_H
#define GLIMPSE_CFI_TABLE_H

#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

struct cfi_table {
	struct unwind_row *rows; /* sorted by pc; a row holds until the next one */
	size_t nrows;
	uint64_t base;	     /* link-time address of pc 0 */
	const char *source;  /* ".eh_frame" or ".debug_frame" */
	size_t fdes;	     /* frame description entries compiled */
	size_t fdes_skipped; /* entries whose address could not be decoded */
	size_t unsupported;  /* rows the walker cannot follow */
};

/* Compiles elf's table, from its .eh_frame, or else the .debug_frame of elf or of debug_elf (its
 * separate debug file, may be NULL). 0; -ENOENT (no CFI), -ENOTSUP (not x86-64 little-endian
 * ELF64), -ENOMEM. The table is empty-initialised on failure; free it with cfi_table_free. */
int cfi_table_compile(Elf *elf, Elf *debug_elf, struct cfi_table *out);
void cfi_table_free(struct cfi_table *t);

/* The row covering link-time address vaddr, NULL when below the first row or past the last
 * (the last row is always a GAP or END marking where the table stops). */
const struct unwind_row *cfi_table_find(const struct cfi_table *t, uint64_t vaddr);

#endif
