// SPDX-License-Identifier: Apache-2.0
#include "base/utf8.h"

#include <string.h>

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	size_t k;
	uint32_t v, min;
	if (c < 0x80) {
		k = 1, v = c, min = 0;
	} else if ((c & 0xe0) == 0xc0) {
		k = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		k = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		k = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	if (cp)
		*cp = v;
	return k;
}

size_t utf8_repair(char *dst, const char *src, size_t max)
{
	const unsigned char *p = (const unsigned char *)(src ? src : "");
	size_t o = 0;
	while (*p) {
		size_t n = utf8_decode(p, SIZE_MAX, NULL);
		const char *from = (const char *)p;
		size_t take = n;
		if (!n)
			from = "\xEF\xBF\xBD", take = 3;
		if (o + take > max)
			break;
		if (dst)
			memcpy(dst + o, from, take);
		o += take;
		p += n ? n : 1;
	}
	if (dst)
		dst[o] = '\0';
	return o;
}
