// SPDX-License-Identifier: Apache-2.0
#include "binfmt/cfi_check.h"

#include <dwarf.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

static bool skip_leb(const uint8_t **p, const uint8_t *end, uint64_t *value)
{
	uint64_t v = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}

static bool reg(const uint8_t **p, const uint8_t *end)
{
	uint64_t r;
	return skip_leb(p, end, &r) && r <= CFI_MAX_REGISTER;
}

static bool block(const uint8_t **p, const uint8_t *end)
{
	uint64_t len;
	if (!skip_leb(p, end, &len) || len > (uint64_t)(end - *p))
		return false;
	*p += len;
	return true;
}

bool cfi_check_instructions(const uint8_t *p, const uint8_t *end)
{
	int remembered = 0; /* states remembered and not restored: each a copy of every rule in libdw */
	while (p < end) {
		uint8_t op = *p++;
		bool ok = true;
		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
		case DW_CFA_restore:
			continue; /* operand in the opcode: a 6-bit register at most */
		case DW_CFA_offset:
			ok = skip_leb(&p, end, NULL);
			break;
		default:
			switch (op) {
			case DW_CFA_remember_state:
				ok = ++remembered <= CFI_MAX_REMEMBERED;
				break;
			case DW_CFA_restore_state:
				remembered -= remembered > 0;
				break;
			case DW_CFA_nop:
			case DW_CFA_GNU_window_save:
				break;
			case DW_CFA_advance_loc1:
			case DW_CFA_advance_loc2:
			case DW_CFA_advance_loc4: {
				size_t n = op == DW_CFA_advance_loc1 ? 1 : op == DW_CFA_advance_loc2 ? 2 : 4;
				ok = (size_t)(end - p) >= n;
				p += ok ? n : 0;
				break;
			}
			case DW_CFA_offset_extended:
			case DW_CFA_register:
			case DW_CFA_def_cfa:
			case DW_CFA_offset_extended_sf:
			case DW_CFA_def_cfa_sf:
			case DW_CFA_val_offset:
			case DW_CFA_val_offset_sf:
			case DW_CFA_GNU_negative_offset_extended:
				/* a register, then a register (DW_CFA_register) or an offset */
				ok = reg(&p, end) &&
				     (op == DW_CFA_register ? reg(&p, end) : skip_leb(&p, end, NULL));
				break;
			case DW_CFA_restore_extended:
			case DW_CFA_undefined:
			case DW_CFA_same_value:
			case DW_CFA_def_cfa_register:
				ok = reg(&p, end);
				break;
			case DW_CFA_def_cfa_offset:
			case DW_CFA_def_cfa_offset_sf:
			case DW_CFA_GNU_args_size:
				ok = skip_leb(&p, end, NULL);
				break;
			case DW_CFA_def_cfa_expression:
				ok = block(&p, end);
				break;
			case DW_CFA_expression:
			case DW_CFA_val_expression:
				ok = reg(&p, end) && block(&p, end);
				break;
			default: /* DW_CFA_set_loc, vendor opcodes, garbage */
				ok = false;
			}
		}
		if (!ok)
			return false;
	}
	return true;
}

Elf *cfi_check_image(const char *name, const void *data, size_t size, uint64_t addr, char **buf)
{
	size_t name_len = strlen(name) + 1;
	size_t strtab_len = 1 + name_len + sizeof(".shstrtab");
	size_t data_off = sizeof(Elf64_Ehdr), strtab_off = data_off + size;
	size_t sh_off = (strtab_off + strtab_len + 7) & ~(size_t)7, total = sh_off + 3 * sizeof(Elf64_Shdr);
	char *image = *buf = calloc(1, total);
	if (!image)
		return NULL;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_shoff = sh_off;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 3;
	eh->e_shstrndx = 2;
	memcpy(image + data_off, data, size);
	memcpy(image + strtab_off + 1, name, name_len);
	memcpy(image + strtab_off + 1 + name_len, ".shstrtab", sizeof(".shstrtab"));
	Elf64_Shdr *sh = (Elf64_Shdr *)(image + sh_off);
	sh[1] = (Elf64_Shdr){ .sh_name = 1,
			      .sh_type = SHT_PROGBITS,
			      .sh_flags = SHF_ALLOC,
			      .sh_addr = addr,
			      .sh_offset = data_off,
			      .sh_size = size,
			      .sh_addralign = 1 };
	sh[2] = (Elf64_Shdr){ .sh_name = (Elf64_Word)(1 + name_len),
			      .sh_type = SHT_STRTAB,
			      .sh_offset = strtab_off,
			      .sh_size = strtab_len,
			      .sh_addralign = 1 };
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(image, total);
	if (!elf) {
		free(image);
		*buf = NULL;
	}
	return elf;
}
