/* SPDX-License-Identifier: Apache-2.0 */
/* Turns the Go tracer's events into spans: names and attributes per the OpenTelemetry
 * semantic conventions, wall-clock times, the database system from the driver's code, and
 * SQL text with its literals replaced. */
#ifndef GLIMPSE_SPAN_BUILDER_H
#define GLIMPSE_SPAN_BUILDER_H

#include <stdbool.h>

#include "gotrace.h"
#include "trace/span.h"
#include "gotrace/call.h"
#include "gotrace/db_driver.h"

struct metrics_registry;

struct span_builder_opts {
	bool url_path;	/* export url.path (off by default: paths can carry user data) */
	bool raw_query; /* export SQL text with its literals (off by default) */
	/* Caps routes per target exactly as the metrics do (span names and http.route); NULL:
	 * uncapped (unit tests). */
	struct metrics_registry *routes;
};

struct span_builder {
	struct span_builder_opts opts;
	int64_t mono_to_unix_ns;	 /* add to CLOCK_MONOTONIC to get Unix time */
	struct db_driver_cache *drivers; /* names the database from the driver's code */
};

void span_builder_init(struct span_builder *b, const struct span_builder_opts *opts,
		       struct db_driver_cache *drivers);
void span_builder_build(struct span_builder *b, const struct call *c, int target, struct span_record *out);

#endif
