// SPDX-License-Identifier: Apache-2.0
/* The exporter's HTTP session: one curl handle (set up once), POSTs whose responses are read
 * bounded, retries on the answers the specification calls retryable with Retry-After or
 * backoff, and a progress callback that ends a transfer at the stop deadline. */
#define _GNU_SOURCE
#include "export/otlp.h"
#include "export/curl_lib.h"
#include "export/otlp_internal.h"

#include "base/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct http_result *r = ctx;
	size_t len = size * n;
	if (r->len + len > RESPONSE_MAX)
		return len; /* only the start matters */
	uint8_t *p = realloc(r->body, r->len + len + 1);
	if (!p)
		return len;
	memcpy(p + r->len, data, len);
	r->body = p;
	r->len += len;
	r->body[r->len] = 0;
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct http_result *r = ctx;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1)) {
		char value[128];
		size_t vn = len - (sizeof(name) - 1);
		if (vn >= sizeof(value))
			vn = sizeof(value) - 1;
		memcpy(value, data + sizeof(name) - 1, vn);
		value[vn] = '\0';
		char *e = value + strlen(value);
		while (e > value && isspace((unsigned char)e[-1]))
			*--e = '\0';
		int64_t ms;
		if (!otlp_parse_retry_after(value, time(NULL), &ms))
			r->retry_after_ms = ms;
	}
	return len;
}

/* Aborts a transfer that would outlast the stop deadline. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct otlp_exporter *e = ctx;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	int64_t deadline = __atomic_load_n(&e->stop_deadline_ns, __ATOMIC_RELAXED);
	return deadline && otlp_now_ns() > deadline;
}

static void otlp_http_post(struct otlp_exporter *e, const char *url, const uint8_t *body, size_t len,
			   int64_t timeout_ms, struct http_result *r)
{
	CURL *c = e->curl;
	memset(r, 0, sizeof(*r));
	r->retry_after_ms = -1;
	curl_lib()->easy_setopt(c, CURLOPT_URL, url);
	curl_lib()->easy_setopt(c, CURLOPT_POST, 1L);
	curl_lib()->easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
	curl_lib()->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_lib()->easy_setopt(c, CURLOPT_HTTPHEADER, e->headers);
	curl_lib()->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
	curl_lib()->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_lib()->easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_lib()->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_lib()->easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_lib()->easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
	otlp_stat_add(&e->requests, 1);
	r->code = curl_lib()->easy_perform(c);
	if (r->code == CURLE_OK)
		curl_lib()->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->code != CURLE_OK || r->status < 200 || r->status > 299)
		otlp_stat_add(&e->errors, 1);
	curl_lib()->easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
}

#define RETRY_MIN_MS 100

const char *otlp_printable(const uint8_t *s, size_t n, char *buf, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		unsigned char c = s[i];
		if (c < 0x20 || c >= 0x7f) {
			if (o && buf[o - 1] != ' ')
				buf[o++] = ' ';
		} else {
			buf[o++] = (char)c;
		}
	}
	while (o && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	return o ? buf : "no message";
}

uint64_t otlp_partial_rejected(struct otlp_exporter *e, unsigned kind, int64_t rejected, uint64_t total,
			       const char *unit, const char *message)
{
	if (rejected <= 0)
		return 0;
	uint64_t n = (uint64_t)rejected < total ? (uint64_t)rejected : total;
	char text[200];
	otlp_warn_limited(e, kind + W_PARTIAL, "OTLP receiver rejected %llu of %llu %s: %s",
			  (unsigned long long)n, (unsigned long long)total, unit,
			  otlp_printable((const uint8_t *)(message ? message : ""),
					 message ? strlen(message) : 0, text, sizeof(text)));
	return n;
}

/* The stop deadline cut an export short: otlp_exporter_stop says so. */
static enum send_result cut_by_stop(struct otlp_exporter *e)
{
	pthread_mutex_lock(&e->lock);
	e->stop_rc = -ETIMEDOUT;
	pthread_mutex_unlock(&e->lock);
	return STOPPED;
}

/* POSTs body (already compressed if configured) until it is accepted, rejected, or budget_ms
 * has passed; retries network errors and 429/502/503/504 with backoff or Retry-After. On SENT
 * the response body is left in *resp (caller frees); on STOPPED the stop's result is already
 * -ETIMEDOUT. */
enum send_result otlp_send_with_retry(struct otlp_exporter *e, const char *url, const uint8_t *body,
				      size_t len, int64_t budget_ms, const char *what,
				      struct http_result *resp)
{
	int64_t start = otlp_now_ns(), give_up = start + budget_ms * NS_PER_MS;
	unsigned w = url == e->cfg.metrics_url	  ? W_METRICS
		     : url == e->cfg.profiles_url ? W_PROFILES
		     : url == e->cfg.logs_url	  ? W_LOGS
						  : 0;
	for (unsigned attempt = 0;; attempt++) {
		int64_t now = otlp_now_ns(), end = give_up;
		pthread_mutex_lock(&e->lock);
		if (e->stopping && e->stop_deadline_ns < end)
			end = e->stop_deadline_ns;
		bool stopping = e->stopping;
		pthread_mutex_unlock(&e->lock);
		if (now >= end)
			return stopping && end < give_up ? cut_by_stop(e) : GAVE_UP;
		int64_t left_ms = (end - now + NS_PER_MS - 1) / NS_PER_MS;
		int64_t timeout = e->cfg.timeout_ms < left_ms ? e->cfg.timeout_ms : left_ms;
		struct http_result r;
		otlp_http_post(e, url, body, len, timeout, &r);
		if (r.code == CURLE_OK && r.status >= 200 && r.status <= 299) {
			if (e->failing[w / W_METRICS])
				log_info("OTLP export to %s works again", url);
			e->failing[w / W_METRICS] = false;
			*resp = r;
			return SENT;
		}
		if (r.code == CURLE_ABORTED_BY_CALLBACK) { /* on_progress: the stop deadline passed */
			free(r.body);
			return cut_by_stop(e);
		}
		e->failing[w / W_METRICS] = true;
		int64_t wait;
		if (r.code != CURLE_OK) {
			otlp_warn_limited(e, w + W_NETWORK, "OTLP export of %s to %s failed: %s; retrying",
					  what, url,
					  r.curl_err[0] ? r.curl_err : curl_lib()->easy_strerror(r.code));
			wait = otlp_backoff_ms(attempt, otlp_next_rand(e));
		} else if (otlp_status_retryable(r.status)) {
			otlp_warn_limited(e, w + W_RETRY, "OTLP receiver %s answered %ld to %s; retrying%s",
					  url, r.status, what,
					  r.retry_after_ms >= 0 ? " as its Retry-After says" : "");
			wait = r.retry_after_ms >= 0 ? r.retry_after_ms
						     : otlp_backoff_ms(attempt, otlp_next_rand(e));
			if (wait < RETRY_MIN_MS) /* "Retry-After: 0" must not make a busy loop */
				wait = RETRY_MIN_MS;
		} else {
			/* Anything else will not get better by sending it again. */
			char text[160];
			otlp_warn_limited(e, w + W_REJECTED,
					  "OTLP receiver %s rejected %s with HTTP %ld (%s); "
					  "dropped: check the endpoint, headers and the receiver's logs",
					  url, what, r.status,
					  otlp_printable(r.body, r.len, text, sizeof(text)));
			free(r.body);
			return REJECTED;
		}
		free(r.body);
		if (otlp_now_ns() + wait * NS_PER_MS > give_up) {
			otlp_warn_limited(e, w + W_GAVE_UP,
					  "OTLP export of %s to %s gave up after %u "
					  "attempt%s in %.1f s",
					  what, url, attempt + 1, attempt ? "s" : "",
					  (otlp_now_ns() - start) / 1e9);
			return GAVE_UP;
		}
		if (!otlp_sleep_until(e, otlp_now_ns() + wait * NS_PER_MS))
			return cut_by_stop(e);
	}
}

/* *body is raw, or its gzip when configured (raw is then freed); the caller frees *body. */
int otlp_maybe_gzip(struct otlp_exporter *e, uint8_t *raw, size_t len, uint8_t **body, size_t *blen)
{
	if (!e->cfg.gzip) {
		*body = raw;
		*blen = len;
		return 0;
	}
	int err = otlp_gzip(raw, len, body, blen);
	free(raw);
	return err;
}

int otlp_setup_http(struct otlp_exporter *e, char *err, size_t errlen)
{
	char line[OTLP_HEADER_NAME_MAX + OTLP_HEADER_VALUE_MAX + 4], why[256];
	if (!curl_lib_load(why, sizeof(why))) {
		snprintf(err, errlen, "cannot start the OTLP exporter: %s", why);
		return -ENOENT;
	}
	if (!(e->curl = curl_lib()->easy_init())) {
		snprintf(err, errlen, "cannot start the OTLP exporter: libcurl failed to initialise");
		return -ENOMEM;
	}
	struct curl_slist *h = curl_lib()->slist_append(NULL, "Content-Type: application/x-protobuf");
	/* No "Expect: 100-continue" round trip before each body. */
	if (h)
		h = curl_lib()->slist_append(h, "Expect:");
	if (h && e->cfg.gzip)
		h = curl_lib()->slist_append(h, "Content-Encoding: gzip");
	for (size_t i = 0; h && i < e->cfg.nheaders; i++) {
		snprintf(line, sizeof(line), "%s: %s", e->cfg.headers[i].name, e->cfg.headers[i].value);
		struct curl_slist *n = curl_lib()->slist_append(h, line);
		if (!n)
			curl_lib()->slist_free_all(h);
		h = n;
	}
	if (!h) {
		snprintf(err, errlen, "cannot start the OTLP exporter: out of memory");
		return -ENOMEM;
	}
	e->headers = h;
	CURL *c = e->curl;
	curl_lib()->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_lib()->easy_setopt(c, CURLOPT_USERAGENT, "glimpse/" GLIMPSE_VERSION);
	curl_lib()->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_lib()->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_lib()->easy_setopt(c, CURLOPT_XFERINFODATA, e);
	curl_lib()->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_lib()->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	return 0;
}
