// SPDX-License-Identifier: Apache-2.0
#include "binfmt/cfi_table.h"

#include "binfmt/cfi_check.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* DWARF register numbers on x86-64. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA	16

/* Bounds against hostile input: far above any real binary (a 100 MB Chrome has ~400k FDEs and
 * a few million rows). Each row costs libdw a run of its FDE's instructions from the start, so
 * the work is bounded too, in FDE bytes run (rows × their FDE's size; real binaries stay far
 * below): past it, the rest of the binary is marked UNSUPPORTED. A row needs an instruction (at least a
 * byte) to start it, so an FDE has no more rows than bytes. */
#define MAX_ENTRIES (4u << 20)
#define MAX_ROWS    (16u << 20)
#define MAX_WORK    (256ull << 20)

/* Pointer encodings (DW_EH_PE_*, the LSB "Exception Frames" section). */
#define PE_OMIT	    0xff
#define PE_FORMAT   0x0f
#define PE_APPLY    0x70
#define PE_PCREL    0x10
#define PE_INDIRECT 0x80

struct range {
	uint64_t lo, hi;
	uint64_t bytes; /* the FDE's own size */
};

struct builder {
	struct unwind_row *rows; /* pc from base */
	uint64_t base;		 /* the lowest FDE's start */
	size_t n, cap;
	size_t unsupported;
	bool full;
};

static uint64_t read_le(const uint8_t *p, int size)
{
	uint64_t v = 0;
	for (int i = size - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int read_leb(const uint8_t **p, const uint8_t *end, bool sign, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (sign && shift < 64 && (b & 0x40))
				v |= ~0ULL << shift;
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Reads a pointer encoded as enc at *p (field_addr: its link-time address, for pc-relative
 * encodings); advances *p. Only what compilers emit for FDE addresses is accepted. */
static int read_encoded(uint8_t enc, const uint8_t **p, const uint8_t *end, uint64_t field_addr, bool apply,
			uint64_t *out)
{
	static const int sizes[16] = {
		[0x0] = 8, [0x2] = 2, [0x3] = 4, [0x4] = 8, [0xa] = 2, [0xb] = 4, [0xc] = 8
	};
	uint8_t format = enc & PE_FORMAT;
	uint64_t v;
	if (enc == PE_OMIT || (enc & PE_INDIRECT))
		return -1;
	if (format == 0x1 || format == 0x9) {
		if (read_leb(p, end, format == 0x9, &v))
			return -1;
	} else {
		int size = sizes[format];
		if (!size || end - *p < size)
			return -1;
		v = read_le(*p, size);
		if (format >= 0xa && size < 8 && (v >> (8 * size - 1)) & 1)
			v |= ~0ULL << (8 * size);
		*p += size;
	}
	if (apply) {
		if ((enc & PE_APPLY) == PE_PCREL)
			v += field_addr;
		else if (enc & PE_APPLY)
			return -1;
	}
	*out = v;
	return 0;
}

/* The FDE address encoding of a CIE (its augmentation's 'R'); -1 when it cannot be known. */
static int cie_fde_encoding(const Dwarf_CIE *cie, uint8_t *enc)
{
	const char *aug = cie->augmentation;
	*enc = 0; /* absolute */
	if (!aug || !aug[0])
		return 0;
	if (aug[0] != 'z' || !cie->augmentation_data)
		return -1;
	const uint8_t *p = cie->augmentation_data, *end = p + cie->augmentation_data_size;
	for (const char *a = aug + 1; *a; a++) {
		uint64_t ignored;
		if (*a == 'R') {
			if (p >= end)
				return -1;
			*enc = *p++;
			return 0;
		} else if (*a == 'L') {
			if (p++ >= end)
				return -1;
		} else if (*a == 'P') {
			if (p >= end)
				return -1;
			uint8_t penc = *p++;
			if (read_encoded(penc & ~PE_INDIRECT, &p, end, 0, false, &ignored))
				return -1;
		} else if (*a != 'S' && *a != 'B') {
			return -1;
		}
	}
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Every FDE's [lo, hi) of a CFI section, sorted; entries that cannot be decoded are counted. */
static int fde_ranges(Elf *elf, Elf_Data *data, uint64_t sh_addr, bool eh, struct range **out, size_t *n,
		      size_t *skipped)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	size_t cap = 0;
	*out = NULL;
	*n = *skipped = 0;
	Dwarf_Off off = 0, next, cie_off = (Dwarf_Off)-1;
	uint8_t enc = 0;
	bool enc_ok = false, aug_z = false;
	for (size_t i = 0; i < MAX_ENTRIES; i++) {
		Dwarf_CFI_Entry e;
		if (dwarf_next_cfi(ident, data, eh, off, &next, &e) != 0 || next <= off)
			break;
		off = next;
		if (e.CIE_id == LIBDW_CIE_ID) {
			if (!cfi_check_instructions(e.cie.initial_instructions,
						    e.cie.initial_instructions_end))
				return -EINVAL;
			continue;
		}
		if (e.fde.CIE_pointer != cie_off) {
			Dwarf_CFI_Entry cie;
			Dwarf_Off ignored;
			cie_off = e.fde.CIE_pointer;
			enc_ok = dwarf_next_cfi(ident, data, eh, cie_off, &ignored, &cie) == 0 &&
				 cie.CIE_id == LIBDW_CIE_ID && cie_fde_encoding(&cie.cie, &enc) == 0;
			aug_z = enc_ok && cie.cie.augmentation && cie.cie.augmentation[0] == 'z';
		}
		const uint8_t *p = e.fde.start, *end = e.fde.end;
		uint64_t lo, len, aug_len = 0;
		uint64_t field = sh_addr + (uint64_t)(p - (const uint8_t *)data->d_buf);
		if (!enc_ok || read_encoded(enc, &p, end, field, true, &lo) ||
		    read_encoded(enc & PE_FORMAT, &p, end, 0, false, &len) || !len || lo + len < lo) {
			(*skipped)++;
			continue;
		}
		/* The instructions follow the augmentation data; libdw will run them (cfi_check.h). */
		if ((aug_z && (read_leb(&p, end, false, &aug_len) || aug_len > (uint64_t)(end - p))) ||
		    !cfi_check_instructions(p + aug_len, end))
			return -EINVAL;
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			struct range *grown = realloc(*out, ncap * sizeof(**out));
			if (!grown)
				return -ENOMEM;
			*out = grown;
			cap = ncap;
		}
		(*out)[(*n)++] = (struct range){ lo, lo + len, (uint64_t)(end - e.fde.start) };
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), range_cmp);
	return 0;
}

static int8_t rbp_rule(Dwarf_Frame *f)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	if (dwarf_frame_register(f, REG_RBP, mem, &ops, &nops))
		return UNWIND_RBP_LOST;
	if (nops == 0)
		return ops ? UNWIND_RBP_LOST : UNWIND_RBP_SAME; /* undefined : same value */
	if (nops != 2 || ops[0].atom != DW_OP_call_frame_cfa || ops[1].atom != DW_OP_plus_uconst)
		return UNWIND_RBP_LOST;
	int64_t off = (int64_t)ops[1].number;
	if (off >= 0 || off % 8 || off / 8 <= UNWIND_RBP_LOST)
		return UNWIND_RBP_LOST;
	return (int8_t)(off / 8);
}

static bool ra_at_cfa_minus_8(Dwarf_Frame *f, int ra_reg, bool *undefined)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	*undefined = false;
	if (ra_reg != REG_RA || dwarf_frame_register(f, REG_RA, mem, &ops, &nops))
		return false;
	if (nops == 0) {
		*undefined = ops != NULL;
		return false;
	}
	return nops == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst &&
	       (int64_t)ops[1].number == -8;
}

/* The one expression the walker follows: the linkers' PLT entries, 16 bytes each, whose CFA is
 * RSP + 8 until the entry's push and RSP + 16 from it: RSP + 8 + ((RIP & 15) >= K) << 3, K being
 * the push's offset in the entry (11; 10 in the IBT .plt.sec form). K, or 0 for anything else. */
static int plt_threshold(const Dwarf_Op *ops, size_t nops)
{
	static const uint8_t shape[] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
					 DW_OP_ge,    DW_OP_lit3,   DW_OP_shl,	 DW_OP_plus };
	if (nops != sizeof(shape) || ops[0].number != 8 || ops[1].number != 0)
		return 0;
	for (size_t i = 0; i < nops; i++)
		if (shape[i] && ops[i].atom != shape[i])
			return 0;
	if (ops[4].atom < DW_OP_lit1 || ops[4].atom > DW_OP_lit15)
		return 0;
	return ops[4].atom - DW_OP_lit0;
}

/* The row for the rules of frame f. */
static struct unwind_row classify(Dwarf_Frame *f, int ra_reg, bool signal)
{
	struct unwind_row row = { .kind = UNWIND_ROW_UNSUPPORTED };
	Dwarf_Op *ops;
	size_t nops;
	bool undefined;
	bool ra_ok = ra_at_cfa_minus_8(f, ra_reg, &undefined);
	if (undefined && !signal) {
		row.kind = UNWIND_ROW_END;
		return row;
	}
	if (signal || !ra_ok || dwarf_frame_cfa(f, &ops, &nops))
		return row;
	int threshold = plt_threshold(ops, nops);
	if (threshold) {
		row.kind = UNWIND_ROW_PLT;
		row.cfa_off = (int16_t)threshold;
		row.rbp_off8 = rbp_rule(f);
		return row;
	}
	if (nops != 1 || ops[0].atom != DW_OP_bregx)
		return row;
	int64_t off = (int64_t)ops[0].number2;
	if ((ops[0].number != REG_RSP && ops[0].number != REG_RBP) || off < INT16_MIN || off > INT16_MAX)
		return row;
	row.kind = ops[0].number == REG_RSP ? UNWIND_ROW_CFA_RSP : UNWIND_ROW_CFA_RBP;
	row.cfa_off = (int16_t)off;
	row.rbp_off8 = rbp_rule(f);
	return row;
}

static void emit(struct builder *b, uint64_t addr, struct unwind_row row)
{
	/* Rows hold 32-bit pcs: a table spanning more than 4 GiB stops there. */
	if (b->full || addr - b->base > UINT32_MAX)
		return;
	row.pc = (uint32_t)(addr - b->base);
	if (b->n) {
		struct unwind_row *last = &b->rows[b->n - 1];
		if (last->pc == row.pc) { /* an empty range before: the new rules win */
			b->unsupported -= last->kind == UNWIND_ROW_UNSUPPORTED;
			b->unsupported += row.kind == UNWIND_ROW_UNSUPPORTED;
			*last = row;
			return;
		}
		if (last->kind == row.kind && last->cfa_off == row.cfa_off && last->rbp_off8 == row.rbp_off8)
			return;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;
		struct unwind_row *rows = cap <= MAX_ROWS ? realloc(b->rows, cap * sizeof(*rows)) : NULL;
		if (!rows) {
			b->full = true;
			return;
		}
		b->rows = rows;
		b->cap = cap;
	}
	if (row.kind == UNWIND_ROW_UNSUPPORTED)
		b->unsupported++;
	b->rows[b->n++] = row;
}

/* Rows of every FDE range, with a GAP row wherever no FDE covers the addresses that follow. */
static void compile_ranges(Dwarf_CFI *cfi, const struct range *r, size_t n, struct builder *b)
{
	uint64_t done = 0; /* everything below is compiled (FDEs may overlap in odd files) */
	uint64_t work = 0;
	for (size_t i = 0; i < n && !b->full; i++) {
		if (r[i].hi <= done)
			continue;
		uint64_t pc = r[i].lo > done ? r[i].lo : done;
		for (uint64_t k = 0; pc < r[i].hi && k <= r[i].bytes && work <= MAX_WORK; k++) {
			Dwarf_Frame *f = NULL;
			Dwarf_Addr start, end;
			bool signal = false;
			work += r[i].bytes;
			if (dwarf_cfi_addrframe(cfi, pc, &f)) {
				free(f);
				break;
			}
			int ra_reg = dwarf_frame_info(f, &start, &end, &signal);
			emit(b, pc, classify(f, ra_reg, signal));
			free(f);
			if (ra_reg < 0 || end <= pc)
				break;
			pc = end < r[i].hi ? end : r[i].hi;
		}
		/* What libdw could not describe up to the FDE's end is not followed. */
		if (pc < r[i].hi)
			emit(b, pc, (struct unwind_row){ .kind = UNWIND_ROW_UNSUPPORTED });
		done = r[i].hi;
		if (work > MAX_WORK) { /* the rest is not compiled: not followed, up to its end */
			emit(b, done, (struct unwind_row){ .kind = UNWIND_ROW_UNSUPPORTED });
			for (size_t j = i + 1; j < n; j++)
				done = r[j].hi > done ? r[j].hi : done;
			emit(b, done, (struct unwind_row){ .kind = UNWIND_ROW_GAP });
			return;
		}
		if (i + 1 == n || r[i + 1].lo > done)
			emit(b, done, (struct unwind_row){ .kind = UNWIND_ROW_GAP });
	}
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		const char *n;
		if (gelf_getshdr(scn, sh) && sh->sh_type != SHT_NOBITS && sh->sh_size &&
		    (n = elf_strptr(elf, shstrndx, sh->sh_name)) && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static bool x86_64_le(Elf *elf)
{
	GElf_Ehdr eh;
	const char *ident = elf ? elf_getident(elf, NULL) : NULL;
	return ident && ident[EI_CLASS] == ELFCLASS64 && ident[EI_DATA] == ELFDATA2LSB &&
	       gelf_getehdr(elf, &eh) && eh.e_machine == EM_X86_64;
}

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* The section's pages, read once, would stay in the profiler's memory as long as the file is
 * open (libelf maps it): reclaimed. MADV_PAGEOUT never loses data — clean file pages are dropped
 * and read again if touched, memory libelf copied the file into stays as it is (at worst
 * swapped) — so this is safe whatever libelf did. */
static void release_pages(Elf *elf, Elf_Data *data)
{
	size_t size;
	char *raw = elf_rawfile(elf, &size), *buf = data->d_buf;
	long page = sysconf(_SC_PAGESIZE);
	if (!raw || page <= 0 || buf < raw || data->d_size > size ||
	    buf - raw > (ptrdiff_t)(size - data->d_size))
		return;
	uintptr_t lo = ((uintptr_t)buf + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t hi = ((uintptr_t)buf + data->d_size) & ~(uintptr_t)(page - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_PAGEOUT);
}

/* Compiles one CFI section of elf (.eh_frame with eh, else .debug_frame). */
static int compile_section(Elf *elf, bool eh, struct cfi_table *t, struct builder *b)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, eh ? ".eh_frame" : ".debug_frame", &sh);
	if (!scn)
		return -ENOENT;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return -ENOENT;
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size)
		return -ENOENT;
	struct range *ranges;
	size_t n;
	int err = fde_ranges(elf, data, sh.sh_addr, eh, &ranges, &n, &t->fdes_skipped);
	if (!err && t->fdes_skipped)
		err = -EINVAL; /* libdw might run an entry that was not checked */
	if (err || !n) {
		free(ranges);
		return err ? err : -ENOENT;
	}
	Dwarf *dw = NULL;
	char *image = NULL;
	Elf *eh_elf = eh ? cfi_check_image(".eh_frame", data->d_buf, data->d_size, sh.sh_addr, &image) : NULL;
	Dwarf_CFI *cfi = eh_elf							  ? dwarf_getcfi_elf(eh_elf)
			 : !eh && (dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL)) ? dwarf_getcfi(dw)
										  : NULL;
	if (!cfi) {
		free(ranges);
		if (dw)
			dwarf_end(dw);
		if (eh_elf)
			elf_end(eh_elf);
		free(image);
		return -ENOENT;
	}
	b->base = ranges[0].lo;
	compile_ranges(cfi, ranges, n, b);
	t->fdes = n;
	t->source = eh ? ".eh_frame" : ".debug_frame";
	if (eh) {
		dwarf_cfi_end(cfi);
		elf_end(eh_elf);
		free(image);
	} else {
		dwarf_end(dw);
	}
	free(ranges);
	release_pages(elf, data);
	return b->full ? -ENOMEM : 0;
}

int cfi_table_compile(Elf *elf, Elf *debug_elf, struct cfi_table *out)
{
	memset(out, 0, sizeof(*out));
	if (!x86_64_le(elf))
		return -ENOTSUP;
	struct builder b = { 0 };
	int err = compile_section(elf, true, out, &b);
	if (err == -ENOENT && !b.n)
		err = compile_section(elf, false, out, &b);
	if (err == -ENOENT && !b.n && x86_64_le(debug_elf))
		err = compile_section(debug_elf, false, out, &b);
	if (!err && !b.n)
		err = -ENOENT;
	if (err) {
		free(b.rows);
		memset(out, 0, sizeof(*out));
		return err;
	}
	out->rows = b.rows;
	out->nrows = b.n;
	out->base = b.base;
	out->unsupported = b.unsupported;
	return 0;
}

void cfi_table_free(struct cfi_table *t)
{
	if (!t)
		return;
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

const struct unwind_row *cfi_table_find(const struct cfi_table *t, uint64_t vaddr)
{
	if (!t->nrows || vaddr < t->base || vaddr - t->base > UINT32_MAX)
		return NULL;
	uint32_t pc = (uint32_t)(vaddr - t->base);
	size_t lo = 0, hi = t->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && lo < t->nrows ? &t->rows[lo - 1] : NULL;
}
