// SPDX-License-Identifier: Apache-2.0
#include "gotrace/route.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* Longer segments are identifiers or data, not route names. */
#define PLAIN_WORD_MAX 32

/* A version segment ("v1", "v2beta"? no: only v + 1-3 digits), common in API routes. */
static bool is_version(const char *s, size_t len)
{
	if (len < 2 || len > 4 || (s[0] != 'v' && s[0] != 'V'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* A plain word: ASCII letters, with single '-', '_' or '.' between them ("settings",
 * "my-first-post", "robots.txt"), at most PLAIN_WORD_MAX long. Paths are user data: anything
 * else — digits, emails, digits with separators, mixed letters and digits, percent-encoded or
 * non-ASCII bytes, long tokens — may identify a person or a record, so it never becomes part of
 * a route. */
static bool is_plain_word(const char *s, size_t len)
{
	if (!len || len > PLAIN_WORD_MAX)
		return false;
	bool prev_letter = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (!letter && !((c == '-' || c == '_' || c == '.') && prev_letter))
			return false;
		prev_letter = letter;
	}
	return prev_letter; /* no trailing separator */
}

int route_segment_is_id(const char *seg, size_t len)
{
	return len && !is_plain_word(seg, len) && !is_version(seg, len);
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

void route_for_request(const char *pattern, const char *path, unsigned status, char *out, size_t outlen)
{
	bool matched = pattern && *pattern;
	if (!matched && (status == 404 || status == 405)) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	route_normalize(pattern, path, out, outlen);
}

struct route_entry {
	UT_hash_handle hh;
	char str[]; /* the key */
};

struct route_table {
	struct route_entry *by_str; /* uthash */
	size_t size, max;
	uint64_t overflowed;
	char *overflow;
};

struct route_table *route_table_new(int max, const char *overflow)
{
	struct route_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max = max > 0 ? (size_t)max : ROUTE_DEFAULT_MAX;
	t->overflow = strdup(overflow ? overflow : ROUTE_OVERFLOW);
	if (!t->overflow) {
		route_table_free(t);
		return NULL;
	}
	return t;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	struct route_entry *e, *tmp;
	HASH_ITER (hh, t->by_str, e, tmp) {
		HASH_DEL(t->by_str, e);
		free(e);
	}
	free(t->overflow);
	free(t);
}

const char *route_table_intern(struct route_table *t, const char *s)
{
	struct route_entry *e;
	size_t len = strlen(s);
	HASH_FIND(hh, t->by_str, s, len, e);
	if (e)
		return e->str;
	if (t->size >= t->max) {
		t->overflowed++;
		return t->overflow;
	}
	if (!(e = malloc(sizeof(*e) + len + 1)))
		return NULL;
	memcpy(e->str, s, len + 1);
	HASH_ADD_KEYPTR(hh, t->by_str, e->str, len, e);
	t->size++;
	return e->str;
}

size_t route_table_size(const struct route_table *t)
{
	return t->size;
}

uint64_t route_table_overflowed(const struct route_table *t)
{
	return t->overflowed;
}
