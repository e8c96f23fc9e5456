/* SPDX-License-Identifier: Apache-2.0 */
/* http.route from a router's template as the BPF probe read it (bpf/gotrace_router.h), spelled
 * as the router reports it to handlers (and its OpenTelemetry instrumentation to spans): gin
 * c.FullPath() and echo c.Path() "/users/:id", gorilla mux.CurrentRoute(r).GetPathTemplate() "/users/{id}", chi
 * RouteContext.RoutePattern(), the mounted routers' patterns joined ("/api/{star}" and "/users/{id}" give "/api/users/{id}"). */
#ifndef GLIMPSE_GOTRACE_ROUTER_ROUTE_H
#define GLIMPSE_GOTRACE_ROUTER_ROUTE_H

#include <stddef.h>

/* The route for router (enum gotrace_router) from raw (len bytes, not NUL-terminated) into out
 * (always NUL-terminated); "" when raw is empty or the router unknown. */
void router_route(unsigned router, const char *raw, size_t len, char *out, size_t outlen);

/* Name of a router for messages ("chi"), "?" if unknown. */
const char *router_name(unsigned router);

#endif
