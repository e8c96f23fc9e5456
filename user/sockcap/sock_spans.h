/* SPDX-License-Identifier: Apache-2.0 */
/* Spans from calls seen at the sockets: a server span per HTTP request (joined to the caller's
 * trace through its traceparent header), and client spans — HTTP, PostgreSQL, Redis — made by
 * the thread that was serving a request, as its children.
 *
 * Threads are the only link between a request and the calls made for it at this level, so a
 * child is only given a parent when that is certain: the thread read exactly one connection's
 * request before the call and answered it after. A thread that interleaves connections (an
 * event loop: nginx, Node) is marked multiplexed for good and its calls become their own
 * traces — never someone else's children. Calls that databases serve make no spans. */
#ifndef GLIMPSE_SOCKCAP_SOCK_SPANS_H
#define GLIMPSE_SOCKCAP_SOCK_SPANS_H

#include <stdint.h>

#include "sockcap/sock_streams.h"
#include "trace/trace_pipeline.h"

/* Threads followed at once, and children held per thread until its request's answer. */
#define SOCK_SPANS_MAX_THREADS	4096
#define SOCK_SPANS_MAX_CHILDREN 64

struct sock_spans;

/* NULL when out of memory. tp must outlive it. */
struct sock_spans *sock_spans_new(struct trace_pipeline *tp);
/* Thread tid read a request's bytes on server connection conn_id. */
void sock_spans_request_read(struct sock_spans *s, uint32_t tid, uint64_t conn_id);
/* A finished call of registry target `target`. */
void sock_spans_call(struct sock_spans *s, const struct sock_call *c, int target);
/* Children whose request never got its answer go out as their own traces; then frees. */
void sock_spans_free(struct sock_spans *s);

#endif
