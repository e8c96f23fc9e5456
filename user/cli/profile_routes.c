// SPDX-License-Identifier: Apache-2.0
#include "cli/profile_routes.h"

#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "cli/exit_codes.h"
#include "gotrace/call.h"
#include "gotrace/target.h"
#include "gotrace/tracer.h"

struct profile_routes {
	struct go_target target;
	struct gotrace_types types; /* where the target's ResponseWriters are */
	struct go_tracer *tracer;
	struct request_labels *labels;
	uint64_t requests;
};

static void on_event(void *ctx, const struct gotrace_event *ev)
{
	struct profile_routes *pr = ctx;
	struct call c;
	if (!call_decode(ev, NULL, &pr->types, &c) || c.kind != CALL_HTTP_SERVER)
		return;
	pr->requests++;
	request_labels_add(pr->labels, ev->span_id, c.route, c.method);
}

static int poll_tracer(void *ctx, int timeout_ms)
{
	struct profile_routes *pr = ctx;
	int n = go_tracer_poll(pr->tracer, timeout_ms);
	return n == -EINTR ? 0 : n;
}

int profile_routes_start(pid_t pid, struct profiler_opts *o, struct profile_routes **out)
{
	struct profile_routes *pr = calloc(1, sizeof(*pr));
	if (!pr || !(pr->labels = request_labels_new())) {
		free(pr);
		return GLIMPSE_EXIT_FAILURE;
	}
	int rc = go_target_open(pid, &pr->target);
	if (rc)
		goto fail;
	go_target_runtime_types(&pr->target.types, pid, &pr->types);
	/* Trace context makes the server spans the samples are keyed by; no goroutine lineage
	 * (no uprobe more): a sample is its own goroutine's. */
	struct go_tracer_opts topts = { .tracing = true, .types = &pr->types };
	if ((rc = go_tracer_start(&pr->target, &topts, on_event, pr, &pr->tracer)))
		goto fail;
	uint32_t calls_value = 0, inherited_value = 0;
	int calls_fd = -1, inherited_fd = -1;
	if (go_tracer_context_layout(&calls_value, &inherited_value)) {
		log_error("--by-route: cannot share the Go tracer's requests with the profiler");
		rc = GLIMPSE_EXIT_FAILURE;
		goto fail;
	}
	go_tracer_context_map_fds(pr->tracer, &calls_fd, &inherited_fd);
	o->go_calls_value_size = calls_value;
	o->go_calls_fd = calls_fd;
	o->poll_also = poll_tracer;
	o->poll_ctx = pr;
	*out = pr;
	return 0;
fail:
	profile_routes_stop(pr);
	return rc;
}

void profile_routes_apply(struct profile_routes *pr, struct prof *p, struct request_labels_stats *st)
{
	go_tracer_poll(pr->tracer, 0); /* requests that ended as profiling stopped */
	request_labels_apply(pr->labels, p, st);
}

uint64_t profile_routes_requests(const struct profile_routes *pr)
{
	return pr->requests;
}

uint64_t profile_routes_probe_hits(const struct profile_routes *pr)
{
	return go_tracer_probe_hits(pr->tracer);
}

void profile_routes_stop(struct profile_routes *pr)
{
	if (!pr)
		return;
	go_tracer_stop(pr->tracer);
	request_labels_free(pr->labels);
	free(pr);
}
