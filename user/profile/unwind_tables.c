// SPDX-License-Identifier: Apache-2.0
#include "profile/unwind_tables.h"

#include <bpf/bpf.h>
#include <elf.h>
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "base/array.h"
#include "base/log.h"
#include "base/procfs.h"
#include "binfmt/cfi_table.h"
#include "binfmt/elf_module.h"
#include "binfmt/symbolizer.h"
#include "profile.h"
#include "unwind.h"

#define UPLOAD_CHUNK 4096

struct table {
	const struct elf_module *elf;
	int id; /* index in unwind_tables; -1: none (no CFI, or could not be loaded) */
	uint32_t nrows;
	uint64_t base;
};

struct unwind_tables {
	int tables_fd, procs_fd;
	struct symbolizer *syms;
	struct table *tables;
	size_t ntables, cap;
	uint32_t next_id;
	bool warned_overflow, warned_full;
	struct table vdso;
	bool vdso_tried;
	struct unwind_table_stats stats;
};

struct unwind_tables *unwind_tables_new(int tables_fd, int procs_fd, struct symbolizer *syms)
{
	struct unwind_tables *u = calloc(1, sizeof(*u));
	if (u) {
		u->tables_fd = tables_fd;
		u->procs_fd = procs_fd;
		u->syms = syms;
	}
	return u;
}

void unwind_tables_free(struct unwind_tables *u)
{
	if (!u)
		return;
	free(u->tables);
	free(u);
}

const struct unwind_table_stats *unwind_tables_stats(const struct unwind_tables *u)
{
	return &u->stats;
}

/* Writes the rows into a new array map sized to them; its fd, or -errno. */
static int upload(const struct cfi_table *t)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "unwind_rows", sizeof(uint32_t),
				sizeof(struct unwind_row), (uint32_t)t->nrows, &opts);
	if (fd < 0)
		return -errno;
	uint32_t keys[UPLOAD_CHUNK];
	for (size_t at = 0; at < t->nrows; at += UPLOAD_CHUNK) {
		uint32_t n = t->nrows - at < UPLOAD_CHUNK ? (uint32_t)(t->nrows - at) : UPLOAD_CHUNK;
		for (uint32_t i = 0; i < n; i++)
			keys[i] = (uint32_t)(at + i);
		if (bpf_map_update_batch(fd, keys, &t->rows[at], &n, NULL)) {
			int err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

/* Compiles elf's table (dbg: its separate debug file, or NULL) and loads it into the kernel as
 * table t (whose id stays -1 when it cannot be). path names the binary in messages. */
static void load_table(struct unwind_tables *u, struct table *t, const char *path, Elf *elf, Elf *dbg)
{
	struct cfi_table cfi;
	int err = cfi_table_compile(elf, dbg, &cfi);
	if (err) {
		/* Said only if stacks do stop there (stack_profile_report_quality): a library of data
		 * alone (libicudata) has an executable segment and no code. */
		u->stats.no_cfi++;
		log_debug("%s has neither frame pointers nor call frame information glimpse can read (%s)",
			  path, strerror(-err));
		return;
	}
	int err_load = 0, fd = u->next_id < UNWIND_MAX_TABLES ? upload(&cfi) : -ENOSPC;
	if (fd < 0) {
		err_load = -fd;
	} else {
		uint32_t id = u->next_id;
		if (bpf_map_update_elem(u->tables_fd, &id, &fd, BPF_ANY) == 0) {
			t->id = (int)id;
			t->nrows = (uint32_t)cfi.nrows;
			t->base = cfi.base;
			u->next_id++;
			u->stats.tables++;
			u->stats.rows += cfi.nrows;
			u->stats.unsupported += cfi.unsupported;
		} else {
			err_load = errno;
		}
		close(fd); /* the outer map holds its own reference */
	}
	if (err_load == ENOSPC) {
		if (!u->warned_full)
			log_warn("more than %d binaries without frame pointers: stacks through %s and any "
				 "further ones stay truncated",
				 UNWIND_MAX_TABLES, path);
		u->warned_full = true;
	} else if (err_load) {
		log_warn("cannot load the unwind table of %s (%s): stacks through it stay truncated", path,
			 strerror(err_load));
	} else {
		log_debug("unwind table of %s: %zu rows from %s (%zu FDEs, %zu rows not followed)", path,
			  cfi.nrows, cfi.source, cfi.fdes, cfi.unsupported);
	}
	cfi_table_free(&cfi);
	/* libdw's cache of the binary's entries, freed just now in many small pieces: returned to
	 * the system rather than kept by malloc (a process maps dozens of binaries). */
	malloc_trim(0);
}

static const struct table *get_table(struct unwind_tables *u, const struct sym_mapping *m,
				     const struct elf_module *elf)
{
	for (size_t i = 0; i < u->ntables; i++)
		if (u->tables[i].elf == elf)
			return &u->tables[i];
	if (array_grow((void **)&u->tables, &u->cap, u->ntables, sizeof(*u->tables)))
		return NULL;
	struct table *t = &u->tables[u->ntables++];
	*t = (struct table){ .elf = elf, .id = -1 };
	load_table(u, t, m->path, elf_module_elf(elf), elf_module_debug_elf(elf));
	return t;
}

/* The vDSO's table. Every 64-bit process maps the same vDSO, the kernel's: its table is compiled
 * from glimpse's own copy (whose clock_gettime fast path has no frame pointer). NULL if none. */
static const struct table *vdso_table(struct unwind_tables *u)
{
	if (u->vdso_tried)
		return u->vdso.id >= 0 ? &u->vdso : NULL;
	u->vdso_tried = true;
	u->vdso = (struct table){ .id = -1 };
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > (1u << 20) || eh->e_shoff > (1u << 20))
		return NULL;
	/* Linked to be mapped whole from address 0: link-time address = offset from the start. */
	const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	bool at_zero = false;
	for (int i = 0; i < eh->e_phnum && i < 16; i++)
		at_zero |= ph[i].p_type == PT_LOAD && ph[i].p_offset == 0 && ph[i].p_vaddr == 0;
	size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	char *copy = at_zero && size <= (1u << 20) ? malloc(size) : NULL;
	if (!copy)
		return NULL;
	memcpy(copy, eh, size);
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(copy, size);
	if (elf) {
		load_table(u, &u->vdso, "[vdso]", elf, NULL);
		elf_end(elf);
	}
	free(copy);
	return u->vdso.id >= 0 ? &u->vdso : NULL;
}

struct sync_ctx {
	struct unwind_tables *u;
	struct unwind_proc proc;
	const struct sym_mapping *vdso;
	bool overflow;
};

/* A process walked with tables gets the vDSO's too (a sample in clock_gettime is common), in
 * address order. One that needs none keeps the kernel's frame-pointer walk. */
static void add_vdso(struct sync_ctx *c)
{
	const struct table *t = c->vdso && c->proc.nmaps ? vdso_table(c->u) : NULL;
	if (!t)
		return;
	if (c->proc.nmaps == UNWIND_MAX_PROC_MAPS) {
		c->overflow = true;
		return;
	}
	uint32_t at = c->proc.nmaps;
	while (at > 0 && c->proc.maps[at - 1].start > c->vdso->start) {
		c->proc.maps[at] = c->proc.maps[at - 1];
		at--;
	}
	c->proc.maps[at] = (struct unwind_map){
		.start = c->vdso->start,
		.end = c->vdso->end,
		.base = c->vdso->start + t->base,
		.table = (uint32_t)t->id,
		.nrows = t->nrows,
	};
	c->proc.nmaps++;
}

static void add_mapping(void *ctx, const struct sym_mapping *m, struct elf_module *elf)
{
	struct sync_ctx *c = ctx;
	uint64_t vaddr;
	if (!elf && !strcmp(m->path, "[vdso]"))
		c->vdso = m;
	if (!elf || m->is_go || elf_module_frame_pointer_share(elf) >= ELF_FP_SHARE_MIN)
		return;
	const struct table *t = get_table(c->u, m, elf);
	if (!t || t->id < 0 || elf_module_mapping_vaddr(elf, m->offset, &vaddr))
		return;
	if (c->proc.nmaps == UNWIND_MAX_PROC_MAPS) {
		c->overflow = true;
		return;
	}
	c->proc.maps[c->proc.nmaps++] = (struct unwind_map){
		.start = m->start,
		.end = m->end,
		/* row pc = link-time address - table base = address - (start - vaddr) - base */
		.base = m->start - vaddr + t->base,
		.table = (uint32_t)t->id,
		.nrows = t->nrows,
	};
}

int unwind_tables_sync(struct unwind_tables *u, pid_t pid)
{
	struct sync_ctx c = { .u = u };
	char path[64], text[1024];
	struct proc_stat st;
	long hz = sysconf(_SC_CLK_TCK);
	uint32_t key = (uint32_t)pid;
	proc_path(path, sizeof(path), pid, "/stat");
	if (hz <= 0 || proc_read_small(path, text, sizeof(text)) < 0 || !proc_parse_stat(text, &st)) {
		bpf_map_delete_elem(u->procs_fd, &key);
		return -ESRCH;
	}
	c.proc.tick_ns = (uint32_t)(1000000000L / hz);
	c.proc.start_ticks = st.starttime;
	symbolizer_for_each_mapping(u->syms, pid, add_mapping, &c);
	add_vdso(&c);
	if (c.overflow && !u->warned_overflow) {
		u->warned_overflow = true;
		log_warn("process %d maps more than %d binaries without frame pointers: stacks through the "
			 "others stay truncated",
			 pid, UNWIND_MAX_PROC_MAPS);
	}
	if (!c.proc.nmaps) {
		bpf_map_delete_elem(u->procs_fd, &key);
		return 0;
	}
	bool known = bpf_map_lookup_elem(u->procs_fd, &key, &(struct unwind_proc){ 0 }) == 0;
	if (bpf_map_update_elem(u->procs_fd, &key, &c.proc, BPF_ANY))
		return -errno;
	if (!known)
		u->stats.processes++;
	return 0;
}

void unwind_tables_report(const struct unwind_table_stats *ts, const struct unwind_walk_stats *w)
{
	if (!ts->tables)
		return;
	uint64_t stopped = w->no_cfi + w->unsupported + w->read + w->no_rbp + w->depth;
	log_info("unwound %llu user stacks of %llu processes with call frame information (%llu tables, "
		 "%llu rows, %llu KiB in the kernel); %llu stopped early",
		 (unsigned long long)w->walked, (unsigned long long)ts->processes,
		 (unsigned long long)ts->tables, (unsigned long long)ts->rows,
		 (unsigned long long)(ts->rows * sizeof(struct unwind_row) + 1023) / 1024,
		 (unsigned long long)stopped);
	if (stopped && stopped * 20 >= w->walked)
		log_warn("%llu of %llu user stacks walked with call frame information stopped before their "
			 "end "
			 "(no CFI at the address: %llu, a rule glimpse does not follow: %llu, unreadable "
			 "stack: "
			 "%llu, frame pointer lost: %llu, deeper than %d frames: %llu): those stacks are "
			 "truncated",
			 (unsigned long long)stopped, (unsigned long long)w->walked,
			 (unsigned long long)w->no_cfi, (unsigned long long)w->unsupported,
			 (unsigned long long)w->read, (unsigned long long)w->no_rbp, PROFILE_MAX_STACK_DEPTH,
			 (unsigned long long)w->depth);
}
