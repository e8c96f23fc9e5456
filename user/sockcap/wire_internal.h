/* SPDX-License-Identifier: Apache-2.0 */
/* What the three protocol parsers share: a CRLF-terminated line read across chunks into a
 * bounded buffer. HTTP/1 header lines and RESP headers can be far longer than anything a parser
 * needs from them, and split anywhere (even between '\r' and '\n'), so a line keeps its first
 * bytes (what names the line: a method, a header name, a length) and its last few (what ends a
 * request line: " HTTP/1.1"), and counts the rest. */
#ifndef GLIMPSE_SOCKCAP_WIRE_INTERNAL_H
#define GLIMPSE_SOCKCAP_WIRE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WIRE_LINE_HEAD 400
#define WIRE_LINE_TAIL 16

struct wire_line {
	size_t len;  /* bytes of the line so far, without its CRLF */
	size_t keep; /* how many of the first bytes head holds at most (<= WIRE_LINE_HEAD) */
	bool cr;     /* the last byte was '\r': the line ends if the next is '\n' */
	uint8_t head[WIRE_LINE_HEAD];
	uint8_t tail[WIRE_LINE_TAIL]; /* the last min(len, WIRE_LINE_TAIL) bytes, right-aligned */
};

enum wire_line_status {
	WIRE_LINE_MORE, /* every byte given was consumed; the line goes on */
	WIRE_LINE_DONE, /* the line ended with CRLF */
	WIRE_LINE_BAD,	/* a lone '\r' or '\n': not a line of these protocols */
};

static inline void wire_line_reset(struct wire_line *l, size_t keep)
{
	l->len = 0;
	l->cr = false;
	l->keep = keep < WIRE_LINE_HEAD ? keep : WIRE_LINE_HEAD;
}

static inline bool wire_line_empty(const struct wire_line *l)
{
	return l->len == 0 && !l->cr;
}

static inline void wire_line__append(struct wire_line *l, const uint8_t *d, size_t n)
{
	if (l->len < l->keep) {
		size_t room = l->keep - l->len;
		memcpy(l->head + l->len, d, n < room ? n : room);
	}
	if (n >= WIRE_LINE_TAIL) {
		memcpy(l->tail, d + n - WIRE_LINE_TAIL, WIRE_LINE_TAIL);
	} else {
		memmove(l->tail, l->tail + n, WIRE_LINE_TAIL - n);
		memcpy(l->tail + WIRE_LINE_TAIL - n, d, n);
	}
	l->len += n;
}

/* Consumes d up to and including the line's end; *used says how many bytes that was. */
static inline enum wire_line_status wire_line_feed(struct wire_line *l, const uint8_t *d, size_t n,
						   size_t *used)
{
	size_t i = 0;
	if (l->cr) {
		if (n == 0) {
			*used = 0;
			return WIRE_LINE_MORE;
		}
		*used = 1;
		return d[0] == '\n' ? WIRE_LINE_DONE : WIRE_LINE_BAD;
	}
	while (i < n && d[i] != '\r' && d[i] != '\n')
		i++;
	wire_line__append(l, d, i);
	if (i == n) {
		*used = n;
		return WIRE_LINE_MORE;
	}
	if (d[i] == '\n') {
		*used = i + 1;
		return WIRE_LINE_BAD;
	}
	l->cr = true;
	if (i + 1 == n) {
		*used = n;
		return WIRE_LINE_MORE;
	}
	*used = i + 2;
	return d[i + 1] == '\n' ? WIRE_LINE_DONE : WIRE_LINE_BAD;
}

/* The bytes of the line head holds. */
static inline size_t wire_line_kept(const struct wire_line *l)
{
	return l->len < l->keep ? l->len : l->keep;
}

/* The line's last n bytes (n <= WIRE_LINE_TAIL, n <= len). */
static inline const uint8_t *wire_line_tail(const struct wire_line *l, size_t n)
{
	return l->tail + WIRE_LINE_TAIL - n;
}

/* Copies n bytes into a string of size cap (NUL included), cut to fit. */
static inline void wire_copy_str(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Parses decimal digits (at least one, nothing else) into *v, refusing values above max
 * (max < 10^17, so nothing overflows on the way). */
static inline bool wire_parse_dec(const uint8_t *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

/* Whether data begins a request of the protocol: what wire_detect recognizes, and the only
 * place a parser that lost its way starts again. */
bool http1_wire_detect(const uint8_t *data, size_t len);
bool postgres_wire_detect(const uint8_t *data, size_t len);
bool redis_wire_detect(const uint8_t *data, size_t len);

#endif
