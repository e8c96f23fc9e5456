/* SPDX-License-Identifier: Apache-2.0 */
/* file:line for many addresses at once from DWARF's .debug_line (versions 2 to 5), without
 * libdw. libdw's dwarf_begin_elf decompresses every compressed debug section of a file into
 * the heap (libc6-dbg's: 10 MB) although a profile needs only the line tables; this reader
 * inflates .debug_line as a stream, one line-number program at a time, and runs each program
 * once against all the addresses asked for. Paths are the program's directory joined with its
 * file name; before DWARF 5 the compilation directory lives in .debug_info, which is not read,
 * so such paths may stay relative. Parses untrusted bytes: every read is bounds-checked, and a
 * malformed program ends the lookup for its own rows only. */
#ifndef GLIMPSE_DWARF_LINES_H
#define GLIMPSE_DWARF_LINES_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dwarf_line_query {
	uint64_t addr;	  /* in: link-time address */
	const char *file; /* out: NULL when no row covers addr; owned by the dwarf_line_files */
	uint32_t line;
};

/* The paths answers point to, each kept once; they live until dwarf_line_files_free. */
struct dwarf_line_files;
struct dwarf_line_files *dwarf_line_files_new(void);
void dwarf_line_files_free(struct dwarf_line_files *f);

/* The string sections DWARF 5 file tables point into (either may be empty). */
struct dwarf_line_strings {
	const uint8_t *line_str; /* .debug_line_str */
	size_t line_str_len;
	const uint8_t *str; /* .debug_str */
	size_t str_len;
};

/* Hands out .debug_line's units in order: *unit points at a unit's length field and *len
 * covers the whole unit (up to the end of the section for the last). 1 with a unit, 0 at the
 * end, negative on error. The pointer stays valid until the next call. */
typedef int (*dwarf_line_next_unit)(void *ctx, const uint8_t **unit, size_t *len);

/* Answers q[0..n) (sorted by addr, ascending; -EINVAL otherwise): for each, the row of the
 * line table whose range [row, next row of its sequence) holds addr; when sequences overlap the
 * first read wins. Queries nothing covers keep file NULL and line 0. Units are asked for until
 * every query has its row. 0, or -errno for a failure of next or of memory (answers found until
 * then stay). */
int dwarf_lines_lookup(dwarf_line_next_unit next, void *ctx, const struct dwarf_line_strings *strs,
		       struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files);

/* The same over a whole .debug_line held in memory. */
int dwarf_lines_lookup_buffer(const uint8_t *line, size_t len, const struct dwarf_line_strings *strs,
			      struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files);

/* The size of the unit at p, its length field included, at most len (for unit sources). */
size_t dwarf_lines_unit_size(const uint8_t *p, size_t len);

/* The same over a zlib stream of .debug_line (a compressed section's bytes after its Elf_Chdr),
 * inflated one unit at a time. */
int dwarf_lines_lookup_zlib(const uint8_t *z, size_t len, const struct dwarf_line_strings *strs,
			    struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files);

/* The same for an ELF file (little-endian), compressed sections (SHF_COMPRESSED, zlib) read
 * as a stream. -ENOENT without .debug_line. */
int dwarf_lines_lookup_elf(Elf *elf, struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files);

/* Whether elf's lines are better read here than by libdw: this reader can (.debug_line is
 * stored as is or zlib-compressed), its paths are whole (DWARF 5: the first unit says), and elf
 * is a separate debug file (libdw would also parse whole line tables into structures of its
 * own) or its DWARF is compressed (libdw would inflate all of it into memory when opening it). */
bool dwarf_lines_elf_preferred(Elf *elf, bool debug_file);

/* Answers kept for one ELF file (valid until dwarf_line_cache_free, which does not end elf):
 * addresses announced with want are looked up together by the next find that misses. */
struct dwarf_line_cache;
struct dwarf_line_cache *dwarf_line_cache_new(Elf *elf);
void dwarf_line_cache_free(struct dwarf_line_cache *c);
void dwarf_line_cache_want(struct dwarf_line_cache *c, uint64_t addr);
/* file (NULL when unknown) and line of addr. */
void dwarf_line_cache_find(struct dwarf_line_cache *c, uint64_t addr, const char **file, uint32_t *line);

#endif
