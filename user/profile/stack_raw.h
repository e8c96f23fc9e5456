/* SPDX-License-Identifier: Apache-2.0 */
/* Between the two halves of the stack profilers (private to user/profile/): the session
 * (stack_session.c: BPF lifecycle, generations, reading the maps) hands each counts entry with
 * its stacks to the builder (stack_profile.c: symbolizing into a struct prof). */
#ifndef GLIMPSE_STACK_RAW_H
#define GLIMPSE_STACK_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "profile/stack_profile.h"

struct symbolizer;
struct kernel_names;

struct raw_entry {
	struct profile_key key;
	struct profile_value val;
	uint64_t user[PROFILE_MAX_STACK_DEPTH], kern[PROFILE_MAX_STACK_DEPTH];
	int nuser, nkern;
	uint64_t *times; /* when each of val.count samples was taken; NULL: not all known */
};

/* What one collection read. */
struct raw_counts {
	struct raw_entry *e;
	size_t n;
	int64_t t0, t1; /* wall clock, ns since the epoch */
	struct profiler_stats stats;
	struct unwind_table_stats tables; /* the unwind tables loaded so far (unwind_tables.h) */
	int ksym_iter, ksym_slots;	  /* the kallsyms iterator (kallsyms_iter.h), -1: none */
};

/* Symbolizes rc (the user stacks' skipped callers put back) into a profile. The profile's
 * strings point into syms and kn: with owns_syms it frees syms, otherwise syms must outlive
 * it; kn NULL: the profile names its kernel frames with its own table, else kn must outlive it.
 * Returns 0 or -ENOMEM (syms is then freed if owned). */
int stack_profile_build(struct symbolizer *syms, bool owns_syms, struct kernel_names *kn, enum prof_kind kind,
			int hz, struct raw_counts *rc, struct stack_profile **out);

#endif
