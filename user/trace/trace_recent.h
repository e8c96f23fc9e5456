/* SPDX-License-Identifier: Apache-2.0 */
/* The last traces the pipeline kept (after sampling), for the live dashboard: the newest
 * TRACE_RECENT_MAX traces and, among all seen, the TRACE_SLOWEST_MAX slowest, each with up to
 * TRACE_RECENT_SPANS spans. Fed on the pipeline's thread, read on the dashboard's: locked. */
#ifndef GLIMPSE_TRACE_RECENT_H
#define GLIMPSE_TRACE_RECENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/span.h"

/* At most (32 + 16) * 32 spans of ~1.2 kB: under 2 MB, whatever the traffic. */
#define TRACE_RECENT_MAX   32
#define TRACE_SLOWEST_MAX  16
#define TRACE_RECENT_SPANS 32

struct trace_recent;

struct trace_summary {
	uint8_t trace_id[16];
	int target;					    /* the root's (or first span's) */
	char name[sizeof(((struct span_record *)0)->name)]; /* the root's, else the first span's */
	uint64_t start_unix_ns, end_unix_ns;		    /* over its spans */
	size_t nspans, spans_left_out; /* spans past TRACE_RECENT_SPANS are only counted */
	bool error;		       /* any span */
	uint64_t seq;		       /* order of arrival: larger is newer */
};

struct trace_recent *trace_recent_new(void);
void trace_recent_free(struct trace_recent *tr);
void trace_recent_add(struct trace_recent *tr, const struct span_record *s);
enum trace_recent_order {
	TRACE_NEWEST,
	TRACE_SLOWEST
};
/* Up to max summaries in that order. */
size_t trace_recent_list(struct trace_recent *tr, enum trace_recent_order order, struct trace_summary *out,
			 size_t max);
/* A malloc'd copy of a kept trace's spans (by start time) and its summary; 0 or -ENOENT,
 * -ENOMEM. */
int trace_recent_get(struct trace_recent *tr, const uint8_t trace_id[16], struct trace_summary *sum,
		     struct span_record **spans, size_t *n);

#endif
