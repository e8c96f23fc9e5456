// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for user/gotrace/sql_text.c, which reads SQL text straight out of a traced
 * process. Checked besides memory safety (ASan/UBSan, the input in a buffer of exactly its
 * size):
 *   - every output is NUL-terminated, as long as returned, within its buffer;
 *   - a smaller output buffer gives a prefix of the whole sanitized text;
 *   - privacy: outside quoted identifiers the sanitized text holds no string quote and no
 *     number, except placeholders ($1, :1). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace/sql_text.h"

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

static void check_private(const char *out, size_t n, const char *in, size_t len)
{
	for (size_t i = 0; i < n;) {
		char c = out[i];
		if (c == '"' || c == '`') {
			for (i++; i < n && out[i] != c; i++)
				;
			i++;
			continue;
		}
		if (c == '\'') {
			fprintf(stderr, "a quote left at %zu: %s (from %.*s)\n", i, out, (int)len, in);
			abort();
		}
		if (!word_char(c) && c != '.') {
			i++;
			continue;
		}
		/* A run of name characters: split at '.', no part may start with a digit unless the
		 * run is a ':' placeholder. */
		int placeholder = i > 0 && out[i - 1] == ':';
		int part_start = 1;
		for (; i < n && (word_char(out[i]) || out[i] == '.'); i++) {
			if (part_start && isdigit((unsigned char)out[i]) && !placeholder) {
				fprintf(stderr, "a number left at %zu: %s (from %.*s)\n", i, out, (int)len,
					in);
				abort();
			}
			part_start = out[i] == '.';
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	size_t cap = size * 2 + 2;
	char *whole = malloc(cap), *part = malloc(cap);
	if (!whole || !part)
		goto out;
	size_t n = sql_sanitize(in, size, whole, cap);
	if (n >= cap || whole[n] || strlen(whole) != n)
		abort();
	check_private(whole, n, in, size);
	size_t small = size % 17 + 1;
	size_t m = sql_sanitize(in, size, part, small);
	if (m >= small || part[m] || m != (n < small - 1 ? n : small - 1) || memcmp(part, whole, m))
		abort();
	char op[16], coll[64];
	sql_operation(in, size, op, sizeof(op));
	sql_collection(in, size, coll, sizeof(coll));
	if (strlen(op) >= sizeof(op) || strlen(coll) >= sizeof(coll))
		abort();
out:
	free(whole);
	free(part);
	free(in);
	return 0;
}
