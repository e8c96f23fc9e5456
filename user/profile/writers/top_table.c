// SPDX-License-Identifier: Apache-2.0
#include "profile/writers/profile_writers.h"
#include "profile/writers/profile_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct fn {
	const char *name; /* owned by the string table */
	bool kernel;
	uint64_t flat, cum;
	size_t seen; /* 1 + index of the last sample counted in cum: recursion counts once */
};

static int cmp_fn(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;
	int c;

	if (x->flat != y->flat)
		return x->flat < y->flat ? 1 : -1;
	if ((c = strcmp(x->name, y->name)))
		return c;
	return (int)x->kernel - (int)y->kernel;
}

static double pct(uint64_t v, uint64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

struct table {
	struct strtab names;
	struct keymap ids;
	struct fn *fns;
	size_t nfns, cap;
};

/* Adds w to the function's cum (once per sample i) and, for the sample's innermost frame, to
 * its flat. True when out of memory. */
static bool count(struct table *t, const char *fname, bool kernel, uint64_t w, bool innermost, size_t i)
{
	int64_t name = strtab_intern(&t->names, fname);
	bool isnew;
	uint64_t *id = name < 0 ? NULL : keymap_get(&t->ids, (uint64_t)name, kernel, 0, t->nfns, &isnew);
	struct fn *fn;

	if (!id)
		return true;
	if (isnew) {
		if (t->nfns == t->cap) {
			size_t ncap = t->cap ? t->cap * 2 : 64;
			struct fn *nf = realloc(t->fns, ncap * sizeof(*nf));

			if (!nf)
				return true;
			t->fns = nf;
			t->cap = ncap;
		}
		t->fns[t->nfns++] = (struct fn){ .name = t->names.strs[name], .kernel = kernel };
	}
	fn = &t->fns[*id];
	if (innermost)
		fn->flat += w;
	if (fn->seen != i + 1) {
		fn->cum += w;
		fn->seen = i + 1;
	}
	return false;
}

void top_print(const struct prof *p, FILE *out, int n)
{
	struct table t = { 0 };
	size_t shown;
	uint64_t total = 0;
	char buf[PROF_NAME_MAX];
	bool oom = false;

	strtab_init(&t.names);
	for (size_t i = 0; i < p->nsamples && !oom; i++) {
		const struct prof_sample *s = &p->samples[i];
		uint64_t w = prof_sample_weight(p, s);

		total += w;
		for (uint32_t j = 0; j < s->nframes && !oom; j++) {
			const struct prof_frame *f = &s->frames[j];

			/* The frame's inlined functions (innermost first), then the frame itself. */
			for (uint32_t k = 0; k <= f->ninlined && !oom; k++) {
				const char *name = k < f->ninlined ? f->inlined[k].func
								   : prof_frame_name(p, f, buf, sizeof(buf));

				oom = count(&t, name, f->kernel, w, j == 0 && k == 0, i);
			}
		}
	}
	if (oom) {
		fprintf(out, "top: out of memory\n");
		goto out;
	}
	if (t.nfns)
		qsort(t.fns, t.nfns, sizeof(*t.fns), cmp_fn);

	shown = n > 0 && (size_t)n < t.nfns ? (size_t)n : t.nfns;
	fprintf(out, "Total: %" PRIu64 " %s in %zu functions, showing %zu\n", total, prof_weight_unit(p),
		t.nfns, shown);
	fprintf(out, "%10s %7s %10s %7s  %s\n", "flat", "flat%", "cum", "cum%", "function");
	for (size_t i = 0; i < shown; i++)
		fprintf(out, "%10" PRIu64 " %6.2f%% %10" PRIu64 " %6.2f%%  %s%s\n", t.fns[i].flat,
			pct(t.fns[i].flat, total), t.fns[i].cum, pct(t.fns[i].cum, total), t.fns[i].name,
			t.fns[i].kernel ? " [k]" : "");
out:
	free(t.fns);
	keymap_free(&t.ids);
	strtab_free(&t.names);
}
