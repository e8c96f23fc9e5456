// SPDX-License-Identifier: Apache-2.0
#include "profile/kernel_names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "binfmt/ksyms.h"
#include "profile/kallsyms_iter.h"

struct kernel_names {
	char *path;
	struct ksyms_table table; /* whole: every function read once (table.n 0: per address) */
	uint64_t *addrs;	  /* sorted, unique */
	char **names;		  /* by addrs' index; NULL: not named (asked once all the same) */
	size_t n, cap;
	size_t passes;
	bool unreadable;
	int iter_prog, iter_slots; /* the kallsyms iterator (kallsyms_iter.h); -1: none */
};

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

struct kernel_names *kernel_names_new(const char *kallsyms_path, bool whole)
{
	struct kernel_names *kn = calloc(1, sizeof(*kn));
	if (kn && !(kn->path = strdup(kallsyms_path))) {
		free(kn);
		return NULL;
	}
	if (kn)
		kn->iter_prog = kn->iter_slots = -1;
	/* Unreadable now: per address, where the first names asked say why. */
	if (kn && whole && !ksyms_table_load(kallsyms_path, &kn->table))
		kn->passes++;
	return kn;
}

static bool known(const struct kernel_names *kn, uint64_t addr)
{
	return kn->n && bsearch(&addr, kn->addrs, kn->n, sizeof(uint64_t), u64_cmp);
}

/* Sorted unique addresses of addrs not known yet; *nnew of them (NULL: none or no memory). */
static uint64_t *unknown_addresses(const struct kernel_names *kn, const uint64_t *addrs, size_t n,
				   size_t *nnew)
{
	uint64_t *fresh = malloc((n ? n : 1) * sizeof(*fresh));
	*nnew = 0;
	if (!fresh)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!known(kn, addrs[i]))
			fresh[(*nnew)++] = addrs[i];
	qsort(fresh, *nnew, sizeof(*fresh), u64_cmp);
	size_t u = 0;
	for (size_t i = 0; i < *nnew; i++)
		if (u == 0 || fresh[u - 1] != fresh[i])
			fresh[u++] = fresh[i];
	*nnew = u;
	return fresh;
}

/* Merges the sorted new addresses and their names into the sorted table. */
static int merge(struct kernel_names *kn, const uint64_t *addrs, char **names, size_t n)
{
	if (kn->n + n > kn->cap) {
		size_t cap = kn->cap ? kn->cap : 256;
		while (cap < kn->n + n)
			cap *= 2;
		uint64_t *a = realloc(kn->addrs, cap * sizeof(*a));
		if (a)
			kn->addrs = a;
		char **nm = a ? realloc(kn->names, cap * sizeof(*nm)) : NULL;
		if (!nm)
			return -ENOMEM;
		kn->names = nm;
		kn->cap = cap;
	}
	size_t i = kn->n, j = n, k = kn->n + n;
	while (j > 0) { /* from the back, in place */
		if (i > 0 && kn->addrs[i - 1] > addrs[j - 1]) {
			kn->addrs[--k] = kn->addrs[--i];
			kn->names[k] = kn->names[i];
		} else {
			kn->addrs[--k] = addrs[--j];
			kn->names[k] = names[j];
		}
	}
	kn->n += n;
	return 0;
}

int kernel_names_add(struct kernel_names *kn, const uint64_t *addrs, size_t n)
{
	if (kn->table.n)
		return 0; /* every function is known */
	size_t nnew;
	uint64_t *fresh = unknown_addresses(kn, addrs, n, &nnew);
	char **names = fresh && nnew ? calloc(nnew, sizeof(*names)) : NULL;
	int err = 0;
	if (!fresh || (nnew && !names)) {
		err = -ENOMEM;
		goto out;
	}
	if (!nnew)
		goto out;
	kn->passes++;
	/* The iterator when it runs; any failure of it (none, a batch too large, the kernel hiding
	 * values, an error) leaves the answer to the file, which says the same or why not. */
	err = kallsyms_iter_resolve(kn->iter_prog, kn->iter_slots, fresh, nnew, names);
	if (err) {
		if (err != -EOPNOTSUPP)
			log_debug("the kallsyms iterator failed (%s): reading %s", strerror(-err), kn->path);
		err = ksyms_resolve(kn->path, fresh, nnew, names);
	}
	if (err && !kn->unreadable)
		log_warn("kernel frames stay unnamed: %s is unreadable or hides addresses (%s)", kn->path,
			 strerror(-err));
	kn->unreadable = err != 0;
	if (merge(kn, fresh, names, nnew)) {
		for (size_t i = 0; i < nnew; i++)
			free(names[i]);
		err = -ENOMEM;
	}
out:
	free(names);
	free(fresh);
	return err;
}

void kernel_names_use_iterator(struct kernel_names *kn, int prog_fd, int slots_fd)
{
	kn->iter_prog = prog_fd;
	kn->iter_slots = slots_fd;
}

const char *kernel_names_find(const struct kernel_names *kn, uint64_t addr)
{
	if (kn->table.n)
		return ksyms_table_find(&kn->table, addr);
	uint64_t *at = kn->n ? bsearch(&addr, kn->addrs, kn->n, sizeof(uint64_t), u64_cmp) : NULL;
	return at ? kn->names[at - kn->addrs] : NULL;
}

bool kernel_names_readable(const struct kernel_names *kn)
{
	return !kn->unreadable;
}

size_t kernel_names_passes(const struct kernel_names *kn)
{
	return kn->passes;
}

void kernel_names_free(struct kernel_names *kn)
{
	if (!kn)
		return;
	for (size_t i = 0; i < kn->n; i++)
		free(kn->names[i]);
	free(kn->names);
	free(kn->addrs);
	ksyms_table_free(&kn->table);
	free(kn->path);
	free(kn);
}
