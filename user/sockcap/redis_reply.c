// SPDX-License-Identifier: Apache-2.0
/* Redis replies (RESP2 and RESP3): values framed by their type byte and length, aggregates
 * nested up to a bound. A complete top-level value is the reply to the oldest command waiting,
 * unless it is a push message ('>') or an attribute ('|'), which answer nothing. */
#include <stdlib.h>
#include <string.h>

#include "sockcap/redis_conn.h"

void redis_rsp_reset(struct redis_rsp *s)
{
	s->state = RS_START;
	wire_line_reset(&s->line, REDIS_LINE_KEEP);
	s->left = 0;
	s->depth = 0;
	s->top = 0;
	s->error = false;
	s->error_type[0] = '\0';
	s->blob_got = 0;
	s->blob_done = false;
	s->truncated = false;
}

static void redis_reply(struct redis_feed *f)
{
	struct redis_conn *r = f->r;
	struct redis_rsp *s = &r->rsp;
	bool push = s->top == '>';
	if (r->count == 0 && r->overflow > 0 && !push)
		r->overflow--;
	if (r->count == 0 || (push && !r->pending[r->first].subscribe))
		return;
	const struct redis_cmd *cmd = &r->pending[r->first];
	r->first = (r->first + 1) % REDIS_PENDING_MAX;
	r->count--;
	if (!cmd->bad) {
		struct wire_call call;
		memset(&call, 0, sizeof(call));
		call.protocol = WIRE_REDIS;
		call.start_ns = cmd->start_ns;
		call.end_ns = f->c->end_ns;
		memcpy(call.operation, cmd->op, sizeof(call.operation));
		call.error = s->error;
		memcpy(call.error_type, s->error_type, sizeof(call.error_type));
		f->fn(f->ctx, &call);
	}
	/* Subscribed, the server sends messages nobody asked for: nothing pairs any more. */
	if (cmd->subscribe)
		r->done = true;
}

/* A value ended: close the aggregates it completes; at the top, the reply is complete. */
static void redis_value_done(struct redis_feed *f)
{
	struct redis_rsp *s = &f->r->rsp;
	s->state = RS_START;
	while (s->depth > 0) {
		if (--s->frames[s->depth - 1] > 0)
			return;
		s->depth--;
		if (s->attr[s->depth])
			return; /* an attribute is not an element of what holds it */
	}
	if (s->top != '|')
		redis_reply(f);
	redis_rsp_reset(s);
}

static bool redis_open_aggregate(struct redis_feed *f, uint8_t type, uint64_t n)
{
	struct redis_rsp *s = &f->r->rsp;
	if (type == '%' || type == '|')
		n *= 2;
	if (n == 0) {
		if (type == '|')
			return true;
		redis_value_done(f);
		return true;
	}
	if (s->depth == REDIS_DEPTH_MAX)
		return false;
	s->frames[s->depth] = n;
	s->attr[s->depth] = type == '|';
	s->depth++;
	return true;
}

/* Error codes are upper-case words ("ERR", "WRONGTYPE", "MOVED"); a first word that is not
 * one could be anything the command carried, so it is not kept. */
static bool redis_error_code_char(uint8_t b)
{
	return (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '-';
}

static void redis_error_word(struct redis_rsp *s, const uint8_t *w, size_t n)
{
	size_t i = 0;
	if (n == 0 || w[0] < 'A' || w[0] > 'Z')
		return;
	while (i < n && w[i] != ' ') {
		if (!redis_error_code_char(w[i]))
			return;
		i++;
	}
	wire_copy_str(s->error_type, sizeof(s->error_type), w, i);
}

/* The line of a value: its type byte and what follows. */
static bool redis_rsp_line(struct redis_feed *f)
{
	struct redis_rsp *s = &f->r->rsp;
	const struct wire_line *l = &s->line;
	size_t kept = wire_line_kept(l);
	uint64_t v = 0;
	if (kept == 0)
		return false;
	uint8_t type = l->head[0];
	if (s->depth == 0) {
		s->top = type;
		s->error = false;
		s->error_type[0] = '\0';
	}
	switch (type) {
	case '-':
		if (s->depth == 0) {
			s->error = true;
			redis_error_word(s, l->head + 1, kept - 1);
		}
		/* fallthrough */
	case '+':
	case ':':
	case ',':
	case '(':
	case '#':
		redis_value_done(f);
		return true;
	case '_':
		if (l->len != 1)
			return false;
		redis_value_done(f);
		return true;
	default:
		break;
	}
	bool null = l->len == 3 && l->head[1] == '-' && l->head[2] == '1';
	if (!null && (l->len != kept || !wire_parse_dec(l->head + 1, kept - 1, REDIS_BULK_MAX, &v)))
		return false;
	switch (type) {
	case '$':
	case '=':
	case '!':
		if (null) {
			redis_value_done(f);
			return true;
		}
		if (type == '!' && s->depth == 0)
			s->error = true;
		s->left = v + 2;
		s->blob_got = 0;
		s->blob_done = false;
		s->state = RS_BULK;
		return true;
	case '*':
	case '%':
	case '~':
	case '>':
	case '|':
		if (null) {
			redis_value_done(f);
			return true;
		}
		return v <= REDIS_AGG_MAX && redis_open_aggregate(f, type, v);
	default:
		return false;
	}
}

/* A top-level blob error's first word: its code, as for a simple error. */
static void redis_blob_error(struct redis_rsp *s, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n && !s->blob_done; i++) {
		if (d[i] == ' ' || d[i] == '\r' || s->blob_got >= WIRE_ERROR_LEN) {
			s->blob_done = true;
			break;
		}
		if (!redis_error_code_char(d[i]) || (s->blob_got == 0 && (d[i] < 'A' || d[i] > 'Z'))) {
			s->blob_done = true;
			s->error_type[0] = '\0';
			break;
		}
		s->error_type[s->blob_got++] = (char)d[i];
		s->error_type[s->blob_got] = '\0';
	}
}

static size_t redis_rsp_bulk(struct redis_feed *f, const uint8_t *d, size_t n)
{
	struct redis_rsp *s = &f->r->rsp;
	size_t k = s->left < n ? (size_t)s->left : n;
	if (s->depth == 0 && s->top == '!')
		redis_blob_error(s, d, k);
	s->left -= k;
	if (s->left == 0)
		redis_value_done(f);
	return k;
}

static bool redis_type_byte(uint8_t b)
{
	return b != 0 && strchr("+-:$*_,#(!=%~>|", b) != NULL;
}

size_t redis_rsp_step(struct redis_feed *f, const uint8_t *d, size_t n)
{
	struct redis_conn *r = f->r;
	struct redis_rsp *s = &r->rsp;
	if (s->state == RS_IGNORE)
		return n;
	if (s->state == RS_BULK)
		return redis_rsp_bulk(f, d, n);
	if (s->depth == 0 && wire_line_empty(&s->line) && r->count == 0 && r->overflow == 0) {
		/* A reply nobody waits for; at a chunk's start it must at least look like one. */
		if (d == f->c->data && !redis_type_byte(d[0]))
			f->stats->unparseable++;
		s->state = RS_IGNORE;
		return n;
	}
	size_t used;
	enum wire_line_status st = wire_line_feed(&s->line, d, n, &used);
	if (st == WIRE_LINE_BAD) {
		redis_lose(f);
	} else if (st == WIRE_LINE_DONE) {
		if (!redis_rsp_line(f))
			redis_lose(f);
		else
			wire_line_reset(&s->line, REDIS_LINE_KEEP);
	}
	return used;
}

/* Bytes the call moved but the probe did not capture: fine inside a bulk string. */
bool redis_rsp_gap(struct redis_feed *f, uint64_t gap)
{
	struct redis_rsp *s = &f->r->rsp;
	if (s->state == RS_IGNORE)
		return true;
	if (s->state != RS_BULK || s->left < gap)
		return false;
	if (!s->truncated)
		f->stats->truncated++;
	s->truncated = true;
	s->left -= gap;
	if (s->left == 0)
		redis_value_done(f);
	return true;
}
