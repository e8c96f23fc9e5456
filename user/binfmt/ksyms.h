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

#endif
