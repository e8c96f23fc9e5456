/* SPDX-License-Identifier: Apache-2.0 */
/* profile --by-route: a one-shot CPU profile of a Go process whose samples carry the HTTP
 * request each served. The Go tracer runs for the profile's duration with tracing on and
 * nothing exported (2 uprobe hits per request, as attach's): the profiler keys each sample
 * taken on a goroutine serving a request by that request's server span (the tracer's calls
 * map, shared with bpf/profile.bpf.c), and each request that ends gives its route and method
 * to those samples (request_labels.h). */
#ifndef GLIMPSE_CLI_PROFILE_ROUTES_H
#define GLIMPSE_CLI_PROFILE_ROUTES_H

#include <sys/types.h>

#include "profile/request_labels.h"
#include "profile/stack_profile.h"

struct profile_routes;

/* Reads pid's binary and starts its Go tracer; sets o's request labelling (go_calls_*) and
 * poll hook, which drains the tracer while profiling. 0 or an exit code after logging why. */
int profile_routes_start(pid_t pid, struct profiler_opts *o, struct profile_routes **out);
/* After profiling: reads the requests that ended last, then labels p's samples. */
void profile_routes_apply(struct profile_routes *pr, struct prof *p, struct request_labels_stats *st);
/* Server requests seen while profiling, and the uprobe hits they cost the target. */
uint64_t profile_routes_requests(const struct profile_routes *pr);
uint64_t profile_routes_probe_hits(const struct profile_routes *pr);
/* Detaches the tracer and frees; the labels applied stay valid until then. NULL is fine. */
void profile_routes_stop(struct profile_routes *pr);

#endif
