// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target for the unwind-table compiler (user/binfmt/cfi_table.c): its CIE/FDE walk,
 * pointer encodings and augmentation parsing, and libdw's execution of the rules it asks for.
 * The input is a CFI section's bytes (the first byte picks .eh_frame or .debug_frame and the
 * section's address), wrapped here in a minimal x86-64 ELF so mutations land in the CFI itself
 * rather than in ELF headers (tests/fuzz/fuzz_elf_module.c feeds whole files). */
#include <elf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt/cfi_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 22))
		return 0;
	int eh = !(data[0] & 1);
	uint64_t addr = (uint64_t)(data[0] >> 1) << 12;
	data++;
	size--;
	static const char names_eh[] = "\0.eh_frame\0.shstrtab", names_dbg[] = "\0.debug_frame\0.shstrtab";
	const char *names = eh ? names_eh : names_dbg;
	size_t names_len = eh ? sizeof(names_eh) : sizeof(names_dbg);
	size_t cfi_off = sizeof(Elf64_Ehdr), names_off = cfi_off + size;
	size_t sh_off = (names_off + names_len + 7) & ~(size_t)7, total = sh_off + 3 * sizeof(Elf64_Shdr);
	char *image = calloc(1, total);
	if (!image)
		return 0;
	Elf64_Ehdr *eh_hdr = (Elf64_Ehdr *)image;
	memcpy(eh_hdr->e_ident, ELFMAG, SELFMAG);
	eh_hdr->e_ident[EI_CLASS] = ELFCLASS64;
	eh_hdr->e_ident[EI_DATA] = ELFDATA2LSB;
	eh_hdr->e_ident[EI_VERSION] = EV_CURRENT;
	eh_hdr->e_type = ET_DYN;
	eh_hdr->e_machine = EM_X86_64;
	eh_hdr->e_version = EV_CURRENT;
	eh_hdr->e_shoff = sh_off;
	eh_hdr->e_ehsize = sizeof(Elf64_Ehdr);
	eh_hdr->e_shentsize = sizeof(Elf64_Shdr);
	eh_hdr->e_shnum = 3;
	eh_hdr->e_shstrndx = 2;
	memcpy(image + cfi_off, data, size);
	memcpy(image + names_off, names, names_len);
	Elf64_Shdr *sh = (Elf64_Shdr *)(image + sh_off);
	sh[1] = (Elf64_Shdr){ .sh_name = 1,
			      .sh_type = SHT_PROGBITS,
			      .sh_flags = eh ? SHF_ALLOC : 0,
			      .sh_addr = eh ? addr : 0,
			      .sh_offset = cfi_off,
			      .sh_size = size,
			      .sh_addralign = 1 };
	sh[2] = (Elf64_Shdr){ .sh_name = eh ? 11 : 14,
			      .sh_type = SHT_STRTAB,
			      .sh_offset = names_off,
			      .sh_size = names_len,
			      .sh_addralign = 1 };
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(image, total);
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
