// SPDX-License-Identifier: Apache-2.0
/* user/gotrace/router_route.c: the http.route glimpse derives from the bytes the BPF probe read
 * for each router. Ground truth: what the router's own API returns to a handler for the same
 * state, worked out by hand from its documented rules (chi's RoutePattern(): the patterns of
 * the mounted routers joined, "/STAR/" seams collapsed until none is left, then a trailing "//"
 * or else "/" trimmed unless the route is "/"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gotrace.h"
#include "gotrace/router_route.h"
#include "gotrace/router_tree.h"

struct route_case {
	unsigned router;
	const char *raw, *want;
};

static const struct route_case cases[] = {
	/* gin, echo, gorilla: the template as read */
	{ GOTRACE_ROUTER_GIN, "/users/:id", "/users/:id" },
	{ GOTRACE_ROUTER_GIN, "/files/*filepath", "/files/*filepath" },
	{ GOTRACE_ROUTER_ECHO, "/users/:id/", "/users/:id/" },
	{ GOTRACE_ROUTER_GORILLA, "/api/v1/items/{id:[0-9]+}", "/api/v1/items/{id:[0-9]+}" },
	{ GOTRACE_ROUTER_GORILLA, "/static/", "/static/" },
	/* chi: one router */
	{ GOTRACE_ROUTER_CHI, "/users/{id}", "/users/{id}" },
	{ GOTRACE_ROUTER_CHI, "/", "/" },
	{ GOTRACE_ROUTER_CHI, "/users/", "/users" },
	{ GOTRACE_ROUTER_CHI, "/static/*", "/static/*" },
	/* chi: mounted routers, e.g. "/api/v1/STAR" then "/items/{id}" */
	{ GOTRACE_ROUTER_CHI, "/api/v1/*/items/{id}", "/api/v1/items/{id}" },
	{ GOTRACE_ROUTER_CHI, "/api/*/", "/api" },
	{ GOTRACE_ROUTER_CHI, "/a/*/b/*/c", "/a/b/c" },
	{ GOTRACE_ROUTER_CHI, "/a/*/*/x", "/a/x" },
	{ GOTRACE_ROUTER_CHI, "/a/*//", "/a" },
	/* nothing read, or a router this build does not know */
	{ GOTRACE_ROUTER_GIN, "", "" },
	{ GOTRACE_ROUTER_NONE, "/users/:id", "" },
	{ GOTRACE_NR_ROUTERS, "/users/:id", "" },
};

static void test_routes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct route_case *c = &cases[i];
		char out[256];
		router_route(c->router, c->raw, strlen(c->raw), out, sizeof(out));
		if (strcmp(out, c->want)) {
			print_error("case %zu: %s %s\n  got  %s\n  want %s\n", i, router_name(c->router),
				    c->raw, out, c->want);
			fail();
		}
	}
}

/* The raw bytes are not NUL-terminated (they come from a fixed-size event field). */
static void test_reads_only_len(void **state)
{
	(void)state;
	char out[64];
	router_route(GOTRACE_ROUTER_CHI, "/api/*/users/XXXX", 12, out, sizeof(out));
	assert_string_equal(out, "/api/users");
	router_route(GOTRACE_ROUTER_GIN, "/users/:id", 10, out, 6);
	assert_string_equal(out, "/user");
}

/* httprouter's matching rules (its README): ":name" matches one path segment's bytes up to the
 * next '/' (at least one), "*name" everything to the end; the rest is literal. */
static void test_httprouter_match(void **state)
{
	(void)state;
	static const struct {
		const char *tpl, *path;
		bool want;
	} cases[] = {
		{ "/", "/", true },
		{ "/health", "/health", true },
		{ "/health", "/health/", false },
		{ "/health", "/Health", false },
		{ "/users/:id", "/users/7", true },
		{ "/users/:id", "/users/", false },
		{ "/users/:id", "/users", false },
		{ "/users/:id", "/users/7/orders", false },
		{ "/a/:b/:c", "/a/1/2", true },
		{ "/user_:name", "/user_gordon", true },
		{ "/user_:name/about", "/user_gordon/about", true },
		{ "/user_:name/about", "/user_/about", false },
		{ "/src/*filepath", "/src/a/b.txt", true },
		{ "/src/*filepath", "/src/", true },
		{ "/src/*filepath", "/src", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (httprouter_match(cases[i].tpl, cases[i].path) != cases[i].want) {
			print_error("case %zu: %s against %s: want %d\n", i, cases[i].tpl, cases[i].path,
				    cases[i].want);
			fail();
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_reads_only_len),
		cmocka_unit_test(test_httprouter_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
