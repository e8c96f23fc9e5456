// SPDX-License-Identifier: Apache-2.0
/* Redis (RESP2 and RESP3) over captured system calls. A command is an array of bulk strings
 * (or an inline line); only its name leaves the parser, upper-cased, never a key or a value.
 * Replies come back in the order of the commands (Redis answers a pipeline in order), so each
 * complete top-level reply pairs with the oldest command waiting. Push messages ('>') and
 * attributes ('|') are not replies. Bulk strings are skipped by their length, captured or not;
 * any other gap in the capture means the framing is unknown, and the parser waits for a chunk
 * that starts a command. */
#include <stdlib.h>
#include <string.h>

#include "sockcap/wire.h"
#include "sockcap/wire_internal.h"

#define REDIS_PENDING_MAX 64
#define REDIS_DEPTH_MAX	  32
/* Redis's own limits: 1024*1024 arguments, proto-max-bulk-len 512 MB (configurable higher, so
 * the bulk bound is looser). */
#define REDIS_ARGS_MAX 1048576
#define REDIS_BULK_MAX 100000000000ULL
#define REDIS_AGG_MAX  4294967295ULL
/* Header lines ("*3", "$5", "-WRONGTYPE ...") need only their first bytes; keeping few means
 * an inline command's keys are barely held even inside the parser. */
#define REDIS_LINE_KEEP 32

struct redis_cmd {
	uint64_t start_ns;
	char op[WIRE_OPERATION_LEN + 1];
	bool bad;	/* its name could not be read: its reply is consumed, nothing reported */
	bool subscribe; /* its reply puts the connection into subscribe mode */
};

enum redis_req_state {
	RQ_START,      /* '*' of an array, or an inline command */
	RQ_ARRAY,      /* the "*N" line */
	RQ_BULK_HDR,   /* a "$L" line */
	RQ_BULK_DATA,  /* left bytes of a bulk string and its CRLF */
	RQ_INLINE,     /* an inline command's line */
	RQ_SUBSCRIBED, /* after a SUBSCRIBE: commands are no longer answered in order */
};

struct redis_req {
	enum redis_req_state state;
	struct wire_line line;
	uint64_t args;	  /* arguments still to come */
	uint64_t left;	  /* of the current bulk string, CRLF included */
	uint64_t arg_len; /* the current argument's length */
	unsigned arg;	  /* its index: 0 is the command name, 1 maybe a subcommand */
	size_t got;	  /* bytes of it copied into word */
	bool keep_arg;	  /* this argument is a name: copy it */
	bool truncated;	  /* this command's truncation was counted */
	char word[WIRE_OPERATION_LEN + 1];
	struct redis_cmd cur;
};

enum redis_rsp_state {
	RS_START,  /* a value's type byte and line */
	RS_BULK,   /* left bytes of a bulk value and its CRLF */
	RS_IGNORE, /* replies nobody is waiting for */
};

struct redis_rsp {
	enum redis_rsp_state state;
	struct wire_line line;
	uint64_t left;
	uint64_t frames[REDIS_DEPTH_MAX]; /* values still to come in each open aggregate */
	bool attr[REDIS_DEPTH_MAX];	  /* ... which is an attribute, not a value itself */
	unsigned depth;
	uint8_t top; /* the type byte of the top-level value being read */
	bool error;  /* it is an error */
	char error_type[WIRE_ERROR_LEN + 1];
	size_t blob_got; /* bytes of a top-level blob error's first word copied */
	bool blob_done;	 /* ... all of it */
	bool truncated;
};

struct redis_conn {
	struct redis_req req;
	struct redis_rsp rsp;
	struct redis_cmd pending[REDIS_PENDING_MAX];
	unsigned first, count;
	unsigned overflow; /* commands dropped for want of room, answered after those kept */
	bool lost;	   /* framing unknown: waiting for a chunk that starts a command */
	bool done;	   /* subscribed: nothing more is parsed */
};

struct redis_feed {
	struct redis_conn *r;
	const struct wire_chunk *c;
	struct wire_stats *stats;
	wire_call_fn fn;
	void *ctx;
};

static void redis_req_reset(struct redis_req *q)
{
	q->state = RQ_START;
	wire_line_reset(&q->line, REDIS_LINE_KEEP);
	q->args = q->left = q->arg_len = 0;
	q->arg = 0;
	q->got = 0;
	q->keep_arg = false;
	q->truncated = false;
}

static void redis_rsp_reset(struct redis_rsp *s)
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

static void redis_lose(struct redis_feed *f)
{
	f->stats->unanswered += f->r->count;
	f->stats->unparseable++;
	f->r->count = 0;
	f->r->overflow = 0;
	f->r->lost = true;
}

static bool redis_name_char(uint8_t b, bool first)
{
	if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))
		return true;
	/* module commands ("JSON.SET") and Redis's own "CLIENT|LIST" spelling */
	return !first && ((b >= '0' && b <= '9') || b == '.' || b == '_' || b == '-' || b == '|');
}

static bool redis_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > WIRE_OPERATION_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!redis_name_char((uint8_t)s[i], i == 0))
			return false;
	}
	return true;
}

static void redis_upper(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 32);
	}
}

static bool redis_has_subcommand(const char *op)
{
	static const char *const names[] = { "CLIENT", "CONFIG", "CLUSTER", "OBJECT",  "XINFO",
					     "SCRIPT", "MEMORY", "ACL",	    "COMMAND", "FUNCTION" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(op, names[i]) == 0)
			return true;
	}
	return false;
}

static bool redis_is_subscribe(const char *op)
{
	return strcmp(op, "SUBSCRIBE") == 0 || strcmp(op, "PSUBSCRIBE") == 0 || strcmp(op, "SSUBSCRIBE") == 0;
}

/* The name (argument 0), or a subcommand (argument 1) appended to it when it fits. */
static void redis_name_done(struct redis_feed *f)
{
	struct redis_req *q = &f->r->req;
	bool whole = q->got == q->arg_len;
	q->word[q->got] = '\0';
	if (q->arg == 0) {
		if (!whole || !redis_name_ok(q->word, q->got)) {
			q->cur.bad = true;
			f->stats->unparseable++;
			return;
		}
		memcpy(q->cur.op, q->word, q->got + 1);
		redis_upper(q->cur.op);
		q->cur.subscribe = redis_is_subscribe(q->cur.op);
		return;
	}
	/* Subcommand names are words ("SETNAME", "NO-EVICT"); anything else in that place is
	 * an argument, kept out. */
	for (size_t i = 0; i < q->got; i++) {
		char b = q->word[i];
		if (!((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '-' || b == '_'))
			return;
	}
	size_t n = strlen(q->cur.op);
	if (whole && redis_name_ok(q->word, q->got) && n + 1 + q->got <= WIRE_OPERATION_LEN) {
		q->cur.op[n] = ' ';
		memcpy(q->cur.op + n + 1, q->word, q->got + 1);
		redis_upper(q->cur.op);
	}
}

static void redis_enqueue(struct redis_feed *f)
{
	struct redis_conn *r = f->r;
	/* Behind a dropped command, a new one cannot be paired: its reply comes after one
	 * nobody remembers. */
	if (r->count == REDIS_PENDING_MAX || r->overflow > 0) {
		r->overflow++;
		f->stats->unanswered++;
	} else {
		r->pending[(r->first + r->count) % REDIS_PENDING_MAX] = r->req.cur;
		r->count++;
		if (r->rsp.state == RS_IGNORE)
			redis_rsp_reset(&r->rsp);
	}
	bool subscribe = r->req.cur.subscribe && !r->req.cur.bad;
	redis_req_reset(&r->req);
	if (subscribe)
		r->req.state = RQ_SUBSCRIBED;
}

static void redis_arg_done(struct redis_feed *f)
{
	struct redis_req *q = &f->r->req;
	if (q->keep_arg)
		redis_name_done(f);
	q->arg++;
	if (--q->args == 0) {
		redis_enqueue(f);
		return;
	}
	q->state = RQ_BULK_HDR;
}

static bool redis_inline(struct redis_feed *f)
{
	struct redis_req *q = &f->r->req;
	const struct wire_line *l = &q->line;
	size_t kept = wire_line_kept(l), n = 0;
	if (l->len == 0) {
		redis_req_reset(q); /* Redis skips empty inline lines without a reply */
		return true;
	}
	while (n < kept && l->head[n] != ' ' && l->head[n] != '\t')
		n++;
	if (n == l->len || n < kept) {
		wire_copy_str(q->cur.op, sizeof(q->cur.op), l->head, n);
		if (redis_name_ok(q->cur.op, n)) {
			redis_upper(q->cur.op);
			q->cur.subscribe = redis_is_subscribe(q->cur.op);
			redis_enqueue(f);
			return true;
		}
	}
	return false;
}

/* A "*N" or "$L" line of a command. */
static bool redis_req_line(struct redis_feed *f)
{
	struct redis_req *q = &f->r->req;
	const struct wire_line *l = &q->line;
	size_t kept = wire_line_kept(l);
	uint64_t v;
	if (q->state == RQ_INLINE)
		return redis_inline(f);
	if (l->len != kept || kept < 2)
		return false;
	if (q->state == RQ_ARRAY) {
		if (l->head[0] != '*' || !wire_parse_dec(l->head + 1, kept - 1, REDIS_ARGS_MAX, &v) || v == 0)
			return false;
		q->args = v;
		q->state = RQ_BULK_HDR;
		return true;
	}
	if (l->head[0] != '$' || !wire_parse_dec(l->head + 1, kept - 1, REDIS_BULK_MAX, &v))
		return false;
	q->arg_len = v;
	q->left = v + 2;
	q->got = 0;
	q->keep_arg = q->arg == 0 || (q->arg == 1 && !q->cur.bad && redis_has_subcommand(q->cur.op));
	q->state = RQ_BULK_DATA;
	return true;
}

static size_t redis_req_bulk(struct redis_feed *f, const uint8_t *s, size_t n)
{
	struct redis_req *q = &f->r->req;
	size_t k = q->left < n ? (size_t)q->left : n;
	if (q->keep_arg && q->got < q->arg_len) {
		uint64_t want = q->arg_len - q->got;
		size_t c = want < k ? (size_t)want : k;
		if (q->got + c > WIRE_OPERATION_LEN)
			c = q->got < WIRE_OPERATION_LEN ? WIRE_OPERATION_LEN - q->got : 0;
		memcpy(q->word + q->got, s, c);
		q->got += c;
	}
	q->left -= k;
	if (q->left == 0)
		redis_arg_done(f);
	return k;
}

static size_t redis_req_step(struct redis_feed *f, const uint8_t *s, size_t n)
{
	struct redis_req *q = &f->r->req;
	switch (q->state) {
	case RQ_SUBSCRIBED:
		return n;
	case RQ_BULK_DATA:
		return redis_req_bulk(f, s, n);
	case RQ_START:
		memset(&q->cur, 0, sizeof(q->cur));
		q->cur.start_ns = f->c->start_ns;
		q->state = s[0] == '*' ? RQ_ARRAY : RQ_INLINE;
		if (q->state == RQ_INLINE && !redis_name_char(s[0], true) && s[0] != '\r') {
			redis_lose(f); /* neither a command nor an empty line */
			return n;
		}
		break;
	default:
		break;
	}
	size_t used;
	enum wire_line_status st = wire_line_feed(&q->line, s, n, &used);
	if (st == WIRE_LINE_BAD || (q->state != RQ_INLINE && q->line.len > REDIS_LINE_KEEP)) {
		redis_lose(f);
	} else if (st == WIRE_LINE_DONE) {
		if (!redis_req_line(f))
			redis_lose(f);
		else
			wire_line_reset(&q->line, REDIS_LINE_KEEP);
	}
	return used;
}

/* A complete top-level reply: the oldest command waiting has its answer. */
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
	struct redis_rsp keep = *s;
	redis_rsp_reset(s);
	s->state = keep.state == RS_IGNORE ? RS_IGNORE : RS_START;
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

static size_t redis_rsp_step(struct redis_feed *f, const uint8_t *d, size_t n)
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
static void redis_gap(struct redis_feed *f, uint64_t gap)
{
	struct redis_conn *r = f->r;
	if (f->c->from_client) {
		struct redis_req *q = &r->req;
		if (q->state == RQ_SUBSCRIBED)
			return;
		if (q->state == RQ_BULK_DATA && q->left >= gap) {
			if (!q->truncated)
				f->stats->truncated++;
			q->truncated = true;
			q->left -= gap;
			if (q->left == 0)
				redis_arg_done(f);
			return;
		}
	} else {
		struct redis_rsp *s = &r->rsp;
		if (s->state == RS_IGNORE)
			return;
		if (s->state == RS_BULK && s->left >= gap) {
			if (!s->truncated)
				f->stats->truncated++;
			s->truncated = true;
			s->left -= gap;
			if (s->left == 0)
				redis_value_done(f);
			return;
		}
	}
	redis_lose(f);
}

static struct wire_parser *redis_open(void)
{
	struct redis_conn *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	redis_req_reset(&r->req);
	redis_rsp_reset(&r->rsp);
	return (struct wire_parser *)r;
}

static void redis_feed(struct wire_parser *p, const struct wire_chunk *c, struct wire_stats *stats,
		       wire_call_fn fn, void *ctx)
{
	struct redis_conn *r = (struct redis_conn *)p;
	struct redis_feed f = { r, c, stats, fn, ctx };
	if (r->done || c->len > c->total)
		return;
	if (r->lost) {
		if (!c->from_client || !redis_wire_detect(c->data, c->len))
			return;
		redis_req_reset(&r->req);
		redis_rsp_reset(&r->rsp);
		r->lost = false;
	}
	size_t off = 0;
	while (off < c->len && !r->lost && !r->done) {
		if (c->from_client)
			off += redis_req_step(&f, c->data + off, c->len - off);
		else
			off += redis_rsp_step(&f, c->data + off, c->len - off);
	}
	if (!r->lost && !r->done && c->total > c->len)
		redis_gap(&f, c->total - c->len);
}

static void redis_close(struct wire_parser *p, struct wire_stats *stats)
{
	struct redis_conn *r = (struct redis_conn *)p;
	if (r == NULL)
		return;
	if (!r->done)
		stats->unanswered += r->count;
	free(r);
}

/* "*N\r\n$L\r\nNAME\r\n": an array of bulk strings whose first is a command name. */
bool redis_wire_detect(const uint8_t *data, size_t len)
{
	size_t i = 1, j;
	uint64_t n, l;
	if (len < 4 || data[0] != '*')
		return false;
	while (i < len && data[i] >= '0' && data[i] <= '9')
		i++;
	if (!wire_parse_dec(data + 1, i - 1, REDIS_ARGS_MAX, &n) || n == 0)
		return false;
	if (i + 3 > len || memcmp(data + i, "\r\n$", 3) != 0)
		return false;
	j = i += 3;
	while (i < len && data[i] >= '0' && data[i] <= '9')
		i++;
	if (!wire_parse_dec(data + j, i - j, WIRE_OPERATION_LEN, &l) || l == 0)
		return false;
	if (i + 2 + l + 2 > len || memcmp(data + i, "\r\n", 2) != 0)
		return false;
	i += 2;
	for (size_t k = 0; k < l; k++) {
		if (!redis_name_char(data[i + k], k == 0))
			return false;
	}
	return memcmp(data + i + l, "\r\n", 2) == 0;
}

const struct wire_parser_ops redis_wire_ops = {
	.protocol = WIRE_REDIS,
	.name = "redis",
	.open = redis_open,
	.feed = redis_feed,
	.close = redis_close,
};
