/* The Go HTTP tracer's BPF lifecycle: open → set the binary's struct offsets → load →
 * uprobes on each hooked function's entry and every RET, for one process → poll the ring
 * buffer → one cleanup path. */
#ifndef GLIMPSE_HTTP_TRACER_H
#define GLIMPSE_HTTP_TRACER_H

#include <stdint.h>

#include "go_target.h"
#include "gohttp.h"

struct http_tracer;
typedef void (*http_event_fn)(void *ctx, const struct gohttp_event *ev);

/* 0, or an exit code after logging why. */
int http_tracer_start(const struct go_target *t, http_event_fn fn, void *ctx, struct http_tracer **out);
/* Delivers queued events to fn; waits up to timeout_ms for more. Returns events handled or -errno. */
int http_tracer_poll(struct http_tracer *tr, int timeout_ms);
/* Server requests in flight in pid now. */
int64_t http_tracer_active_requests(const struct http_tracer *tr, pid_t pid);
/* Events the kernel could not queue (ring buffer full). */
uint64_t http_tracer_events_dropped(const struct http_tracer *tr);
/* Number of uprobes attached. */
int http_tracer_probe_count(const struct http_tracer *tr);
/* Detaches every probe (the target keeps running untouched), drains, frees. */
void http_tracer_stop(struct http_tracer *tr);

#endif
