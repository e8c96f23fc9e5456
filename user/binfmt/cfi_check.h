/* SPDX-License-Identifier: Apache-2.0 */
/* What cfi_table.c checks before libdw executes a CFI section it was given by a profiled
 * process. libdw trusts the instructions it runs: a register number of a few million in one
 * makes it allocate gigabytes (found by tests/fuzz/fuzz_cfi_table.c). So every instruction
 * stream is walked here first — opcodes known, operands inside the entry, registers below
 * CFI_MAX_REGISTER, at most CFI_MAX_REMEMBERED states remembered at once — and libdw is handed .eh_frame alone, in an image of its own, so that it
 * finds entries by walking the section as this check did, never through an .eh_frame_hdr index
 * that could point into the middle of one. */
#ifndef GLIMPSE_CFI_CHECK_H
#define GLIMPSE_CFI_CHECK_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* x86-64's DWARF registers end below 130 (vector and mask registers included). */
#define CFI_MAX_REGISTER 255
/* States remembered and not yet restored in one stream (compilers nest a few). */
#define CFI_MAX_REMEMBERED 64

/* True if [p, end) is a sequence of DW_CFA instructions whose operands all lie inside it, whose
 * registers are at most CFI_MAX_REGISTER and which never holds more than CFI_MAX_REMEMBERED
 * remembered states. DW_CFA_set_loc is refused (its operand's size
 * depends on the augmentation; compilers do not emit it). */
bool cfi_check_instructions(const uint8_t *p, const uint8_t *end);

/* An ELF image (x86-64) holding one section, name, with size bytes of data at link-time address
 * addr and nothing else; NULL without memory. *buf is its memory: free it after elf_end. */
Elf *cfi_check_image(const char *name, const void *data, size_t size, uint64_t addr, char **buf);

#endif
