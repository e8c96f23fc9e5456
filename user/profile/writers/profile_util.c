// SPDX-License-Identifier: Apache-2.0
#include "profile/writers/profile_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
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

void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
}

void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->slots);
	strtab_init(t);
}

static int strtab_grow(struct strtab *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 64;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = prof_hash(t->strs[i], strlen(t->strs[i]), 0) & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

int64_t strtab_intern(struct strtab *t, const char *s)
{
	size_t len = strlen(s), j;

	if ((t->n + 1) * 2 > t->nslots && strtab_grow(t))
		return -1;
	for (j = prof_hash(s, len, 0) & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1))
		if (!strcmp(t->strs[t->slots[j] - 1], s))
			return t->slots[j] - 1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **strs = realloc(t->strs, cap * sizeof(*strs));

		if (!strs)
			return -1;
		t->strs = strs;
		t->cap = cap;
	}
	if (!(t->strs[t->n] = strdup(s)))
		return -1;
	t->slots[j] = (uint32_t)t->n + 1;
	return t->n++;
}

void keymap_free(struct keymap *m)
{
	free(m->ents);
	memset(m, 0, sizeof(*m));
}

static size_t keymap_slot(const struct keymap_ent *ents, size_t cap, const uint64_t k[3])
{
	size_t j = prof_hash(k, 3 * sizeof(k[0]), 0) & (cap - 1);

	while (ents[j].used && memcmp(ents[j].k, k, 3 * sizeof(k[0])))
		j = (j + 1) & (cap - 1);
	return j;
}

uint64_t *keymap_get(struct keymap *m, uint64_t a, uint64_t b, uint64_t c, uint64_t def, bool *isnew)
{
	const uint64_t k[3] = { a, b, c };
	size_t j;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct keymap_ent *ents = calloc(cap, sizeof(*ents));

		if (!ents)
			return NULL;
		for (size_t i = 0; i < m->cap; i++)
			if (m->ents[i].used)
				ents[keymap_slot(ents, cap, m->ents[i].k)] = m->ents[i];
		free(m->ents);
		m->ents = ents;
		m->cap = cap;
	}
	j = keymap_slot(m->ents, m->cap, k);
	if (isnew)
		*isnew = !m->ents[j].used;
	if (!m->ents[j].used) {
		memcpy(m->ents[j].k, k, sizeof(k));
		m->ents[j].v = def;
		m->ents[j].used = true;
		m->n++;
	}
	return &m->ents[j].v;
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
