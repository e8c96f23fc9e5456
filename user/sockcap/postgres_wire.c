// SPDX-License-Identifier: Apache-2.0
/* PostgreSQL (protocol 3) over captured system calls: the framing. Every message says its
 * length, so both directions are framed by count, captured or not; only a gap in a message's
 * first five bytes loses the framing. postgres_calls.c says what the messages mean. */
#include <stdlib.h>
#include <string.h>

#include "sockcap/postgres_conn.h"

static bool pg_frontend_type(uint8_t t)
{
	return t != 0 && strchr("QPBDESHCXpdcfF", t) != NULL;
}

static bool pg_backend_type(uint8_t t)
{
	return t != 0 && strchr("RSKZTDCENA123nIstGHWdcVv", t) != NULL;
}

static void pg_dir_reset(struct pg_dir *d, bool untyped)
{
	memset(d, 0, sizeof(*d));
	d->untyped = untyped;
}

static void pg_lose(struct pg_feed *f)
{
	struct pg_conn *g = f->g;
	f->stats->unanswered += g->count;
	f->stats->unparseable++;
	g->count = 0;
	g->overflow = 0;
	g->round_open = false;
	g->lost = true;
}

/* A NUL-terminated string at *off within n bytes; false if it does not end there. */
static bool pg_message_done(struct pg_feed *f, bool client)
{
	struct pg_conn *g = f->g;
	struct pg_dir *d = client ? &g->cl : &g->sv;
	bool untyped = d->untyped, whole = d->got == d->body_len, ok = true;
	uint8_t type = d->type;
	size_t got = d->got;
	d->hdr_got = 0;
	d->in_body = false;
	d->truncated = false;
	if (client)
		ok = pg_client_msg(f, untyped, type, got, whole);
	else
		pg_server_msg(f, type, got);
	return ok;
}

/* A message's header is complete: its type and length say what follows. */
static bool pg_header(struct pg_feed *f, struct pg_dir *d, bool client)
{
	uint32_t len;
	if (d->untyped) {
		d->type = 0;
		len = pg_be32(d->hdr);
		if (len < 8 || len > PG_STARTUP_MAX)
			return false;
	} else {
		d->type = d->hdr[0];
		len = pg_be32(d->hdr + 1);
		if (!(client ? pg_frontend_type(d->type) : pg_backend_type(d->type)))
			return false;
		if (len < 4 || len > PG_MSG_MAX)
			return false;
	}
	d->body_len = len - 4;
	d->left = d->body_len;
	d->got = 0;
	d->in_body = true;
	return d->left > 0 || pg_message_done(f, client);
}

static size_t pg_step(struct pg_feed *f, bool client, const uint8_t *s, size_t n)
{
	struct pg_conn *g = f->g;
	struct pg_dir *d = client ? &g->cl : &g->sv;
	if (!d->in_body) {
		size_t need = d->untyped ? 4 : 5;
		if (d->hdr_got == 0)
			d->start_ns = f->c->start_ns;
		size_t k = need - d->hdr_got < n ? need - d->hdr_got : n;
		memcpy(d->hdr + d->hdr_got, s, k);
		d->hdr_got += k;
		if (d->hdr_got == need && !pg_header(f, d, client))
			pg_lose(f);
		return k;
	}
	uint8_t *keep = client ? g->cbody : g->sbody;
	size_t cap = client ? PG_CLIENT_KEEP : PG_SERVER_KEEP;
	size_t k = d->left < n ? (size_t)d->left : n;
	if (d->got < cap) {
		size_t c = cap - d->got < k ? cap - d->got : k;
		memcpy(keep + d->got, s, c);
		d->got += c;
	}
	d->left -= k;
	if (d->left == 0 && !pg_message_done(f, client))
		pg_lose(f);
	return k;
}

/* The server's answer to SSLRequest/GSSENCRequest: one byte, not a message. */
static size_t pg_ssl_answer(struct pg_feed *f, const uint8_t *s)
{
	struct pg_conn *g = f->g;
	g->answer_ssl = false;
	if (s[0] == 'S' || s[0] == 'G') {
		g->done = true; /* encrypted from here on */
		return 1;
	}
	return s[0] == 'N' ? 1 : 0;
}

/* Bytes the call moved but the probe did not capture: fine inside a message body. */
static void pg_gap(struct pg_feed *f, bool client, uint64_t gap)
{
	struct pg_dir *d = client ? &f->g->cl : &f->g->sv;
	if (!d->in_body || d->left < gap || (!client && f->g->answer_ssl)) {
		pg_lose(f);
		return;
	}
	if (!d->truncated)
		f->stats->truncated++;
	d->truncated = true;
	d->left -= gap;
	if (d->left == 0 && !pg_message_done(f, client))
		pg_lose(f);
}

static void pg_restart(struct pg_conn *g, bool untyped)
{
	pg_dir_reset(&g->cl, untyped);
	pg_dir_reset(&g->sv, false);
	g->first_seen = true;
	g->answer_ssl = false;
	g->round_open = false;
	g->lost = false;
}

static struct wire_parser *pg_open(void)
{
	struct pg_conn *g = calloc(1, sizeof(*g));
	return (struct wire_parser *)g;
}

static void pg_feed(struct wire_parser *p, const struct wire_chunk *c, struct wire_stats *stats,
		    wire_call_fn fn, void *ctx)
{
	struct pg_conn *g = (struct pg_conn *)p;
	struct pg_feed f = { g, c, stats, fn, ctx };
	if (g->done || c->len > c->total)
		return;
	if (g->lost) {
		if (!c->from_client || !postgres_wire_detect(c->data, c->len))
			return;
		pg_restart(g, c->data[0] == 0);
	}
	if (c->from_client && !g->first_seen && c->len > 0)
		pg_restart(g, c->data[0] == 0);
	size_t off = 0;
	if (!c->from_client && c->len > 0 && g->answer_ssl && !g->sv.in_body && g->sv.hdr_got == 0)
		off = pg_ssl_answer(&f, c->data);
	while (off < c->len && !g->lost && !g->done)
		off += pg_step(&f, c->from_client, c->data + off, c->len - off);
	if (!g->lost && !g->done && c->total > c->len)
		pg_gap(&f, c->from_client, c->total - c->len);
}

static void pg_close(struct wire_parser *p, struct wire_stats *stats)
{
	struct pg_conn *g = (struct pg_conn *)p;
	if (g == NULL)
		return;
	if (!g->done && !g->lost)
		stats->unanswered += g->count;
	free(g);
}

static bool pg_text_byte(uint8_t b)
{
	return b >= 0x20 || b == '\t' || b == '\n' || b == '\r';
}

/* A NUL-terminated run of text at *off, within n. */
static bool pg_text(const uint8_t *d, size_t n, size_t *off)
{
	while (*off < n && d[*off] != 0) {
		if (!pg_text_byte(d[(*off)++]))
			return false;
	}
	if (*off == n)
		return false;
	(*off)++;
	return true;
}

/* StartupMessage: "user" and the other parameters, name/value pairs ending with an empty
 * name; protocol 3.x. */
static bool pg_detect_startup(const uint8_t *d, size_t len)
{
	if (len < 8)
		return false;
	uint32_t l = pg_be32(d), code = pg_be32(d + 4);
	if (code == PG_CODE_SSL || code == PG_CODE_GSSENC)
		return l == 8 && len == 8;
	if (code == PG_CODE_CANCEL)
		return l == 16 && len == 16;
	if (code >> 16 != 3 || (code & 0xffff) > 2 || l != len || l > PG_STARTUP_MAX || len < 10)
		return false;
	size_t off = 8;
	while (off < len && d[off] != 0) {
		if (!pg_text(d, len, &off) || !pg_text(d, len, &off))
			return false;
	}
	return off + 1 == len;
}

static bool pg_u16(const uint8_t *d, size_t end, size_t *off, size_t *v)
{
	if (*off + 2 > end)
		return false;
	*v = (size_t)d[*off] << 8 | d[*off + 1];
	*off += 2;
	return true;
}

/* A Bind whose fields fill its length exactly: portal, statement, parameter formats, values
 * (each a length, -1 for NULL, and its bytes), result formats. A connection opened before
 * glimpse attached shows only these once its driver has prepared its statements (pgx's cache). */
static bool pg_detect_bind(const uint8_t *d, size_t end)
{
	size_t off = 5, n, i;
	if (!pg_text(d, end, &off) || !pg_text(d, end, &off) || !pg_u16(d, end, &off, &n) ||
	    (off += 2 * n) > end || !pg_u16(d, end, &off, &n))
		return false;
	for (i = 0; i < n; i++) {
		if (off + 4 > end)
			return false;
		uint32_t vlen = pg_be32(d + off);
		off += 4;
		if (vlen == 0xffffffffu)
			continue;
		if (vlen > end - off)
			return false;
		off += vlen;
	}
	return pg_u16(d, end, &off, &n) && off + 2 * n == end;
}

/* A Query of exactly the chunk, or a Parse or Bind whose fields fill its length exactly,
 * followed by another client message or by nothing. */
static bool pg_detect_typed(const uint8_t *d, size_t len)
{
	if (len < 6)
		return false;
	uint32_t l = pg_be32(d + 1);
	size_t off = 5;
	if (d[0] == 'Q')
		return (size_t)l + 1 == len && pg_text(d, len, &off) && off == len && len > 6;
	if (d[0] == 'B' && l >= 12 && (size_t)l + 1 <= len)
		return pg_detect_bind(d, (size_t)l + 1) &&
		       ((size_t)l + 1 == len || pg_frontend_type(d[l + 1]));
	if (d[0] != 'P' || l < 8 || (size_t)l + 1 > len)
		return false;
	size_t end = (size_t)l + 1;
	if (!pg_text(d, end, &off) || !pg_text(d, end, &off) || off + 2 > end)
		return false;
	size_t params = (size_t)d[off] << 8 | d[off + 1];
	if (off + 2 + 4 * params != end)
		return false;
	return end == len || pg_frontend_type(d[end]);
}

bool postgres_wire_detect(const uint8_t *data, size_t len)
{
	if (len == 0)
		return false;
	return data[0] == 0 ? pg_detect_startup(data, len) : pg_detect_typed(data, len);
}

const struct wire_parser_ops postgres_wire_ops = {
	.protocol = WIRE_POSTGRES,
	.name = "postgresql",
	.open = pg_open,
	.feed = pg_feed,
	.close = pg_close,
};
