// SPDX-License-Identifier: Apache-2.0
/* user/sockcap/mux_match.c: the pattern a Go 1.22+ http.ServeMux serves a request with.
 * Ground truth: tests/unit/data/servemux_golden.txt, written by servemux_golden.go beside it
 * from a real http.ServeMux (Go 1.26; Go 1.22, 1.23 and 1.27 give the same patterns, apart
 * from 1.22's parsing of a tab after the method, checked below): every pattern set, every
 * request, which pattern's handler ran or none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace/route.h"
#include "sockcap/mux_match.h"

/* "\t" in the golden file stands for a tab. */
static void untab(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == 't') {
			*o++ = '\t';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static void golden(void **state)
{
	(void)state;
	const char *src = getenv("GLIMPSE_SRC");
	char path[4096], line[2048];
	snprintf(path, sizeof(path), "%s/tests/unit/data/servemux_golden.txt", src ? src : ".");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	struct mux_routes *r = NULL;
	size_t checked = 0, matched = 0, wrong = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "set ", 4)) {
			mux_routes_free(r);
			assert_non_null(r = mux_routes_new(MUX_SYNTAX_GO123));
		} else if (!strncmp(line, "pattern ", 8)) {
			untab(line + 8);
			int err = mux_routes_add(r, line + 8, strlen(line + 8));
			if (err)
				fail_msg("%s: %d", line + 8, err);
		} else if (!strncmp(line, "req ", 4)) {
			/* req METHOD HOST TARGET PATTERN... STATUS (the pattern may hold blanks) */
			char method[32], host[64], target[256];
			int n = 0;
			assert_int_equal(sscanf(line + 4, "%31s %63s %255s %n", method, host, target, &n), 3);
			char *want = line + 4 + n, *status = strrchr(want, ' ');
			assert_non_null(status);
			*status = '\0';
			untab(want);
			const char *got = mux_routes_match(r, method, strcmp(host, "-") ? host : "", target);
			bool ok = strcmp(want, "-") ? got && !strcmp(got, want) : !got;
			if (!ok) {
				print_message("%s %s %s: want %s, got %s\n", method, host, target, want,
					      got ? got : "-");
				wrong++;
			}
			checked++;
			matched += got != NULL;
		}
	}
	fclose(f);
	mux_routes_free(r);
	print_message("%zu requests, %zu served by a pattern\n", checked, matched);
	assert_true(checked > 5000);
	assert_true(matched > 1000);
	assert_int_equal(wrong, 0);
}

/* What Go's parsePattern refuses. */
static void refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",	     "noslash", "/{x",	  "/{x}y",     "/a{x}",	   "/a/{x...}/b",
		"/{$}/x",    "/{}",	"/{1x}",  "/{...}",    "/{x}/{x}", "GET /a/../b",
		"GET /a//b", "G@T /a",	"h{x}/a", "GET /a/./", "/{x-y}",
	};
	struct mux_pattern p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mux_pattern_parse(bad[i], strlen(bad[i]), MUX_SYNTAX_GO123, &p) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
	/* An unclean path is fine without a method (it can match after a redirect: Go allows it). */
	assert_int_equal(mux_pattern_parse("/a/../b", 7, MUX_SYNTAX_GO123, &p), 0);
	assert_int_equal(mux_pattern_parse("CONNECT /a/../b", 15, MUX_SYNTAX_GO123, &p), 0);
}

static void parsed(void **state)
{
	(void)state;
	struct mux_pattern p;
	const char *s = "POST example.com/a%2Fb/{id}/{rest...}";
	assert_int_equal(mux_pattern_parse(s, strlen(s), MUX_SYNTAX_GO123, &p), 0);
	assert_int_equal(p.method_len, 4);
	assert_memory_equal(p.host, "example.com", 11);
	assert_int_equal(p.host_len, 11);
	assert_int_equal(p.nsegs, 3);
	assert_int_equal(p.segs[0].len, 3);
	assert_memory_equal(p.segs[0].s, "a/b", 3);
	assert_true(p.segs[1].wild && !p.segs[1].multi);
	assert_true(p.segs[2].wild && p.segs[2].multi);
	s = "/x/{$}";
	assert_int_equal(mux_pattern_parse(s, strlen(s), MUX_SYNTAX_GO123, &p), 0);
	assert_int_equal(p.nsegs, 2);
	assert_false(p.segs[1].wild);
	assert_memory_equal(p.segs[1].s, "/", 1);
	/* Go 1.22 cuts at a space only: a tab belongs to the host. */
	s = "GET\t/tab";
	assert_int_equal(mux_pattern_parse(s, strlen(s), MUX_SYNTAX_GO122, &p), 0);
	assert_int_equal(p.method_len, 0);
	assert_int_equal(p.host_len, 4);
	assert_int_equal(mux_pattern_parse(s, strlen(s), MUX_SYNTAX_GO123, &p), 0);
	assert_int_equal(p.method_len, 3);
	assert_int_equal(p.host_len, 0);
}

static void conflicts_and_bounds(void **state)
{
	(void)state;
	struct mux_routes *r = mux_routes_new(MUX_SYNTAX_GO123);
	assert_int_equal(mux_routes_add(r, "/a/{x}", 6), 0);
	assert_int_equal(mux_routes_add(r, "/a/{y}", 6), -EEXIST);
	assert_int_equal(mux_routes_add(r, "/a/", 3), 0);
	assert_int_equal(mux_routes_add(r, "/a/{z...}", 9), -EEXIST);
	assert_int_equal(mux_routes_add(r, "/{x", 3), -EINVAL);
	assert_int_equal(mux_routes_count(r), 2);
	/* A request path longer than is matched, a non-origin target: no pattern. */
	char longp[2048];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_null(mux_routes_match(r, "GET", "", longp));
	assert_null(mux_routes_match(r, "GET", "", "*"));
	assert_null(mux_routes_match(r, "GET", "", ""));
	assert_string_equal(mux_routes_match(r, "GET", "", "/a/1"), "/a/{x}");
	mux_routes_free(r);
}

/* The route the socket path records is the uprobes': route_for_request of the pattern. */
static void route_of_pattern(void **state)
{
	(void)state;
	struct mux_routes *r = mux_routes_new(MUX_SYNTAX_GO123);
	assert_int_equal(mux_routes_add(r, "GET example.com/users/{id}", 26), 0);
	char route[ROUTE_MAX];
	route_for_request(mux_routes_match(r, "GET", "example.com:80", "/users/7"), "/users/7", 404, route,
			  sizeof(route));
	assert_string_equal(route, "/users/{id}");
	route_for_request(mux_routes_match(r, "GET", "other", "/users/7"), "/users/7", 404, route,
			  sizeof(route));
	assert_string_equal(route, "");
	mux_routes_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden),	    cmocka_unit_test(refused),
		cmocka_unit_test(parsed),	    cmocka_unit_test(conflicts_and_bounds),
		cmocka_unit_test(route_of_pattern),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
