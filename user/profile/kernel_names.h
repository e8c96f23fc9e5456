/* SPDX-License-Identifier: Apache-2.0 */
/* Names of the kernel addresses a profile's stacks hold. A one-shot profile names its batch
 * in one pass over /proc/kallsyms (binfmt/ksyms.h: tens of milliseconds of CPU, most of it the
 * kernel formatting the file), keeping only the names asked for. A continuous profile would pay
 * that pass every interval — its stacks keep reaching kernel functions not seen before — so it
 * reads every function once, whole (ksyms_table: ~4.5 MB for 120k functions), and names
 * without passes from then on. A one-shot pass walks the kernel's list with a BPF iterator
 * where the profiler loaded one (profile/kallsyms_iter.h): the same names, no formatting. */
#ifndef GLIMPSE_KERNEL_NAMES_H
#define GLIMPSE_KERNEL_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kernel_names;

struct kernel_names *kernel_names_new(const char *kallsyms_path, bool whole);
/* Per-address passes walk the kernel's symbols with the kallsyms iterator prog_fd (its slots map
 * slots_fd; profile/kallsyms_iter.h) instead of reading the file, when the iterator runs; the
 * descriptors stay the caller's and must stay open while names are added. */
void kernel_names_use_iterator(struct kernel_names *kn, int prog_fd, int slots_fd);
/* Names the addresses not known yet (one pass, if any; none when whole). 0, or -errno when
 * kallsyms is unreadable or hides addresses (logged once; the addresses stay unnamed). */
int kernel_names_add(struct kernel_names *kn, const uint64_t *addrs, size_t n);
/* addr's "function" or "function [module]", valid until kernel_names_free; NULL if unknown. */
const char *kernel_names_find(const struct kernel_names *kn, uint64_t addr);
/* Whether kallsyms could be read (pprof's has_functions for the kernel mapping). */
bool kernel_names_readable(const struct kernel_names *kn);
/* Passes over kallsyms so far (reading it whole included). */
size_t kernel_names_passes(const struct kernel_names *kn);
void kernel_names_free(struct kernel_names *kn);

#endif
