/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Router templates (http.route) for the Go tracer, shared between bpf/gotrace_router.bpf.h and
 * user space: fixed-width types only. */
#ifndef GLIMPSE_BPF_GOTRACE_ROUTER_H
#define GLIMPSE_BPF_GOTRACE_ROUTER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Which router reported a server request's template (gotrace_event.router). */
enum gotrace_router {
	GOTRACE_ROUTER_NONE = 0,
	GOTRACE_ROUTER_GIN = 1,	    /* github.com/gin-gonic/gin: Context.fullPath, "/users/:id" */
	GOTRACE_ROUTER_CHI = 2,	    /* github.com/go-chi/chi/v5: Context.RoutePatterns, "/users/{id}" */
	GOTRACE_ROUTER_GORILLA = 3, /* github.com/gorilla/mux: the matched Route's path template */
	GOTRACE_ROUTER_ECHO = 4,    /* github.com/labstack/echo/v4: context.path, "/users/:id" */
	/* github.com/julienschmidt/httprouter: the router, whose trees user space reads and matches
	 * the request's path against ("/users/:id"); route holds a struct gotrace_httprouter_ref. */
	GOTRACE_ROUTER_HTTPROUTER = 5,
	GOTRACE_NR_ROUTERS,
};

/* Routers whose per-request context comes from a sync.Pool and goes back to it when the
 * router's ServeHTTP ends: the template is read at that Put, from the object Put receives,
 * once its type is the router context type (gotrace_types.router_ctx). */
enum gotrace_pooled_router {
	GOTRACE_POOLED_GIN,
	GOTRACE_POOLED_CHI,
	GOTRACE_POOLED_ECHO,
	GOTRACE_NR_POOLED,
};

/* Field offsets, from DWARF (-1: unknown, that router's template is not read). */
struct gotrace_router_offsets {
	__s32 gin_fullpath;   /* gin.Context.fullPath (string) */
	__s32 chi_patterns;   /* chi.Context.RoutePatterns ([]string) */
	__s32 chi_pattern;    /* chi.Context.routePattern (string): "" when the last router matched nothing */
	__s32 mux_route_path; /* mux.Route → its routeRegexpGroup.path (*routeRegexp), embeddings summed */
	__s32 mux_template;   /* mux.routeRegexp.template (string) */
	__s32 echo_path;      /* echo.context.path (string) */
	__s32 echo_handler;   /* echo.context.handler (HandlerFunc) */
	__s32 hr_trees;	      /* httprouter.Router.trees (map[string]*node) */
	__s32 hr_node_path;   /* httprouter.node.path (string) */
	__s32 hr_node_children; /* httprouter.node.children ([]*node) */
	__s32 hr_node_handle;	/* httprouter.node.handle (Handle) */
};

/* What an httprouter request's event carries in its route: the router that served it and how
 * to read its trees (the probe knows the offsets; the event is decoded without the binary). */
struct gotrace_httprouter_ref {
	__u64 router; /* *httprouter.Router */
	__s32 trees, node_path, node_children, node_handle;
	__u32 map_layout; /* enum gotrace_map_layout */
	__u32 pad;
};

/* echo sets its context's path on a partial match too; the handler it sets then is one of its
 * own: the values of its variables NotFoundHandler and MethodNotAllowedHandler, or a closure of
 * optionsMethodHandler (OPTIONS): a request served by one matched no route. */
#define GOTRACE_ECHO_UNMATCHED_VARS 2

#endif
