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

#include "sockcap/redis_conn.h"

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

void redis_lose(struct redis_feed *f)
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
/* Bytes the call moved but the probe did not capture: fine inside a bulk string. */
static void redis_gap(struct redis_feed *f, uint64_t gap)
{
	struct redis_req *q = &f->r->req;
	if (!f->c->from_client) {
		if (!redis_rsp_gap(f, gap))
			redis_lose(f);
		return;
	}
	if (q->state == RQ_SUBSCRIBED)
		return;
	if (q->state != RQ_BULK_DATA || q->left < gap) {
		redis_lose(f);
		return;
	}
	if (!q->truncated)
		f->stats->truncated++;
	q->truncated = true;
	q->left -= gap;
	if (q->left == 0)
		redis_arg_done(f);
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
