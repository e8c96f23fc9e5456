/* SPDX-License-Identifier: Apache-2.0 */
/* The off-CPU profiler: how long the targets' threads spend blocked, and where
 * (bpf/offcpu.bpf.c on sched_switch); the lifecycle and the collected profile (kind
 * PROF_OFFCPU, sample values in nanoseconds) are stack_profile.h's. */
#ifndef GLIMPSE_OFFCPU_PROFILER_H
#define GLIMPSE_OFFCPU_PROFILER_H

#include "profile/stack_profile.h"

/* Threads of the targets that can be off CPU at the same time (the kernel's pending table). */
#define OFFCPU_MAX_PENDING_PIDS 16384
#define OFFCPU_MAX_PENDING_ALL	65536

/* Runs until duration, a signal, or every target exiting. Returns 0 or an exit code
 * (exit_codes.h) after logging the reason. */
int offcpu_profiler_run(const struct profiler_opts *opts, struct stack_profile **out);

#endif
