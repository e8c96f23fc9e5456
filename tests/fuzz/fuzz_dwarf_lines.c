// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target for the .debug_line reader (user/binfmt/dwarf_lines.c, dwarf_lines_elf.c):
 * unit headers of DWARF 2-5 (32- and 64-bit), v5 directory and file tables with their forms,
 * line-number programs, path joining, and the zlib stream that hands out units one at a time.
 * Input: flags (bit 0: the rest is a zlib stream of the section rather than the section), the
 * first query address (8 bytes, little-endian) and the step between queries (1 byte), the
 * length of the string section (2 bytes; serves as .debug_line_str and .debug_str), the strings,
 * then .debug_line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt/dwarf_lines.h"

#define NQUERIES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 12)
		return 0;
	uint64_t base = 0;
	for (int i = 0; i < 8; i++)
		base |= (uint64_t)data[1 + i] << (8 * i);
	uint64_t step = data[9] ? data[9] : 1;
	size_t nstr = (size_t)data[10] | (size_t)data[11] << 8;
	if (nstr > size - 12)
		nstr = size - 12;
	const uint8_t *strings = data + 12, *line = strings + nstr;
	size_t nline = size - 12 - nstr;
	/* Copies: a read past either is then a read past an allocation. */
	uint8_t *s = malloc(nstr ? nstr : 1), *l = malloc(nline ? nline : 1);
	struct dwarf_line_files *files = dwarf_line_files_new();
	struct dwarf_line_query q[NQUERIES];
	if (!s || !l || !files)
		goto out;
	memcpy(s, strings, nstr);
	memcpy(l, line, nline);
	for (size_t i = 0; i < NQUERIES; i++) {
		uint64_t a = base + i * step;
		q[i].addr = a < base ? UINT64_MAX : a; /* sorted even where it wraps */
	}
	struct dwarf_line_strings strs = { s, nstr, s, nstr };
	if (data[0] & 1)
		dwarf_lines_lookup_zlib(l, nline, &strs, q, NQUERIES, files);
	else
		dwarf_lines_lookup_buffer(l, nline, &strs, q, NQUERIES, files);
	for (size_t i = 0; i < NQUERIES; i++)
		if (q[i].file && !*q[i].file && q[i].line == UINT32_MAX)
			abort(); /* touches every answer: a dangling path is then ASan's */
out:
	dwarf_line_files_free(files);
	free(s);
	free(l);
	return 0;
}
