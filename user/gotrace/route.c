// SPDX-License-Identifier: Apache-2.0
#include "gotrace/route.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

int route_segment_is_id(const char *seg, size_t len)
{
	size_t digits = 0, hex = 0, alpha = 0, token = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)seg[i];
		digits += isdigit(c) != 0;
		hex += isxdigit(c) != 0;
		alpha += isalpha(c) != 0;
		/* base64 and base64url alphabets: what generated ids are made of */
		token += isalnum(c) || c == '-' || c == '_' || c == '=' || c == '+';
	}
	if (!len)
		return 0;
	if (digits == len || is_uuid(seg, len))
		return 1;
	if (len >= 8 && hex == len && digits)
		return 1;
	/* Words ("settings", "my-first-post") have no digits: only mixed tokens are ids. */
	return len >= 16 && token == len && digits && alpha;
}

struct out_buf {
	char *p;
	size_t len, cap;
};

static void put(struct out_buf *o, const char *s, size_t n)
{
	if (o->len + 1 >= o->cap)
		return;
	if (n > o->cap - 1 - o->len)
		n = o->cap - 1 - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* Go 1.22 patterns are "[METHOD ][HOST]/[PATH]": keep only the path part. */
static const char *pattern_path(const char *pattern)
{
	const char *sp = strpbrk(pattern, " \t"), *slash = strchr(pattern, '/');
	if (sp && (!slash || sp < slash)) {
		pattern = sp;
		while (*pattern == ' ' || *pattern == '\t')
			pattern++;
	}
	return strchr(pattern, '/');
}

void route_normalize(const char *pattern, const char *path, char *out, size_t outlen)
{
	struct out_buf o = { out, 0, outlen };
	if (!outlen)
		return;
	out[0] = '\0';
	const char *pp = pattern && *pattern ? pattern_path(pattern) : NULL;
	if (pp) {
		put(&o, pp, strlen(pp));
		return;
	}
	/* Only the path: the query string and fragment carry no route, and unbounded values. */
	size_t end = path ? strcspn(path, "?#") : 0;
	if (end == 1 && path[0] == '*') { /* OPTIONS * */
		put(&o, "*", 1);
		return;
	}
	size_t i = 0;
	while (i < end) {
		while (i < end && path[i] == '/')
			i++;
		size_t start = i;
		while (i < end && path[i] != '/')
			i++;
		if (i == start)
			break;
		put(&o, "/", 1);
		if (route_segment_is_id(path + start, i - start))
			put(&o, "{id}", 4);
		else
			put(&o, path + start, i - start);
	}
	/* A trailing slash is a different route to Go's ServeMux (a subtree), so it stays. */
	if (!o.len || path[end - 1] == '/')
		put(&o, "/", 1);
}

struct route_table {
	char **slots; /* open addressing, NULL = free */
	size_t cap, size, max;
	uint64_t overflowed;
	char *overflow;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

struct route_table *route_table_new(int max, const char *overflow)
{
	struct route_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max = max > 0 ? (size_t)max : ROUTE_DEFAULT_MAX;
	/* Never more than half full, so probing stays short and always finds a free slot. */
	t->cap = 16;
	while (t->cap < 2 * t->max + 2)
		t->cap *= 2;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	t->overflow = strdup(overflow ? overflow : ROUTE_OVERFLOW);
	if (!t->slots || !t->overflow) {
		route_table_free(t);
		return NULL;
	}
	return t;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->slots && i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t->overflow);
	free(t);
}

const char *route_table_intern(struct route_table *t, const char *s)
{
	size_t i = hash_str(s) & (t->cap - 1);
	for (; t->slots[i]; i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->slots[i], s))
			return t->slots[i];
	if (t->size >= t->max) {
		t->overflowed++;
		return t->overflow;
	}
	if (!(t->slots[i] = strdup(s)))
		return NULL;
	t->size++;
	return t->slots[i];
}

size_t route_table_size(const struct route_table *t)
{
	return t->size;
}

uint64_t route_table_overflowed(const struct route_table *t)
{
	return t->overflowed;
}
