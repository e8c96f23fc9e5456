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
