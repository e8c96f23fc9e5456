// SPDX-License-Identifier: Apache-2.0
#include "sockcap/mux_match.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MUX_PATH_MAX 1024 /* longer request paths are not matched */

struct mux_child;

/* net/http's routingNode: a pattern ends here (index into patterns, -1: none); children by
 * literal key (hosts, methods, path segments), the "" key and single wildcards in empty, a
 * multi-segment wildcard (or a trailing '/') in multi. */
struct mux_node {
	int pattern;
	struct mux_child *children;
	size_t nchildren, cap;
	struct mux_node *empty, *multi;
};

struct mux_child {
	char *key;
	size_t len;
	struct mux_node *node;
};

struct mux_entry {
	char *str;	 /* the pattern as registered */
	size_t nsegs;	 /* segments of its path */
	bool last_multi; /* its last segment is a multi wildcard */
};

struct mux_routes {
	enum mux_syntax syntax;
	struct mux_node root;
	struct mux_entry *patterns;
	size_t n, cap;
};

/* RFC 9110 token characters (Go's validMethod). */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* url.PathUnescape, falling back to the bytes as they are on a bad escape (net/http's
 * pathUnescape). out has room for len bytes; the unescaped length is returned. */
static size_t path_unescape(const char *s, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] != '%') {
			out[o++] = s[i];
		} else if (i + 2 < len && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
			   (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			memcpy(out, s, len);
			return len;
		}
	}
	return o;
}

/* Go's isValidWildcardName, for ASCII; other bytes are let through (names do not route). */
static bool valid_wildcard_name(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
		if (!letter && (i == 0 || !(c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* path.Clean for a rooted path, with cleanPath's trailing '/' kept; out has room for len + 2. */
static size_t clean_path(const char *p, size_t len, char *out)
{
	size_t o = 1, i = 0;
	out[0] = '/';
	while (i < len) {
		while (i < len && p[i] == '/')
			i++;
		size_t start = i;
		while (i < len && p[i] != '/')
			i++;
		size_t n = i - start;
		if (n == 0 || (n == 1 && p[start] == '.'))
			continue;
		if (n == 2 && p[start] == '.' && p[start + 1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--; /* the '/' before the dropped segment */
			continue;
		}
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, p + start, n);
		o += n;
	}
	if (len && p[len - 1] == '/' && o > 1)
		out[o++] = '/';
	out[o] = '\0';
	return o;
}

int mux_pattern_parse(const char *s, size_t len, enum mux_syntax syntax, struct mux_pattern *out)
{
	memset(out, 0, offsetof(struct mux_pattern, segs));
	if (!len || len >= MUX_PATTERN_MAX || memchr(s, '\0', len))
		return -EINVAL;
	const char *rest = s, *end = s + len;
	const char *sp = syntax == MUX_SYNTAX_GO122 ? memchr(s, ' ', len) : NULL;
	if (syntax != MUX_SYNTAX_GO122)
		for (const char *q = s; q < end && !sp; q++)
			if (*q == ' ' || *q == '\t')
				sp = q;
	if (sp) {
		out->method = s;
		out->method_len = (size_t)(sp - s);
		rest = sp + 1;
		if (syntax != MUX_SYNTAX_GO122)
			while (rest < end && (*rest == ' ' || *rest == '\t'))
				rest++;
		for (size_t i = 0; i < out->method_len; i++)
			if (!is_tchar((unsigned char)s[i]))
				return -EINVAL;
	}
	const char *slash = memchr(rest, '/', (size_t)(end - rest));
	if (!slash)
		return -EINVAL;
	out->host = rest;
	out->host_len = (size_t)(slash - rest);
	if (memchr(out->host, '{', out->host_len))
		return -EINVAL;
	rest = slash;
	size_t path_len = (size_t)(end - rest);
	if (out->method_len && !(out->method_len == 7 && !memcmp(out->method, "CONNECT", 7))) {
		char clean[MUX_PATTERN_MAX + 2];
		size_t n = clean_path(rest, path_len, clean);
		if (n != path_len || memcmp(clean, rest, n))
			return -EINVAL; /* "non-CONNECT pattern with unclean path can never match" */
	}
	size_t used = 0;
	while (rest < end) {
		rest++; /* the '/' */
		if (out->nsegs == MUX_MAX_SEGMENTS)
			return -EINVAL;
		struct mux_segment *seg = &out->segs[out->nsegs];
		if (rest == end) { /* trailing slash: an anonymous "..." */
			*seg = (struct mux_segment){ .s = "", .len = 0, .wild = true, .multi = true };
			out->nsegs++;
			break;
		}
		const char *e = memchr(rest, '/', (size_t)(end - rest));
		if (!e)
			e = end;
		size_t n = (size_t)(e - rest);
		const char *brace = memchr(rest, '{', n);
		if (!brace) {
			*seg = (struct mux_segment){ .s = out->unescaped + used };
			seg->len = path_unescape(rest, n, out->unescaped + used);
			used += seg->len;
			out->nsegs++;
			rest = e;
			continue;
		}
		if (brace != rest || rest[n - 1] != '}')
			return -EINVAL;
		const char *name = rest + 1;
		size_t name_len = n - 2;
		rest = e;
		if (name_len == 1 && name[0] == '$') {
			if (rest != end)
				return -EINVAL;
			*seg = (struct mux_segment){ .s = "/", .len = 1 };
			out->nsegs++;
			break;
		}
		bool multi = name_len >= 3 && !memcmp(name + name_len - 3, "...", 3);
		if (multi) {
			name_len -= 3;
			if (rest != end)
				return -EINVAL;
		}
		if (!valid_wildcard_name(name, name_len))
			return -EINVAL;
		for (size_t i = 0; i < out->nsegs; i++)
			if (out->segs[i].wild && out->segs[i].len == name_len &&
			    !memcmp(out->segs[i].s, name, name_len))
				return -EINVAL; /* duplicate wildcard name */
		*seg = (struct mux_segment){ .s = name, .len = name_len, .wild = true, .multi = multi };
		out->nsegs++;
	}
	return 0;
}

struct mux_routes *mux_routes_new(enum mux_syntax syntax)
{
	struct mux_routes *r = calloc(1, sizeof(*r));
	if (r) {
		r->syntax = syntax;
		r->root.pattern = -1;
	}
	return r;
}

static void node_free(struct mux_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nchildren; i++) {
		node_free(n->children[i].node);
		free(n->children[i].node);
		free(n->children[i].key);
	}
	free(n->children);
	node_free(n->empty);
	free(n->empty);
	node_free(n->multi);
	free(n->multi);
}

void mux_routes_free(struct mux_routes *r)
{
	if (!r)
		return;
	node_free(&r->root);
	for (size_t i = 0; i < r->n; i++)
		free(r->patterns[i].str);
	free(r->patterns);
	free(r);
}

size_t mux_routes_count(const struct mux_routes *r)
{
	return r->n;
}

static struct mux_node *new_node(void)
{
	struct mux_node *n = calloc(1, sizeof(*n));
	if (n)
		n->pattern = -1;
	return n;
}

/* routingNode.findChild: "" is the empty child. */
static struct mux_node *find_child(const struct mux_node *n, const char *key, size_t len)
{
	if (!n)
		return NULL;
	if (!len)
		return n->empty;
	for (size_t i = 0; i < n->nchildren; i++)
		if (n->children[i].len == len && !memcmp(n->children[i].key, key, len))
			return n->children[i].node;
	return NULL;
}

/* routingNode.addChild. */
static struct mux_node *add_child(struct mux_node *n, const char *key, size_t len)
{
	if (!len) {
		if (!n->empty)
			n->empty = new_node();
		return n->empty;
	}
	struct mux_node *c = find_child(n, key, len);
	if (c)
		return c;
	if (n->nchildren == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 4;
		struct mux_child *ch = realloc(n->children, cap * sizeof(*ch));
		if (!ch)
			return NULL;
		n->children = ch;
		n->cap = cap;
	}
	struct mux_child *ch = &n->children[n->nchildren];
	if (!(ch->key = malloc(len)) || !(ch->node = new_node())) {
		free(ch->key);
		return NULL;
	}
	memcpy(ch->key, key, len);
	ch->len = len;
	n->nchildren++;
	return ch->node;
}

int mux_routes_add(struct mux_routes *r, const char *pattern, size_t len)
{
	struct mux_pattern *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	int err = mux_pattern_parse(pattern, len, r->syntax, p);
	if (err)
		goto out;
	err = -E2BIG;
	if (r->n == MUX_MAX_PATTERNS)
		goto out;
	err = -ENOMEM;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct mux_entry *e = realloc(r->patterns, cap * sizeof(*e));
		if (!e)
			goto out;
		r->patterns = e;
		r->cap = cap;
	}
	struct mux_node *n = add_child(&r->root, p->host, p->host_len);
	if (n)
		n = add_child(n, p->method, p->method_len);
	for (size_t i = 0; n && i < p->nsegs; i++) {
		const struct mux_segment *s = &p->segs[i];
		if (s->multi) {
			if (!n->multi)
				n->multi = new_node();
			n = n->multi;
		} else {
			n = add_child(n, s->wild ? "" : s->s, s->wild ? 0 : s->len);
		}
	}
	if (!n)
		goto out;
	err = -EEXIST;
	if (n->pattern >= 0)
		goto out;
	struct mux_entry *e = &r->patterns[r->n];
	err = -ENOMEM;
	if (!(e->str = malloc(len + 1)))
		goto out;
	memcpy(e->str, pattern, len);
	e->str[len] = '\0';
	e->nsegs = p->nsegs;
	e->last_multi = p->nsegs && p->segs[p->nsegs - 1].multi;
	n->pattern = (int)r->n++;
	err = 0;
out:
	free(p);
	return err;
}

/* routingNode.matchPath. scratch (MUX_PATH_MAX bytes) holds a segment only until the child
 * is found, so every level shares it. */
static const struct mux_node *match_path(const struct mux_node *n, const char *path, size_t len,
					 char *scratch)
{
	if (!n)
		return NULL;
	if (!len)
		return n->pattern >= 0 ? n : NULL;
	size_t seg_len;
	const char *rest;
	if (len == 1 && path[0] == '/') {
		scratch[0] = '/';
		seg_len = 1;
		rest = path + 1;
	} else {
		const char *p = path + 1, *e = memchr(p, '/', len - 1);
		if (!e)
			e = path + len;
		seg_len = path_unescape(p, (size_t)(e - p), scratch);
		rest = e;
	}
	bool slash = seg_len == 1 && scratch[0] == '/';
	size_t rest_len = len - (size_t)(rest - path);
	const struct mux_node *m = match_path(find_child(n, scratch, seg_len), rest, rest_len, scratch);
	if (m)
		return m;
	if (!slash && (m = match_path(n->empty, rest, rest_len, scratch)))
		return m;
	return n->multi; /* it always holds a pattern */
}

/* routingNode.matchMethodAndPath. */
static const struct mux_node *match_method_path(const struct mux_node *n, const char *method,
						const char *path, size_t len)
{
	const struct mux_node *m;
	char scratch[MUX_PATH_MAX];
	if (!n)
		return NULL;
	if ((m = match_path(find_child(n, method, strlen(method)), path, len, scratch)))
		return m;
	if (!strcmp(method, "HEAD") && (m = match_path(find_child(n, "GET", 3), path, len, scratch)))
		return m;
	return match_path(n->empty, path, len, scratch);
}

/* routingNode.match (the root's). */
static const struct mux_node *tree_match(const struct mux_routes *r, const char *host, size_t host_len,
					 const char *method, const char *path, size_t len)
{
	const struct mux_node *m;
	if (host_len && (m = match_method_path(find_child(&r->root, host, host_len), method, path, len)))
		return m;
	return match_method_path(r->root.empty, method, path, len);
}

/* exactMatch: a subtree pattern matches the path itself, not only something under it. */
static bool exact_match(const struct mux_routes *r, const struct mux_node *n, const char *path, size_t len)
{
	if (!n)
		return false;
	const struct mux_entry *e = &r->patterns[n->pattern];
	if (!e->last_multi)
		return true;
	if (len && path[len - 1] != '/')
		return false;
	size_t slashes = 0;
	for (size_t i = 0; i < len; i++)
		slashes += path[i] == '/';
	return e->nsegs == slashes;
}

/* matchOrRedirect: the node, and *redirect when "/tree" would be sent to "/tree/" instead.
 * path has room for one more byte. */
static const struct mux_node *match_or_redirect(const struct mux_routes *r, const char *host, size_t host_len,
						const char *method, char *path, size_t len, bool *redirect)
{
	const struct mux_node *n = tree_match(r, host, host_len, method, path, len);
	*redirect = false;
	if (!exact_match(r, n, path, len) && len && path[len - 1] != '/') {
		path[len] = '/';
		*redirect =
			exact_match(r, tree_match(r, host, host_len, method, path, len + 1), path, len + 1);
		path[len] = '\0';
	}
	return n;
}

static bool has_byte(const char *s, size_t len, char c)
{
	return len && memchr(s, c, len);
}

/* stripHostPort: the host without ":port" when net.SplitHostPort accepts it, else as is. */
static void strip_host_port(const char *h, size_t len, const char **out, size_t *out_len)
{
	*out = h;
	*out_len = len;
	const char *last = NULL;
	for (size_t i = 0; i < len; i++)
		if (h[i] == ':')
			last = h + i;
	if (!last)
		return;
	if (h[0] == '[') {
		const char *close = memchr(h, ']', len);
		if (!close || close + 1 != last || has_byte(h + 1, len - 1, '[') ||
		    has_byte(close + 1, (size_t)(h + len - close - 1), ']'))
			return;
		*out = h + 1;
		*out_len = (size_t)(close - h - 1);
		return;
	}
	if (has_byte(h, (size_t)(last - h), ':') || has_byte(h, len, '[') || has_byte(h, len, ']'))
		return;
	*out_len = (size_t)(last - h);
}

const char *mux_routes_match(const struct mux_routes *r, const char *method, const char *host,
			     const char *target)
{
	size_t len = strlen(target), host_len = strlen(host);
	if (!len || target[0] != '/' || len >= MUX_PATH_MAX)
		return NULL;
	char path[MUX_PATH_MAX + 2];
	const struct mux_node *n;
	bool redirect;
	if (!strcmp(method, "CONNECT")) {
		/* The URL's host (none in origin-form) for the redirect test, then the Host as sent. */
		memcpy(path, target, len + 1);
		match_or_redirect(r, "", 0, method, path, len, &redirect);
		if (redirect)
			return NULL;
		n = tree_match(r, host, host_len, method, path, len);
	} else {
		const char *h;
		size_t hl;
		strip_host_port(host, host_len, &h, &hl);
		size_t clen = clean_path(target, len, path);
		n = match_or_redirect(r, h, hl, method, path, clen, &redirect);
		if (redirect || clen != len || memcmp(path, target, len))
			return NULL; /* redirected to "/tree/" or to the cleaned path */
	}
	return n ? r->patterns[n->pattern].str : NULL;
}
