/* SPDX-License-Identifier: Apache-2.0 */
/* http.route for a request, and a per-service cap on how many distinct routes are kept.
 *
 * Without a route, every /users/1234 would be its own series: the heuristic keeps only plain
 * words and replaces every other path segment with "{id}"; the table bounds what is left. */
#ifndef GLIMPSE_ROUTE_H
#define GLIMPSE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define ROUTE_MAX	  256 /* longer routes are truncated */
#define ROUTE_OVERFLOW	  "/{overflow}"
#define ROUTE_DEFAULT_MAX 100

/* True when a path segment (len bytes, no '/') is not a plain word: only ASCII letters with
 * single '-', '_' or '.' between them (at most 32 long) and version segments ("v1") are kept;
 * digits, emails, digits with separators, mixed letters and digits, percent-encoded and
 * non-ASCII bytes and long tokens become "{id}" (paths are user data). */
int route_segment_is_id(const char *seg, size_t len);

/* Route of a server request into out (always NUL-terminated): the ServeMux pattern when the
 * server had one ("GET example.com/users/{id}" -> "/users/{id}"), else the path with ids
 * replaced ("/users/42/orders" -> "/users/{id}/orders"). Either may be NULL. */
void route_normalize(const char *pattern, const char *path, char *out, size_t outlen);

/* The route of a server request with its final status: route_normalize's, except that a
 * request no route matched — 404 or 405 with no ServeMux pattern — gets none (out = ""), as the
 * OpenTelemetry SDKs leave http.route unset then: scanners' paths must neither use up the route
 * budget nor carry what they contain into the series. status 0 means Go's implicit 200. */
void route_for_request(const char *pattern, const char *path, unsigned status, char *out, size_t outlen);

/* Distinct strings up to a cap; past it everything maps to one overflow string. */
struct route_table;

/* max <= 0 means ROUTE_DEFAULT_MAX; overflow NULL means ROUTE_OVERFLOW. */
struct route_table *route_table_new(int max, const char *overflow);
void route_table_free(struct route_table *t);
/* The table's own copy of s (stable until route_table_free), or the overflow string once
 * the table is full and s is new; NULL only when out of memory. */
const char *route_table_intern(struct route_table *t, const char *s);
/* Distinct strings kept (the overflow string not included). */
size_t route_table_size(const struct route_table *t);
/* How many intern calls were answered with the overflow string. */
uint64_t route_table_overflowed(const struct route_table *t);

#endif
