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

void top_print(const struct prof *p, FILE *out, int n)
{
	struct strtab names;
	struct keymap ids = { 0 };
	struct fn *fns = NULL;
	size_t nfns = 0, cap = 0, shown;
	uint64_t total = 0;
	char buf[PROF_NAME_MAX];
	bool oom = false;

	strtab_init(&names);
	for (size_t i = 0; i < p->nsamples && !oom; i++) {
		const struct prof_sample *s = &p->samples[i];
		uint64_t w = prof_sample_weight(p, s);

		total += w;
		for (uint32_t j = 0; j < s->nframes; j++) {
			const struct prof_frame *f = &s->frames[j];
			int64_t name = strtab_intern(&names, prof_frame_name(p, f, buf, sizeof(buf)));
			bool isnew;
			uint64_t *id = name < 0
					       ? NULL
					       : keymap_get(&ids, (uint64_t)name, f->kernel, 0, nfns, &isnew);
			struct fn *fn;

			if (!id) {
				oom = true;
				break;
			}
			if (isnew) {
				if (nfns == cap) {
					size_t ncap = cap ? cap * 2 : 64;
					struct fn *nf = realloc(fns, ncap * sizeof(*nf));

					if (!nf) {
						oom = true;
						break;
					}
					fns = nf;
					cap = ncap;
				}
				fns[nfns++] = (struct fn){ .name = names.strs[name], .kernel = f->kernel };
			}
			fn = &fns[*id];
			if (j == 0)
				fn->flat += w;
			if (fn->seen != i + 1) {
				fn->cum += w;
				fn->seen = i + 1;
			}
		}
	}
	if (oom) {
		fprintf(out, "top: out of memory\n");
		goto out;
	}
	if (nfns)
		qsort(fns, nfns, sizeof(*fns), cmp_fn);

	shown = n > 0 && (size_t)n < nfns ? (size_t)n : nfns;
	fprintf(out, "Total: %" PRIu64 " %s in %zu functions, showing %zu\n", total, prof_weight_unit(p),
		nfns, shown);
	fprintf(out, "%10s %7s %10s %7s  %s\n", "flat", "flat%", "cum", "cum%", "function");
	for (size_t i = 0; i < shown; i++)
		fprintf(out, "%10" PRIu64 " %6.2f%% %10" PRIu64 " %6.2f%%  %s%s\n", fns[i].flat,
			pct(fns[i].flat, total), fns[i].cum, pct(fns[i].cum, total), fns[i].name,
			fns[i].kernel ? " [k]" : "");
out:
	free(fns);
	keymap_free(&ids);
	strtab_free(&names);
}
