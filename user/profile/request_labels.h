/* SPDX-License-Identifier: Apache-2.0 */
/* CPU samples labelled with the HTTP request they served (attach --profile). The CPU profiler
 * keys a sample taken on a goroutine serving a request by that request's server span
 * (bpf/profile.bpf.c); the request's route and method are known once it ends, from its own
 * event (the same decoded call the metrics and spans read). This table keeps, per span, the
 * route and method of the requests that ended in the current and the previous interval, and
 * fills them into a cut profile's samples. Routes and methods are interned (routes are capped,
 * methods normalized), so the profiles' strings live as long as the table. */
#ifndef GLIMPSE_REQUEST_LABELS_H
#define GLIMPSE_REQUEST_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "profile/profile_data.h"

/* Requests remembered per interval; more are not (their samples keep their trace link only). */
#define REQUEST_LABELS_PER_INTERVAL 65536

struct request_labels;

struct request_labels_stats {
	uint64_t labelled;   /* samples given a route and method */
	uint64_t unresolved; /* samples of requests still running at the cut (or not remembered) */
	uint64_t full;	     /* requests not remembered so far: more than REQUEST_LABELS_PER_INTERVAL */
};

struct request_labels *request_labels_new(void);
/* A server request ended. 0 or -ENOMEM / -ENOSPC (counted in full). */
int request_labels_add(struct request_labels *t, uint64_t span_id, const char *route, const char *method);
/* Sets the route and method of p's samples whose span is known; counts in *st (labelled and
 * unresolved added to, full set). */
void request_labels_apply(struct request_labels *t, struct prof *p, struct request_labels_stats *st);
/* After a cut: the previous interval's requests are forgotten, the current ones become the
 * previous (a request that ended just after a cut is still found for the next profile). */
void request_labels_rotate(struct request_labels *t);
void request_labels_free(struct request_labels *t);

#endif
