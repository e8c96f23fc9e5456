// SPDX-License-Identifier: Apache-2.0
/* OTLP/HTTP exporter: a bounded span queue that drops its oldest entry rather than ever
 * making the event reader wait, and one thread that batches, encodes (protobuf, optionally
 * gzip), POSTs with retries, exports the metrics registry on an interval, and sends the
 * profiles queued by otlp_profiles.c. */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "export/otlp.h"
#include "export/curl_lib.h"
#include "export/otlp_internal.h"

#include "base/clock.h"
#include "base/log.h"
#include "otlp/metrics_service.pb-c.h"
#include "otlp/trace_service.pb-c.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse TraceResponse;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse MetricsResponse;

int64_t otlp_now_ns(void)
{
	return (int64_t)clock_mono_ns();
}

int64_t otlp_now_ms(void)
{
	return otlp_now_ns() / NS_PER_MS;
}

uint64_t otlp_unix_ns(void)
{
	return clock_real_ns();
}

void otlp_stat_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

uint64_t otlp_load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

uint32_t otlp_next_rand(struct otlp_exporter *e)
{
	uint32_t x = e->rng; /* xorshift32 */
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return e->rng = x;
}

/* The first of a kind is logged; then at most one per minute, saying how many were not. */
void otlp_warn_limited(struct otlp_exporter *e, unsigned kind, const char *fmt, ...)
{
	struct warn_state *w = &e->warns[kind];
	int64_t now = otlp_now_ms();
	if (w->last_ms && now - w->last_ms < WARN_EVERY_MS) {
		w->suppressed++;
		return;
	}
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->suppressed)
		log_warn("%s (%llu more like it in the last minute)", msg, (unsigned long long)w->suppressed);
	else
		log_warn("%s", msg);
	w->last_ms = now;
	w->suppressed = 0;
	otlp_stat_add(&e->warnings, 1);
}

void otlp_deadline_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000LL;
	ts->tv_nsec = ns % 1000000000LL;
}

/* Sleeps until until_ns; a stop cuts it short at the stop deadline. False if stopped. */
bool otlp_sleep_until(struct otlp_exporter *e, int64_t until_ns)
{
	struct timespec ts;
	bool ok = true;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		int64_t now = otlp_now_ns(), end = until_ns;
		if (e->stopping && e->stop_deadline_ns < end)
			end = e->stop_deadline_ns;
		if (now >= end) {
			ok = now >= until_ns;
			break;
		}
		otlp_deadline_ts(end, &ts);
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return ok;
}

static void export_spans(struct otlp_exporter *e, size_t n)
{
	uint8_t *raw, *body;
	size_t len, blen;
	struct http_result resp;
	char what[64];
	snprintf(what, sizeof(what), "%zu spans", n);
	if (otlp_encode_traces(&e->cfg, (const struct resource *const *)e->res, e->batch, n, &raw, &len) ||
	    otlp_maybe_gzip(e, raw, len, &body, &blen)) {
		otlp_warn_limited(e, W_ENCODE, "OTLP: out of memory encoding %s; dropped", what);
		otlp_stat_add(&e->failed, n);
		goto out;
	}
	switch (otlp_send_with_retry(e, e->cfg.traces_url, body, blen, e->cfg.export_timeout_ms, what,
				     &resp)) {
	case SENT: {
		uint64_t rejected = 0;
		TraceResponse *tr =
			resp.len
				? opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
					  NULL, resp.len, resp.body)
				: NULL;
		if (tr && tr->partial_success)
			rejected = otlp_partial_rejected(e, 0, tr->partial_success->rejected_spans, n,
							 "spans", tr->partial_success->error_message);
		if (tr)
			opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
				tr, NULL);
		free(resp.body);
		otlp_stat_add(&e->exported, n - rejected);
		otlp_stat_add(&e->failed, rejected);
		break;
	}
	default: /* REJECTED, GAVE_UP, STOPPED */
		otlp_stat_add(&e->failed, n);
		break;
	}
	free(body);
out:
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < n; i++)
		e->refs[e->batch[i]->res]--;
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; i < n; i++)
		free(e->batch[i]);
}

static void export_metrics(struct otlp_exporter *e, struct metrics_registry *reg, int64_t budget_ms)
{
	uint8_t *raw, *body;
	size_t len, blen, npoints;
	struct http_result resp;
	if (otlp_encode_metrics(&e->cfg, reg, otlp_unix_ns(), &raw, &len, &npoints)) {
		otlp_warn_limited(e, W_METRICS + W_ENCODE, "OTLP: out of memory encoding metrics; skipped");
		otlp_stat_add(&e->metrics_failed, 1);
		return;
	}
	if (!npoints) { /* nothing recorded yet */
		free(raw);
		return;
	}
	if (otlp_maybe_gzip(e, raw, len, &body, &blen)) {
		otlp_warn_limited(e, W_METRICS + W_ENCODE,
				  "OTLP: out of memory compressing metrics; skipped");
		otlp_stat_add(&e->metrics_failed, 1);
		return;
	}
	char what[64];
	snprintf(what, sizeof(what), "metrics (%zu points)", npoints);
	/* Cumulative values: a lost export is made good by the next one, so retries stop there. */
	enum send_result r = otlp_send_with_retry(e, e->cfg.metrics_url, body, blen, budget_ms, what, &resp);
	if (r == SENT) {
		MetricsResponse *mr =
			resp.len
				? opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
					  NULL, resp.len, resp.body)
				: NULL;
		if (mr && mr->partial_success)
			otlp_stat_add(&e->metric_points_rejected,
				      otlp_partial_rejected(
					      e, W_METRICS, mr->partial_success->rejected_data_points,
					      npoints, "data points", mr->partial_success->error_message));
		if (mr)
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
				mr, NULL);
		free(resp.body);
		otlp_stat_add(&e->metrics_ok, 1);
	} else {
		otlp_stat_add(&e->metrics_failed, 1);
	}
	free(body);
}

/* A queue's drops since its last warning, warned about (rate-limited, per signal). */
static void report_queue_drops(struct otlp_exporter *e, unsigned kind, const uint64_t *dropped,
			       uint64_t *reported, const char *queue, int capacity, const char *unit,
			       const char *items, const char *behind)
{
	uint64_t d = otlp_load(dropped);
	if (d == *reported)
		return;
	otlp_warn_limited(e, kind + W_DROPPED,
			  "OTLP %s queue full (%d %s): %llu %s dropped so far; the receiver is slower "
			  "than %s or unreachable",
			  queue, capacity, unit, (unsigned long long)d, items, behind);
	*reported = d;
}

static void report_drops(struct otlp_exporter *e)
{
	report_queue_drops(e, 0, &e->dropped, &e->dropped_reported, "span", e->cfg.queue_size, "spans",
			   "spans", "the traffic");
	report_queue_drops(e, W_PROFILES, &e->prof_dropped, &e->prof_dropped_reported, "profiles",
			   OTLP_PROFILES_QUEUE, "profiles", "profiles", "the profiling interval");
	report_queue_drops(e, W_LOGS, &e->logs_dropped, &e->logs_dropped_reported, "logs", OTLP_LOGS_QUEUE,
			   "batches", "log records", "the service logs");
}

static void *export_thread(void *arg)
{
	struct otlp_exporter *e = arg;
	struct timespec ts;
	/* A batch thread: when the enqueuer wakes it, it must not preempt the enqueuer (the
	 * event reader) on its CPU to encode a batch. */
	struct sched_param sp = { 0 };
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
	const int64_t delay = e->cfg.batch_delay_ms * NS_PER_MS;
	int64_t next_flush = otlp_now_ns() + delay, next_metrics = 0;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		int64_t now = otlp_now_ns();
		if (e->reg && !next_metrics)
			next_metrics = now + e->metrics_interval_ms * NS_PER_MS;
		bool past_deadline = e->stopping && now >= e->stop_deadline_ns;
		if (e->stopping && ((!e->q.n && !e->profiles.n && !e->logs.n) || past_deadline))
			break;
		bool spans_due =
			e->q.n && (e->q.n >= (size_t)e->cfg.batch_size || now >= next_flush || e->stopping);
		bool metrics_due = e->reg && now >= next_metrics && !e->stopping;
		struct otlp_body *profile = otlp_fifo_pop(&e->profiles);
		struct otlp_body *logs = otlp_fifo_pop(&e->logs);
		if (!spans_due && !metrics_due && !profile && !logs) {
			int64_t wake = next_flush;
			if (!e->q.n && now >= next_flush)
				wake = next_flush = now + delay;
			if (e->reg && next_metrics < wake)
				wake = next_metrics;
			otlp_deadline_ts(wake, &ts);
			pthread_cond_timedwait(&e->cond, &e->lock, &ts);
			continue;
		}
		struct metrics_registry *reg = e->reg;
		size_t n = spans_due ? otlp_queue_pop(&e->q, e->batch, (size_t)e->cfg.batch_size) : 0;
		pthread_mutex_unlock(&e->lock);
		if (n) {
			export_spans(e, n);
			next_flush = otlp_now_ns() + delay;
		}
		if (metrics_due) {
			int64_t budget = e->metrics_interval_ms < e->cfg.export_timeout_ms
						 ? e->metrics_interval_ms
						 : e->cfg.export_timeout_ms;
			export_metrics(e, reg, budget);
			next_metrics = otlp_now_ns() + e->metrics_interval_ms * NS_PER_MS;
		}
		if (profile)
			otlp_export_profile(e, profile);
		if (logs)
			otlp_export_logs(e, logs);
		report_drops(e);
		pthread_mutex_lock(&e->lock);
	}
	/* Stopping: the metrics as they are at the end, if there is time left. */
	struct metrics_registry *reg = e->reg;
	int64_t left = (e->stop_deadline_ns - otlp_now_ns()) / NS_PER_MS;
	if (e->q.n || e->profiles.n || e->logs.n || (reg && left <= 0))
		e->stop_rc = -ETIMEDOUT;
	pthread_mutex_unlock(&e->lock);
	if (reg && left > 0)
		export_metrics(e, reg, left);
	report_drops(e);
	return NULL;
}

static bool same_resource(const struct resource *a, const struct resource *b)
{
	return a->pid == b->pid && !strcmp(a->service_name, b->service_name) &&
	       !strcmp(a->executable_name, b->executable_name) && !strcmp(a->host_name, b->host_name);
}

/* Slot of res in the resource table (under the lock), taking a reference: the same one as
 * before if it is there, else a slot no queued span uses any more (processes come and go in
 * a long-running agent), else a new one. -1 when out of memory. */
static int64_t resource_ref(struct otlp_exporter *e, const struct resource *res)
{
	uint32_t i = e->last_res, free_slot = UINT32_MAX;
	if (!(i < e->nres && same_resource(e->res[i], res))) {
		for (i = 0; i < e->nres && !same_resource(e->res[i], res); i++)
			if (!e->refs[i] && free_slot == UINT32_MAX)
				free_slot = i;
	}
	if (i == e->nres) {
		if (free_slot != UINT32_MAX) {
			i = free_slot;
		} else {
			if (e->nres == e->res_cap || !(e->res[e->nres] = malloc(sizeof(struct resource))))
				return -1;
			i = e->nres++;
		}
		*e->res[i] = *res;
	}
	e->refs[i]++;
	return e->last_res = i;
}

int otlp_enqueue_span(struct otlp_exporter *e, const struct resource *res, const struct otlp_span *s)
{
	if (!e || !res || !s)
		return -EINVAL;
	otlp_stat_add(&e->enqueued, 1);
	/* Copy before locking: the lock is only held for the queue itself. */
	struct otlp_qspan *q = otlp_qspan_new(s, 0);
	if (!q) {
		otlp_stat_add(&e->dropped, 1);
		return -ENOMEM;
	}
	int err = 0;
	bool full_batch = false;
	struct otlp_qspan *old = NULL;
	pthread_mutex_lock(&e->lock);
	int64_t idx = e->stopping ? -1 : resource_ref(e, res);
	if (e->stopping) {
		err = -ESHUTDOWN;
	} else if (idx < 0) {
		err = -ENOMEM;
	} else {
		q->res = (uint32_t)idx;
		old = otlp_queue_push(&e->q, q);
		q = NULL;
		if (old)
			e->refs[old->res]--;
		full_batch = e->q.n == (size_t)e->cfg.batch_size;
	}
	pthread_mutex_unlock(&e->lock);
	/* After unlocking, so that the woken thread does not block on the lock we hold. */
	if (full_batch)
		pthread_cond_signal(&e->cond);
	if (q || old)
		otlp_stat_add(&e->dropped, 1);
	free(q);
	free(old);
	return err;
}

int otlp_exporter_add_metrics(struct otlp_exporter *e, struct metrics_registry *reg, double interval_s)
{
	if (!e || !reg || !(interval_s > 0) || interval_s > 86400)
		return -EINVAL;
	int err = 0;
	pthread_mutex_lock(&e->lock);
	if (e->reg) {
		err = -EBUSY;
	} else {
		e->reg = reg;
		e->metrics_interval_ms = (int64_t)(interval_s * 1000 + 0.5);
		if (e->metrics_interval_ms < 1)
			e->metrics_interval_ms = 1;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	return err;
}

void otlp_exporter_stats(struct otlp_exporter *e, struct otlp_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!e)
		return;
	out->spans_enqueued = otlp_load(&e->enqueued);
	out->spans_exported = otlp_load(&e->exported);
	out->spans_dropped = otlp_load(&e->dropped);
	out->spans_failed = otlp_load(&e->failed);
	out->export_requests = otlp_load(&e->requests);
	out->export_errors = otlp_load(&e->errors);
	out->metrics_exports = otlp_load(&e->metrics_ok);
	out->metrics_failed = otlp_load(&e->metrics_failed);
	out->metric_points_rejected = otlp_load(&e->metric_points_rejected);
	out->profiles_enqueued = otlp_load(&e->prof_enqueued);
	out->profiles_exported = otlp_load(&e->prof_exported);
	out->profiles_dropped = otlp_load(&e->prof_dropped);
	out->profiles_failed = otlp_load(&e->prof_failed);
	out->logs_enqueued = otlp_load(&e->logs_enqueued);
	out->logs_exported = otlp_load(&e->logs_exported);
	out->logs_dropped = otlp_load(&e->logs_dropped);
	out->logs_failed = otlp_load(&e->logs_failed);
	out->warnings = otlp_load(&e->warnings);
	pthread_mutex_lock(&e->lock);
	out->spans_queued = e->q.n;
	pthread_mutex_unlock(&e->lock);
}

/* A metric_value_fn over one of the exporter's counters (ctx points at it). */
static double read_counter(void *ctx, int target)
{
	(void)target;
	return (double)otlp_load(ctx);
}

int otlp_exporter_register_metrics(struct otlp_exporter *e, struct metrics_registry *reg)
{
	const struct {
		const char *name, *unit, *help;
		uint64_t *counter;
	} m[] = {
		{ "glimpse.spans.dropped", "{span}",
		  "Spans never sent over OTLP: queue full (the oldest go first) or still queued at exit.",
		  &e->dropped },
		{ "glimpse.spans.exported", "{span}", "Spans the OTLP receiver accepted.", &e->exported },
		{ "glimpse.spans.failed", "{span}",
		  "Spans sent over OTLP but not accepted: rejected, or retries gave up.", &e->failed },
		{ "glimpse.otlp.export.errors", "{request}", "OTLP requests that failed (retries included).",
		  &e->errors },
		{ "glimpse.otlp.metrics.exports", "{request}", "OTLP metrics exports accepted.",
		  &e->metrics_ok },
		{ "glimpse.otlp.metrics.rejected", "{data_point}",
		  "Metric data points an OTLP receiver said it rejected (partial success).",
		  &e->metric_points_rejected },
		{ "glimpse.otlp.profiles.exported", "{profile}",
		  "Profiles (one per interval and kind) the OTLP receiver accepted.", &e->prof_exported },
		{ "glimpse.otlp.profiles.dropped", "{profile}",
		  "Profiles never sent over OTLP: queue full (the oldest go first) or still queued at exit.",
		  &e->prof_dropped },
		{ "glimpse.otlp.logs.exported", "{log_record}", "Log records the OTLP receiver accepted.",
		  &e->logs_exported },
		{ "glimpse.otlp.logs.dropped", "{log_record}",
		  "Log records never sent over OTLP: queue full (the oldest go first) or still queued at "
		  "exit.",
		  &e->logs_dropped },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int err = metrics_registry_add_gauge(reg, m[i].name, m[i].unit, m[i].help, true, read_counter,
						     m[i].counter, false);
		if (err)
			return err;
	}
	return 0;
}

struct otlp_exporter *otlp_exporter_start(const struct otlp_config *cfg, char *err, size_t errlen)
{
	struct otlp_exporter *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	if (!e) {
		snprintf(err, errlen, "cannot start the OTLP exporter: out of memory");
		return NULL;
	}
	e->cfg = *cfg;
	if (e->cfg.queue_size < 1)
		e->cfg.queue_size = 1;
	if (e->cfg.batch_size < 1 || e->cfg.batch_size > e->cfg.queue_size)
		e->cfg.batch_size = e->cfg.queue_size;
	if (e->cfg.batch_delay_ms < 1)
		e->cfg.batch_delay_ms = 1;
	if (e->cfg.timeout_ms < 1)
		e->cfg.timeout_ms = 10000;
	if (e->cfg.export_timeout_ms < 1)
		e->cfg.export_timeout_ms = 30000;
	e->profiles.cap = OTLP_PROFILES_QUEUE;
	e->logs.cap = OTLP_LOGS_QUEUE;
	e->rng = (uint32_t)(otlp_unix_ns() ^ ((uint64_t)getpid() << 16)) | 1;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	e->res_cap = (uint32_t)e->cfg.queue_size + (uint32_t)e->cfg.batch_size + 1;
	e->res = calloc(e->res_cap, sizeof(*e->res));
	e->refs = calloc(e->res_cap, sizeof(*e->refs));
	e->batch = calloc((size_t)e->cfg.batch_size, sizeof(*e->batch));
	if (!e->res || !e->refs || !e->batch || otlp_queue_init(&e->q, (size_t)e->cfg.queue_size)) {
		snprintf(err, errlen, "cannot start the OTLP exporter: out of memory");
		goto fail;
	}
	if (otlp_setup_http(e, err, errlen))
		goto fail;
	int rc = pthread_create(&e->thread, NULL, export_thread, e);
	if (rc) {
		snprintf(err, errlen, "cannot start the OTLP exporter thread: %s", strerror(rc));
		goto fail;
	}
	e->running = true;
	return e;
fail:
	otlp_exporter_free(e);
	return NULL;
}

const volatile size_t *otlp_exporter_queued(const struct otlp_exporter *e)
{
	return &e->q.n;
}

int otlp_exporter_stop(struct otlp_exporter *e, int timeout_ms)
{
	if (!e)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (!e->stopping) {
		e->stopping = true;
		__atomic_store_n(&e->stop_deadline_ns,
				 otlp_now_ns() + (timeout_ms > 0 ? timeout_ms : 0) * NS_PER_MS,
				 __ATOMIC_RELAXED);
	}
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (e->running) {
		pthread_join(e->thread, NULL);
		e->running = false;
	}
	/* What the deadline left in the queue never leaves. */
	struct otlp_qspan *s;
	pthread_mutex_lock(&e->lock);
	while (otlp_queue_pop(&e->q, &s, 1)) {
		e->refs[s->res]--;
		free(s);
		otlp_stat_add(&e->dropped, 1);
	}
	int rc = e->stop_rc;
	pthread_mutex_unlock(&e->lock);
	otlp_fifo_drop_all(e, &e->profiles, &e->prof_dropped);
	otlp_fifo_drop_all(e, &e->logs, &e->logs_dropped);
	return rc;
}

void otlp_exporter_free(struct otlp_exporter *e)
{
	if (!e)
		return;
	otlp_exporter_stop(e, 0);
	otlp_queue_free(&e->q);
	if (e->res)
		for (uint32_t i = 0; i < e->nres; i++)
			free(e->res[i]);
	free(e->res);
	free(e->refs);
	free(e->batch);
	if (e->headers)
		curl_lib()->slist_free_all(e->headers);
	if (e->curl)
		curl_lib()->easy_cleanup(e->curl);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
