// SPDX-License-Identifier: Apache-2.0
#include "trace/trace_assembler.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PENDING	   TRACE_ASSEMBLER_MAX_PENDING
#define DECISIONS	   2048 /* remembered root decisions, for children that end after their root */
#define PENDING_TIMEOUT_NS TRACE_ASSEMBLER_TIMEOUT_NS

struct pending {
	struct span_record span;
	uint64_t added_ns;
};

struct decision {
	uint64_t root_span_id; /* 0: empty slot */
	bool keep;
};

struct trace_assembler {
	struct sampler_config cfg;
	span_emit_fn emit;
	void *ctx;
	struct pending *pending;
	size_t npending;
	struct decision decisions[DECISIONS];
	struct trace_stats stats;
};

struct trace_assembler *trace_assembler_new(const struct sampler_config *cfg, span_emit_fn emit, void *ctx)
{
	struct trace_assembler *ta = calloc(1, sizeof(*ta));
	if (!ta)
		return NULL;
	ta->pending = calloc(MAX_PENDING, sizeof(*ta->pending));
	if (!ta->pending) {
		free(ta);
		return NULL;
	}
	ta->cfg = *cfg;
	ta->emit = emit;
	ta->ctx = ctx;
	return ta;
}

static void deliver(struct trace_assembler *ta, const struct span_record *s, bool keep)
{
	if (keep) {
		ta->stats.sampled++;
		ta->emit(ta->ctx, s);
	} else {
		ta->stats.dropped++;
	}
}

static struct decision *decision_slot(struct trace_assembler *ta, uint64_t root)
{
	return &ta->decisions[(root * 0x9e3779b97f4a7c15ULL) >> 53 & (DECISIONS - 1)];
}

static bool head(const struct trace_assembler *ta, const struct span_record *s)
{
	return sampler_head(&ta->cfg, s->trace_id, s->remote_parent, s->parent_sampled);
}

static bool tail_keeps(const struct trace_assembler *ta, const struct span_record *s)
{
	if (ta->cfg.keep_errors && s->error)
		return true;
	return ta->cfg.keep_slower_than_ns && s->end_unix_ns - s->start_unix_ns > ta->cfg.keep_slower_than_ns;
}

/* Removes pending[i] by moving the last one into its place. */
static void take(struct trace_assembler *ta, size_t i)
{
	ta->pending[i] = ta->pending[--ta->npending];
}

static void decide_root(struct trace_assembler *ta, const struct span_record *root)
{
	bool keep = head(ta, root) || tail_keeps(ta, root);
	for (size_t i = 0; i < ta->npending && !keep; i++)
		if (ta->pending[i].span.parent_span_id == root->span_id &&
		    tail_keeps(ta, &ta->pending[i].span))
			keep = true;
	deliver(ta, root, keep);
	for (size_t i = 0; i < ta->npending;) {
		if (ta->pending[i].span.parent_span_id == root->span_id) {
			deliver(ta, &ta->pending[i].span, keep);
			take(ta, i);
		} else {
			i++;
		}
	}
	*decision_slot(ta, root->span_id) = (struct decision){ root->span_id, keep };
}

void trace_assembler_add(struct trace_assembler *ta, const struct span_record *s, uint64_t now_ns)
{
	if (!s->local_child) {
		if (s->kind == SPAN_SERVER)
			decide_root(ta, s);
		else
			deliver(ta, s, head(ta, s) || tail_keeps(ta, s));
		return;
	}
	const struct decision *d = decision_slot(ta, s->parent_span_id);
	if (d->root_span_id == s->parent_span_id) {
		/* Its request already ended; an error still gets a kept trace's child out. */
		deliver(ta, s, d->keep || tail_keeps(ta, s));
		return;
	}
	if (ta->npending == MAX_PENDING) {
		/* Full: the oldest waits no longer. */
		size_t oldest = 0;
		for (size_t i = 1; i < ta->npending; i++)
			if (ta->pending[i].added_ns < ta->pending[oldest].added_ns)
				oldest = i;
		deliver(ta, &ta->pending[oldest].span,
			head(ta, &ta->pending[oldest].span) || tail_keeps(ta, &ta->pending[oldest].span));
		take(ta, oldest);
	}
	ta->pending[ta->npending++] = (struct pending){ *s, now_ns };
}

void trace_assembler_expire(struct trace_assembler *ta, uint64_t now_ns)
{
	for (size_t i = 0; i < ta->npending;) {
		struct pending *p = &ta->pending[i];
		if (now_ns - p->added_ns > PENDING_TIMEOUT_NS) {
			deliver(ta, &p->span, head(ta, &p->span) || tail_keeps(ta, &p->span));
			take(ta, i);
		} else {
			i++;
		}
	}
}

void trace_assembler_flush(struct trace_assembler *ta)
{
	trace_assembler_expire(ta, UINT64_MAX);
	while (ta->npending) {
		struct pending *p = &ta->pending[0];
		deliver(ta, &p->span, head(ta, &p->span) || tail_keeps(ta, &p->span));
		take(ta, 0);
	}
}

void trace_assembler_flush_target(struct trace_assembler *ta, int target)
{
	for (size_t i = 0; i < ta->npending;) {
		struct pending *p = &ta->pending[i];
		if (p->span.target == target) {
			deliver(ta, &p->span, head(ta, &p->span) || tail_keeps(ta, &p->span));
			take(ta, i);
		} else {
			i++;
		}
	}
}

struct trace_stats trace_assembler_stats(const struct trace_assembler *ta)
{
	return ta->stats;
}

void trace_assembler_free(struct trace_assembler *ta)
{
	if (!ta)
		return;
	free(ta->pending);
	free(ta);
}
