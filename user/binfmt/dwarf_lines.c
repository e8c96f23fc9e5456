// SPDX-License-Identifier: Apache-2.0
#include "binfmt/dwarf_lines.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* DWARF constants (DWARF 5, section 6.2 and 7.5.6). */
enum {
	LNS_copy = 1,
	LNS_advance_pc,
	LNS_advance_line,
	LNS_set_file,
	LNS_set_column,
	LNS_negate_stmt,
	LNS_set_basic_block,
	LNS_const_add_pc,
	LNS_fixed_advance_pc,
	LNE_end_sequence = 1,
	LNE_set_address = 2,
	LNCT_path = 1,
	LNCT_directory_index = 2,
	FORM_block2 = 0x03,
	FORM_block4 = 0x04,
	FORM_data2 = 0x05,
	FORM_data4 = 0x06,
	FORM_data8 = 0x07,
	FORM_string = 0x08,
	FORM_block = 0x09,
	FORM_block1 = 0x0a,
	FORM_data1 = 0x0b,
	FORM_flag = 0x0c,
	FORM_sdata = 0x0d,
	FORM_strp = 0x0e,
	FORM_udata = 0x0f,
	FORM_sec_offset = 0x17,
	FORM_data16 = 0x1e,
	FORM_line_strp = 0x1f,
};

/* Most formats an entry of a DWARF 5 directory or file table may have (a real one has 2-4). */
#define MAX_FORMATS 16

struct path_ent {
	UT_hash_handle hh;
	char path[];
};

struct dwarf_line_files {
	struct path_ent *by_path; /* uthash */
};

struct dwarf_line_files *dwarf_line_files_new(void)
{
	return calloc(1, sizeof(struct dwarf_line_files));
}

void dwarf_line_files_free(struct dwarf_line_files *f)
{
	if (!f)
		return;
	struct path_ent *e, *tmp;
	HASH_ITER (hh, f->by_path, e, tmp) {
		HASH_DEL(f->by_path, e);
		free(e);
	}
	free(f);
}

/* The kept copy of path (added if new), NULL without memory. */
static const char *files_intern(struct dwarf_line_files *f, const char *path)
{
	struct path_ent *e;
	size_t len = strlen(path);
	HASH_FIND(hh, f->by_path, path, len, e);
	if (e)
		return e->path;
	if (!(e = malloc(sizeof(*e) + len + 1)))
		return NULL;
	memcpy(e->path, path, len + 1);
	HASH_ADD_KEYPTR(hh, f->by_path, e->path, len, e);
	return e->path;
}

/* A bounds-checked reader: once a read runs past the end, every later one returns 0. */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static bool cursor_has(struct cursor *c, size_t n)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return false;
	}
	return true;
}

static uint64_t rd(struct cursor *c, size_t n) /* little-endian, n <= 8 */
{
	uint64_t v = 0;
	if (!cursor_has(c, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static void skip(struct cursor *c, uint64_t n)
{
	if (n > (uint64_t)(c->end - c->p))
		cursor_has(c, SIZE_MAX);
	else
		c->p += n;
}

static uint64_t uleb(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		if (!cursor_has(c, 1))
			return 0;
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

static int64_t sleb(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		if (!cursor_has(c, 1))
			return 0;
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (shift + 7 < 64 && (b & 0x40))
				v |= ~0ULL << (shift + 7);
			return (int64_t)v;
		}
	}
}

static const char *cstr(struct cursor *c)
{
	if (c->bad)
		return NULL;
	const uint8_t *nul = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!nul) {
		cursor_has(c, SIZE_MAX);
		return NULL;
	}
	const char *s = (const char *)c->p;
	c->p = nul + 1;
	return s;
}

static const char *section_str(const uint8_t *sec, size_t len, uint64_t off)
{
	if (!sec || off >= len || !memchr(sec + off, 0, len - off))
		return NULL;
	return (const char *)sec + off;
}

struct file_entry {
	const char *name;
	uint64_t dir;
};

/* One line-number program's header, and the paths of its files once asked for. */
struct unit {
	int version;
	bool dwarf64;
	uint8_t min_inst, line_range, opcode_base;
	int8_t line_base;
	const uint8_t *std_lengths;
	const char **dirs;
	size_t ndirs;
	struct file_entry *files;
	size_t nfiles;
	const char **paths; /* interned path per file entry, filled as rows are answered */
	struct cursor prog;
};

static void unit_free(struct unit *u)
{
	free(u->dirs);
	free(u->files);
	free(u->paths);
}

/* Reads one attribute of form into *num or *str; false for a form not allowed here. */
static bool read_form(struct cursor *c, uint64_t form, const struct unit *u,
		      const struct dwarf_line_strings *s, uint64_t *num, const char **str)
{
	*num = 0;
	*str = NULL;
	switch (form) {
	case FORM_string:
		*str = cstr(c);
		return true;
	case FORM_line_strp:
	case FORM_strp: {
		uint64_t off = rd(c, u->dwarf64 ? 8 : 4);
		*str = form == FORM_strp ? section_str(s->str, s->str_len, off)
					 : section_str(s->line_str, s->line_str_len, off);
		return true;
	}
	case FORM_udata:
		*num = uleb(c);
		return true;
	case FORM_sdata:
		sleb(c);
		return true;
	case FORM_data1:
	case FORM_flag:
		*num = rd(c, 1);
		return true;
	case FORM_data2:
		*num = rd(c, 2);
		return true;
	case FORM_data4:
		*num = rd(c, 4);
		return true;
	case FORM_data8:
		*num = rd(c, 8);
		return true;
	case FORM_sec_offset:
		*num = rd(c, u->dwarf64 ? 8 : 4);
		return true;
	case FORM_data16:
		skip(c, 16);
		return true;
	case FORM_block1:
		skip(c, rd(c, 1));
		return true;
	case FORM_block2:
		skip(c, rd(c, 2));
		return true;
	case FORM_block4:
		skip(c, rd(c, 4));
		return true;
	case FORM_block:
		skip(c, uleb(c));
		return true;
	default: /* strx forms need .debug_str_offsets, found through .debug_info: not read */
		return false;
	}
}

/* A DWARF 5 directory or file table: entry formats, then the entries. */
static bool read_entries_v5(struct cursor *c, const struct unit *u, const struct dwarf_line_strings *s,
			    struct file_entry **out, size_t *nout)
{
	uint64_t types[MAX_FORMATS], forms[MAX_FORMATS];
	uint8_t nformats = (uint8_t)rd(c, 1);
	if (nformats > MAX_FORMATS)
		return false;
	for (uint8_t i = 0; i < nformats; i++) {
		types[i] = uleb(c);
		forms[i] = uleb(c);
	}
	uint64_t n = uleb(c);
	/* Every allowed form takes at least a byte: more entries than bytes left is a lie. */
	if (c->bad || (n && !nformats) || n > (uint64_t)(c->end - c->p))
		return false;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return false;
	*nout = n;
	for (uint64_t e = 0; e < n; e++) {
		for (uint8_t i = 0; i < nformats; i++) {
			uint64_t num;
			const char *str;
			if (!read_form(c, forms[i], u, s, &num, &str))
				return false;
			if (types[i] == LNCT_path)
				(*out)[e].name = str;
			else if (types[i] == LNCT_directory_index)
				(*out)[e].dir = num;
		}
	}
	return !c->bad;
}

/* DWARF 2-4: include_directories, then file_names, each ended by an empty name. */
static bool read_tables_v4(struct cursor *c, struct unit *u)
{
	struct cursor scan = *c;
	size_t ndirs = 0, nfiles = 0;
	for (const char *s; (s = cstr(&scan)) && *s;)
		ndirs++;
	for (const char *s; (s = cstr(&scan)) && *s; nfiles++) {
		uleb(&scan);
		uleb(&scan);
		uleb(&scan);
	}
	if (scan.bad)
		return false;
	u->dirs = calloc(ndirs ? ndirs : 1, sizeof(*u->dirs));
	u->files = calloc(nfiles ? nfiles : 1, sizeof(*u->files));
	if (!u->dirs || !u->files)
		return false;
	for (size_t i = 0; i < ndirs; i++)
		u->dirs[i] = cstr(c);
	cstr(c);
	for (size_t i = 0; i < nfiles; i++) {
		u->files[i].name = cstr(c);
		u->files[i].dir = uleb(c);
		uleb(c);
		uleb(c);
	}
	u->ndirs = ndirs;
	u->nfiles = nfiles;
	return !c->bad;
}

/* Parses the header of the unit at [p, end); the program is then u->prog. */
static bool read_header(const uint8_t *p, size_t len, const struct dwarf_line_strings *s, struct unit *u)
{
	struct cursor c = { p, p + len, false };
	uint64_t length = rd(&c, 4);
	if (length == 0xffffffff) {
		u->dwarf64 = true;
		length = rd(&c, 8);
	} else if (length >= 0xfffffff0) {
		return false;
	}
	if (c.bad)
		return false;
	if (length < (uint64_t)(c.end - c.p))
		c.end = c.p + length;
	u->version = (int)rd(&c, 2);
	if (u->version < 2 || u->version > 5)
		return false;
	if (u->version >= 5) {
		rd(&c, 1); /* address_size: DW_LNE_set_address says its own */
		rd(&c, 1); /* segment_selector_size */
	}
	uint64_t header_length = rd(&c, u->dwarf64 ? 8 : 4);
	if (c.bad || header_length > (uint64_t)(c.end - c.p))
		return false;
	u->prog = (struct cursor){ c.p + header_length, c.end, false };
	c.end = c.p + header_length;
	u->min_inst = (uint8_t)rd(&c, 1);
	if (u->version >= 4)
		rd(&c, 1); /* maximum_operations_per_instruction: 1 outside VLIW */
	rd(&c, 1);	   /* default_is_stmt: every row counts, as for libdw and addr2line */
	u->line_base = (int8_t)rd(&c, 1);
	u->line_range = (uint8_t)rd(&c, 1);
	u->opcode_base = (uint8_t)rd(&c, 1);
	if (c.bad || !u->line_range || !u->opcode_base || !cursor_has(&c, u->opcode_base - 1u))
		return false;
	u->std_lengths = c.p;
	c.p += u->opcode_base - 1u;
	if (u->version < 5)
		return read_tables_v4(&c, u);
	struct file_entry *dirs = NULL;
	size_t ndirs = 0;
	bool ok = read_entries_v5(&c, u, s, &dirs, &ndirs) &&
		  (u->dirs = calloc(ndirs ? ndirs : 1, sizeof(*u->dirs)));
	for (size_t i = 0; ok && i < ndirs; i++) /* a directory has a path only */
		u->dirs[i] = dirs[i].name;
	free(dirs);
	u->ndirs = ok ? ndirs : 0;
	return ok && read_entries_v5(&c, u, s, &u->files, &u->nfiles);
}

static char *join(const char *a, const char *b, const char *c)
{
	size_t len = strlen(a) + 1 + strlen(b) + 1 + (c ? strlen(c) : 0) + 1;
	char *out = malloc(len);
	if (out)
		snprintf(out, len, c ? "%s/%s/%s" : "%s/%s", a, b, c);
	return out;
}

/* The path of file index idx (as DW_LNS_set_file gives it), NULL if there is none. */
static const char *unit_path(struct unit *u, uint64_t idx, struct dwarf_line_files *files)
{
	/* DWARF 5 counts files from 0, earlier versions from 1 (and directories likewise, 0 being
	 * the compilation directory, which only .debug_info names). */
	uint64_t i = u->version >= 5 ? idx : idx - 1;
	if (i >= u->nfiles || !u->files[i].name)
		return NULL;
	if (!u->paths && !(u->paths = calloc(u->nfiles, sizeof(*u->paths))))
		return NULL;
	if (u->paths[i])
		return u->paths[i];
	const struct file_entry *f = &u->files[i];
	uint64_t d = u->version >= 5 ? f->dir : f->dir - 1;
	const char *dir = f->name[0] != '/' && d < u->ndirs ? u->dirs[d] : NULL;
	char *path;
	if (!dir || !*dir)
		path = strdup(f->name);
	else if (dir[0] != '/' && u->version >= 5 && d != 0 && u->ndirs && u->dirs[0] && u->dirs[0][0] == '/')
		path = join(u->dirs[0], dir, f->name); /* relative to the compilation directory */
	else
		path = join(dir, f->name, NULL);
	u->paths[i] = path ? files_intern(files, path) : NULL;
	free(path);
	return u->paths[i];
}

struct state {
	uint64_t addr, file;
	uint64_t line; /* wraps where a hostile program makes it negative: then out of range */
};

struct answer_ctx {
	struct dwarf_line_query *q;
	size_t n;
	/* The first query at or after i not answered yet is found by following next from i
	 * (next[i] == i: unanswered; next[n] == n): rows covering answered queries again, as a
	 * hostile program's may, then cost no more than those that do not. */
	size_t *next;
	struct dwarf_line_files *files;
};

static size_t first_unanswered(struct answer_ctx *a, size_t i)
{
	size_t root = i;
	while (a->next[root] != root)
		root = a->next[root];
	while (a->next[i] != root) { /* shorten the path for the next search */
		size_t up = a->next[i];
		a->next[i] = root;
		i = up;
	}
	return root;
}

/* Answers the queries in [row.addr, next) with row. */
static void answer(struct answer_ctx *a, struct unit *u, const struct state *row, uint64_t next)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->q[mid].addr < row->addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = first_unanswered(a, lo); i < a->n && a->q[i].addr < next;
	     i = first_unanswered(a, i)) {
		const char *path = unit_path(u, row->file, a->files);
		if (!path)
			return;
		a->next[i] = i + 1;
		a->q[i].file = path;
		a->q[i].line = row->line <= UINT32_MAX ? (uint32_t)row->line : 0;
	}
}

/* Runs the unit's program: each row answers the addresses up to the next row of its sequence. */
static void run_program(struct unit *u, struct answer_ctx *a)
{
	struct cursor *c = &u->prog;
	const struct state initial = { .addr = 0, .file = 1, .line = 1 };
	struct state st = initial, prev = initial;
	bool have_prev = false;
	while (!c->bad && c->p < c->end) {
		uint8_t op = (uint8_t)rd(c, 1);
		bool emit = false, end_seq = false;
		if (op >= u->opcode_base) {
			unsigned adj = op - u->opcode_base;
			st.addr += (uint64_t)(adj / u->line_range) * u->min_inst;
			st.line += (uint64_t)(int64_t)(u->line_base + (int)(adj % u->line_range));
			emit = true;
		} else if (op == 0) {
			uint64_t len = uleb(c);
			if (!len || len > (uint64_t)(c->end - c->p))
				return;
			struct cursor ext = { c->p, c->p + len, false };
			c->p += len;
			uint8_t sub = (uint8_t)rd(&ext, 1);
			if (sub == LNE_end_sequence)
				emit = end_seq = true;
			else if (sub == LNE_set_address && len - 1 <= 8)
				st.addr = rd(&ext, (size_t)(len - 1));
		} else {
			switch (op) {
			case LNS_copy:
				emit = true;
				break;
			case LNS_advance_pc:
				st.addr += uleb(c) * u->min_inst;
				break;
			case LNS_advance_line:
				st.line += (uint64_t)sleb(c);
				break;
			case LNS_set_file:
				st.file = uleb(c);
				break;
			case LNS_const_add_pc:
				st.addr += (uint64_t)((255u - u->opcode_base) / u->line_range) * u->min_inst;
				break;
			case LNS_fixed_advance_pc:
				st.addr += rd(c, 2);
				break;
			case LNS_set_column:
				uleb(c);
				break;
			case LNS_negate_stmt:
			case LNS_set_basic_block:
				break;
			default: /* opcodes this reader does not know: skip their ULEB operands */
				for (uint8_t i = 0; i < u->std_lengths[op - 1]; i++)
					uleb(c);
			}
		}
		if (!emit || c->bad)
			continue;
		if (have_prev && prev.addr < st.addr)
			answer(a, u, &prev, st.addr);
		prev = st;
		have_prev = !end_seq;
		if (end_seq)
			st = initial;
	}
}

int dwarf_lines_lookup(dwarf_line_next_unit next, void *ctx, const struct dwarf_line_strings *strs,
		       struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files)
{
	for (size_t i = 0; i < n; i++) {
		q[i].file = NULL;
		q[i].line = 0;
		if (i && q[i].addr < q[i - 1].addr)
			return -EINVAL;
	}
	struct answer_ctx a = { q, n, malloc((n + 1) * sizeof(size_t)), files };
	if (!a.next)
		return -ENOMEM;
	for (size_t i = 0; i <= n; i++)
		a.next[i] = i;
	const uint8_t *p;
	size_t len;
	int rc = 0;
	/* Once every query has its row, later units could not change it (the first read wins):
	 * the rest of the section is neither inflated nor run. */
	while (n && first_unanswered(&a, 0) < n && (rc = next(ctx, &p, &len)) > 0) {
		struct unit u = { 0 };
		if (read_header(p, len, strs, &u))
			run_program(&u, &a);
		unit_free(&u);
	}
	free(a.next);
	return n && rc < 0 ? rc : 0;
}

size_t dwarf_lines_unit_size(const uint8_t *p, size_t len)
{
	struct cursor c = { p, p + len, false };
	uint64_t length = rd(&c, 4);
	if (length == 0xffffffff)
		length = rd(&c, 8);
	if (c.bad)
		return len;
	size_t head = (size_t)(c.p - p);
	return length > len - head ? len : head + (size_t)length;
}

struct buffer_units {
	const uint8_t *p, *end;
};

static int buffer_next(void *ctx, const uint8_t **unit, size_t *len)
{
	struct buffer_units *b = ctx;
	if (b->p >= b->end)
		return 0;
	*unit = b->p;
	*len = dwarf_lines_unit_size(b->p, (size_t)(b->end - b->p));
	b->p += *len;
	return 1;
}

int dwarf_lines_lookup_buffer(const uint8_t *line, size_t len, const struct dwarf_line_strings *strs,
			      struct dwarf_line_query *q, size_t n, struct dwarf_line_files *files)
{
	struct buffer_units b = { line, line + len };
	return dwarf_lines_lookup(buffer_next, &b, strs, q, n, files);
}
