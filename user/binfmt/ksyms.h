/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel symbols from /proc/kallsyms, resolved in one streaming pass for a batch of
 * addresses: memory stays proportional to the addresses asked for, not to the kernel's
 * ~100k symbols. */
#ifndef GLIMPSE_KSYMS_H
#define GLIMPSE_KSYMS_H

#include <stddef.h>
#include <stdint.h>

/* For each addrs[i], names[i] becomes a malloc'd "function" (or "function [module]") or NULL.
 * Returns 0, or -errno if kallsyms is unreadable / hidden (kptr_restrict). */
int ksyms_resolve(const char *kallsyms_path, const uint64_t *addrs, size_t n, char **names);

/* The pass's picks, by wanted address (wanted: the addresses sorted): slot j holds the highest
 * function at or below wanted[j] and above wanted[j - 1] (the first listed of several at one
 * address), or an empty name. ksyms_resolve's own pass fills them from /proc/kallsyms,
 * profile/kallsyms_iter.c's from a BPF iterator over the same list. */
#define KSYMS_SLOT_NAME 400 /* "name [module]": name cut to 255 bytes, module to 127 */
struct ksyms_slot {
	uint64_t addr;
	char name[KSYMS_SLOT_NAME];
};

/* names[i] for each addrs[i] (each one of wanted's n addresses) from the picks, as
 * ksyms_resolve answers: the nearest function below, within 1 MiB; slots is changed. */
void ksyms_slots_name(const uint64_t *wanted, struct ksyms_slot *slots, size_t n, const uint64_t *addrs,
		      char **names);

/* Every kernel function (text symbol) in memory, for a long-running profile that would
 * otherwise read kallsyms again each time: ~12 bytes a function plus its name (about 4.5 MB
 * for a kernel's 120k functions). */
struct ksym_entry;
struct ksyms_table {
	struct ksym_entry *entries; /* by address */
	size_t n;
	char *pool;
	size_t pool_len;
};

/* 0, or -errno if kallsyms is unreadable / hidden (kptr_restrict). */
int ksyms_table_load(const char *kallsyms_path, struct ksyms_table *t);
/* addr's "function" or "function [module]" as ksyms_resolve names it; NULL if none. */
const char *ksyms_table_find(const struct ksyms_table *t, uint64_t addr);
void ksyms_table_free(struct ksyms_table *t);

#endif
