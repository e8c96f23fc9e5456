// SPDX-License-Identifier: Apache-2.0
#include "binfmt/ksyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Farther than this from the nearest symbol below, an address is not inside that symbol. */
#define KSYM_MAX_DISTANCE (1u << 20)

#define KSYM_NAME_MAX	  400

struct slot {
	uint64_t addr;
	char name[KSYM_NAME_MAX];
};

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
	FILE *f = fopen(kallsyms_path, "re");
	if (!f)
		return -errno;
	uint64_t *wanted = malloc(n * sizeof(*wanted));
	struct slot *slots = calloc(n, sizeof(*slots));
	if (!wanted || !slots) {
		free(wanted);
		free(slots);
		fclose(f);
		return -ENOMEM;
	}
	memcpy(wanted, addrs, n * sizeof(*wanted));
	qsort(wanted, n, sizeof(*wanted), u64_cmp);
	char line[512];
	bool any_address = false;
	while (fgets(line, sizeof(line), f)) {
		uint64_t addr;
		char type, name[256], module[128] = "";
		/* Kernel names are short; module names shorter still. */
		if (sscanf(line, "%" SCNx64 " %c %255s [%127[^]]]", &addr, &type, name, module) < 3)
			continue;
		if (addr)
			any_address = true;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
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
		if (module[0])
			snprintf(slots[lo].name, sizeof(slots[lo].name), "%s [%s]", name, module);
		else
			snprintf(slots[lo].name, sizeof(slots[lo].name), "%s", name);
	}
	fclose(f);
	if (!any_address) {
		free(wanted);
		free(slots);
		return -EPERM;
	}
	for (size_t j = 1; j < n; j++)
		if (!slots[j].name[0] && slots[j - 1].name[0])
			slots[j] = slots[j - 1];
	for (size_t i = 0; i < n; i++) {
		uint64_t *at = bsearch(&addrs[i], wanted, n, sizeof(*wanted), u64_cmp);
		struct slot *s = &slots[at - wanted];
		if (s->name[0] && addrs[i] >= s->addr && addrs[i] - s->addr < KSYM_MAX_DISTANCE)
			names[i] = strdup(s->name);
	}
	free(wanted);
	free(slots);
	return 0;
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

static int pool_add(struct ksyms_table *t, size_t *cap, const char *name, const char *module, uint32_t *off)
{
	size_t len = strlen(name) + (module[0] ? strlen(module) + 3 : 0) + 1;
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
	if (module[0])
		snprintf(t->pool + t->pool_len, len, "%s [%s]", name, module);
	else
		memcpy(t->pool + t->pool_len, name, len);
	t->pool_len += len;
	return 0;
}

int ksyms_table_load(const char *kallsyms_path, struct ksyms_table *t)
{
	memset(t, 0, sizeof(*t));
	FILE *f = fopen(kallsyms_path, "re");
	if (!f)
		return -errno;
	size_t cap = 0, pool_cap = 0;
	struct ksym_entry *v = NULL;
	char line[512];
	int err = 0;
	while (fgets(line, sizeof(line), f)) {
		uint64_t addr;
		char type, name[256], module[128] = "";
		if (sscanf(line, "%" SCNx64 " %c %255s [%127[^]]]", &addr, &type, name, module) < 3 || !addr)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (t->n == cap) {
			struct ksym_entry *grown = realloc(v, (cap = cap ? 2 * cap : 4096) * sizeof(*v));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			v = grown;
		}
		if ((err = pool_add(t, &pool_cap, name, module, &v[t->n].name)))
			break;
		v[t->n++].addr = addr;
	}
	fclose(f);
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
