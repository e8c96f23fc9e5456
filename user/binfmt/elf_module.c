// SPDX-License-Identifier: Apache-2.0
#include "binfmt/elf_module.h"

#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binfmt/debug_file.h"
#include "binfmt/dwarf_lines.h"
#include "binfmt/gobinary.h"

#define MAX_LOADS 16

struct symbol {
	uint64_t addr, size;
	const char *name; /* points into the mmap'd ELF string table */
};

struct elf_module {
	int fd;
	Elf *elf;
	int dbg_fd; /* the separate debug file, -1 if none */
	Elf *dbg_elf;
	bool has_symtab, has_dwarf; /* of the object itself */
	bool dbg_has_dwarf;
	struct symbol *syms;
	size_t nsyms;
	struct gopclntab *go;
	char go_version[32];
	Dwarf *dwarf;
	bool dwarf_tried;
	struct dwarf_line_cache *lines; /* instead of libdw (dwarf_lines_elf_preferred) */
	double fp_share;
	bool fp_checked;
	char build_id[2 * 64 + 1];
	struct {
		uint64_t vaddr, offset, filesz;
	} loads[MAX_LOADS];
	int nloads;
};

static int symbol_cmp(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Prefer the sized, named symbol at equal addresses: it sorts last and wins lookups. */
	return (x->size > y->size) - (x->size < y->size);
}

static void read_symbols(struct elf_module *m, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return;
	size_t n = sh->sh_size / sh->sh_entsize;
	m->syms = calloc(n ? n : 1, sizeof(*m->syms));
	if (!m->syms)
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value == 0 || sym.st_shndx == SHN_UNDEF)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		m->syms[m->nsyms++] = (struct symbol){ sym.st_value, sym.st_size, name };
	}
	qsort(m->syms, m->nsyms, sizeof(*m->syms), symbol_cmp);
}

struct symbol_tables {
	Elf_Scn *symtab, *dynsym;
	GElf_Shdr symtab_sh, dynsym_sh;
};

static void find_symbol_tables(Elf *elf, struct symbol_tables *t)
{
	Elf_Scn *scn = NULL;
	t->symtab = t->dynsym = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			t->symtab = scn;
			t->symtab_sh = sh;
		} else if (sh.sh_type == SHT_DYNSYM) {
			t->dynsym = scn;
			t->dynsym_sh = sh;
		}
	}
}

static bool has_section(Elf *elf, const char *name)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		const char *n;
		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (n = elf_strptr(elf, shstrndx, sh.sh_name)) && !strcmp(n, name))
			return true;
	}
	return false;
}

struct elf_module *elf_module_open(const char *path)
{
	elf_version(EV_CURRENT);
	struct elf_module *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below. */
	m->dbg_fd = -1;
	m->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (m->fd < 0)
		goto fail;
	struct stat st;
	if (fstat(m->fd, &st))
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
		goto fail;
	}
	m->elf = elf_begin(m->fd, ELF_C_READ_MMAP, NULL);
	if (!m->elf || elf_kind(m->elf) != ELF_K_ELF) {
		errno = ENOEXEC;
		goto fail;
	}
	size_t nph;
	if (elf_getphdrnum(m->elf, &nph) == 0) {
		for (size_t i = 0; i < nph && m->nloads < MAX_LOADS; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(m->elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    (ph.p_flags & PF_X)) {
				m->loads[m->nloads].vaddr = ph.p_vaddr;
				m->loads[m->nloads].offset = ph.p_offset;
				m->loads[m->nloads].filesz = ph.p_filesz;
				m->nloads++;
			}
		}
	}
	struct symbol_tables tabs;
	find_symbol_tables(m->elf, &tabs);
	if (elf_build_id_hex(m->elf, m->build_id, sizeof(m->build_id)))
		m->build_id[0] = 0;
	m->has_symtab = tabs.symtab != NULL;
	m->has_dwarf = has_section(m->elf, ".debug_info");
	/* Go: pclntab names every function (stripped or not) and carries file:line. */
	m->go = gopclntab_from_elf(m->elf);
	if (m->go)
		go_buildinfo_version(m->elf, m->go_version, sizeof(m->go_version));
	else if (tabs.symtab)
		read_symbols(m, m->elf, tabs.symtab, &tabs.symtab_sh);
	else if (tabs.dynsym)
		read_symbols(m, m->elf, tabs.dynsym, &tabs.dynsym_sh);
	return m;
fail:
	elf_module_close(m);
	return NULL;
}

void elf_module_close(struct elf_module *m)
{
	if (!m)
		return;
	int saved = errno;
	if (m->go)
		gopclntab_close(m->go);
	if (m->dwarf)
		dwarf_end(m->dwarf);
	dwarf_line_cache_free(m->lines);
	free(m->syms);
	if (m->dbg_elf)
		elf_end(m->dbg_elf);
	if (m->dbg_fd >= 0)
		close(m->dbg_fd);
	if (m->elf)
		elf_end(m->elf);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
	errno = saved;
}

const char *elf_module_build_id(const struct elf_module *m)
{
	return m->build_id[0] ? m->build_id : NULL;
}

bool elf_module_is_go(const struct elf_module *m)
{
	return m->go != NULL;
}

const char *elf_module_go_version(const struct elf_module *m)
{
	return m->go_version[0] ? m->go_version : NULL;
}

bool elf_module_has_symbols(const struct elf_module *m)
{
	return m->go || m->nsyms > 0;
}

bool elf_module_has_lines(const struct elf_module *m)
{
	return m->go || m->dwarf || m->has_dwarf || m->dbg_has_dwarf;
}

int elf_module_offset_to_vaddr(const struct elf_module *m, uint64_t offset, uint64_t *vaddr)
{
	for (int i = 0; i < m->nloads; i++) {
		if (offset >= m->loads[i].offset && offset - m->loads[i].offset < m->loads[i].filesz) {
			*vaddr = offset - m->loads[i].offset + m->loads[i].vaddr;
			return 0;
		}
	}
	return -1;
}

int elf_module_mapping_vaddr(const struct elf_module *m, uint64_t offset, uint64_t *vaddr)
{
	for (int i = 0; i < m->nloads; i++) {
		uint64_t page = m->loads[i].offset & ~0xfffULL;
		if (offset >= page && offset < m->loads[i].offset + m->loads[i].filesz) {
			*vaddr = offset - m->loads[i].offset + m->loads[i].vaddr;
			return 0;
		}
	}
	return -1;
}

static const struct symbol *find_symbol(const struct elf_module *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct symbol *s = &m->syms[lo - 1];
	if (s->size && addr - s->addr >= s->size)
		return NULL;
	return s;
}

/* Opens the module's line information once: libdw's, or a dwarf_line_cache. */
static void open_lines(struct elf_module *m)
{
	if (m->dwarf_tried)
		return;
	m->dwarf_tried = true;
	Elf *elf = m->dbg_has_dwarf && !m->has_dwarf ? m->dbg_elf : m->elf;
	/* libdw would inflate every compressed debug section (libc6-dbg's: 10 MB) and parse whole
	 * line tables into its own structures: dwarf_lines reads .debug_line alone. */
	if (dwarf_lines_elf_preferred(elf, elf == m->dbg_elf))
		m->lines = dwarf_line_cache_new(elf);
	else
		m->dwarf = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
}

static void dwarf_line(struct elf_module *m, uint64_t addr, struct elf_symbol *out)
{
	open_lines(m);
	if (m->lines) {
		dwarf_line_cache_find(m->lines, addr, &out->file, &out->line);
		return;
	}
	if (!m->dwarf)
		return;
	Dwarf_Die cu;
	if (!dwarf_addrdie(m->dwarf, addr, &cu))
		return;
	Dwarf_Line *line = dwarf_getsrc_die(&cu, addr);
	int lineno;
	if (!line || dwarf_lineno(line, &lineno) != 0)
		return;
	out->file = dwarf_linesrc(line, NULL, NULL);
	out->line = lineno > 0 ? (uint32_t)lineno : 0;
}

void elf_module_symbolize(struct elf_module *m, uint64_t vaddr, struct elf_symbol *out)
{
	out->func = out->file = NULL;
	out->line = out->ninlined = 0;
	if (m->go) {
		struct go_frame frames[ELF_MAX_INLINED + 1];
		size_t n = gopclntab_frames(m->go, vaddr, frames, ELF_MAX_INLINED + 1);
		if (n == 0)
			return;
		out->func = frames[n - 1].func;
		out->file = frames[n - 1].file;
		out->line = frames[n - 1].line;
		out->ninlined = (uint32_t)(n - 1);
		memcpy(out->inlined, frames, (n - 1) * sizeof(*frames));
		return;
	}
	const struct symbol *s = find_symbol(m, vaddr);
	if (!s)
		return;
	out->func = s->name;
	dwarf_line(m, vaddr, out);
}

void elf_module_want_line(struct elf_module *m, uint64_t vaddr)
{
	if (m->go || !find_symbol(m, vaddr)) /* elf_module_symbolize asks for no line there */
		return;
	open_lines(m);
	if (m->lines)
		dwarf_line_cache_want(m->lines, vaddr);
}

int elf_module_vaddr_to_offset(const struct elf_module *m, uint64_t vaddr, uint64_t *offset)
{
	for (int i = 0; i < m->nloads; i++) {
		if (vaddr >= m->loads[i].vaddr && vaddr - m->loads[i].vaddr < m->loads[i].filesz) {
			*offset = vaddr - m->loads[i].vaddr + m->loads[i].offset;
			return 0;
		}
	}
	return -1;
}

/* push %rbp; mov %rsp,%rbp — optionally after endbr64. Functions this small or smaller may
 * legitimately skip the frame, so only larger ones are sampled. */
#define FP_MIN_FUNC_SIZE 64
#define FP_MAX_CHECKED	 256

double elf_module_frame_pointer_share(struct elf_module *m)
{
	if (m->fp_checked)
		return m->fp_share;
	m->fp_checked = true;
	m->fp_share = -1;
	if (m->go) {
		m->fp_share = 1; /* the Go toolchain keeps frame pointers on amd64 and arm64 */
		return m->fp_share;
	}
#if defined(__x86_64__)
	size_t checked = 0, with_fp = 0;
	size_t step = m->nsyms / FP_MAX_CHECKED + 1;
	for (size_t i = 0; i < m->nsyms && checked < FP_MAX_CHECKED; i += step) {
		uint64_t off;
		unsigned char code[8];
		if (m->syms[i].size < FP_MIN_FUNC_SIZE ||
		    elf_module_vaddr_to_offset(m, m->syms[i].addr, &off))
			continue;
		if (pread(m->fd, code, sizeof(code), (off_t)off) != (ssize_t)sizeof(code))
			continue;
		const unsigned char *p = code;
		if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
			p += 4;
		checked++;
		if (p[0] == 0x55 && p[1] == 0x48 && p[2] == 0x89 && p[3] == 0xe5)
			with_fp++;
	}
	if (checked)
		m->fp_share = (double)with_fp / checked;
#endif
	return m->fp_share;
}

int elf_module_read(const struct elf_module *m, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off;
	if (elf_module_vaddr_to_offset(m, vaddr, &off))
		return -EFAULT;
	ssize_t n = pread(m->fd, buf, len, (off_t)off);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int elf_module_read_data(const struct elf_module *m, uint64_t vaddr, void *buf, size_t len)
{
	size_t nph;
	if (elf_getphdrnum(m->elf, &nph))
		return -EFAULT;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(m->elf, (int)i, &ph) || ph.p_type != PT_LOAD || vaddr < ph.p_vaddr ||
		    vaddr - ph.p_vaddr >= ph.p_filesz || len > ph.p_filesz - (vaddr - ph.p_vaddr))
			continue;
		ssize_t n = pread(m->fd, buf, len, (off_t)(ph.p_offset + (vaddr - ph.p_vaddr)));
		if (n < 0)
			return -errno;
		return (size_t)n == len ? 0 : -EFAULT;
	}
	return -EFAULT;
}

int elf_module_find_function(const struct elf_module *m, const char *name, uint64_t *entry, uint64_t *end)
{
	if (m->go) {
		struct go_func fn;
		if (gopclntab_find(m->go, name, &fn))
			return -ENOENT;
		*entry = fn.entry;
		*end = fn.end;
		return 0;
	}
	for (size_t i = 0; i < m->nsyms; i++) {
		if (!strcmp(m->syms[i].name, name)) {
			*entry = m->syms[i].addr;
			*end = m->syms[i].addr + m->syms[i].size;
			return 0;
		}
	}
	return -ENOENT;
}

Elf *elf_module_elf(const struct elf_module *m)
{
	return m->elf;
}

Elf *elf_module_debug_elf(const struct elf_module *m)
{
	return m->dbg_elf;
}

static int find_in_symtab(const struct elf_module *m, Elf_Scn *scn, const GElf_Shdr *sh, const char *name,
			  uint64_t *addr, uint64_t *size)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return -ENOENT;
	size_t n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0)
			continue;
		const char *s = elf_strptr(m->elf, sh->sh_link, sym.st_name);
		if (s && !strcmp(s, name)) {
			*addr = sym.st_value;
			*size = sym.st_size;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_module_find_symbol(const struct elf_module *m, const char *name, uint64_t *addr, uint64_t *size)
{
	struct symbol_tables tabs;
	find_symbol_tables(m->elf, &tabs);
	if (tabs.symtab && find_in_symtab(m, tabs.symtab, &tabs.symtab_sh, name, addr, size) == 0)
		return 0;
	if (tabs.dynsym && find_in_symtab(m, tabs.dynsym, &tabs.dynsym_sh, name, addr, size) == 0)
		return 0;
	return -ENOENT;
}

const struct gopclntab *elf_module_gopclntab(const struct elf_module *m)
{
	return m->go;
}

int elf_module_load_debug_file(struct elf_module *m, const char *root, const char *path)
{
	char found[4096];
	if (m->go || m->dbg_elf || (m->has_symtab && m->has_dwarf) ||
	    debug_file_find(m->elf, elf_module_build_id(m), root, path, found, sizeof(found)))
		return -ENOENT;
	m->dbg_fd = open(found, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	m->dbg_elf = m->dbg_fd >= 0 ? elf_begin(m->dbg_fd, ELF_C_READ_MMAP, NULL) : NULL;
	if (!m->dbg_elf || elf_kind(m->dbg_elf) != ELF_K_ELF) {
		if (m->dbg_elf)
			elf_end(m->dbg_elf);
		if (m->dbg_fd >= 0)
			close(m->dbg_fd);
		m->dbg_elf = NULL;
		m->dbg_fd = -1;
		return -ENOENT;
	}
	struct symbol_tables tabs;
	find_symbol_tables(m->dbg_elf, &tabs);
	if (!m->has_symtab && tabs.symtab) { /* a superset of .dynsym: local functions too */
		struct symbol *dynsyms = m->syms;
		size_t ndynsyms = m->nsyms;
		m->syms = NULL;
		m->nsyms = 0;
		read_symbols(m, m->dbg_elf, tabs.symtab, &tabs.symtab_sh);
		if (m->nsyms) {
			free(dynsyms);
		} else {
			free(m->syms);
			m->syms = dynsyms;
			m->nsyms = ndynsyms;
		}
	}
	m->dbg_has_dwarf = has_section(m->dbg_elf, ".debug_info");
	if (m->dwarf_tried && !m->dwarf && !m->lines && !m->has_dwarf)
		m->dwarf_tried = false; /* look again, in the debug file */
	return 0;
}
