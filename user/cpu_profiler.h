/* The CPU profiler's lifecycle: open → configure → load → attach (perf event per CPU) →
 * poll → collect into a struct prof → one cleanup path. */
#ifndef GLIMPSE_CPU_PROFILER_H
#define GLIMPSE_CPU_PROFILER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile_data.h"

#define PROFILER_MAX_PIDS 64

struct cpu_profiler_opts {
	pid_t pids[PROFILER_MAX_PIDS];
	int npids;         /* 0 with all = true: every process */
	bool all;
	int hz;
	double duration_s; /* <= 0: until a signal */
	bool kernel_stacks, user_stacks;
	uint32_t max_stacks; /* distinct stacks the kernel map holds */
};

struct cpu_profiler_stats {
	uint64_t samples, stacks_full, counts_full, new_process_dropped;
	int processes;
};

struct cpu_profile; /* a collected profile and everything its strings point into */

/* Runs until duration, a signal, or every target exiting. Returns 0 or an exit code
 * (exit_codes.h) after logging the reason. */
int cpu_profiler_run(const struct cpu_profiler_opts *opts, struct cpu_profile **out);
const struct prof *cpu_profile_data(const struct cpu_profile *cp);
const struct cpu_profiler_stats *cpu_profile_stats(const struct cpu_profile *cp);
/* Logs warnings about what limits the profile (truncated stacks, lost samples). */
void cpu_profile_report_quality(const struct cpu_profile *cp);
void cpu_profile_free(struct cpu_profile *cp);

#endif
