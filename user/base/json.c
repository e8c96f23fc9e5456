// SPDX-License-Identifier: Apache-2.0
#include "base/json.h"

#include <string.h>

#include "base/utf8.h"

void json_string(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = u[i];
		if (c >= 0x80) {
			/* Target bytes (paths, SQL) are arbitrary: well-formed UTF-8 passes, anything
			 * else becomes U+FFFD, so every line stays valid JSON. */
			size_t n = utf8_decode(u + i, len - i, NULL);
			if (n) {
				fwrite(u + i, 1, n, out);
				i += n - 1;
			} else {
				fputs("\\ufffd", out);
			}
		} else if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void json_str(FILE *out, const char *s)
{
	json_string(out, s, strlen(s));
}

void json_hex(FILE *out, const uint8_t *b, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", b[i]);
	fputc('"', out);
}
