// SPDX-License-Identifier: Apache-2.0
#include "export/dashboard.h"
#include "export/dash_profile.h"

#include "base/clock.h"
#include "base/log.h"
#include "export/dash_json.h"
#include "export/dash_snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The page's files, turned into arrays at build time (Makefile: xxd -i of user/export/dashboard). */
extern const unsigned char index_html[], dashboard_js[], dashboard_css[], flamegraph_js[];
extern const unsigned int index_html_len, dashboard_js_len, dashboard_css_len, flamegraph_js_len;

struct asset {
	const char *url, *type;
	const unsigned char *data;
	const unsigned int *len;
};

static const struct asset assets[] = {
	{ "/", "text/html; charset=utf-8", index_html, &index_html_len },
	{ "/dashboard.js", "text/javascript; charset=utf-8", dashboard_js, &dashboard_js_len },
	{ "/dashboard.css", "text/css; charset=utf-8", dashboard_css, &dashboard_css_len },
	{ "/flamegraph.js", "text/javascript; charset=utf-8", flamegraph_js, &flamegraph_js_len },
};

/* Nothing but this origin's own files and API; no inline script or style, no frames. */
#define DASH_CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct dashboard {
	struct metrics_registry *reg;
	pthread_t sampler;
	bool sampler_started;
	pthread_mutex_t lock;
	pthread_cond_t tick; /* CLOCK_MONOTONIC */
	bool stopping;
	struct dash_snapshot *ring[DASH_HISTORY]; /* sampler thread only */
	size_t nring, head;			  /* head: the oldest */
	char *json;				  /* newest rendering, under lock */
	size_t json_len;
	uint64_t seq;	      /* renderings so far, under lock */
	int streams;	      /* open /api/stream responses, under lock */
	uint64_t last_use_ns; /* under lock: the newest dashboard request or event sent; 0: none yet */
	struct trace_recent *_Atomic traces;
	struct dash_profile *_Atomic profile; /* NULL: CPU profiling is off */
};

static void sample_once(struct dashboard *d)
{
	struct dash_snapshot *s = dash_snapshot_take(d->reg);
	if (!s)
		return;
	if (d->nring == DASH_HISTORY) {
		dash_snapshot_free(d->ring[d->head]);
		d->ring[d->head] = s;
		d->head = (d->head + 1) % DASH_HISTORY;
	} else {
		d->ring[(d->head + d->nring++) % DASH_HISTORY] = s;
	}
	const struct dash_snapshot *ordered[DASH_HISTORY];
	for (size_t i = 0; i < d->nring; i++)
		ordered[i] = d->ring[(d->head + i) % DASH_HISTORY];
	const struct dash_json_opts opts = { .traces = d->traces };
	char *json;
	size_t len;
	if (dash_json_render(ordered, d->nring, &opts, &json, &len))
		return;
	pthread_mutex_lock(&d->lock);
	free(d->json);
	d->json = json;
	d->json_len = len;
	d->seq++;
	pthread_cond_broadcast(&d->tick);
	pthread_mutex_unlock(&d->lock);
}

static void deadline_after(struct timespec *ts, uint64_t mono_ns)
{
	ts->tv_sec = (time_t)(mono_ns / 1000000000ull);
	ts->tv_nsec = (long)(mono_ns % 1000000000ull);
}

/* Someone looked within DASH_IDLE_S. Under lock. */
static bool in_use(const struct dashboard *d)
{
	return d->last_use_ns && clock_mono_ns() - d->last_use_ns < DASH_IDLE_S * 1000000000ull;
}

/* A request or an event: keeps the sampler running, or wakes it. */
static void touch(struct dashboard *d)
{
	pthread_mutex_lock(&d->lock);
	d->last_use_ns = clock_mono_ns();
	pthread_cond_broadcast(&d->tick);
	pthread_mutex_unlock(&d->lock);
}

static void forget_history(struct dashboard *d)
{
	for (size_t i = 0; i < d->nring; i++)
		dash_snapshot_free(d->ring[(d->head + i) % DASH_HISTORY]);
	d->nring = d->head = 0;
}

/* Nobody looking: no snapshots (no registry walk, no memory) until someone asks. Under lock;
 * false when stopping. */
static bool wait_for_viewer(struct dashboard *d)
{
	if (!d->stopping && !in_use(d)) {
		free(d->json);
		d->json = NULL;
		pthread_mutex_unlock(&d->lock);
		forget_history(d); /* the ring is the sampler's own */
		pthread_mutex_lock(&d->lock);
		while (!d->stopping && !in_use(d))
			pthread_cond_wait(&d->tick, &d->lock);
	}
	return !d->stopping;
}

static void *sampler_main(void *arg)
{
	struct dashboard *d = arg;
	uint64_t next = clock_mono_ns();
	for (;;) {
		pthread_mutex_lock(&d->lock);
		bool idle = !in_use(d), run = wait_for_viewer(d);
		pthread_mutex_unlock(&d->lock);
		if (!run)
			return NULL;
		if (idle)
			next = clock_mono_ns();
		sample_once(d);
		next += 1000000000ull;
		uint64_t now = clock_mono_ns();
		if (next < now) /* fell behind (a stopped process, a slow visit): no burst */
			next = now + 1000000000ull;
		struct timespec ts;
		deadline_after(&ts, next);
		pthread_mutex_lock(&d->lock);
		while (!d->stopping && pthread_cond_timedwait(&d->tick, &d->lock, &ts) != ETIMEDOUT)
			;
		bool stop = d->stopping;
		pthread_mutex_unlock(&d->lock);
		if (stop)
			return NULL;
	}
}

struct dashboard *dashboard_start(struct metrics_registry *reg)
{
	struct dashboard *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->reg = reg;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->tick, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->sampler, NULL, sampler_main, d)) {
		dashboard_free(d);
		return NULL;
	}
	d->sampler_started = true;
	return d;
}

void dashboard_shutdown(struct dashboard *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_broadcast(&d->tick);
	pthread_mutex_unlock(&d->lock);
}

void dashboard_free(struct dashboard *d)
{
	if (!d)
		return;
	dashboard_shutdown(d);
	if (d->sampler_started)
		pthread_join(d->sampler, NULL);
	forget_history(d);
	free(d->json);
	pthread_cond_destroy(&d->tick);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void dashboard_set_traces(struct dashboard *d, struct trace_recent *recent)
{
	d->traces = recent;
}

void dashboard_set_profile(struct dashboard *d, struct dash_profile *profile)
{
	d->profile = profile;
}

bool dashboard_serves(const char *url)
{
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (!strcmp(url, assets[i].url))
			return true;
	return !strcmp(url, "/index.html") || !strcmp(url, "/api/snapshot") || !strcmp(url, "/api/stream") ||
	       !strcmp(url, "/api/trace") || !strcmp(url, "/api/profile");
}

static void add_common_headers(struct MHD_Response *resp, const char *type, bool no_store)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "Content-Security-Policy", DASH_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (no_store)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status, struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (resp)
		add_common_headers(resp, "text/plain; charset=utf-8", true);
	return queue(conn, status, resp);
}

/* A copy of the newest JSON, waiting a moment for the first after the sampler woke (NULL
 * when none came or out of memory). */
static char *latest_json(struct dashboard *d, size_t *len, uint64_t *seq)
{
	struct timespec ts;
	deadline_after(&ts, clock_mono_ns() + 3000000000ull);
	pthread_mutex_lock(&d->lock);
	while (!d->json && !d->stopping && pthread_cond_timedwait(&d->tick, &d->lock, &ts) != ETIMEDOUT)
		;
	char *copy = d->json ? malloc(d->json_len + 1) : NULL;
	if (copy) {
		memcpy(copy, d->json, d->json_len + 1);
		*len = d->json_len;
	}
	if (seq)
		*seq = d->seq;
	pthread_mutex_unlock(&d->lock);
	return copy;
}

struct stream {
	struct dashboard *d;
	char *buf; /* the event being sent */
	size_t len, off;
	uint64_t seq; /* the rendering last sent */
};

#define STREAM_KEEPALIVE_S 5

/* Fills buf with the next event: the newest rendering once it is newer than the last sent, a
 * comment line when none came for a while (so proxies and the server's idle timeout see the
 * stream alive). false when the dashboard stops. */
static bool stream_next(struct stream *st)
{
	struct dashboard *d = st->d;
	struct timespec ts;
	deadline_after(&ts, clock_mono_ns() + STREAM_KEEPALIVE_S * 1000000000ull);
	pthread_mutex_lock(&d->lock);
	int rc = 0;
	while (!d->stopping && (d->seq == st->seq || !d->json) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&d->tick, &d->lock, &ts);
	bool stop = d->stopping, fresh = d->json && d->seq != st->seq;
	free(st->buf);
	st->buf = NULL;
	st->off = st->len = 0;
	if (!stop && fresh) {
		/* "data: " JSON "\n\n": the JSON has no raw newline (dash_json.h). */
		st->len = d->json_len + 8;
		if ((st->buf = malloc(st->len + 1))) {
			memcpy(st->buf, "data: ", 6);
			memcpy(st->buf + 6, d->json, d->json_len);
			memcpy(st->buf + 6 + d->json_len, "\n\n", 3);
			st->seq = d->seq;
			d->last_use_ns = clock_mono_ns(); /* an open page keeps the sampler going */
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (stop)
		return false;
	if (!st->buf) {
		st->buf = strdup(": keepalive\n\n");
		st->len = st->buf ? strlen(st->buf) : 0;
	}
	return st->buf != NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	(void)pos;
	if (st->off == st->len && !stream_next(st))
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = st->len - st->off < max ? st->len - st->off : max;
	memcpy(out, st->buf + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;
	pthread_mutex_lock(&st->d->lock);
	st->d->streams--;
	pthread_mutex_unlock(&st->d->lock);
	free(st->buf);
	free(st);
}

static enum MHD_Result reply_stream(struct dashboard *d, struct MHD_Connection *conn)
{
	pthread_mutex_lock(&d->lock);
	bool full = d->streams >= DASH_MAX_STREAMS;
	if (!full)
		d->streams++;
	pthread_mutex_unlock(&d->lock);
	if (full)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "too many dashboard streams open; close a tab or poll /api/snapshot\n");
	struct stream *st = calloc(1, sizeof(*st));
	/* The first event says how long the browser waits before reconnecting. */
	if (st && (st->buf = strdup("retry: 2000\n\n")))
		st->len = strlen(st->buf);
	struct MHD_Response *resp = st && st->buf
					    ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
										stream_read, st, stream_free)
					    : NULL;
	if (!resp) {
		if (st)
			free(st->buf);
		free(st);
		pthread_mutex_lock(&d->lock);
		d->streams--;
		pthread_mutex_unlock(&d->lock);
		return MHD_NO;
	}
	st->d = d;
	add_common_headers(resp, "text/event-stream; charset=utf-8", true);
	return queue(conn, MHD_HTTP_OK, resp);
}

enum MHD_Result dashboard_reply(struct dashboard *d, struct MHD_Connection *conn, const char *url)
{
	touch(d);
	if (!strcmp(url, "/index.html"))
		url = "/";
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(url, assets[i].url))
			continue;
		struct MHD_Response *resp = MHD_create_response_from_buffer(
			*assets[i].len, (void *)assets[i].data, MHD_RESPMEM_PERSISTENT);
		if (resp)
			add_common_headers(resp, assets[i].type, true);
		return queue(conn, MHD_HTTP_OK, resp);
	}
	if (!strcmp(url, "/api/stream"))
		return reply_stream(d, conn);
	size_t len;
	char *json = NULL;
	if (!strcmp(url, "/api/trace")) {
		const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id");
		int rc = dash_traces_render_trace(d->traces, id, &json, &len);
		if (rc == -EINVAL)
			return reply_text(conn, MHD_HTTP_BAD_REQUEST,
					  "id must be a trace id: 32 hex digits\n");
		if (rc == -ENOENT)
			return reply_text(
				conn, MHD_HTTP_NOT_FOUND,
				"no such trace kept (the dashboard keeps the newest and slowest)\n");
		if (rc)
			return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	} else if (!strcmp(url, "/api/profile")) {
		if (dash_profile_json(d->profile, &json, &len))
			return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	} else {
		json = latest_json(d, &len, NULL);
	}
	if (!json)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet; retry in a second\n");
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, json, free);
	if (!resp) {
		free(json);
		return MHD_NO;
	}
	add_common_headers(resp, "application/json", true);
	return queue(conn, MHD_HTTP_OK, resp);
}
