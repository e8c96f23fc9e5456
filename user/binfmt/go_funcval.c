// SPDX-License-Identifier: Apache-2.0
#include "binfmt/go_funcval.h"

#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <string.h>

#include "binfmt/elf_module.h"

/* Where a word may be found: the funcval in any allocated data (read-only go:func.*, or
 * .rodata/.noptrdata in older linkers), the variable in writable data only. */
enum where {
	ANY_DATA,
	WRITABLE
};

/* pclntab holds no addresses (32-bit offsets since Go 1.16), only bytes that could look like one. */
static bool section_fits(Elf *elf, const GElf_Shdr *sh, enum where w)
{
	size_t shstrndx;
	const char *name;
	if (!(sh->sh_flags & SHF_ALLOC) || (sh->sh_flags & SHF_EXECINSTR) || sh->sh_type != SHT_PROGBITS)
		return false;
	if (elf_getshdrstrndx(elf, &shstrndx) || !(name = elf_strptr(elf, shstrndx, sh->sh_name)) ||
	    !strcmp(name, ".gopclntab"))
		return false;
	return w == ANY_DATA || (sh->sh_flags & SHF_WRITE);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Whether addr lies in a section of kind w. */
static bool addr_fits(Elf *elf, uint64_t addr, enum where w)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && section_fits(elf, &sh, w) && addr >= sh.sh_addr &&
		    addr - sh.sh_addr < sh.sh_size)
			return true;
	}
	return false;
}

/* Counts a word found at addr (the same word may hold the value both in the file's bytes and
 * as its relocation's addend). */
static void found_at(uint64_t addr, uint64_t *at, int *found)
{
	if (*found && *at == addr)
		return;
	*at = addr;
	(*found)++;
}

/* The one aligned word of a w section holding value, in the file's bytes or as a relative
 * relocation's addend: 0 with *at, -ENOENT, -EEXIST. */
static int one_word(Elf *elf, uint64_t value, enum where w, uint64_t *at)
{
	int found = 0;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_RELA && sh.sh_entsize && (d = elf_getdata(scn, NULL))) {
			GElf_Rela r;
			for (size_t i = 0; i < d->d_size / sh.sh_entsize; i++)
				if (gelf_getrela(d, (int)i, &r) &&
				    (GELF_R_TYPE(r.r_info) == R_X86_64_RELATIVE) &&
				    (uint64_t)r.r_addend == value && addr_fits(elf, r.r_offset, w))
					found_at(r.r_offset, at, &found);
			continue;
		}
		if (!section_fits(elf, &sh, w) || !(d = elf_rawdata(scn, NULL)) || !d->d_buf)
			continue;
		const uint8_t *p = d->d_buf;
		size_t skip = (8 - sh.sh_addr % 8) % 8;
		for (size_t off = skip; off + 8 <= d->d_size; off += 8)
			if (le64(p + off) == value)
				found_at(sh.sh_addr + off, at, &found);
	}
	return found == 1 ? 0 : found ? -EEXIST : -ENOENT;
}

int go_funcval_variable(const struct elf_module *m, uint64_t entry, uint64_t *var)
{
	Elf *elf = elf_module_elf(m);
	uint64_t funcval;
	int rc = one_word(elf, entry, ANY_DATA, &funcval);
	return rc ? rc : one_word(elf, funcval, WRITABLE, var);
}
