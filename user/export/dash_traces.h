/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's traces as JSON: the newest and slowest kept traces (in each event of the
 * stream) and one trace's spans for its waterfall (GET /api/trace?id=HEX). A span shows its
 * name, kind, timing, error and attributes, except url.path and db.query.text: the page shows
 * no path (user data) and no SQL text (literals with --raw-sql), whatever the exporters do. */
#ifndef GLIMPSE_DASH_TRACES_H
#define GLIMPSE_DASH_TRACES_H

#include <stdint.h>
#include <stdio.h>

#include "trace/trace_recent.h"

#define DASH_TRACES_LISTED 10 /* rows of each list */

/* ,"traces":{...}: the lists, or (recent NULL) why there are none. */
void dash_traces_write_lists(FILE *f, struct trace_recent *recent);
/* One trace's JSON into a malloc'd *out; 0, -ENOENT (not kept, or traces off), -EINVAL (not
 * 32 hex digits), -ENOMEM. */
int dash_traces_render_trace(struct trace_recent *recent, const char *hex_id, char **out, size_t *len);

#endif
