/* SPDX-License-Identifier: Apache-2.0 */
/* httprouter's route templates, read from the target's memory (the router its ServeHTTP probe
 * named: bpf/gotrace_router.bpf.h) and matched against request paths. httprouter refuses
 * routes that could both match one path, so at most one template matches: the route. */
#ifndef GLIMPSE_GOTRACE_ROUTER_TREE_H
#define GLIMPSE_GOTRACE_ROUTER_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "gotrace.h"

/* Does path match the httprouter template tpl? ":name" takes one or more bytes up to the
 * next '/', "*name" (last) takes the rest. */
bool httprouter_match(const char *tpl, const char *path);

/* The template of method+path among the routes of ref's router in process pid, into out:
 * 1 matched, 0 no route matches (the router matched none), -errno when the routes cannot be
 * read (out ""). The routes are read once per router and read again when a path matches none
 * (a route added later), at most once a second. Thread-safe. */
int httprouter_route(pid_t pid, const struct gotrace_httprouter_ref *ref, const char *method,
		     const char *path, char *out, size_t outlen);

#endif
