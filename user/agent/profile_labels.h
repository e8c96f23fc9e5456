/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's CPU samples labelled with the HTTP request they served (as attach --profile's):
 * the requests that end, from the targets' thread (their Go tracers' events), meet the CPU
 * profile's cuts, on the profiles' thread, in one table (request_labels.h) behind a lock. */
#ifndef GLIMPSE_AGENT_PROFILE_LABELS_H
#define GLIMPSE_AGENT_PROFILE_LABELS_H

#include "profile/request_labels.h"

struct call;
struct metrics_registry;
struct profile_labels;

/* NULL when out of memory. */
struct profile_labels *profile_labels_new(void);
/* A decoded call of registry target `target`: a server request gives its route (capped as
 * reg names it) and method to the samples that served it. */
void profile_labels_call(struct profile_labels *pl, struct metrics_registry *reg, int target,
			 const struct call *c);
/* A cut: labels p's samples, then forgets the requests of the interval before (rotate). */
void profile_labels_cut(struct profile_labels *pl, struct prof *p, struct request_labels_stats *st);
void profile_labels_free(struct profile_labels *pl);

#endif
