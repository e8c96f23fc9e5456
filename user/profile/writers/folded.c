// SPDX-License-Identifier: Apache-2.0
#include "profile/writers/profile_writers.h"
#include "base/outfile.h"
#include "profile/writers/profile_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct line {
	char *s;
	size_t len, cap;
};

/* ';' separates frames and '\n' lines, so neither may appear inside a name. */
static int append(struct line *l, const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	if (l->len + n + m + 2 > l->cap) {
		size_t cap = (l->len + n + m + 2) * 2;
		char *s = realloc(l->s, cap);

		if (!s)
			return -ENOMEM;
		l->s = s;
		l->cap = cap;
	}
	if (l->len)
		l->s[l->len++] = ';';
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		l->s[l->len++] = c == ';' ? ':' : c == '\n' || c == '\r' ? ' ' : c;
	}
	memcpy(l->s + l->len, suffix, m + 1);
	l->len += m;
	return 0;
}

struct row {
	const char *s;
	uint64_t count;
};

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->s, ((const struct row *)b)->s);
}

int folded_fprint(const struct prof *p, FILE *out)
{
	struct strtab lines;
	struct line l = { 0 };
	uint64_t *counts = NULL;
	struct row *rows = NULL;
	size_t cap = 0;
	char buf[PROF_NAME_MAX];
	int err = 0;

	strtab_init(&lines);
	for (size_t i = 0; i < p->nsamples && !err; i++) {
		const struct prof_sample *s = &p->samples[i];
		int64_t idx;

		if (!prof_sample_weight(p, s))
			continue;
		l.len = 0;
		err = append(&l, prof_process_name(s), "");
		for (uint32_t j = s->nframes; j-- > 0 && !err;) {
			const struct prof_frame *f = &s->frames[j];

			err = append(&l, prof_frame_name(p, f, buf, sizeof(buf)), f->kernel ? "_[k]" : "");
			for (uint32_t k = f->ninlined; k-- > 0 && !err;) /* outermost inlined call first */
				err = append(&l, f->inlined[k].func, "");
		}
		if (err || (idx = strtab_intern(&lines, l.s)) < 0) {
			err = -ENOMEM;
			break;
		}
		if ((size_t)idx >= cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint64_t *c = realloc(counts, ncap * sizeof(*c));

			if (!c) {
				err = -ENOMEM;
				break;
			}
			memset(c + cap, 0, (ncap - cap) * sizeof(*c));
			counts = c;
			cap = ncap;
		}
		counts[idx] += prof_sample_weight(p, s);
	}
	if (!err && lines.n && !(rows = malloc(lines.n * sizeof(*rows))))
		err = -ENOMEM;
	if (!err) {
		for (size_t i = 0; i < lines.n; i++)
			rows[i] = (struct row){ lines.strs[i], counts[i] };
		if (lines.n)
			qsort(rows, lines.n, sizeof(*rows), cmp_row);
		for (size_t i = 0; i < lines.n; i++)
			fprintf(out, "%s %" PRIu64 "\n", rows[i].s, rows[i].count);
		if (ferror(out))
			err = -EIO;
	}
	free(rows);
	free(counts);
	free(l.s);
	strtab_free(&lines);
	return err;
}

static int emit(FILE *f, void *arg)
{
	return folded_fprint(arg, f);
}

int folded_write(const struct prof *p, const char *path)
{
	return outfile_write_whole(path, emit, (void *)p);
}
