// SPDX-License-Identifier: Apache-2.0
#include "base/kv_pairs.h"

#include <ctype.h>
#include <string.h>

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

bool kv_pairs_next(const char *s, size_t len, size_t *pos, struct kv_pair *out)
{
	while (*pos <= len) {
		const char *p = s + *pos, *end = s + len;
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *item_end = comma ? comma : end;
		const char *k = p;
		size_t kn = (size_t)(item_end - p);
		*pos = (size_t)(item_end - s) + 1;
		out->item++;
		trim(&k, &kn);
		if (!kn)
			continue;
		const char *eq = memchr(k, '=', kn);
		out->key = k;
		out->key_len = 0;
		out->value = k + kn;
		out->value_len = 0;
		if (eq) {
			const char *v = eq + 1;
			size_t vn = (size_t)(k + kn - v);
			kn = (size_t)(eq - k);
			trim(&k, &kn);
			trim(&v, &vn);
			out->key = k;
			out->key_len = kn;
			out->value = v;
			out->value_len = vn;
		}
		return true;
	}
	return false;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long kv_percent_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++, o++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 < outlen)
			out[o] = c;
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
	return (long)o;
}
