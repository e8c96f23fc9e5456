// SPDX-License-Identifier: Apache-2.0
#include "gotrace/router_route.h"

#include <stdio.h>
#include <string.h>

#include "gotrace.h"

/* chi's RoutePattern() on the joined patterns: every "/{star}/" seam (a mount's wildcard)
 * becomes "/", then (unless the route is "/") a trailing "//" or else "/" goes. */
static void chi_pattern(char *s)
{
	char *seam;
	while ((seam = strstr(s, "/*/")))
		memmove(seam, seam + 2, strlen(seam + 2) + 1);
	size_t n = strlen(s);
	if (!strcmp(s, "/"))
		return;
	if (n >= 2 && s[n - 1] == '/' && s[n - 2] == '/')
		s[n - 2] = '\0';
	else if (n >= 1 && s[n - 1] == '/')
		s[n - 1] = '\0';
}

void router_route(unsigned router, const char *raw, size_t len, char *out, size_t outlen)
{
	if (!outlen)
		return;
	out[0] = '\0';
	if (!len || router == GOTRACE_ROUTER_NONE || router >= GOTRACE_NR_ROUTERS)
		return;
	snprintf(out, outlen, "%.*s", (int)len, raw);
	if (router == GOTRACE_ROUTER_CHI)
		chi_pattern(out);
}

const char *router_name(unsigned router)
{
	switch (router) {
	case GOTRACE_ROUTER_GIN:
		return "gin";
	case GOTRACE_ROUTER_CHI:
		return "chi";
	case GOTRACE_ROUTER_GORILLA:
		return "gorilla/mux";
	case GOTRACE_ROUTER_ECHO:
		return "echo";
	default:
		return "?";
	}
}
