/* SPDX-License-Identifier: Apache-2.0 */
/* Where in a Go binary the routers' templates can be read (bpf/gotrace_router.bpf.h): the
 * sync.Pool Put call of gin's and chi's ServeHTTP and the router context type each asserts,
 * gorilla/mux's requestWithRoute, and the struct offsets from DWARF. Routers present whose
 * templates cannot be read are named, with why, so glimpse says once that their http.route
 * comes from the path heuristic instead. */
#ifndef GLIMPSE_GOTRACE_ROUTER_PROBE_H
#define GLIMPSE_GOTRACE_ROUTER_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "gotrace.h"

struct elf_module;

struct go_routers {
	struct gotrace_router_offsets off;
	uint64_t put_site[GOTRACE_NR_POOLED]; /* file offset of the Put call; 0: not probed */
	uint64_t ctx_type[GOTRACE_NR_POOLED]; /* virtual address of the router context's type */
	uint64_t mux_route;		      /* file offset of gorilla's requestWithRoute; 0: none */
	uint64_t httprouter;		      /* file offset of httprouter's (*Router).ServeHTTP; 0: none */
	uint64_t echo_options;		      /* file offset of echo's OPTIONS answer (0: unknown) */
	uint64_t echo_unmatched[GOTRACE_ECHO_UNMATCHED_VARS]; /* addresses of its handler variables */
	/* The functions those variables are initialised with (NotFoundHandler's first), by name:
	 * from the symbols' initial values, or the table row that found the variables. */
	char echo_funcs[GOTRACE_ECHO_UNMATCHED_VARS][96];
	char read[96];		  /* routers whose templates are read: "gin, chi" */
	char offsets_source[256]; /* "DWARF", or the table rows used */
	char unread[512];	  /* routers present but not read, each with why */
};

/* Finds the routers in m and how to read their templates (never fails: what cannot be read
 * is listed in r->unread). */
void go_routers_find(struct elf_module *m, struct go_routers *r);

/* Logs r->unread once for a process (nothing when empty). */
void go_routers_report(const struct go_routers *r, int pid);

#endif
