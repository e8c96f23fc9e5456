/* SPDX-License-Identifier: Apache-2.0 */
/* Reads Go binaries without DWARF or .symtab: stripped Go programs (-ldflags='-s -w') still
 * carry .gopclntab, which the Go runtime itself needs for tracebacks, so it is the one source
 * of function names and file:line that every Go build has; .go.buildinfo gives the toolchain
 * version, which decides struct layouts elsewhere. Both are parsed from untrusted bytes, so
 * every offset is bounds-checked and malformed input yields an error, never a crash.
 *
 * The API is small on purpose: the profiler only needs pc -> function/file:line (per frame,
 * so it is a binary search over a table built once at open), name -> entry (to place probes)
 * and the Go version. Inlined frames are not expanded: a pc inside inlined code reports the
 * outer (physical) function, with the file:line of the inlined source at that pc.
 * All addresses are link-time virtual addresses; the caller applies any PIE load bias. */
#ifndef GLIMPSE_GOBINARY_H
#define GLIMPSE_GOBINARY_H

#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

struct gopclntab; /* opaque */

/* Parses a .gopclntab section of Go 1.16/1.17 (magic 0xfffffffa), 1.18/1.19 (0xfffffff0)
 * or 1.20+ (0xfffffff1), little-endian, 4- or 8-byte pointers. The bytes are copied: the
 * table owns them and does not depend on data (or the Elf it came from) after return.
 * section_addr is the section's sh_addr (recorded; entries are absolute, not section-relative).
 * text_start is only a fallback: 1.16/1.17 store absolute entry addresses, and 1.18+ store
 * offsets from the header's textStart, which is used when non-zero; pass the address of
 * runtime.text (or .text's sh_addr) for tables whose textStart was left unrelocated (0).
 * Returns NULL on malformed or unsupported input. */
struct gopclntab *gopclntab_open(const uint8_t *data, size_t size, uint64_t section_addr,
				 uint64_t text_start);
/* Finds the table in .gopclntab (.data.rel.ro.gopclntab in PIE builds; runtime.pclntab
 * symbols or a scan of .data.rel.ro for externally linked ones) and opens it. NULL if not a
 * Go binary or malformed. The Elf may be closed afterwards. */
struct gopclntab *gopclntab_from_elf(Elf *elf);
void gopclntab_close(struct gopclntab *t);

/* name points into the table, valid until gopclntab_close. [entry, end) is the code range. */
struct go_func {
	const char *name;
	uint64_t entry, end;
};

/* Function containing pc, and the source position of pc (file NULL / line 0 if unknown; file
 * and line may be NULL if not wanted). For return addresses pass pc - 1 to get the call's
 * line. 0 or -ENOENT. O(log n), no allocation; safe to call concurrently. */
int gopclntab_lookup(const struct gopclntab *t, uint64_t pc, struct go_func *fn, const char **file,
		     uint32_t *line);
/* How far SP is below the function's entry SP at pc (the pcsp table): the return address is
 * at SP + delta. 0 or -ENOENT (pc in no function, or no table). */
int gopclntab_sp_delta(const struct gopclntab *t, uint64_t pc, int32_t *delta);
size_t gopclntab_nfuncs(const struct gopclntab *t);
/* i-th function in address order; 0 or -ENOENT. */
int gopclntab_func(const struct gopclntab *t, size_t i, struct go_func *fn);
/* Function by exact name, e.g. "net/http.serverHandler.ServeHTTP" (linear scan: meant for
 * attach time, not per sample); 0 or -ENOENT. */
int gopclntab_find(const struct gopclntab *t, const char *name, struct go_func *fn);

/* Go toolchain version from .go.buildinfo, e.g. "go1.19.8", NUL-terminated in buf. Handles
 * the pointer format (Go < 1.18) and the inline-string format (Go >= 1.18). 0; -ENOENT if
 * not a Go binary; -EINVAL if malformed; -ERANGE if buf is too small. */
int go_buildinfo_version(Elf *elf, char *buf, size_t len);

/* The version the binary was built with of a module it depends on ("github.com/go-chi/chi/v5"
 * -> "v5.5.0"; a replacement's version if replaced), from .go.buildinfo's module list (Go
 * >= 1.18). 0; -ENOENT when absent, replaced by a directory or before Go 1.18; -EINVAL if
 * malformed; -ERANGE if buf is too small. */
int go_buildinfo_dep_version(Elf *elf, const char *module, char *buf, size_t len);

#endif
