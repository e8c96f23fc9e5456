/* SPDX-License-Identifier: Apache-2.0 */
/* A Go 1.22+ http.ServeMux rebuilt from its patterns' strings, and the pattern it would choose
 * for a request: the socket path's http.route for a Go service, equal to what the uprobes read
 * from Request.pat at the end of the request.
 *
 * The patterns ("[METHOD ][HOST]/[PATH]", wildcards "{x}", "{x...}", "{$}", a trailing '/' for
 * a subtree) are parsed as net/http's parsePattern does and inserted into the same routing
 * tree (host → method → path segments; literal children, one single-segment wildcard child and
 * one multi-segment child per node). A request is matched by the tree's own search order —
 * which, because ServeMux refuses to register two patterns that conflict, is "the most specific
 * pattern wins" — after the same host and path canonicalisation ServeMux.findHandler does.
 * Requests it answers itself (a redirect to the cleaned path or to the subtree's "/", 404,
 * 405, "*") carry no pattern, as Request.pat is nil then.
 *
 * Only strings Go accepted are expected (they are read from a running ServeMux); anything that
 * does not parse is refused, never guessed at. Bounded: MUX_MAX_PATTERNS patterns of at most
 * MUX_MAX_SEGMENTS segments. The Host header a request carries is used to match and never
 * kept. Not thread-safe: one owner. */
#ifndef GLIMPSE_SOCKCAP_MUX_MATCH_H
#define GLIMPSE_SOCKCAP_MUX_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#define MUX_MAX_PATTERNS 4096
#define MUX_MAX_SEGMENTS 64
#define MUX_PATTERN_MAX	 1024 /* bytes of one pattern string */

/* Go 1.22 splits "METHOD rest" at the first ' ' only; Go 1.23+ at the first ' ' or '\t',
 * dropping the blanks after it. */
enum mux_syntax {
	MUX_SYNTAX_GO122,
	MUX_SYNTAX_GO123,
};

struct mux_segment {
	const char *s; /* literal (unescaped) or the wildcard's name; not NUL-terminated */
	size_t len;
	bool wild, multi; /* "{x}": wild; "{x...}" and a trailing '/': wild and multi */
};

/* One parsed pattern; its strings point into the parsed text. */
struct mux_pattern {
	const char *method, *host;
	size_t method_len, host_len;
	size_t nsegs;
	struct mux_segment segs[MUX_MAX_SEGMENTS];
	/* Literal segments are unescaped (%XX) into here; segs[].s point into it. */
	char unescaped[MUX_PATTERN_MAX];
};

/* Parses s (len bytes) as net/http's parsePattern: 0, or -EINVAL for what Go refuses (or this
 * parser cannot represent: longer than MUX_PATTERN_MAX, more than MUX_MAX_SEGMENTS). */
int mux_pattern_parse(const char *s, size_t len, enum mux_syntax syntax, struct mux_pattern *out);

struct mux_routes;

struct mux_routes *mux_routes_new(enum mux_syntax syntax);
void mux_routes_free(struct mux_routes *r);
/* Adds one pattern string: 0; -EINVAL it does not parse; -EEXIST another pattern already
 * holds its place in the tree (Go would have refused it); -E2BIG past MUX_MAX_PATTERNS;
 * -ENOMEM. */
int mux_routes_add(struct mux_routes *r, const char *pattern, size_t len);
size_t mux_routes_count(const struct mux_routes *r);

/* The pattern string (r's own copy, as registered) ServeMux would serve the request with, or
 * NULL when it would answer itself (redirect, 404, 405) or when the request-target is not an
 * origin-form path. method as sent, host the Host header's value ("" without one), target the
 * request-target's path (up to '?'), exactly as received. */
const char *mux_routes_match(const struct mux_routes *r, const char *method, const char *host,
			     const char *target);

#endif
