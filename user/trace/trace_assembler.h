/* SPDX-License-Identifier: Apache-2.0 */
/* Holds a request's child spans (queries, outgoing calls: they end first) until its server
 * span ends, then decides for the whole trace at once — head sampler, or kept by a tail rule
 * (an error anywhere, a slow request) — so kept traces are whole. */
#ifndef GLIMPSE_TRACE_ASSEMBLER_H
#define GLIMPSE_TRACE_ASSEMBLER_H

#include <stdint.h>

#include "trace/sampler.h"
#include "trace/span.h"

/* Bounds: memory stays flat whatever the traffic. Children held at most (beyond, the oldest is
 * decided on its own), and how long one waits for its server span. */
#define TRACE_ASSEMBLER_MAX_PENDING 4096
#define TRACE_ASSEMBLER_TIMEOUT_NS  (30ULL * 1000000000ULL)

struct trace_assembler;
typedef void (*span_emit_fn)(void *ctx, const struct span_record *s);

struct trace_stats {
	uint64_t sampled, dropped; /* spans */
};

struct trace_assembler *trace_assembler_new(const struct sampler_config *cfg, span_emit_fn emit, void *ctx);
/* Takes a finished span (copied). now_ns: a monotonic clock, for expiry. */
void trace_assembler_add(struct trace_assembler *ta, const struct span_record *s, uint64_t now_ns);
/* Children whose server span has not ended after a while (a goroutine outliving its
 * request, glimpse attached mid-request) are decided on their own. */
void trace_assembler_expire(struct trace_assembler *ta, uint64_t now_ns);
/* Decides everything still held (at exit). */
void trace_assembler_flush(struct trace_assembler *ta);
/* Decides the spans still held for one target (its process is gone: its requests will not
 * end), so none is emitted after the caller forgets the target. */
void trace_assembler_flush_target(struct trace_assembler *ta, int target);
struct trace_stats trace_assembler_stats(const struct trace_assembler *ta);
void trace_assembler_free(struct trace_assembler *ta);

#endif
