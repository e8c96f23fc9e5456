/* SPDX-License-Identifier: Apache-2.0 */
/* The live dashboard's data as one line of JSON (GET /api/snapshot, and each event of
 * /api/stream): the newest snapshot's totals — the very counts and buckets /metrics shows —
 * plus rates, windowed quantiles and sparklines from the snapshots before it. Strings are
 * escaped by base/json (always valid JSON, no raw newline, so a line is one SSE event). */
#ifndef GLIMPSE_DASH_JSON_H
#define GLIMPSE_DASH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "export/dash_snapshot.h"
#include "export/dash_traces.h"

#define DASH_WINDOW_S 60 /* rps, error % and quantiles of the "last minute" columns */

struct dash_json_opts {
	unsigned window_s;	     /* 0: DASH_WINDOW_S */
	struct trace_recent *traces; /* the traces to list; NULL: traces are off (said so) */
};

/* snaps[0..n) oldest first, one per second; n >= 1. Writes a malloc'd NUL-terminated line
 * (no newline) into *out. 0, -EINVAL when n is 0, or -ENOMEM. */
int dash_json_render(const struct dash_snapshot *const *snaps, size_t n, const struct dash_json_opts *o,
		     char **out, size_t *len);

#endif
