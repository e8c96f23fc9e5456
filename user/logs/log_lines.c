// SPDX-License-Identifier: Apache-2.0
#include "logs/log_lines.h"

#include <stdlib.h>
#include <string.h>

struct pending {
	bool used;
	bool truncated; /* past LOG_LINE_MAX: the rest up to the newline is dropped */
	uint64_t seq;	/* age, for eviction */
	struct log_origin origin;
	size_t len;
	char text[LOG_LINE_MAX];
};

struct log_lines {
	log_line_fn fn;
	void *ctx;
	uint64_t seq, truncated, unseen;
	struct pending slots[LOG_PENDING_MAX];
};

struct log_lines *log_lines_new(log_line_fn fn, void *ctx)
{
	struct log_lines *l = calloc(1, sizeof(*l));
	if (l) {
		l->fn = fn;
		l->ctx = ctx;
	}
	return l;
}

static void emit(struct log_lines *l, const struct log_origin *o, const char *text, size_t len,
		 bool truncated)
{
	if (len > LOG_LINE_MAX) {
		len = LOG_LINE_MAX;
		truncated = true;
	}
	if (truncated)
		l->truncated++;
	l->fn(l->ctx, o, text, len, truncated);
}

static void finish(struct log_lines *l, struct pending *p, bool truncated)
{
	emit(l, &p->origin, p->text, p->len, truncated || p->truncated);
	p->used = false;
}

static struct pending *find(struct log_lines *l, uint32_t pid, int fd)
{
	for (int i = 0; i < LOG_PENDING_MAX; i++)
		if (l->slots[i].used && l->slots[i].origin.pid == pid && l->slots[i].origin.fd == fd)
			return &l->slots[i];
	return NULL;
}

/* A free slot; when none is, the oldest unfinished line goes out as it is (flagged). */
static struct pending *claim(struct log_lines *l)
{
	struct pending *oldest = NULL;
	for (int i = 0; i < LOG_PENDING_MAX; i++) {
		if (!l->slots[i].used)
			return &l->slots[i];
		if (!oldest || l->slots[i].seq < oldest->seq)
			oldest = &l->slots[i];
	}
	finish(l, oldest, true);
	return oldest;
}

static void append(struct pending *p, const char *s, size_t n)
{
	size_t room = LOG_LINE_MAX - p->len;
	if (n > room) {
		n = room;
		p->truncated = true;
	}
	memcpy(p->text + p->len, s, n);
	p->len += n;
}

void log_lines_write(struct log_lines *l, const struct log_origin *o, const char *data, size_t len,
		     size_t total)
{
	struct pending *p = find(l, o->pid, o->fd);
	const char *s = data, *end = data + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		if (p) {
			append(p, s, n);
			if (nl) {
				finish(l, p, false);
				p = NULL;
			}
		} else if (nl) {
			emit(l, o, s, n, false); /* the usual case: a whole line, no copy */
		} else {
			p = claim(l);
			p->used = true;
			p->truncated = false;
			p->seq = ++l->seq;
			p->origin = *o;
			p->len = 0;
			append(p, s, n);
		}
		s = nl ? nl + 1 : end;
	}
	/* The kernel copied only the first part of the write: the line it was in ends unseen; if
	 * that part ended a line, at least one more line went by unseen. */
	if (total > len && p)
		finish(l, p, true);
	else if (total > len)
		l->unseen++;
}

void log_lines_flush(struct log_lines *l, uint32_t pid)
{
	for (int i = 0; i < LOG_PENDING_MAX; i++)
		if (l->slots[i].used && (!pid || l->slots[i].origin.pid == pid))
			finish(l, &l->slots[i], false);
}

uint64_t log_lines_truncated(const struct log_lines *l)
{
	return l->truncated;
}

uint64_t log_lines_unseen(const struct log_lines *l)
{
	return l->unseen;
}

void log_lines_free(struct log_lines *l)
{
	free(l);
}
