// SPDX-License-Identifier: Apache-2.0
#include "trace/trace_pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "base/clock.h"
#include "export/otlp.h"
#include "metrics/registry.h"
#include "trace/span_json.h"

/* A target's own copy of its resource: its spans may be written after the caller let go. */
struct pipeline_target {
	int id;
	struct resource res;
	UT_hash_handle hh;
};

struct trace_pipeline {
	struct trace_pipeline_opts opts;
	struct span_builder builder;
	struct trace_assembler *assembler;
	struct pipeline_target *targets; /* uthash by id */
	_Atomic uint64_t dropped;	 /* read by the metrics renderer's thread */
};

static void put_id(uint8_t *out, uint64_t id)
{
	for (int i = 7; i >= 0; i--, id >>= 8)
		out[i] = (uint8_t)id;
}

static void add_str(void *ctx, const char *key, const char *v)
{
	struct otlp_span *o = ctx;
	if (v && *v && o->nattrs < OTLP_SPAN_MAX_ATTRS)
		o->attrs[o->nattrs++] = otlp_attr_str(key, v);
}

static void add_int(void *ctx, const char *key, int64_t v)
{
	struct otlp_span *o = ctx;
	if (v && o->nattrs < OTLP_SPAN_MAX_ATTRS)
		o->attrs[o->nattrs++] = otlp_attr_int(key, v);
}

static void export_span(struct otlp_exporter *exp, const struct resource *res, const struct span_record *s)
{
	struct otlp_span o = {
		.name = s->name,
		.kind = s->kind == SPAN_SERVER ? OTLP_SPAN_SERVER : OTLP_SPAN_CLIENT,
		.start_unix_ns = s->start_unix_ns,
		.end_unix_ns = s->end_unix_ns,
		.status = s->error ? OTLP_STATUS_ERROR : OTLP_STATUS_UNSET,
	};
	memcpy(o.trace_id, s->trace_id, sizeof(o.trace_id));
	put_id(o.span_id, s->span_id);
	if (s->parent_span_id)
		put_id(o.parent_span_id, s->parent_span_id);
	static const struct span_attribute_visitor otlp = { add_str, add_int };
	span_visit_attributes(s, &otlp, &o);
	otlp_enqueue_span(exp, res, &o);
}

static void emit(void *ctx, const struct span_record *s)
{
	struct trace_pipeline *tp = ctx;
	struct pipeline_target *t;
	HASH_FIND_INT(tp->targets, &s->target, t);
	if (!t) {
		tp->dropped++;
		return;
	}
	const struct resource *res = &t->res;
	if (tp->opts.spans_out) {
		span_json_write(tp->opts.spans_out, res, s);
		fflush(tp->opts.spans_out);
	}
	if (tp->opts.otlp)
		export_span(tp->opts.otlp, res, s);
	if (tp->opts.recent)
		trace_recent_add(tp->opts.recent, s);
}

struct trace_pipeline *trace_pipeline_new(const struct trace_pipeline_opts *opts,
					  struct db_driver_cache *drivers)
{
	struct trace_pipeline *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	tp->opts = *opts;
	span_builder_init(&tp->builder, &opts->builder, drivers);
	tp->assembler = trace_assembler_new(&opts->sampler, emit, tp);
	if (!tp->assembler) {
		free(tp);
		return NULL;
	}
	return tp;
}

int trace_pipeline_add_target(struct trace_pipeline *tp, int target, const struct resource *res)
{
	struct pipeline_target *t;
	HASH_FIND_INT(tp->targets, &target, t);
	if (!t) {
		if (!(t = calloc(1, sizeof(*t))))
			return -ENOMEM;
		t->id = target;
		HASH_ADD_INT(tp->targets, id, t);
	}
	t->res = *res;
	return 0;
}

int trace_pipeline_remove_target(struct trace_pipeline *tp, int target)
{
	struct pipeline_target *t;
	HASH_FIND_INT(tp->targets, &target, t);
	if (!t)
		return -ENOENT;
	trace_assembler_flush_target(tp->assembler, target);
	HASH_DEL(tp->targets, t);
	free(t);
	return 0;
}

uint64_t trace_pipeline_spans_dropped(const struct trace_pipeline *tp)
{
	return tp->dropped;
}

static double spans_dropped(void *ctx, int target)
{
	(void)target;
	return (double)trace_pipeline_spans_dropped(ctx);
}

int trace_pipeline_register_metrics(struct trace_pipeline *tp, struct metrics_registry *reg)
{
	return metrics_registry_add_gauge(reg, "glimpse.spans_dropped", "",
					  "Spans lost before export: their process was not known.", true,
					  spans_dropped, tp, false);
}

void trace_pipeline_call(struct trace_pipeline *tp, const struct call *c, int target)
{
	struct span_record s;
	span_builder_build(&tp->builder, c, target, &s);
	trace_assembler_add(tp->assembler, &s, clock_mono_ns());
}

void trace_pipeline_span(struct trace_pipeline *tp, const struct span_record *s)
{
	trace_assembler_add(tp->assembler, s, clock_mono_ns());
}

const struct span_builder *trace_pipeline_builder(const struct trace_pipeline *tp)
{
	return &tp->builder;
}

void trace_pipeline_tick(struct trace_pipeline *tp)
{
	trace_assembler_expire(tp->assembler, clock_mono_ns());
}

struct trace_stats trace_pipeline_stats(const struct trace_pipeline *tp)
{
	return trace_assembler_stats(tp->assembler);
}

void trace_pipeline_flush(struct trace_pipeline *tp)
{
	trace_assembler_flush(tp->assembler);
}

void trace_pipeline_free(struct trace_pipeline *tp)
{
	if (!tp)
		return;
	trace_assembler_flush(tp->assembler);
	trace_assembler_free(tp->assembler);
	struct pipeline_target *t, *tmp;
	HASH_ITER (hh, tp->targets, t, tmp) {
		HASH_DEL(tp->targets, t);
		free(t);
	}
	free(tp);
}
