// SPDX-License-Identifier: Apache-2.0
#include "profile/writers/profile_util.h"
#include "profile/writers/profile_writers.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <unistd.h>

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	return x ^ (x >> 33);
}

uint64_t prof_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ len, w;

	/* A word at a time: the tables hash every frame name of every sample. */
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ mix(w)) * 0x9e3779b97f4a7c15ULL;
	}
	w = 0;
	memcpy(&w, p, len);
	return mix((h ^ mix(w)) * 0x9e3779b97f4a7c15ULL);
}

struct strtab_ent {
	uint32_t idx;
	UT_hash_handle hh; /* keyed by the owned copy in strs[idx] */
};

struct keymap_ent {
	uint64_t k[3];
	uint64_t v;
	UT_hash_handle hh;
};

void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
}

void strtab_free(struct strtab *t)
{
	struct strtab_ent *e, *tmp;
	HASH_ITER (hh, t->by_str, e, tmp) {
		HASH_DEL(t->by_str, e);
		free(e);
	}
	for (size_t i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	strtab_init(t);
}

int64_t strtab_intern(struct strtab *t, const char *s)
{
	size_t len = strlen(s);
	struct strtab_ent *e;
	HASH_FIND(hh, t->by_str, s, len, e);
	if (e)
		return e->idx;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **strs = realloc(t->strs, cap * sizeof(*strs));
		if (!strs)
			return -1;
		t->strs = strs;
		t->cap = cap;
	}
	if (!(e = calloc(1, sizeof(*e))) || !(t->strs[t->n] = strdup(s))) {
		free(e);
		return -1;
	}
	e->idx = (uint32_t)t->n;
	HASH_ADD_KEYPTR(hh, t->by_str, t->strs[t->n], len, e);
	return t->n++;
}

void keymap_free(struct keymap *m)
{
	struct keymap_ent *e, *tmp;
	HASH_ITER (hh, m->ents, e, tmp) {
		HASH_DEL(m->ents, e);
		free(e);
	}
	memset(m, 0, sizeof(*m));
}

uint64_t *keymap_get(struct keymap *m, uint64_t a, uint64_t b, uint64_t c, uint64_t def, bool *isnew)
{
	const uint64_t k[3] = { a, b, c };
	struct keymap_ent *e;
	HASH_FIND(hh, m->ents, k, sizeof(k), e);
	if (isnew)
		*isnew = !e;
	if (!e) {
		if (!(e = malloc(sizeof(*e))))
			return NULL;
		memcpy(e->k, k, sizeof(k));
		e->v = def;
		HASH_ADD(hh, m->ents, k, sizeof(e->k), e);
		m->n++;
	}
	return &e->v;
}

const char *prof_frame_name(const struct prof *p, const struct prof_frame *f, char *buf, size_t len)
{
	const struct prof_mapping *m;
	const char *base, *slash;
	size_t blen;

	if (f->func && *f->func)
		return f->func;
	if (f->mapping < 0 || (size_t)f->mapping >= p->nmappings || !p->mappings[f->mapping].file)
		return "[unknown]";
	m = &p->mappings[f->mapping];
	slash = strrchr(m->file, '/');
	base = slash ? slash + 1 : m->file;
	blen = strlen(base);
	/* "[kernel.kallsyms]" and "[vdso]" are bracketed already; avoid "[[vdso]+0x10]". */
	if (blen >= 2 && base[0] == '[' && base[blen - 1] == ']') {
		base++;
		blen -= 2;
	}
	/* The file offset, so that addr2line on the module finds the spot. */
	snprintf(buf, len, "[%.*s+0x%" PRIx64 "]", (int)blen, base, f->addr - m->start + m->file_offset);
	return buf;
}

int32_t prof_frame_mapping(const struct prof *p, struct prof_kernel_span *k, const struct prof_frame *f)
{
	if (f->mapping >= 0 && (size_t)f->mapping < p->nmappings)
		return f->mapping;
	if (!f->kernel)
		return PROF_NO_MAPPING;
	if (!k->looked) {
		k->looked = true;
		k->mapping = PROF_WRITER_KERNEL_MAPPING;
		k->min = UINT64_MAX;
		k->max = 0;
		for (size_t i = 0; i < p->nmappings && i <= INT32_MAX; i++)
			if (p->mappings[i].file && !strcmp(p->mappings[i].file, PROF_KERNEL_FILE)) {
				k->mapping = (int32_t)i;
				break;
			}
	}
	if (k->mapping == PROF_WRITER_KERNEL_MAPPING) {
		k->min = f->addr < k->min ? f->addr : k->min;
		k->max = f->addr > k->max ? f->addr : k->max;
	}
	return k->mapping;
}

bool prof_kernel_span_range(const struct prof_kernel_span *k, uint64_t *start, uint64_t *limit)
{
	if (!k->looked || k->mapping != PROF_WRITER_KERNEL_MAPPING || k->min > k->max)
		return false;
	*start = k->min;
	*limit = k->max + 1;
	return true;
}

uint64_t prof_sample_weight(const struct prof *p, const struct prof_sample *s)
{
	return p->kind == PROF_OFFCPU ? (s->value_ns + 500) / 1000 : s->count;
}

const char *prof_weight_unit(const struct prof *p)
{
	return p->kind == PROF_OFFCPU ? "us" : "samples";
}

const char *prof_process_name(const struct prof_sample *s)
{
	return s->process && *s->process ? s->process : "[unknown]";
}

void prof_request_ids_hex(const struct prof_request *r, char trace[33], char span[17])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		trace[2 * i] = hex[r->trace_id[i] >> 4];
		trace[2 * i + 1] = hex[r->trace_id[i] & 15];
	}
	trace[32] = 0;
	/* The span id as the tracer made it, a number; W3C writes its 8 bytes big-endian. */
	for (int i = 0; i < 16; i++)
		span[i] = hex[(r->span_id >> (60 - 4 * i)) & 15];
	span[16] = 0;
}

void profile_interval_path(char *buf, size_t len, const char *dir, const char *kind, const char *ext,
			   time_t when)
{
	char stamp[32];
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "%s/%s-%s.%s", dir, kind, stamp, ext);
}
