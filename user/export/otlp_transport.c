// SPDX-License-Identifier: Apache-2.0
/* How a batch travels: gzip, which HTTP answers are retried, Retry-After, backoff. */
#define _GNU_SOURCE /* strptime, timegm */
#include "export/otlp.h"
#include "export/otlp_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

int otlp_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream z = { 0 };
	*out = NULL;
	*outlen = 0;
	/* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	size_t cap = deflateBound(&z, (uLong)len);
	uint8_t *buf = malloc(cap);
	int rc = Z_MEM_ERROR;
	if (buf) {
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)len;
		z.next_out = buf;
		z.avail_out = (uInt)cap;
		rc = deflate(&z, Z_FINISH);
	}
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*outlen = cap - z.avail_out;
	return 0;
}

int otlp_parse_retry_after(const char *value, time_t now, int64_t *delay_ms)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		"%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		"%a %b %e %H:%M:%S %Y",	     /* asctime: Sun Nov  6 08:49:37 1994 */
	};
	if (!value)
		return -EINVAL;
	while (isspace((unsigned char)*value))
		value++;
	if (isdigit((unsigned char)*value)) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(value, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || *end)
			return -EINVAL;
		*delay_ms = s > 86400ULL * 365 ? 86400LL * 365 * 1000 : (int64_t)s * 1000;
		return 0;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm = { 0 };
		const char *end = strptime(value, formats[i], &tm);
		if (!end)
			continue;
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			continue;
		time_t t = timegm(&tm);
		if (t == (time_t)-1)
			continue;
		*delay_ms = t > now ? (int64_t)(t - now) * 1000 : 0;
		return 0;
	}
	return -EINVAL;
}

int64_t otlp_backoff_ms(unsigned attempt, uint32_t rnd)
{
	int64_t d = OTLP_BACKOFF_BASE_MS;
	for (unsigned i = 0; i < attempt && d < OTLP_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > OTLP_BACKOFF_MAX_MS)
		d = OTLP_BACKOFF_MAX_MS;
	/* "Equal jitter": never less than half the step, so retries still back off. */
	return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

bool otlp_status_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}
