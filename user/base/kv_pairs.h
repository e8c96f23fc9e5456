/* SPDX-License-Identifier: Apache-2.0 */
/* The one reader of W3C-Baggage-style lists, "k=v,k=v" with percent-encoded values: the OTel
 * variables OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS, read from glimpse's own
 * environment (strictly: a bad item is an error) and from a target's (leniently: a bad item is
 * skipped, the target is not glimpse's to reject). */
#ifndef GLIMPSE_KV_PAIRS_H
#define GLIMPSE_KV_PAIRS_H

#include <stdbool.h>
#include <stddef.h>

struct kv_pair {
	int item; /* 1-based position in the list, empty items counted */
	/* Trimmed of surrounding whitespace; key_len 0 when the item is not key=value. */
	const char *key, *value;
	size_t key_len, value_len;
};

/* The next non-empty item of the list s[*pos..len) into *out, advancing *pos; false at the end.
 * Start with *pos = 0 and out->item = 0. */
bool kv_pairs_next(const char *s, size_t len, size_t *pos, struct kv_pair *out);

/* Percent-decodes s[0..n) into out (outlen > 0: always NUL-terminated, truncated to outlen - 1
 * bytes). Returns the decoded length, which may exceed what was written (outlen - 1 or more:
 * it did not fit), or -1 when a '%' does not start a %XX escape. */
long kv_percent_decode(const char *s, size_t n, char *out, size_t outlen);

#endif
