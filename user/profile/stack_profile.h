/* SPDX-License-Identifier: Apache-2.0 */
/* Profiles of stacks counted in the kernel: CPU samples (cpu_profiler.h) and off-CPU time
 * (offcpu_profiler.h). Both BPF programs fill the same maps (bpf/stacks.bpf.h): counts by
 * (pid, tid, user stack, kernel stack), a hash-keyed stack store, a ring buffer announcing each
 * new process. The session (stack_session.c) runs the lifecycle they share — open → configure →
 * load → attach → poll (symbolizing processes as they are announced) → collect → one cleanup
 * path — around what differs, a backend: which BPF object, and how it attaches; the builder
 * (stack_profile.c) turns what was collected into a struct prof.
 *
 * One-shot (stack_profiler_run): collects once, after detaching. Continuous
 * (stack_session_open + stack_session_cut): the programs stay attached and each cut swaps the
 * maps' generation, so an interval costs reading what it counted, never a reload. */
#ifndef GLIMPSE_STACK_PROFILE_H
#define GLIMPSE_STACK_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile/profile_data.h"
#include "profile/unwind_tables.h"

#define PROFILER_MAX_PIDS 64

struct profiler_opts {
	pid_t pids[PROFILER_MAX_PIDS];
	int npids; /* 0 with all = true: every process */
	bool all;
	double duration_s; /* <= 0: until a signal */
	bool kernel_stacks, user_stacks;
	uint32_t max_stacks;	/* distinct stacks the kernel map holds */
	int hz;			/* CPU: samples per second per CPU */
	uint64_t min_block_ns;	/* off-CPU: shorter off-CPU intervals are not counted */
	bool include_preempted; /* off-CPU: count preempted (still runnable) time too */
	bool continuous;	/* CPU: sized for stack_session_cut (both generations) */
	/* CPU: label samples with the HTTP request their goroutine serves: the value size of the
	 * Go tracer's calls map (go_tracer_context_layout); 0: no labels. */
	uint32_t go_calls_value_size;
	/* With go_calls_value_size: that tracer's calls map (go_tracer_context_map_fds), installed
	 * for pids[0] before the programs attach; 0: none (stack_session_label_requests later). */
	int go_calls_fd;
	/* CPU: record when each sample was taken (prof_sample.times; OTLP's timestamps). */
	bool sample_times;
	/* One-shot profiles: called in the wait loop to drain another source (a Go tracer's
	 * events), waiting up to timeout_ms; NULL: none. */
	int (*poll_also)(void *ctx, int timeout_ms);
	void *poll_ctx;
};

struct profiler_stats {
	uint64_t samples; /* CPU: samples; off-CPU: off-CPU intervals counted */
	uint64_t stacks_full, counts_full, new_process_dropped;
	uint64_t pending_full, below_min; /* off-CPU only */
	uint64_t times_dropped;		  /* CPU: sample times the ring had no room for */
	struct unwind_walk_stats unwind;  /* user stacks walked with unwind tables */
};

struct stack_session;

/* What differs between the profilers. */
struct stack_backend {
	const char *what; /* "profiler", "off-CPU profiler": names it in messages */
	enum prof_kind kind;
	/* The probe that loads its BPF object in a child (stack_probe.h), and how many
	 * descriptors that hands back. */
	const char *probe;
	int nfds;
	/* Fills the probe's own parameters (STACK_PARAM_KIND0 and after) from o. */
	void (*params)(const struct profiler_opts *o, uint64_t *params);
	/* Attaches the loaded program (prog_fd), handing each descriptor that keeps it attached to
	 * stack_session_add_fd, then logs what is being profiled. Returns 0 or an exit code
	 * (exit_codes.h) after logging why. */
	int (*attach)(struct stack_session *s, int prog_fd, const struct profiler_opts *o);
};

/* The session keeps fd (a BPF link, a perf event) and closes it when profiling stops, the last
 * added first. Returns 0 or -ENOMEM (fd is closed then). */
int stack_session_add_fd(struct stack_session *s, int fd);

struct stack_profile; /* a collected profile and everything its strings point into */

/* Runs until duration, a signal, or every target exiting. Returns 0 or an exit code
 * (exit_codes.h) after logging the reason. */
int stack_profiler_run(const struct profiler_opts *opts, const struct stack_backend *backend,
		       struct stack_profile **out);
const struct prof *stack_profile_data(const struct stack_profile *sp);
const struct profiler_stats *stack_profile_stats(const struct stack_profile *sp);
/* Logs warnings about what limits the profile (truncated stacks, lost samples). */
void stack_profile_report_quality(const struct stack_profile *sp);
void stack_profile_free(struct stack_profile *sp);

/* Continuous profiles (opts->continuous): opens, loads and attaches. 0 or an exit code after
 * logging why. opts must outlive the session. */
int stack_session_open(const struct profiler_opts *opts, const struct stack_backend *backend,
		       struct stack_session **out);
/* Labels pid's samples with the requests its Go tracer sees (opts->go_calls_value_size set):
 * calls_fd is that tracer's calls map (go_tracer_context_map_fds). 0 or -errno. */
int stack_session_label_requests(struct stack_session *s, pid_t pid, int calls_fd);
/* Reads new processes' mappings and re-reads the targets' (dlopen); waits up to timeout_ms. */
int stack_session_poll(struct stack_session *s, int timeout_ms);
/* What was counted since the open or the previous cut, as a profile whose strings point into
 * the session (free it before closing the session). 0 or -errno. */
int stack_session_cut(struct stack_session *s, struct stack_profile **out);
/* Detaches and frees. NULL is fine. */
void stack_session_close(struct stack_session *s);

#endif
