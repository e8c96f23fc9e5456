// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for user/logs/log_lines.c and log_parse.c + log_parse_json.c: the bytes a
 * target writes to stdout and stderr, split into lines and parsed. The input is cut into writes
 * (a first byte of each chunk: its length, its fd, whether the kernel saw all of it). Checked
 * besides memory safety (ASan/UBSan, each write in a buffer of exactly its size):
 *   - every line is at most LOG_LINE_MAX bytes and holds no newline;
 *   - lines are never lost or invented: the newlines written on an fd, in writes seen whole,
 *     equal the lines it produced (flushing ends the rest);
 *   - a parsed record's body, severity text, keys and string values are valid UTF-8 without NUL,
 *     its severity 0..24, at most LOG_MAX_ATTRS attributes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "logs/log_lines.h"
#include "logs/log_parse.h"

static struct log_parser parser;
static size_t lines[3];

static void check_utf8(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t k = utf8_decode((const unsigned char *)s + i, n - i, NULL);
		if (!k) {
			fprintf(stderr, "invalid UTF-8 at %zu: %s\n", i, s);
			abort();
		}
		i += k;
	}
}

static void on_line(void *ctx, const struct log_origin *o, const char *text, size_t len, bool truncated)
{
	(void)ctx;
	(void)truncated;
	if (len > LOG_LINE_MAX || memchr(text, '\n', len) || o->fd < 1 || o->fd > 2)
		abort();
	lines[o->fd]++;
	char *copy = malloc(len ? len : 1); /* exactly the line: reads past it are caught */
	if (!copy)
		return;
	memcpy(copy, text, len);
	struct log_record rec = { .truncated = truncated };
	log_parse_line(&parser, copy, len, &rec);
	check_utf8(rec.body);
	check_utf8(rec.severity_text);
	if (rec.severity_number < 0 || rec.severity_number > 24 || rec.nattrs > LOG_MAX_ATTRS)
		abort();
	for (unsigned i = 0; i < rec.nattrs; i++) {
		check_utf8(rec.attrs[i].key);
		if (rec.attrs[i].type == LOG_VALUE_STRING || rec.attrs[i].type == LOG_VALUE_JSON)
			check_utf8(rec.attrs[i].s);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct log_lines *l = log_lines_new(on_line, NULL);
	if (!l)
		return 0;
	size_t newlines[3] = { 0 };
	bool cut[3] = { false };
	lines[1] = lines[2] = 0;
	for (size_t i = 0; i < size;) {
		uint8_t h = data[i++];
		size_t n = (size_t)(h & 0x3f) * 16 + 1;
		if (n > size - i)
			n = size - i;
		struct log_origin o = { .pid = 1u + (h >> 7), .fd = 1 + ((h >> 6) & 1) };
		bool seen_all = (h & 0x3) != 0x3;
		char *w = malloc(n ? n : 1);
		if (!w)
			break;
		memcpy(w, data + i, n);
		log_lines_write(l, &o, w, n, seen_all ? n : n + 100);
		for (size_t k = 0; k < n; k++)
			newlines[o.fd] += data[i + k] == '\n';
		cut[o.fd] |= !seen_all;
		free(w);
		i += n;
	}
	size_t before[3] = { 0, lines[1], lines[2] };
	log_lines_flush(l, 0);
	for (int fd = 1; fd <= 2; fd++) {
		/* Two processes write on each fd here, so per fd: each newline ends exactly one line,
		 * a cut write ends one more, a flush at most one per process. */
		if (!cut[fd] && before[fd] != newlines[fd])
			abort();
		if (lines[fd] - before[fd] > 2)
			abort();
	}
	log_lines_free(l);
	return 0;
}
