// SPDX-License-Identifier: Apache-2.0
#include "binfmt/ksyms.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Farther than this from the nearest symbol below, an address is not inside that symbol. */
#define KSYM_MAX_DISTANCE (1u << 20) /* bpf/ksyms_iter.h's KSYMS_ITER_MAX_DISTANCE too */

/* Kernel names are short, module names shorter still: longer ones are cut. */
#define KSYM_NAME_CUT	255
#define KSYM_MODULE_CUT 127

/* kallsyms is ~5 MB of text: read in large blocks (a few dozen reads, not a thousand) and
 * parsed by hand; sscanf's per-line cost was a third of a one-shot profile's user time. */
#define KSYM_READ_BLOCK (256u * 1024)

/* One line: "ADDRESS TYPE NAME" or "ADDRESS TYPE NAME\t[MODULE]". name and module point into
 * the reader's buffer until the next call; longer names than the kernel writes are cut. */
struct ksym_line {
	uint64_t addr;
	char type;
	const char *name, *module; /* module: "" in the kernel itself */
	size_t name_len, module_len;
};

struct ksym_reader {
	int fd;
	char *buf;
	size_t start, end; /* unparsed bytes: buf[start, end) */
	bool eof;
};

static int reader_open(struct ksym_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	r->buf = malloc(KSYM_READ_BLOCK + 1);
	if (!r->buf) {
		close(r->fd);
		return -ENOMEM;
	}
	return 0;
}

static void reader_close(struct ksym_reader *r)
{
	free(r->buf);
	close(r->fd);
}

/* The next whole line (its newline replaced by NUL), or NULL at the end. A line longer than the
 * block is skipped: kallsyms' are short (an address, a type, a name of at most 512 bytes). */
static char *next_raw_line(struct ksym_reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			char *line = r->buf + r->start;
			*nl = '\0';
			r->start = (size_t)(nl - r->buf) + 1;
			return line;
		}
		if (r->eof) { /* a last line without its newline */
			if (r->start == r->end)
				return NULL;
			char *line = r->buf + r->start;
			r->buf[r->end] = '\0';
			r->start = r->end;
			return line;
		}
		if (r->start == 0 && r->end == KSYM_READ_BLOCK)
			r->end = 0; /* a line too long for the block: dropped */
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		ssize_t got;
		do
			got = read(r->fd, r->buf + r->end, KSYM_READ_BLOCK - r->end);
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			r->eof = true;
		else
			r->end += (size_t)got;
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses one line; false for a line that is not "ADDRESS TYPE NAME...". */
static bool parse_line(const char *p, struct ksym_line *out)
{
	uint64_t addr = 0;
	int digits = 0, d;
	while (is_space(*p))
		p++;
	for (; (d = hex_digit(*p)) >= 0; p++, digits++) {
		if (digits == 16)
			return false;
		addr = addr << 4 | (uint64_t)d;
	}
	if (!digits || !is_space(*p))
		return false;
	while (is_space(*p))
		p++;
	if (!*p)
		return false;
	out->type = *p++;
	if (!is_space(*p))
		return false;
	while (is_space(*p))
		p++;
	out->name = p;
	while (*p && !is_space(*p))
		p++;
	out->name_len = (size_t)(p - out->name);
	if (!out->name_len)
		return false;
	out->addr = addr;
	out->module = "";
	out->module_len = 0;
	while (is_space(*p))
		p++;
	if (*p == '[') {
		const char *m = ++p;
		while (*p && *p != ']')
			p++;
		out->module = m;
		out->module_len = (size_t)(p - m);
	}
	return true;
}

/* The next parsed line: 1, or 0 at the end. */
static int reader_next(struct ksym_reader *r, struct ksym_line *out)
{
	char *line;
	while ((line = next_raw_line(r)))
		if (parse_line(line, out))
			return 1;
	return 0;
}

static bool is_function(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* "name" or "name [module]" into dst, the name cut to KSYM_NAME_CUT bytes and the module to
 * KSYM_MODULE_CUT (and the whole to size). */
static void format_name(char *dst, size_t size, const struct ksym_line *l)
{
	int name_len = (int)(l->name_len < KSYM_NAME_CUT ? l->name_len : KSYM_NAME_CUT);
	int module_len = (int)(l->module_len < KSYM_MODULE_CUT ? l->module_len : KSYM_MODULE_CUT);
	if (module_len)
		snprintf(dst, size, "%.*s [%.*s]", name_len, l->name, module_len, l->module);
	else
		snprintf(dst, size, "%.*s", name_len, l->name);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Each symbol is filed under the smallest wanted address at or above it, keeping the highest
 * symbol per slot; the answer for an address is then its own slot, or the nearest filled slot
 * below it. Correct whatever order kallsyms lists symbols in. */
int ksyms_resolve(const char *kallsyms_path, const uint64_t *addrs, size_t n, char **names)
{
	for (size_t i = 0; i < n; i++)
		names[i] = NULL;
	if (n == 0)
		return 0;
	struct ksym_reader r;
	int err = reader_open(&r, kallsyms_path);
	if (err)
		return err;
	uint64_t *wanted = malloc(n * sizeof(*wanted));
	struct ksyms_slot *slots = calloc(n, sizeof(*slots));
	if (!wanted || !slots) {
		free(wanted);
		free(slots);
		reader_close(&r);
		return -ENOMEM;
	}
	memcpy(wanted, addrs, n * sizeof(*wanted));
	qsort(wanted, n, sizeof(*wanted), u64_cmp);
	bool any_address = false;
	struct ksym_line l;
	while (reader_next(&r, &l)) {
		uint64_t addr = l.addr;
		if (addr)
			any_address = true;
		if (!is_function(l.type))
			continue;
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (wanted[mid] < addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == n || (slots[lo].name[0] && slots[lo].addr >= addr))
			continue;
		slots[lo].addr = addr;
		format_name(slots[lo].name, sizeof(slots[lo].name), &l);
	}
	reader_close(&r);
	if (!any_address) {
		free(wanted);
		free(slots);
		return -EPERM;
	}
	ksyms_slots_name(wanted, slots, n, addrs, names);
	free(wanted);
	free(slots);
	return 0;
}

void ksyms_slots_name(const uint64_t *wanted, struct ksyms_slot *slots, size_t n, const uint64_t *addrs,
		      char **names)
{
	for (size_t j = 1; j < n; j++)
		if (!slots[j].name[0] && slots[j - 1].name[0])
			slots[j] = slots[j - 1];
	for (size_t i = 0; i < n; i++) {
		const uint64_t *at = bsearch(&addrs[i], wanted, n, sizeof(*wanted), u64_cmp);
		struct ksyms_slot *s = &slots[at - wanted];
		names[i] = NULL;
		if (s->name[0] && addrs[i] >= s->addr && addrs[i] - s->addr < KSYM_MAX_DISTANCE)
			names[i] = strdup(s->name);
	}
}

struct ksym_entry {
	uint64_t addr;
	uint32_t name; /* offset in the pool */
};

/* By address, then in the order listed (pool offsets grow with it). */
static int entry_cmp(const void *a, const void *b)
{
	const struct ksym_entry *x = a, *y = b;
	int c = u64_cmp(&x->addr, &y->addr);
	return c ? c : (x->name > y->name) - (x->name < y->name);
}

static int pool_add(struct ksyms_table *t, size_t *cap, const struct ksym_line *l, uint32_t *off)
{
	size_t name_len = l->name_len < KSYM_NAME_CUT ? l->name_len : KSYM_NAME_CUT;
	size_t module_len = l->module_len < KSYM_MODULE_CUT ? l->module_len : KSYM_MODULE_CUT;
	size_t len = name_len + (module_len ? module_len + 3 : 0) + 1;
	if (t->pool_len + len > UINT32_MAX)
		return -E2BIG;
	if (t->pool_len + len > *cap) {
		size_t grown_cap = *cap ? 2 * *cap : 1 << 20;
		while (grown_cap < t->pool_len + len)
			grown_cap *= 2;
		char *grown = realloc(t->pool, grown_cap);
		if (!grown)
			return -ENOMEM;
		t->pool = grown;
		*cap = grown_cap;
	}
	*off = (uint32_t)t->pool_len;
	format_name(t->pool + t->pool_len, len, l);
	t->pool_len += len;
	return 0;
}

int ksyms_table_load(const char *kallsyms_path, struct ksyms_table *t)
{
	memset(t, 0, sizeof(*t));
	struct ksym_reader r;
	int err = reader_open(&r, kallsyms_path);
	if (err)
		return err;
	size_t cap = 0, pool_cap = 0;
	struct ksym_entry *v = NULL;
	struct ksym_line l;
	while (reader_next(&r, &l)) {
		if (!l.addr || !is_function(l.type))
			continue;
		if (t->n == cap) {
			struct ksym_entry *grown = realloc(v, (cap = cap ? 2 * cap : 4096) * sizeof(*v));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			v = grown;
		}
		if ((err = pool_add(t, &pool_cap, &l, &v[t->n].name)))
			break;
		v[t->n++].addr = l.addr;
	}
	reader_close(&r);
	if (!err && !t->n)
		err = -EPERM; /* hidden (kptr_restrict) or empty */
	if (err) {
		free(v);
		ksyms_table_free(t);
		return err;
	}
	qsort(v, t->n, sizeof(*v), entry_cmp);
	t->entries = v;
	return 0;
}

const char *ksyms_table_find(const struct ksyms_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) { /* the first entry above addr */
		size_t mid = lo + (hi - lo) / 2;
		if (t->entries[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr - t->entries[lo - 1].addr >= KSYM_MAX_DISTANCE)
		return NULL;
	/* Aliases at one address: the first listed, as ksyms_resolve answers. */
	while (lo > 1 && t->entries[lo - 2].addr == t->entries[lo - 1].addr)
		lo--;
	return t->pool + t->entries[lo - 1].name;
}

void ksyms_table_free(struct ksyms_table *t)
{
	free(t->entries);
	free(t->pool);
	memset(t, 0, sizeof(*t));
}
