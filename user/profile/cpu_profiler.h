/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU profiler: a cpu-clock perf event per CPU samples the targets' stacks opts->hz times a
 * second (bpf/profile.bpf.c); the lifecycle and the collected profile are stack_profile.h's. */
#ifndef GLIMPSE_CPU_PROFILER_H
#define GLIMPSE_CPU_PROFILER_H

#include "profile/stack_profile.h"

/* Runs until duration, a signal, or every target exiting. Returns 0 or an exit code
 * (exit_codes.h) after logging the reason. */
int cpu_profiler_run(const struct profiler_opts *opts, struct stack_profile **out);
/* A continuous CPU profile (opts->continuous): stack_session_cut each interval. 0 or an exit
 * code after logging why. */
int cpu_profiler_open(const struct profiler_opts *opts, struct stack_session **out);

#endif
