/* SPDX-License-Identifier: Apache-2.0 */
/* One ELF object opened for symbolization: symbols (.symtab, else .dynsym), Go pclntab,
 * DWARF line info, build id and load segments. Parses untrusted files: never trusts sizes. */
#ifndef GLIMPSE_ELF_MODULE_H
#define GLIMPSE_ELF_MODULE_H

#include <stdbool.h>
#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include "binfmt/gobinary.h"

struct elf_module;

#define ELF_MAX_INLINED 15

struct elf_symbol {
	const char *func; /* NULL if no symbol covers the address */
	const char *file; /* NULL without DWARF/pclntab */
	uint32_t line;
	/* Go: the functions inlined at the address, innermost first; func, file and line are then
	 * the physical function's, at the line of its outermost inlined call. */
	uint32_t ninlined;
	struct go_frame inlined[ELF_MAX_INLINED];
};

/* Opens path (e.g. /proc/PID/map_files/A-B); NULL with errno set on failure: EISDIR or ENODEV
 * for what is not a regular file (refused without reading, so a FIFO cannot block), ENOEXEC
 * for a file that is not ELF. */
struct elf_module *elf_module_open(const char *path);
void elf_module_close(struct elf_module *m);
/* Not Go, and no .symtab or no DWARF of its own: reads them from its separate debug file
 * (debug_file.h) under root (the target's root directory), path being the object's path as the
 * target sees it. 0, or -ENOENT (not needed, none found). */
int elf_module_load_debug_file(struct elf_module *m, const char *root, const char *path);

const char *elf_module_build_id(const struct elf_module *m); /* hex or NULL */
bool elf_module_is_go(const struct elf_module *m);
const char *elf_module_go_version(const struct elf_module *m); /* "go1.23.5" or NULL */
bool elf_module_has_symbols(const struct elf_module *m);
bool elf_module_has_lines(const struct elf_module *m);

/* Link-time virtual address for a file offset, via the PT_LOAD headers; -1 if none covers it. */
int elf_module_offset_to_vaddr(const struct elf_module *m, uint64_t offset, uint64_t *vaddr);
/* The link-time address of file offset `offset` for a mapping of the file from that offset
 * (page-aligned, so possibly just below its segment's first byte); -1 if no segment holds it. */
int elf_module_mapping_vaddr(const struct elf_module *m, uint64_t offset, uint64_t *vaddr);
/* Share (0..1) of the module's larger functions whose prologue sets up a frame pointer;
 * a low share means stack walks through this module get truncated. -1 if unknown. */
double elf_module_frame_pointer_share(struct elf_module *m);
/* Below this frame-pointer share a module is taken as built without frame pointers. */
#define ELF_FP_SHARE_MIN 0.5
/* File offset of a link-time virtual address (for uprobes); -1 if no segment holds it. */
int elf_module_vaddr_to_offset(const struct elf_module *m, uint64_t vaddr, uint64_t *offset);
/* Reads len bytes of the file at virtual address vaddr; 0 or -errno. */
int elf_module_read(const struct elf_module *m, uint64_t vaddr, void *buf, size_t len);
/* The same for any loaded segment (data too, not only code); 0 or -errno. */
int elf_module_read_data(const struct elf_module *m, uint64_t vaddr, void *buf, size_t len);
/* Function [entry, end) by exact name, from pclntab for Go, else the symbol table; 0 or -ENOENT. */
int elf_module_find_function(const struct elf_module *m, const char *name, uint64_t *entry, uint64_t *end);
/* Any defined symbol (function or data, e.g. "runtime.allgs") by exact name from .symtab,
 * else .dynsym: a linear scan, meant for attach time. Link-time address and size; 0, or
 * -ENOENT (no such symbol, or no symbol table: stripped binaries). */
int elf_module_find_symbol(const struct elf_module *m, const char *name, uint64_t *addr, uint64_t *size);
/* The parsed Go pclntab, NULL if not Go; valid until close. */
const struct gopclntab *elf_module_gopclntab(const struct elf_module *m);
/* The underlying libelf handle (for DWARF readers), valid until close. */
Elf *elf_module_elf(const struct elf_module *m);
/* The separate debug file's, once elf_module_load_debug_file found one; NULL otherwise. */
Elf *elf_module_debug_elf(const struct elf_module *m);
/* Announces that vaddr's file:line will be asked for: where lines are read without libdw
 * (dwarf_lines.h), the next lookup answers every announced address in one pass over
 * .debug_line. Optional: an address not announced costs a pass of its own. */
void elf_module_want_line(struct elf_module *m, uint64_t vaddr);
/* Symbolizes a link-time virtual address; strings live as long as the module. */
void elf_module_symbolize(struct elf_module *m, uint64_t vaddr, struct elf_symbol *out);

#endif
