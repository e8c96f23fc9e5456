/* SPDX-License-Identifier: Apache-2.0 */
/* From traced calls to exported spans: build (span_builder) → hold and sample whole traces
 * (trace_assembler) → write (JSON lines) and/or export (OTLP). Runs on the event reader's
 * thread; never blocks it: the OTLP exporter queues. */
#ifndef GLIMPSE_TRACE_PIPELINE_H
#define GLIMPSE_TRACE_PIPELINE_H

#include <stdio.h>

#include "gotrace.h"
#include "agent/resource.h"
#include "gotrace/call.h"
#include "trace/sampler.h"
#include "trace/span_builder.h"
#include "trace/trace_assembler.h"
#include "trace/trace_recent.h"

struct metrics_registry;
struct otlp_exporter;
struct trace_pipeline;

struct trace_pipeline_opts {
	struct sampler_config sampler;
	struct span_builder_opts builder;
	FILE *spans_out;	     /* JSON lines, or NULL */
	struct otlp_exporter *otlp;  /* or NULL */
	struct trace_recent *recent; /* the live dashboard's last traces, or NULL */
};

struct trace_pipeline *trace_pipeline_new(const struct trace_pipeline_opts *opts,
					  struct db_driver_cache *drivers);
/* The resource a target's spans carry (copied); target ids come from the metrics registry.
 * Adding a known target replaces its resource. 0 or -ENOMEM. */
int trace_pipeline_add_target(struct trace_pipeline *tp, int target, const struct resource *res);
/* The target's process is gone: decides and writes its spans still held, then forgets it.
 * 0, or -ENOENT for a target never added. */
int trace_pipeline_remove_target(struct trace_pipeline *tp, int target);
/* Spans lost because their target was unknown (never added, or added when memory ran out). */
uint64_t trace_pipeline_spans_dropped(const struct trace_pipeline *tp);
/* Exports that count as glimpse_spans_dropped_total. 0 or -ENOMEM. */
int trace_pipeline_register_metrics(struct trace_pipeline *tp, struct metrics_registry *reg);
void trace_pipeline_call(struct trace_pipeline *tp, const struct call *c, int target);
/* A span built elsewhere (the socket path builds its own: sockcap/sock_spans.h). */
void trace_pipeline_span(struct trace_pipeline *tp, const struct span_record *s);
/* The pipeline's span options and clock, for builders outside it. */
const struct span_builder *trace_pipeline_builder(const struct trace_pipeline *tp);
/* Periodic: decides traces whose server span never came. */
void trace_pipeline_tick(struct trace_pipeline *tp);
struct trace_stats trace_pipeline_stats(const struct trace_pipeline *tp);
/* Decides and writes everything still held. */
void trace_pipeline_flush(struct trace_pipeline *tp);
/* Flushes, then frees. */
void trace_pipeline_free(struct trace_pipeline *tp);

#endif
