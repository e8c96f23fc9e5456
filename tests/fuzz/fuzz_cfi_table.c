// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target for the unwind-table compiler (user/binfmt/cfi_table.c, cfi_check.c): its
 * CIE/FDE walk, pointer encodings, augmentation parsing and instruction check, and libdw's
 * execution of the rules it asks for. The input is a CFI section's bytes (the first byte picks
 * .eh_frame or .debug_frame and the section's address), wrapped in a one-section x86-64 ELF image
 * (cfi_check_image) so that mutations land in the CFI itself rather than in ELF headers
 * (tests/fuzz/fuzz_elf_module.c feeds whole files). */
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>

#include "binfmt/cfi_check.h"
#include "binfmt/cfi_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 22))
		return 0;
	int eh = !(data[0] & 1);
	uint64_t addr = (uint64_t)(data[0] >> 1) << 12;
	char *image;
	Elf *elf = cfi_check_image(eh ? ".eh_frame" : ".debug_frame", data + 1, size - 1, addr, &image);
	if (elf) {
		struct cfi_table t;
		if (cfi_table_compile(elf, NULL, &t) == 0) {
			for (size_t i = 0; i < t.nrows; i += 1 + t.nrows / 64)
				cfi_table_find(&t, t.base + t.rows[i].pc);
			cfi_table_find(&t, t.base - 1);
		}
		cfi_table_free(&t);
		elf_end(elf);
	}
	free(image);
	return 0;
}
