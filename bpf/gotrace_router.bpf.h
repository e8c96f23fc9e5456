/* SPDX-License-Identifier: GPL-2.0 */
/* Router templates for server requests: one uprobe hit per request, at a point where the
 * router has matched and its template is final, copies the template beside the request's state
 * (router_routes, keyed like the server call); the server's return probe takes it into its
 * event. Included by gotrace.bpf.c after its maps and helpers.
 *
 * gin, chi, echo: their ServeHTTP takes a context from a sync.Pool, routes and serves, then Puts the
 * context back; the probe sits on that Put call, where the context is complete and not yet
 * anyone else's. The object is read only when Put's `any` carries the router's own context type
 * (the type ServeHTTP asserts after Get), and only in a goroutine serving a request. * httprouter: its ServeHTTP's entry names the router; user space matches the path against the
 * templates in its trees.
 * gorilla/mux: requestWithRoute(req, route) is called once per matched request, with the
 * matched (innermost) Route, whose path template already includes its subrouters' prefixes. */
#ifndef GLIMPSE_GOTRACE_ROUTER_BPF_H
#define GLIMPSE_GOTRACE_ROUTER_BPF_H

#include "gotrace_router.h"

#define ROUTER_MAX_PATTERNS 8 /* chi: nesting levels (Mount, Route) read */

const volatile struct gotrace_router_offsets router_off = {};

struct router_route {
	__u8 router; /* enum gotrace_router */
	__u8 len;
	__u8 pad[6];
	char route[GOTRACE_PATH_LEN];
	char spill[GOTRACE_PATH_LEN]; /* room for the last copy's bound */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct router_route);
	__uint(max_entries, 1);
} router_scratch SEC(".maps");

/* The template of the request a goroutine is serving, until the server's return takes it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct call_key);
	__type(value, struct router_route);
	__uint(max_entries, 16384);
} router_routes SEC(".maps");

static __always_inline struct router_route *router_new(void)
{
	__u32 zero = 0;
	struct router_route *r = bpf_map_lookup_elem(&router_scratch, &zero);
	if (r) {
		r->router = 0;
		r->len = 0;
	}
	return r;
}

static __always_inline struct call_key router_key(struct pt_regs *ctx)
{
	struct call_key key = { .g = GO_G(ctx),
				.pid = bpf_get_current_pid_tgid() >> 32,
				.kind = GOTRACE_SERVER };
	return key;
}

/* The Go string at base+offset into r->route: its length (0: empty), -1 when unreadable or too
 * long for the buffer (not known: nothing is saved). */
static __always_inline int router_string(__u64 base, __s32 offset, struct router_route *r)
{
	struct go_string_header s = {};
	if (!base || offset < 0 || bpf_probe_read_user(&s, sizeof(s), (void *)(base + offset)) ||
	    s.len >= GOTRACE_PATH_LEN)
		return -1;
	if (s.len && bpf_probe_read_user(r->route, s.len & (GOTRACE_PATH_LEN - 1), (void *)s.ptr))
		return -1;
	return (int)s.len;
}

/* chi: strings.Join(RoutePatterns, "") as RoutePattern() starts it (user space finishes it);
 * 0 when the last router matched nothing (routePattern ""), -1 when not known. */
static __always_inline int chi_patterns(__u64 rctx, struct router_route *r)
{
	struct go_string_header last = {};
	struct go_slice_header pats = {};
	if (router_off.chi_pattern < 0 || router_off.chi_patterns < 0 ||
	    bpf_probe_read_user(&last, sizeof(last), (void *)(rctx + router_off.chi_pattern)))
		return -1;
	if (!last.len)
		return 0;
	if (bpf_probe_read_user(&pats, sizeof(pats), (void *)(rctx + router_off.chi_patterns)) || !pats.len ||
	    pats.len > ROUTER_MAX_PATTERNS)
		return -1;
	__u32 pos = 0;
	for (int i = 0; i < ROUTER_MAX_PATTERNS; i++) {
		struct go_string_header s = {};
		if (i >= pats.len)
			break;
		if (bpf_probe_read_user(&s, sizeof(s), (void *)(pats.ptr + i * sizeof(s))) ||
		    s.len + pos >= GOTRACE_PATH_LEN)
			return -1;
		__u32 n = s.len & (GOTRACE_PATH_LEN - 1);
		if (n && bpf_probe_read_user(&r->route[pos & (GOTRACE_PATH_LEN - 1)], n, (void *)s.ptr))
			return -1;
		pos += n;
	}
	return (int)pos;
}

/* Saves what router found for the request the current goroutine serves (none: nothing to do):
 * len bytes of template, 0 when the router matched no route, -1 (not known) nothing. */
static __always_inline void router_save(struct call_key *key, struct router_route *r, __u32 router, int len)
{
	if (len < 0 || len >= GOTRACE_PATH_LEN || !bpf_map_lookup_elem(&calls, key))
		return;
	r->router = router;
	r->len = len;
	bpf_map_update_elem(&router_routes, key, r, BPF_ANY);
}

/* On the call sync.(*Pool).Put(x any) in gin's, chi's and echo's ServeHTTP: x's type in arg 2, its
 * data in arg 3. */
SEC("uprobe")
int BPF_KPROBE(router_pool_put)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	struct call_key key = router_key(ctx);
	const struct gotrace_types *ty = bpf_map_lookup_elem(&types, &pid);
	struct router_route *r = router_new();
	__u64 type = GO_ARG2(ctx), obj = GO_ARG3(ctx);
	if (!ty || !r || !type || !obj)
		return 0;
	if (type == ty->router_ctx[GOTRACE_POOLED_GIN]) {
		router_save(&key, r, GOTRACE_ROUTER_GIN, router_string(obj, router_off.gin_fullpath, r));
	} else if (type == ty->router_ctx[GOTRACE_POOLED_CHI]) {
		router_save(&key, r, GOTRACE_ROUTER_CHI, chi_patterns(obj, r));
	} else if (type == ty->router_ctx[GOTRACE_POOLED_ECHO]) {
		__u64 handler = read_word(obj, router_off.echo_handler);
		__u64 code = read_word(handler, 0);
		if (!code)
			return 0;
		bool own = code == ty->echo_options;
		for (int i = 0; i < GOTRACE_ECHO_UNMATCHED_VARS; i++) {
			if (!ty->echo_unmatched[i])
				return 0;
			own |= handler == read_word(ty->echo_unmatched[i], 0);
		}
		router_save(&key, r, GOTRACE_ROUTER_ECHO,
			    own ? 0 : router_string(obj, router_off.echo_path, r));
	}
	return 0;
}

/* gorilla/mux requestWithRoute(r *http.Request, route *Route): the route in arg 2 (nil when the
 * router's NotFoundHandler or MethodNotAllowedHandler answers). */
SEC("uprobe")
int BPF_KPROBE(router_mux_route)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	struct call_key key = router_key(ctx);
	struct router_route *r = router_new();
	if (!r || router_off.mux_route_path < 0)
		return 0;
	__u64 route = GO_ARG2(ctx);
	/* A route without a path template (a Host or custom matcher only): not known. */
	int len =
		route ? router_string(read_word(route, router_off.mux_route_path), router_off.mux_template, r)
		      : 0;
	router_save(&key, r, GOTRACE_ROUTER_GORILLA, len);
	return 0;
}

/* A template left by a request whose return was not seen must not name the next one. */
static __always_inline void router_drop(struct pt_regs *ctx)
{
	struct call_key key = router_key(ctx);
	bpf_map_delete_elem(&router_routes, &key);
}

/* httprouter (*Router).ServeHTTP(w ResponseWriter, req *Request): the router in arg 1. Its
 * trees hold every template; user space reads them once and matches the path. The first
 * httprouter a request reaches is the one that routed it. */
SEC("uprobe")
int BPF_KPROBE(router_httprouter)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	struct call_key key = router_key(ctx);
	struct router_route *r = router_new();
	if (!r || !GO_ARG1(ctx) || bpf_map_lookup_elem(&router_routes, &key))
		return 0;
	struct gotrace_httprouter_ref ref = {
		.router = GO_ARG1(ctx),
		.trees = router_off.hr_trees,
		.node_path = router_off.hr_node_path,
		.node_children = router_off.hr_node_children,
		.node_handle = router_off.hr_node_handle,
		.map_layout = map_layout,
	};
	__builtin_memcpy(r->route, &ref, sizeof(ref));
	router_save(&key, r, GOTRACE_ROUTER_HTTPROUTER, sizeof(ref));
	return 0;
}

/* Server return: the router's template, if one was saved for this request, replaces the
 * ServeMux pattern (a router under a ServeMux pattern knows the finer route), as does its
 * answer that no route matched. */
static __always_inline void router_take(struct pt_regs *ctx, struct gotrace_event *ev)
{
	struct call_key k = router_key(ctx), *key = &k;
	struct router_route *r = bpf_map_lookup_elem(&router_routes, key);
	if (!r)
		return;
	__u32 n = r->len; /* 0: the router matched no route */
	if (n < GOTRACE_PATH_LEN) {
		__builtin_memcpy(ev->route, r->route, GOTRACE_PATH_LEN);
		ev->route_len = n;
		ev->router = r->router;
	}
	bpf_map_delete_elem(&router_routes, key);
}

#endif
