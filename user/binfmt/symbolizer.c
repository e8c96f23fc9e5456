// SPDX-License-Identifier: Apache-2.0
#include "binfmt/symbolizer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "binfmt/elf_module.h"
#include "binfmt/gobinary.h"
#include "base/log.h"
#include "base/procfs.h"

/* Binaries are shared by many processes and mappings: open each file once. */
struct module {
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	struct elf_module *elf; /* NULL when the file could not be opened or parsed */
};

struct mapping {
	struct sym_mapping pub;
	struct module *module;
};

struct process {
	pid_t pid;
	char comm[16];
	struct mapping **maps; /* sorted by start */
	size_t nmaps;
};

struct symbolizer {
	struct module **modules;
	size_t nmodules;
	struct mapping **mappings;
	size_t nmappings;
	struct process *procs;
	size_t nprocs;
	size_t last_proc;
};

struct symbolizer *symbolizer_new(void)
{
	return calloc(1, sizeof(struct symbolizer));
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmodules; i++) {
		elf_module_close(s->modules[i]->elf);
		free(s->modules[i]);
	}
	for (size_t i = 0; i < s->nmappings; i++) {
		free((char *)s->mappings[i]->pub.path);
		free(s->mappings[i]);
	}
	for (size_t i = 0; i < s->nprocs; i++)
		free(s->procs[i].maps);
	free(s->modules);
	free(s->mappings);
	free(s->procs);
	free(s);
}

static int grow(void *arrp, size_t n, size_t elem)
{
	/* Grows at powers of two: n is the current count. */
	if (n & (n - 1) || (n && n < 8))
		return 0;
	void **arr = arrp;
	void *p = realloc(*arr, (n ? 2 * n : 8) * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

static struct process *find_process(const struct symbolizer *s, pid_t pid)
{
	struct symbolizer *mut = (struct symbolizer *)s;
	if (s->nprocs && s->last_proc < s->nprocs && s->procs[s->last_proc].pid == pid)
		return &s->procs[s->last_proc];
	for (size_t i = 0; i < s->nprocs; i++) {
		if (s->procs[i].pid == pid) {
			mut->last_proc = i;
			return &s->procs[i];
		}
	}
	return NULL;
}

static struct module *get_module(struct symbolizer *s, pid_t pid, const struct proc_map *m)
{
	for (size_t i = 0; i < s->nmodules; i++) {
		struct module *mod = s->modules[i];
		if (mod->inode == m->inode && mod->dev_major == m->dev_major &&
		    mod->dev_minor == m->dev_minor)
			return mod;
	}
	if (grow(&s->modules, s->nmodules, sizeof(*s->modules)))
		return NULL;
	struct module *mod = calloc(1, sizeof(*mod));
	if (!mod)
		return NULL;
	mod->dev_major = m->dev_major;
	mod->dev_minor = m->dev_minor;
	mod->inode = m->inode;
	char path[512];
	/* map_files is the very file mapped, even if deleted or in another mount namespace. */
	proc_path(path, sizeof(path), pid, "/map_files/%" PRIx64 "-%" PRIx64, m->start, m->end);
	mod->elf = elf_module_open(path);
	if (!mod->elf) {
		proc_path(path, sizeof(path), pid, "/root%s", m->path);
		mod->elf = elf_module_open(path);
	}
	if (!mod->elf) {
		log_debug("cannot open %s of pid %d: %s", m->path, pid, strerror(errno));
	} else if (!elf_module_load_debug_file(mod->elf, proc_path(path, sizeof(path), pid, "/root"),
					       m->path)) {
		log_debug("symbols of %s from its separate debug file", m->path);
	}
	s->modules[s->nmodules++] = mod;
	return mod;
}

static struct mapping *get_mapping(struct symbolizer *s, pid_t pid, const struct proc_map *m)
{
	struct process *p = find_process(s, pid);
	for (size_t i = 0; p && i < p->nmaps; i++)
		if (p->maps[i]->pub.start == m->start && p->maps[i]->pub.end == m->end &&
		    p->maps[i]->pub.offset == m->offset && !strcmp(p->maps[i]->pub.path, m->path))
			return p->maps[i];
	if (grow(&s->mappings, s->nmappings, sizeof(*s->mappings)))
		return NULL;
	struct mapping *map = calloc(1, sizeof(*map));
	if (!map)
		return NULL;
	map->pub.start = m->start;
	map->pub.end = m->end;
	map->pub.offset = m->offset;
	map->pub.path = strdup(m->path);
	map->pub.index = (int)s->nmappings;
	/* Anonymous and special mappings ([vdso], JIT code) have no file to read. */
	if (m->inode && m->path[0] == '/')
		map->module = get_module(s, pid, m);
	if (map->module && map->module->elf) {
		struct elf_module *e = map->module->elf;
		map->pub.build_id = elf_module_build_id(e);
		map->pub.has_functions = elf_module_has_symbols(e);
		map->pub.has_lines = elf_module_has_lines(e);
		map->pub.is_go = elf_module_is_go(e);
		map->pub.go_inline = gopclntab_has_inline(elf_module_gopclntab(e));
		map->pub.go_version = elf_module_go_version(e);
	}
	s->mappings[s->nmappings++] = map;
	return map;
}

static int mapping_cmp(const void *a, const void *b)
{
	const struct mapping *x = *(struct mapping *const *)a, *y = *(struct mapping *const *)b;
	return (x->pub.start > y->pub.start) - (x->pub.start < y->pub.start);
}

int symbolizer_track(struct symbolizer *s, pid_t pid)
{
	struct proc_map *maps;
	size_t n;
	int err = proc_exec_maps(pid, &maps, &n);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	struct process *p = find_process(s, pid);
	if (!p) {
		if (grow(&s->procs, s->nprocs, sizeof(*s->procs))) {
			free(maps);
			return -ENOMEM;
		}
		p = &s->procs[s->nprocs++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
		proc_comm(pid, pid, p->comm, sizeof(p->comm));
	}
	struct mapping **list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		free(maps);
		return -ENOMEM;
	}
	size_t count = 0;
	char exe_path[64];
	struct stat exe;
	bool have_exe = !stat(proc_path(exe_path, sizeof(exe_path), pid, "/exe"), &exe);
	for (size_t i = 0; i < n; i++) {
		struct mapping *m = get_mapping(s, pid, &maps[i]);
		if (!m)
			continue;
		if (have_exe && maps[i].inode == exe.st_ino && maps[i].dev_major == major(exe.st_dev) &&
		    maps[i].dev_minor == minor(exe.st_dev))
			m->pub.is_executable = true;
		list[count++] = m;
	}
	/* An empty read means the process exited between steps: keep what we had. */
	if (count == 0 && p->nmaps) {
		free(list);
	} else {
		qsort(list, count, sizeof(*list), mapping_cmp);
		free(p->maps);
		p->maps = list;
		p->nmaps = count;
	}
	free(maps);
	return 0;
}

bool symbolizer_tracks(const struct symbolizer *s, pid_t pid)
{
	return find_process(s, pid) != NULL;
}

const char *symbolizer_process_name(const struct symbolizer *s, pid_t pid)
{
	struct process *p = find_process(s, pid);
	return p && p->comm[0] ? p->comm : NULL;
}

static struct mapping *find_mapping(const struct symbolizer *s, pid_t pid, uint64_t addr)
{
	struct process *p = find_process(s, pid);
	if (!p)
		return NULL;
	size_t lo = 0, hi = p->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->maps[mid]->pub.start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= p->maps[lo - 1]->pub.end)
		return NULL;
	return p->maps[lo - 1];
}

int symbolizer_go_sp_delta(const struct symbolizer *s, pid_t pid, uint64_t addr, int32_t *delta)
{
	struct mapping *m = find_mapping(s, pid, addr);
	uint64_t vaddr;
	if (!m || !m->module || !m->module->elf ||
	    elf_module_offset_to_vaddr(m->module->elf, addr - m->pub.start + m->pub.offset, &vaddr))
		return -ENOENT;
	return gopclntab_sp_delta(elf_module_gopclntab(m->module->elf), vaddr, delta);
}

/* The module and link-time address of addr in pid (the call before it for a return address). */
static struct elf_module *module_vaddr(const struct symbolizer *s, pid_t pid, uint64_t addr,
				       bool return_address, struct mapping **mapping, uint64_t *vaddr)
{
	struct mapping *m = *mapping = find_mapping(s, pid, addr);
	if (!m || !m->module || !m->module->elf)
		return NULL;
	uint64_t lookup = return_address ? addr - 1 : addr;
	if (elf_module_offset_to_vaddr(m->module->elf, lookup - m->pub.start + m->pub.offset, vaddr))
		return NULL;
	return m->module->elf;
}

void symbolizer_want_user(struct symbolizer *s, pid_t pid, uint64_t addr, bool return_address)
{
	struct mapping *m;
	uint64_t vaddr;
	struct elf_module *elf = module_vaddr(s, pid, addr, return_address, &m, &vaddr);
	if (elf)
		elf_module_want_line(elf, vaddr);
}

void symbolizer_user(struct symbolizer *s, pid_t pid, uint64_t addr, bool return_address,
		     struct sym_frame *out)
{
	out->func = out->file = NULL;
	out->line = out->ninlined = 0;
	out->mapping = NULL;
	struct mapping *m;
	uint64_t vaddr;
	struct elf_module *elf = module_vaddr(s, pid, addr, return_address, &m, &vaddr);
	out->mapping = m ? &m->pub : NULL;
	if (!elf)
		return;
	struct elf_symbol sym;
	elf_module_symbolize(elf, vaddr, &sym);
	out->func = sym.func;
	out->file = sym.file;
	out->line = sym.line;
	_Static_assert(SYM_MAX_INLINED == ELF_MAX_INLINED, "one inline depth limit");
	out->ninlined = sym.ninlined;
	memcpy(out->inlined, sym.inlined, sym.ninlined * sizeof(*sym.inlined));
}

int symbolizer_nmappings(const struct symbolizer *s)
{
	return (int)s->nmappings;
}

double symbolizer_frame_pointer_share(struct symbolizer *s, const struct sym_mapping *m)
{
	if (!m || m->index < 0 || (size_t)m->index >= s->nmappings)
		return -1;
	struct module *mod = s->mappings[m->index]->module;
	return mod && mod->elf ? elf_module_frame_pointer_share(mod->elf) : -1;
}

void symbolizer_for_each_mapping(const struct symbolizer *s, pid_t pid,
				 void (*fn)(void *ctx, const struct sym_mapping *m, struct elf_module *elf),
				 void *ctx)
{
	struct process *p = find_process(s, pid);
	for (size_t i = 0; p && i < p->nmaps; i++)
		fn(ctx, &p->maps[i]->pub, p->maps[i]->module ? p->maps[i]->module->elf : NULL);
}
