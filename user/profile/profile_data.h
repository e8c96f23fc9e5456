/* SPDX-License-Identifier: Apache-2.0 */
/* In-memory profile: what the profiler collects and what every profile writer
 * (pprof, folded, SVG flame graph, top table) reads. Writers never touch BPF maps. */
#ifndef GLIMPSE_PROFILE_DATA_H
#define GLIMPSE_PROFILE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum prof_kind {
	PROF_CPU,    /* values: samples/count, cpu/nanoseconds */
	PROF_OFFCPU, /* values: samples/count, offcpu/nanoseconds */
};

/* The file name of the kernel's mapping, as perf and pprof name it. */
#define PROF_KERNEL_FILE "[kernel.kallsyms]"

/* A loaded object (executable, shared library, kernel) a frame belongs to. */
struct prof_mapping {
	uint64_t start, limit, file_offset;
	const char *file;     /* path as the target sees it; PROF_KERNEL_FILE for the kernel */
	const char *build_id; /* hex, may be NULL */
	bool has_functions, has_filenames, has_line_numbers;
	bool is_executable; /* a profiled process's own executable (pprof's "File:" is mapping 0) */
};

/* A function the compiler inlined at a frame's address (Go's inline trees), at the line
 * executing in it: the address's own line for the innermost, else its call into the next. */
struct prof_inline {
	const char *func;
	const char *file; /* NULL when unknown */
	uint32_t line;	  /* 0 when unknown */
};

/* One address of a stack (pprof: one Location). With inlined calls there it stands for several
 * source frames: inlined[0] (innermost) ... inlined[ninlined - 1], then func, into which they
 * were all inlined (pprof: Location.line in that order). */
struct prof_frame {
	const char *func; /* symbol name; NULL when unknown (writers print "[unknown]" or the module) */
	const char *file; /* source file; NULL when unknown */
	uint32_t line;	  /* 0 when unknown; with ninlined > 0, the line of the outermost inlined call */
	uint64_t addr;	  /* absolute address in the target (for kernel: kernel address) */
	int32_t mapping;  /* index into prof.mappings, -1 if none */
	bool kernel;
	uint32_t ninlined;
	const struct prof_inline *inlined; /* innermost first; NULL when ninlined == 0 */
};

/* The HTTP request a CPU sample's goroutine was serving (attach --profile; span_id 0: none).
 * Route and method come from the request's own event once it ended (request_labels.h); a
 * request still running when its profile was cut has its trace link only. */
struct prof_request {
	uint8_t trace_id[16];
	uint64_t span_id;
	const char *route;  /* http.route; NULL: unknown, "" when no route matched */
	const char *method; /* http.request.method; NULL: unknown */
};

struct prof_sample {
	uint32_t pid, tid;
	const char *process; /* process name (comm of the thread group leader) */
	const char *thread;  /* thread name */
	uint32_t nframes;
	struct prof_frame *frames; /* leaf first: frames[0] is where the CPU was */
	uint64_t count;		   /* number of samples */
	uint64_t value_ns;	   /* CPU: count * period; off-CPU: blocked nanoseconds */
	struct prof_request request;
	/* CPU, when recorded: the time of each of the count samples, ascending, ns since the
	 * epoch; NULL when not recorded (or not all known). */
	const uint64_t *times;
};

struct prof {
	enum prof_kind kind;
	uint64_t period_ns; /* sampling period (1e9 / Hz) for CPU profiles */
	int64_t time_ns;    /* wall-clock start, ns since the epoch */
	int64_t duration_ns;
	size_t nsamples;
	struct prof_sample *samples;
	size_t nmappings;
	struct prof_mapping *mappings;
};

/* pprof names a profile after its first mapping ("File:"): makes that the executable of the
 * first process that has one, rather than whichever module (libc, the kernel) the first sample
 * happened to be in. */
void prof_put_executable_first(struct prof *prof);

/* The by-route view (--by-route): p's samples with one more frame at the root naming the
 * request each served — "GET /burn/{kind}" ("[no route]" when none matched), "[request still
 * running at the cut]", "[no request]" — so a flame graph of it has one tower per route.
 * *out shares p's frames' strings and mappings; its samples, frames and the root names
 * (*names) are its own, freed by prof_by_route_free. 0 or -ENOMEM (nothing to free). */
#define PROF_ROUTE_ROOT_MAX 160
int prof_by_route(const struct prof *p, struct prof *out, char ***names, size_t *nnames);
void prof_by_route_free(struct prof *view, char **names, size_t nnames);

#endif
