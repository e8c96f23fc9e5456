// SPDX-License-Identifier: Apache-2.0
/* What PostgreSQL messages mean for calls. The server answers every simple Query and every
 * Sync with one ReadyForQuery, in order, so a call is a Query, or an extended-protocol round
 * (Parse/Bind/Describe/Execute ... up to Sync), ended by its ReadyForQuery. A round with
 * several Executes before one Sync (a pipelined batch) is one call: after an ErrorResponse the
 * server skips the rest of the round up to Sync, so which Execute each reply message answers
 * is not something the wire says for certain, while the ReadyForQuery always is. The round's
 * query is its first Parse's text, else the text remembered for the statement its first Bind
 * names ("" if it was prepared before glimpse saw the connection). A round that parses and
 * executes nothing (a driver preparing a statement) is a call of its own, PREPARE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockcap/postgres_conn.h"

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
	g->round_parse = false;
	g->round_execute = false;
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
	f->g->round_parse = true;
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
		g->round.prepare_only = g->round_parse && !g->round_execute;
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

bool pg_client_msg(struct pg_feed *f, bool untyped, uint8_t type, size_t got, bool whole)
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
	case 'E':
		pg_round_open(f);
		g->round_execute = true;
		break;
	case 'D':
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
	if (p->prepare_only)
		snprintf(call.operation, sizeof(call.operation), "PREPARE");
	call.query_truncated = p->query_truncated;
	call.error = p->error;
	memcpy(call.error_type, p->error_type, sizeof(call.error_type));
	f->fn(f->ctx, &call);
}

void pg_server_msg(struct pg_feed *f, uint8_t type, size_t got)
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
