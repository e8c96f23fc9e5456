// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target for user/sockcap/mux_match.c: ServeMux patterns as read from a target's
 * memory (untrusted: any bytes a process holds) and requests as received. Input: lines; a line
 * "> METHOD HOST TARGET" is a request, any other line a pattern. Checks: no crash, no leak, and
 * a match is one of the patterns added. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sockcap/mux_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mux_routes *r = mux_routes_new(size && (data[0] & 1) ? MUX_SYNTAX_GO122 : MUX_SYNTAX_GO123);
	if (!r)
		return 0;
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 2 && p[0] == '>' && p[1] == ' ') {
			char buf[3][1100];
			const char *f = p + 2, *e = p + len;
			for (int i = 0; i < 3; i++) {
				const char *sp = i < 2 ? memchr(f, ' ', (size_t)(e - f)) : NULL;
				size_t n = (size_t)((sp ? sp : e) - f);
				if (n >= sizeof(buf[i]))
					n = sizeof(buf[i]) - 1;
				memcpy(buf[i], f, n);
				buf[i][n] = '\0';
				f = sp ? sp + 1 : e;
			}
			const char *m = mux_routes_match(r, buf[0], buf[1], buf[2]);
			if (m && !strchr(m, '/'))
				abort(); /* every pattern has a '/' */
		} else {
			struct mux_pattern pat;
			mux_pattern_parse(p, len, MUX_SYNTAX_GO123, &pat);
			mux_routes_add(r, p, len);
		}
		p += len + 1;
	}
	mux_routes_free(r);
	return 0;
}
