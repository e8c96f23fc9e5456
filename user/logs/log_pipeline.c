// SPDX-License-Identifier: Apache-2.0
#include "logs/log_pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "export/otlp.h"
#include "logs/log_json.h"
#include "logs/log_parse.h"

#define MAX_TARGETS 256

struct log_pipeline {
	struct log_pipeline_opts opts;
	struct log_lines *lines;
	struct log_parser *parser;
	struct {
		int id;
		struct resource *res;
	} targets[MAX_TARGETS];
	int ntargets;
	/* realtime − monotonic, once: the kernel stamps writes with the monotonic clock */
	int64_t mono_to_real;
	/* The OTLP batch: copies, each with the resource it goes out under. */
	struct log_record *batch[LOG_BATCH_MAX];
	const struct resource *batch_res[LOG_BATCH_MAX];
	size_t nbatch;
	/* Written by the event thread, read by the exporters'. */
	_Atomic uint64_t records, truncated, lost, unsent, unseen;
};

static void on_line(void *ctx, const struct log_origin *o, const char *text, size_t len, bool truncated);

struct log_pipeline *log_pipeline_new(const struct log_pipeline_opts *opts)
{
	struct log_pipeline *lp = calloc(1, sizeof(*lp));
	if (!lp)
		return NULL;
	lp->opts = *opts;
	lp->mono_to_real = clock_mono_to_real_ns();
	if (!(lp->parser = malloc(sizeof(*lp->parser))) || !(lp->lines = log_lines_new(on_line, lp))) {
		free(lp->parser);
		free(lp);
		return NULL;
	}
	return lp;
}

int log_pipeline_add_target(struct log_pipeline *lp, int target, const struct resource *res)
{
	if (lp->ntargets == MAX_TARGETS)
		return -ENOSPC;
	struct resource *copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *res;
	lp->targets[lp->ntargets].id = target;
	lp->targets[lp->ntargets].res = copy;
	lp->ntargets++;
	return 0;
}

static const struct resource *target_res(const struct log_pipeline *lp, int target)
{
	for (int i = 0; i < lp->ntargets; i++)
		if (lp->targets[i].id == target)
			return lp->targets[i].res;
	return NULL;
}

static void send_batch(struct log_pipeline *lp)
{
	if (!lp->nbatch)
		return;
	if (otlp_enqueue_logs(lp->opts.otlp, lp->batch_res, (const struct log_record *const *)lp->batch,
			      lp->nbatch))
		lp->unsent += lp->nbatch;
	for (size_t i = 0; i < lp->nbatch; i++)
		free(lp->batch[i]);
	lp->nbatch = 0;
}

void log_pipeline_remove_target(struct log_pipeline *lp, int target)
{
	send_batch(lp); /* the batch may point at its resource */
	for (int i = 0; i < lp->ntargets; i++)
		if (lp->targets[i].id == target) {
			free(lp->targets[i].res);
			lp->targets[i] = lp->targets[--lp->ntargets];
			return;
		}
}

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 1;
}

static const char *str_put(char **p, const char *s)
{
	size_t n = str_size(s);
	char *d = *p;
	memcpy(d, s ? s : "", n);
	*p += n;
	return d;
}

/* r and every string it points at in one allocation: the parser's buffer is reused per line. */
static struct log_record *record_copy(const struct log_record *r)
{
	size_t n = sizeof(*r) + str_size(r->severity_text) + str_size(r->body);
	for (unsigned i = 0; i < r->nattrs; i++)
		n += str_size(r->attrs[i].key) + str_size(r->attrs[i].s);
	struct log_record *c = malloc(n);
	if (!c)
		return NULL;
	*c = *r;
	char *p = (char *)(c + 1);
	c->severity_text = str_put(&p, r->severity_text);
	c->body = str_put(&p, r->body);
	for (unsigned i = 0; i < r->nattrs; i++) {
		c->attrs[i].key = str_put(&p, r->attrs[i].key);
		c->attrs[i].s = r->attrs[i].s ? str_put(&p, r->attrs[i].s) : NULL;
	}
	return c;
}

static void on_line(void *ctx, const struct log_origin *o, const char *text, size_t len, bool truncated)
{
	struct log_pipeline *lp = ctx;
	const struct resource *res = target_res(lp, o->target);
	if (!res)
		return;
	struct log_record rec = { .truncated = truncated };
	log_parse_line(lp->parser, text, len, &rec);
	rec.observed_unix_ns = (uint64_t)((int64_t)o->mono_ns + lp->mono_to_real);
	rec.pid = (pid_t)o->pid;
	rec.tid = o->tid;
	rec.fd = o->fd;
	rec.has_trace = o->has_trace;
	if (o->has_trace) {
		memcpy(rec.trace_id, o->trace_id, sizeof(rec.trace_id));
		memcpy(rec.span_id, o->span_id, sizeof(rec.span_id));
		rec.trace_flags = o->trace_flags;
	}
	lp->records++;
	if (truncated)
		lp->truncated++;
	if (lp->opts.out) {
		log_json_write(lp->opts.out, res, &rec);
		fflush(lp->opts.out);
	}
	if (!lp->opts.otlp)
		return;
	struct log_record *copy = record_copy(&rec);
	if (!copy) {
		lp->unsent++;
		return;
	}
	lp->batch[lp->nbatch] = copy;
	lp->batch_res[lp->nbatch] = res;
	if (++lp->nbatch == LOG_BATCH_MAX)
		send_batch(lp);
}

void log_pipeline_write(struct log_pipeline *lp, const struct log_origin *o, const char *data, size_t len,
			size_t total)
{
	log_lines_write(lp->lines, o, data, len, total);
	lp->unseen = log_lines_unseen(lp->lines);
}

void log_pipeline_process_exit(struct log_pipeline *lp, uint32_t pid)
{
	if (pid)
		log_lines_flush(lp->lines, pid);
}

void log_pipeline_set_lost(struct log_pipeline *lp, uint64_t lost)
{
	lp->lost = lost;
}

void log_pipeline_tick(struct log_pipeline *lp)
{
	send_batch(lp);
}

void log_pipeline_flush(struct log_pipeline *lp)
{
	log_lines_flush(lp->lines, 0);
	send_batch(lp);
}

struct log_stats log_pipeline_stats(const struct log_pipeline *lp)
{
	struct otlp_stats os = { 0 };
	otlp_exporter_stats(lp->opts.otlp, &os);
	return (struct log_stats){ .records = lp->records,
				   .truncated = lp->truncated,
				   .dropped = lp->lost + lp->unsent + lp->unseen + os.logs_dropped };
}

static double gauge_records(void *ctx, int target)
{
	(void)target;
	return (double)log_pipeline_stats(ctx).records;
}

static double gauge_truncated(void *ctx, int target)
{
	(void)target;
	return (double)log_pipeline_stats(ctx).truncated;
}

static double gauge_dropped(void *ctx, int target)
{
	(void)target;
	return (double)log_pipeline_stats(ctx).dropped;
}

int log_pipeline_register_metrics(struct log_pipeline *lp, struct metrics_registry *reg)
{
	static const struct {
		const char *name, *help;
		metric_value_fn fn;
	} m[] = {
		{ "glimpse.logs.records", "Lines the targets wrote to stdout and stderr, read by glimpse.",
		  gauge_records },
		{ "glimpse.logs.truncated",
		  "Of those, lines cut short: longer than 4 KiB, or longer than the write glimpse saw.",
		  gauge_truncated },
		{ "glimpse.logs.dropped",
		  "Log writes or records lost: the kernel could not queue them, or the OTLP queue was full.",
		  gauge_dropped },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int err = metrics_registry_add_gauge(reg, m[i].name, "", m[i].help, true, m[i].fn, lp, false);
		if (err)
			return err;
	}
	return 0;
}

void log_pipeline_free(struct log_pipeline *lp)
{
	if (!lp)
		return;
	for (size_t i = 0; i < lp->nbatch; i++)
		free(lp->batch[i]);
	for (int i = 0; i < lp->ntargets; i++)
		free(lp->targets[i].res);
	log_lines_free(lp->lines);
	free(lp->parser);
	free(lp);
}
