// SPDX-License-Identifier: Apache-2.0
/* HTTP/1.x over captured system calls: requests (from the client) are queued when their header
 * block ends, and each final status line pairs with the oldest queued request, which is how
 * pipelining works on the wire (RFC 9112 §9.3.2). Both directions are read one CRLF line at a
 * time into a bounded buffer, so a header split anywhere across chunks costs nothing more.
 * Bodies are skipped by count, captured or not; a gap in the capture anywhere else means the
 * framing is unknown, and the parser waits for a chunk that starts a request. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "sockcap/wire.h"
#include "sockcap/wire_internal.h"

#define HTTP1_PENDING_MAX 16
/* Longer header blocks are refused by common servers too (8 KiB is nginx's and Go's default
 * order of magnitude); beyond it the parser stops trusting its framing. */
#define HTTP1_BLOCK_MAX	  8192
#define HTTP1_LENGTH_MAX  1000000000000000ULL
#define HTTP1_VERSION_LEN 9 /* " HTTP/1.1" at the end of a request line */

struct http1_req {
	uint64_t start_ns;
	char method[WIRE_METHOD_LEN + 1];
	char path[WIRE_PATH_LEN + 1];
	char traceparent[WIRE_TRACEPARENT_LEN + 1];
	char host[WIRE_HOST_LEN + 1];
	bool path_whole; /* the target was seen whole, origin-form, and fits in path */
	uint8_t hosts;	 /* Host headers seen (2: two or more, or one not kept whole) */
	uint8_t version_minor;
	bool head;    /* its response has no body whatever its header says */
	bool connect; /* a 2xx turns the connection into a tunnel */
};

enum http1_state {
	H_START,       /* the request line or status line */
	H_HEADERS,     /* header lines up to the empty one */
	H_BODY,	       /* left bytes of Content-Length body */
	H_CHUNK_SIZE,  /* a chunk-size line */
	H_CHUNK_DATA,  /* left bytes of chunk data and its CRLF */
	H_TRAILERS,    /* trailer lines up to the empty one */
	H_UNTIL_CLOSE, /* a response body delimited by the connection's end */
	H_IGNORE,      /* responses nobody is waiting for: nothing to pair them with */
};

/* One direction's framing: where the next byte belongs. */
struct http1_dir {
	enum http1_state state;
	struct wire_line line;
	uint64_t left;
	size_t block;	/* bytes of the current header block, trailers or chunk-size line */
	bool truncated; /* this message's truncation was counted */
	bool has_length, chunked, other_coding;
	uint64_t length;
};

struct http1_conn {
	struct http1_dir req, rsp;
	struct http1_req cur; /* the request whose header block is being read */
	struct http1_req pending[HTTP1_PENDING_MAX];
	unsigned first, count;
	unsigned overflow; /* requests dropped for want of room, answered after those kept */
	uint16_t status;   /* the response whose header block is being read */
	bool rsp_no_body;  /* ... has no body (HEAD, 204, 304, 1xx) */
	bool rsp_tunnel;   /* ... ends HTTP on this connection (101, 2xx to CONNECT) */
	bool lost;	   /* framing unknown: waiting for a chunk that starts a request */
	bool done;	   /* no longer HTTP (upgraded, tunneled): nothing more is parsed */
};

/* What one feed call works with. */
struct http1_feed {
	struct http1_conn *h;
	const struct wire_chunk *c;
	struct wire_stats *stats;
	wire_call_fn fn;
	void *ctx;
};

static bool http1_tchar(uint8_t b)
{
	if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))
		return true;
	return b != 0 && strchr("!#$%&'*+-.^_`|~", b) != NULL;
}

static bool http1_vchar(uint8_t b)
{
	return b > 0x20 && b < 0x7f;
}

static size_t http1_token_len(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n && http1_tchar(s[i]))
		i++;
	return i;
}

static bool http1_ieq(const uint8_t *s, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t a = s[i] >= 'A' && s[i] <= 'Z' ? (uint8_t)(s[i] + 32) : s[i];
		if (a != (uint8_t)lit[i])
			return false;
	}
	return true;
}

static void http1_dir_reset(struct http1_dir *d)
{
	d->state = H_START;
	wire_line_reset(&d->line, WIRE_LINE_HEAD);
	d->left = 0;
	d->block = 0;
	d->truncated = false;
	d->has_length = d->chunked = d->other_coding = false;
	d->length = 0;
}

static void http1_lose(struct http1_feed *f)
{
	f->stats->unanswered += f->h->count;
	f->stats->unparseable++;
	f->h->count = 0;
	f->h->overflow = 0;
	f->h->lost = true;
}

/* The path of a request-target (RFC 9112 §3.2): origin-form up to '?' or '#', the path of an
 * absolute-form, "*"; an authority-form (CONNECT host:port) has none. */
static void http1_path(const uint8_t *t, size_t n, char *out)
{
	size_t i = 0;
	if (n > 0 && t[0] != '/' && t[0] != '*') {
		const uint8_t *sep = n >= 3 ? memmem(t, n, "://", 3) : NULL;
		if (sep == NULL) {
			out[0] = '\0';
			return;
		}
		i = (size_t)(sep - t) + 3;
		while (i < n && t[i] != '/' && t[i] != '?' && t[i] != '#')
			i++;
		if (i == n || t[i] != '/') {
			strcpy(out, "/");
			return;
		}
	}
	size_t j = i;
	while (j < n && t[j] != '?' && t[j] != '#')
		j++;
	wire_copy_str(out, WIRE_PATH_LEN + 1, t + i, j - i);
}

/* A request line: method SP request-target SP HTTP/1.x, from a line's kept head and tail. */
static bool http1_request_line(const struct wire_line *l, struct http1_req *r)
{
	size_t kept = wire_line_kept(l);
	size_t m = http1_token_len(l->head, kept);
	if (m == 0 || m > WIRE_METHOD_LEN || m >= kept || l->head[m] != ' ')
		return false;
	if (l->len < m + 2 + HTTP1_VERSION_LEN)
		return false;
	const uint8_t *v = wire_line_tail(l, HTTP1_VERSION_LEN);
	if (memcmp(v, " HTTP/1.", 8) != 0 || (v[8] != '0' && v[8] != '1'))
		return false;
	size_t target_end = l->len - HTTP1_VERSION_LEN;
	size_t seen_end = target_end < kept ? target_end : kept;
	for (size_t i = m + 1; i < seen_end; i++) {
		if (!http1_vchar(l->head[i]))
			return false;
	}
	wire_copy_str(r->method, sizeof(r->method), l->head, m);
	http1_path(l->head + m + 1, seen_end - (m + 1), r->path);
	r->version_minor = (uint8_t)(v[8] - '0');
	r->traceparent[0] = '\0';
	r->host[0] = '\0';
	r->hosts = 0;
	size_t plen = 0; /* the origin-form path: up to '?' or '#' */
	while (m + 1 + plen < seen_end && l->head[m + 1 + plen] != '?' && l->head[m + 1 + plen] != '#')
		plen++;
	r->path_whole = target_end <= kept && l->head[m + 1] == '/' && plen <= WIRE_PATH_LEN &&
			(m + 1 + plen < seen_end || seen_end == target_end);
	r->head = strcmp(r->method, "HEAD") == 0;
	r->connect = strcmp(r->method, "CONNECT") == 0;
	return true;
}

/* A status line: HTTP/1.x SP 3DIGIT [SP reason]; the status, or 0. */
static uint16_t http1_status_line(const struct wire_line *l)
{
	const uint8_t *s = l->head;
	size_t kept = wire_line_kept(l);
	if (kept < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
		return 0;
	uint64_t status;
	if (!wire_parse_dec(s + 9, 3, 999, &status) || status < 100 || status > 599)
		return 0;
	if (l->len > 12 && s[12] != ' ')
		return 0;
	return (uint16_t)status;
}

static void http1_enqueue(struct http1_feed *f)
{
	struct http1_conn *h = f->h;
	/* Behind a dropped request, a new one cannot be paired: its response comes after one
	 * nobody remembers. */
	if (h->count == HTTP1_PENDING_MAX || h->overflow > 0) {
		h->overflow++;
		f->stats->unanswered++;
		return;
	}
	h->pending[(h->first + h->count) % HTTP1_PENDING_MAX] = h->cur;
	h->count++;
	if (h->rsp.state == H_IGNORE)
		http1_dir_reset(&h->rsp);
}

/* A final status line: the oldest request waiting has its answer. */
static void http1_complete(struct http1_feed *f)
{
	struct http1_conn *h = f->h;
	const struct http1_req *r = &h->pending[h->first];
	struct wire_call call;
	memset(&call, 0, sizeof(call));
	call.protocol = WIRE_HTTP1;
	call.start_ns = r->start_ns;
	call.end_ns = f->c->end_ns;
	memcpy(call.method, r->method, sizeof(call.method));
	memcpy(call.path, r->path, sizeof(call.path));
	memcpy(call.traceparent, r->traceparent, sizeof(call.traceparent));
	memcpy(call.host, r->host, sizeof(call.host));
	call.route_exact = r->path_whole && r->hosts < 2;
	call.version_minor = r->version_minor;
	call.status = h->status;
	h->rsp_no_body = r->head || h->status == 204 || h->status == 304;
	h->rsp_tunnel = h->status == 101 || (r->connect && h->status >= 200 && h->status < 300);
	h->first = (h->first + 1) % HTTP1_PENDING_MAX;
	h->count--;
	f->fn(f->ctx, &call);
}

static bool http1_start_line(struct http1_feed *f, struct http1_dir *d)
{
	struct http1_conn *h = f->h;
	if (d == &h->req) {
		if (!http1_request_line(&d->line, &h->cur))
			return false;
		d->state = H_HEADERS;
		return true;
	}
	h->status = http1_status_line(&d->line);
	if (h->status == 0)
		return false;
	h->rsp_no_body = true;
	h->rsp_tunnel = false;
	bool final = h->status >= 200 || h->status == 101;
	if (final && h->count > 0) {
		http1_complete(f);
	} else if (final && h->overflow > 0) {
		h->overflow--; /* the answer to a request dropped earlier */
		h->rsp_no_body = h->status == 204 || h->status == 304;
		h->rsp_tunnel = h->status == 101;
	}
	if (h->rsp_tunnel) {
		h->done = true;
		return true;
	}
	d->state = H_HEADERS;
	return true;
}

/* Whether the first bytes of a start line can still begin one, so that garbage is refused
 * when it arrives, not when (if ever) a CRLF follows. */
static bool http1_start_prefix(const struct http1_dir *d, bool request)
{
	const uint8_t *s = d->line.head;
	size_t kept = wire_line_kept(&d->line);
	if (!request)
		return memcmp(s, "HTTP/1.", kept < 7 ? kept : 7) == 0;
	size_t m = http1_token_len(s, kept);
	return m == kept ? m <= WIRE_METHOD_LEN : m > 0 && m <= WIRE_METHOD_LEN && s[m] == ' ';
}

/* One header line: only the framing headers and traceparent are looked at; no other name or
 * value is kept. */
static bool http1_header_line(struct http1_feed *f, struct http1_dir *d)
{
	const struct wire_line *l = &d->line;
	size_t kept = wire_line_kept(l);
	size_t n = http1_token_len(l->head, kept);
	if (n == 0 || n == kept || l->head[n] != ':')
		return false;
	size_t v = n + 1, e = kept;
	while (v < e && (l->head[v] == ' ' || l->head[v] == '\t'))
		v++;
	while (e > v && (l->head[e - 1] == ' ' || l->head[e - 1] == '\t'))
		e--;
	bool whole = l->len == kept;
	if (http1_ieq(l->head, n, "content-length")) {
		uint64_t len;
		if (!whole || !wire_parse_dec(l->head + v, e - v, HTTP1_LENGTH_MAX, &len))
			return false;
		if (d->has_length && d->length != len)
			return false;
		d->has_length = true;
		d->length = len;
	} else if (http1_ieq(l->head, n, "transfer-encoding")) {
		if (!whole)
			return false;
		size_t c = e;
		while (c > v && l->head[c - 1] != ',' && l->head[c - 1] != ' ' && l->head[c - 1] != '\t')
			c--;
		d->chunked = http1_ieq(l->head + c, e - c, "chunked");
		d->other_coding = !d->chunked;
	} else if (d == &f->h->req && http1_ieq(l->head, n, "traceparent")) {
		if (whole && e - v <= WIRE_TRACEPARENT_LEN)
			wire_copy_str(f->h->cur.traceparent, WIRE_TRACEPARENT_LEN + 1, l->head + v, e - v);
		else
			f->h->cur.traceparent[0] = '\0';
	} else if (d == &f->h->req && http1_ieq(l->head, n, "host")) {
		struct http1_req *r = &f->h->cur;
		if (r->hosts++ == 0 && whole && e - v <= WIRE_HOST_LEN)
			wire_copy_str(r->host, WIRE_HOST_LEN + 1, l->head + v, e - v);
		else
			r->hosts = 2;
	}
	return true;
}

static void http1_message_end(struct http1_dir *d)
{
	http1_dir_reset(d);
}

/* Where a message's body starts, from the header block that just ended. */
static bool http1_headers_end(struct http1_feed *f, struct http1_dir *d)
{
	struct http1_conn *h = f->h;
	bool request = d == &h->req;
	if (request) {
		if (d->other_coding)
			return false; /* a request body of unknown length (RFC 9112 §6.3) */
		http1_enqueue(f);
	} else if (h->status < 200 || h->rsp_no_body) {
		http1_message_end(d);
		return true;
	}
	if (d->chunked) {
		d->state = H_CHUNK_SIZE;
		d->block = 0;
	} else if (!request && d->other_coding) {
		d->state = H_UNTIL_CLOSE; /* RFC 9112 §6.3: a coding other than chunked last */
	} else if (d->has_length && d->length > 0) {
		d->state = H_BODY;
		d->left = d->length;
	} else if (d->has_length || request) {
		http1_message_end(d);
	} else {
		d->state = H_UNTIL_CLOSE;
	}
	return true;
}

static bool http1_chunk_size_line(struct http1_dir *d)
{
	const struct wire_line *l = &d->line;
	size_t kept = wire_line_kept(l), i = 0;
	uint64_t size = 0;
	for (; i < kept && i < 15; i++) {
		uint8_t b = l->head[i];
		int x = b >= '0' && b <= '9'   ? b - '0'
			: b >= 'a' && b <= 'f' ? b - 'a' + 10
			: b >= 'A' && b <= 'F' ? b - 'A' + 10
					       : -1;
		if (x < 0)
			break;
		size = size * 16 + (uint64_t)x;
	}
	if (i == 0 || (i < kept && l->head[i] != ';' && l->head[i] != ' ' && l->head[i] != '\t'))
		return false;
	if (size == 0) {
		d->state = H_TRAILERS;
	} else {
		d->state = H_CHUNK_DATA;
		d->left = size + 2;
	}
	d->block = 0;
	return true;
}

/* A line ended in state d->state. */
static bool http1_line(struct http1_feed *f, struct http1_dir *d)
{
	bool empty = d->line.len == 0;
	bool ok = true;
	switch (d->state) {
	case H_START:
		/* RFC 9112 §2.2: an empty line before a request line is tolerated. */
		ok = empty ? true : http1_start_line(f, d);
		break;
	case H_HEADERS:
		ok = empty ? http1_headers_end(f, d) : http1_header_line(f, d);
		break;
	case H_TRAILERS:
		if (empty)
			http1_message_end(d);
		break;
	case H_CHUNK_SIZE:
		ok = http1_chunk_size_line(d);
		break;
	default:
		break;
	}
	wire_line_reset(&d->line, WIRE_LINE_HEAD);
	return ok;
}

static size_t http1_skip(struct http1_dir *d, size_t n)
{
	size_t k = d->left < n ? (size_t)d->left : n;
	d->left -= k;
	if (d->left == 0) {
		if (d->state == H_CHUNK_DATA) {
			d->state = H_CHUNK_SIZE;
			d->block = 0;
		} else {
			http1_message_end(d);
		}
	}
	return k;
}

/* Consumes some of s; what a state does with bytes. */
static size_t http1_step(struct http1_feed *f, struct http1_dir *d, const uint8_t *s, size_t n)
{
	struct http1_conn *h = f->h;
	switch (d->state) {
	case H_BODY:
	case H_CHUNK_DATA:
		return http1_skip(d, n);
	case H_UNTIL_CLOSE:
	case H_IGNORE:
		return n;
	default:
		break;
	}
	if (d->state == H_START && wire_line_empty(&d->line)) {
		if (d == &h->req) {
			h->cur.start_ns = f->c->start_ns;
		} else if (h->count == 0 && h->overflow == 0) {
			/* A response nobody waits for; at a chunk's start it must at least look
			 * like one. */
			if (s == f->c->data && (n < 5 || memcmp(s, "HTTP/", 5) != 0))
				f->stats->unparseable++;
			d->state = H_IGNORE;
			return n;
		}
	}
	size_t used;
	enum wire_line_status st = wire_line_feed(&d->line, s, n, &used);
	d->block += used;
	if (st == WIRE_LINE_MORE && d->state == H_START && !http1_start_prefix(d, d == &h->req))
		st = WIRE_LINE_BAD;
	if (st == WIRE_LINE_BAD || d->block > HTTP1_BLOCK_MAX || (st == WIRE_LINE_DONE && !http1_line(f, d)))
		http1_lose(f);
	return used;
}

/* Bytes the call moved but the probe did not capture: fine inside a body of known length. */
static void http1_gap(struct http1_feed *f, struct http1_dir *d, uint64_t gap)
{
	switch (d->state) {
	case H_UNTIL_CLOSE:
	case H_IGNORE:
		return;
	case H_BODY:
	case H_CHUNK_DATA:
		if (d->left >= gap) {
			if (!d->truncated)
				f->stats->truncated++;
			d->truncated = true;
			d->left -= gap;
			if (d->left == 0)
				http1_skip(d, 0);
			return;
		}
		break;
	default:
		break;
	}
	http1_lose(f);
}

static struct wire_parser *http1_open(void)
{
	struct http1_conn *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	http1_dir_reset(&h->req);
	http1_dir_reset(&h->rsp);
	return (struct wire_parser *)h;
}

static void http1_feed(struct wire_parser *p, const struct wire_chunk *c, struct wire_stats *stats,
		       wire_call_fn fn, void *ctx)
{
	struct http1_conn *h = (struct http1_conn *)p;
	struct http1_feed f = { h, c, stats, fn, ctx };
	if (h->done || c->len > c->total)
		return;
	if (h->lost) {
		if (!c->from_client || !http1_wire_detect(c->data, c->len))
			return;
		http1_dir_reset(&h->req);
		http1_dir_reset(&h->rsp);
		h->lost = false;
	}
	struct http1_dir *d = c->from_client ? &h->req : &h->rsp;
	size_t off = 0;
	while (off < c->len && !h->lost && !h->done)
		off += http1_step(&f, d, c->data + off, c->len - off);
	if (!h->lost && !h->done && c->total > c->len)
		http1_gap(&f, d, c->total - c->len);
}

static void http1_close(struct wire_parser *p, struct wire_stats *stats)
{
	struct http1_conn *h = (struct http1_conn *)p;
	if (h == NULL)
		return;
	if (!h->done)
		stats->unanswered += h->count;
	free(h);
}

/* A request line at the start of data: whole if its CRLF was captured, else a well-known
 * method and a path (a request line longer than the capture). */
bool http1_wire_detect(const uint8_t *data, size_t len)
{
	struct wire_line l;
	struct http1_req r;
	size_t used;
	wire_line_reset(&l, WIRE_LINE_HEAD);
	enum wire_line_status st = wire_line_feed(&l, data, len, &used);
	if (st == WIRE_LINE_DONE)
		return http1_request_line(&l, &r);
	if (st != WIRE_LINE_MORE || l.cr)
		return false;
	static const char *const methods[] = { "GET /",	  "POST /",   "PUT /",	  "DELETE /", "HEAD /",
					       "PATCH /", "OPTIONS ", "CONNECT ", "TRACE /" };
	size_t kept = wire_line_kept(&l);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t m = strlen(methods[i]);
		if (kept >= m && memcmp(l.head, methods[i], m) == 0) {
			for (size_t j = m; j < kept; j++) {
				if (!http1_vchar(l.head[j]))
					return false;
			}
			return kept > m;
		}
	}
	return false;
}

const struct wire_parser_ops http1_wire_ops = {
	.protocol = WIRE_HTTP1,
	.name = "http1",
	.open = http1_open,
	.feed = http1_feed,
	.close = http1_close,
};
