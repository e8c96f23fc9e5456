// SPDX-License-Identifier: Apache-2.0
/* PostgreSQL (protocol 3) over captured system calls. Every message says its length, so both
 * directions are framed by count, captured or not; only a gap in a message's first five bytes
 * loses the framing.
 *
 * What a call is: the server answers every simple Query and every Sync with one ReadyForQuery,
 * in order, so a call is a Query, or an extended-protocol round (Parse/Bind/Describe/Execute
 * ... up to Sync), ended by its ReadyForQuery. A round with several Executes before one Sync
 * (a pipelined batch) is one call: an ErrorResponse makes the server skip the rest of the
 * round up to Sync, so which Execute each reply message answers is not something the wire
 * says for certain, while the ReadyForQuery always is. The round's query is its first Parse's
 * text, else the text remembered for the statement its first Bind names. */
#include <stdlib.h>
#include <string.h>

#include "sockcap/wire.h"
#include "sockcap/wire_internal.h"

#define PG_PENDING_MAX 8
#define PG_STMTS       32
#define PG_STMT_NAME   64 /* NAMEDATALEN: longer names are not remembered */
#define PG_STMT_TEXT   256
#define PG_MSG_MAX     0x40000000u /* PostgreSQL's own limit (1 GB) */
#define PG_STARTUP_MAX 10000u	   /* the server's limit on a startup packet */
/* What of a message body is kept: a Parse's statement name and text; an ErrorResponse's
 * first fields, where the SQLSTATE ('C') comes before the message text. */
#define PG_CLIENT_KEEP (PG_STMT_NAME + WIRE_QUERY_LEN + 1)
#define PG_SERVER_KEEP 128

#define PG_CODE_CANCEL 80877102u
#define PG_CODE_SSL    80877103u
#define PG_CODE_GSSENC 80877104u

struct pg_call {
	uint64_t start_ns;
	char query[WIRE_QUERY_LEN + 1];
	bool query_truncated;
	bool error;
	char error_type[WIRE_ERROR_LEN + 1];
	bool silent; /* a Sync with nothing before it, a FunctionCall: answered, never reported */
};

struct pg_stmt {
	char name[PG_STMT_NAME];
	char text[PG_STMT_TEXT];
	bool truncated;
	bool used;
	uint32_t born; /* for evicting the oldest */
};

/* One direction's framing. */
struct pg_dir {
	bool untyped; /* startup-phase messages: a length and a code, no type byte */
	uint8_t hdr[5];
	size_t hdr_got;
	uint8_t type;
	uint32_t body_len;
	uint64_t left; /* body bytes still to come */
	size_t got;    /* body bytes kept */
	bool in_body;
	bool truncated; /* this message's truncation was counted */
	uint64_t start_ns;
};

struct pg_conn {
	struct pg_dir cl, sv;
	uint8_t cbody[PG_CLIENT_KEEP];
	uint8_t sbody[PG_SERVER_KEEP];
	bool first_seen;  /* the client's first chunk said whether startup comes */
	bool answer_ssl;  /* the server's next byte answers an SSLRequest/GSSENCRequest */
	bool round_open;  /* extended-protocol messages since the last Sync */
	bool round_query; /* ... and the round's query is known */
	struct pg_call round;
	struct pg_call pending[PG_PENDING_MAX];
	unsigned first, count, overflow;
	struct pg_stmt stmts[PG_STMTS];
	uint32_t clock;
	bool lost; /* framing unknown: waiting for a chunk that starts a message */
	bool done; /* encrypted, or cancelled: nothing more is parsed */
};

struct pg_feed {
	struct pg_conn *g;
	const struct wire_chunk *c;
	struct wire_stats *stats;
	wire_call_fn fn;
	void *ctx;
};

static uint32_t pg_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

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
static bool pg_cstr(const uint8_t *b, size_t n, size_t *off, const uint8_t **s, size_t *len)
{
	const uint8_t *nul = memchr(b + *off, 0, n - *off);
	*s = b + *off;
	if (nul == NULL) {
		*len = n - *off;
		return false;
	}
	*len = (size_t)(nul - *s);
	*off += *len + 1;
	return true;
}

static void pg_enqueue(struct pg_feed *f, const struct pg_call *call)
{
	struct pg_conn *g = f->g;
	/* Behind a dropped request, a new one cannot be paired: its answer comes after one
	 * nobody records. */
	if (g->count == PG_PENDING_MAX || g->overflow > 0) {
		g->overflow++;
		f->stats->unanswered++;
		return;
	}
	g->pending[(g->first + g->count) % PG_PENDING_MAX] = *call;
	g->count++;
}

static struct pg_stmt *pg_stmt_find(struct pg_conn *g, const uint8_t *name, size_t n)
{
	if (n >= PG_STMT_NAME)
		return NULL;
	for (size_t i = 0; i < PG_STMTS; i++) {
		struct pg_stmt *s = &g->stmts[i];
		if (s->used && strlen(s->name) == n && memcmp(s->name, name, n) == 0)
			return s;
	}
	return NULL;
}

static void pg_stmt_remember(struct pg_conn *g, const uint8_t *name, size_t n, const uint8_t *text,
			     size_t len, bool truncated)
{
	if (n >= PG_STMT_NAME)
		return;
	struct pg_stmt *s = pg_stmt_find(g, name, n);
	for (size_t i = 0; s == NULL && i < PG_STMTS; i++) {
		if (!g->stmts[i].used)
			s = &g->stmts[i];
	}
	if (s == NULL) {
		s = &g->stmts[0];
		for (size_t i = 1; i < PG_STMTS; i++) {
			if (g->stmts[i].born < s->born)
				s = &g->stmts[i];
		}
	}
	wire_copy_str(s->name, sizeof(s->name), name, n);
	wire_copy_str(s->text, sizeof(s->text), text, len);
	s->truncated = truncated || len >= PG_STMT_TEXT;
	s->used = true;
	s->born = ++g->clock;
}

static void pg_round_open(struct pg_feed *f)
{
	struct pg_conn *g = f->g;
	if (g->round_open)
		return;
	memset(&g->round, 0, sizeof(g->round));
	g->round.start_ns = g->cl.start_ns;
	g->round_open = true;
	g->round_query = false;
}

static void pg_round_query(struct pg_conn *g, const uint8_t *text, size_t len, bool truncated)
{
	if (g->round_query)
		return;
	wire_copy_str(g->round.query, sizeof(g->round.query), text, len);
	g->round.query_truncated = truncated || len > WIRE_QUERY_LEN;
	g->round_query = true;
}

/* The body of a client message was kept up to got bytes of body_len. */
static void pg_query(struct pg_feed *f, const uint8_t *b, size_t got, bool whole)
{
	struct pg_call call;
	size_t off = 0, len;
	const uint8_t *text;
	memset(&call, 0, sizeof(call));
	call.start_ns = f->g->cl.start_ns;
	bool ended = pg_cstr(b, got, &off, &text, &len);
	wire_copy_str(call.query, sizeof(call.query), text, len);
	call.query_truncated = !(ended && whole) || len > WIRE_QUERY_LEN;
	pg_enqueue(f, &call);
}

static void pg_parse(struct pg_feed *f, const uint8_t *b, size_t got, bool whole)
{
	size_t off = 0, nlen, qlen;
	const uint8_t *name, *text;
	pg_round_open(f);
	if (!pg_cstr(b, got, &off, &name, &nlen))
		return;
	bool ended = pg_cstr(b, got, &off, &text, &qlen);
	bool truncated = !(ended && whole);
	pg_stmt_remember(f->g, name, nlen, text, qlen, truncated);
	pg_round_query(f->g, text, qlen, truncated);
}

static void pg_bind(struct pg_feed *f, const uint8_t *b, size_t got)
{
	size_t off = 0, len;
	const uint8_t *portal, *name;
	pg_round_open(f);
	if (!pg_cstr(b, got, &off, &portal, &len) || !pg_cstr(b, got, &off, &name, &len))
		return;
	const struct pg_stmt *s = pg_stmt_find(f->g, name, len);
	if (s != NULL)
		pg_round_query(f->g, (const uint8_t *)s->text, strlen(s->text), s->truncated);
	else
		pg_round_query(f->g, (const uint8_t *)"", 0, false);
}

static void pg_close_stmt(struct pg_feed *f, const uint8_t *b, size_t got)
{
	size_t off = 1, len;
	const uint8_t *name;
	pg_round_open(f);
	if (got < 1 || b[0] != 'S' || !pg_cstr(b, got, &off, &name, &len))
		return;
	struct pg_stmt *s = pg_stmt_find(f->g, name, len);
	if (s != NULL)
		s->used = false;
}

static void pg_sync(struct pg_feed *f)
{
	struct pg_conn *g = f->g;
	struct pg_call call;
	if (g->round_open) {
		g->round_open = false;
		pg_enqueue(f, &g->round);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.silent = true;
	pg_enqueue(f, &call);
}

/* A startup-phase message: SSLRequest, GSSENCRequest, CancelRequest or StartupMessage. */
static bool pg_startup(struct pg_feed *f, const uint8_t *b, size_t got)
{
	struct pg_conn *g = f->g;
	if (got < 4)
		return false;
	uint32_t code = pg_be32(b);
	if (code == PG_CODE_SSL || code == PG_CODE_GSSENC) {
		g->answer_ssl = true;
		return g->cl.body_len == 4;
	}
	if (code == PG_CODE_CANCEL) {
		g->done = g->cl.body_len == 12; /* the server closes it without a word */
		return g->done;
	}
	if (code >> 16 != 3)
		return false;
	g->cl.untyped = false;
	return true;
}

static bool pg_client_msg(struct pg_feed *f, bool untyped, uint8_t type, size_t got, bool whole)
{
	struct pg_conn *g = f->g;
	if (untyped)
		return pg_startup(f, g->cbody, got);
	switch (type) {
	case 'Q':
		pg_query(f, g->cbody, got, whole);
		break;
	case 'P':
		pg_parse(f, g->cbody, got, whole);
		break;
	case 'B':
		pg_bind(f, g->cbody, got);
		break;
	case 'C':
		pg_close_stmt(f, g->cbody, got);
		break;
	case 'D':
	case 'E':
	case 'H':
		pg_round_open(f);
		break;
	case 'S':
		pg_sync(f);
		break;
	case 'F': {
		struct pg_call call;
		memset(&call, 0, sizeof(call));
		call.silent = true;
		pg_enqueue(f, &call);
		break;
	}
	default:
		break;
	}
	return true;
}

/* An ErrorResponse's SQLSTATE (field 'C'); the message and every other field stay here. */
static void pg_sqlstate(const uint8_t *b, size_t got, char *out)
{
	size_t off = 0, len;
	const uint8_t *v;
	out[0] = '\0';
	while (off < got && b[off] != 0) {
		uint8_t code = b[off++];
		if (!pg_cstr(b, got, &off, &v, &len))
			return;
		if (code != 'C')
			continue;
		for (size_t i = 0; i < len; i++) {
			if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'A' && v[i] <= 'Z')))
				return;
		}
		wire_copy_str(out, WIRE_ERROR_LEN + 1, v, len);
		return;
	}
}

static void pg_ready(struct pg_feed *f)
{
	struct pg_conn *g = f->g;
	if (g->count == 0) {
		if (g->overflow > 0)
			g->overflow--;
		return;
	}
	const struct pg_call *p = &g->pending[g->first];
	g->first = (g->first + 1) % PG_PENDING_MAX;
	g->count--;
	if (p->silent)
		return;
	struct wire_call call;
	memset(&call, 0, sizeof(call));
	call.protocol = WIRE_POSTGRES;
	call.start_ns = p->start_ns;
	call.end_ns = f->c->end_ns;
	memcpy(call.query, p->query, sizeof(call.query));
	call.query_truncated = p->query_truncated;
	call.error = p->error;
	memcpy(call.error_type, p->error_type, sizeof(call.error_type));
	f->fn(f->ctx, &call);
}

static void pg_server_msg(struct pg_feed *f, uint8_t type, size_t got)
{
	struct pg_conn *g = f->g;
	if (type == 'Z') {
		pg_ready(f);
		return;
	}
	if (type != 'E')
		return;
	/* Replies come in order: an error belongs to the oldest request not yet ready, or to
	 * the round the client has not ended with Sync yet (it sent Flush). */
	struct pg_call *p = g->count > 0 ? &g->pending[g->first] : g->round_open ? &g->round : NULL;
	if (p == NULL || p->error)
		return;
	p->error = true;
	pg_sqlstate(g->sbody, got, p->error_type);
}

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

/* A Query of exactly the chunk, or a Parse whose fields fill its length exactly. */
static bool pg_detect_typed(const uint8_t *d, size_t len)
{
	if (len < 6)
		return false;
	uint32_t l = pg_be32(d + 1);
	size_t off = 5;
	if (d[0] == 'Q')
		return (size_t)l + 1 == len && pg_text(d, len, &off) && off == len && len > 6;
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
