// SPDX-License-Identifier: GPL-2.0
/* Go request tracing: HTTP server and client calls and database/sql queries, each measured
 * from a uprobe at the function's entry to one at whichever RET it leaves by — 2 hits per
 * call, the minimum that gives a duration (an HTTP request, HTTP/1 or HTTP/2: 2; each SQL call
 * in it: 2 more; with traces, each goroutine the request starts: 1, at newproc1's return).
 * Every hit is counted (GOTRACE_PROBE_HITS) and the tests hold the budget to these numbers.
 * Never uretprobes: they break when Go moves a goroutine stack.
 *
 * Server: net/http.serverHandler.ServeHTTP is the one function every HTTP/1 request passes
 * through with both the *Request and the *response in hand; by its return the handler has set
 * the status and (Go 1.22+) the mux has matched the pattern. At entry the method and path are
 * read (handlers may rewrite them) and the trace context is made: joined from an incoming
 * traceparent header, or fresh. Client:
 * net/http.(*Transport).roundTrip. SQL: database/sql.(*DB).queryDC and execDC, which every
 * DB/Conn/Tx query and exec goes through, and (*Stmt).QueryContext and ExecContext, which
 * every prepared statement's does (Query, QueryRow and Exec call them).
 *
 * Context is keyed by (pid, goroutine): the g pointer under Go's register ABI. A goroutine
 * started while a request is in flight inherits its context through runtime.newproc1, so
 * queries a handler hands to other goroutines still hang under its request. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "glimpse.bpf.h"
#include "maps.bpf.h"
#include "gotrace.h"
#include "traceparent.h"
#include "gomap.bpf.h"
#include "goread.bpf.h"

const volatile struct gotrace_offsets off = {};
/* Uprobes attached to a binary for every process running it (the agent shares one set per
 * binary): only the selected processes are traced. */
const volatile bool filter_pids = false;
/* Metrics alone need no trace context: skip the header walk and the ids. */
const volatile bool tracing = true;
/* enum gotrace_map_layout: how to walk Request.Header for traceparent. */
const volatile __u32 map_layout = GOTRACE_MAP_UNKNOWN;
/* Wake the reader only when this much is queued; otherwise it drains on its poll timeout. */
const volatile __u32 wakeup_bytes = 64 * 1024;

struct call_key {
	__u64 g;
	__u32 pid;
	__u32 kind;
};

struct trace_ctx {
	__u8 trace_id[16];
	__u64 span_id; /* the span children hang under */
	__u8 flags;
};

/* What an entry probe saw that the return needs. */
struct call_args {
	__u64 request;	  /* server/client: *http.Request */
	__u64 response;	  /* server: *http.response; SQL: *driverConn */
	__u64 rw_type_pc; /* server: the ResponseWriter itab's first method: which type it is */
	__u64 query_ptr, query_len;
	__u64 db; /* SQL: the *sql.DB (the receiver, or the statement's db) */
};

struct call_state {
	/* First: the socket probe (bpf/sockcap.bpf.c) reads a request's context here, in this
	 * map shared with it, to hang database calls made at the sockets under their request. */
	struct trace_ctx ctx;
	__u64 start_ns;
	struct call_args args;
	__u64 parent_span_id;
	__u8 flags;
	/* HTTP: method, path and host as they were at entry. Handlers and routers rewrite
	 * r.URL.Path in place (Caddy's handle_path, httprouter's redirects); the request is
	 * recorded as it arrived, as the OTel SDKs' middleware does. */
	__u8 method_len, path_len, host_len, proto_major, proto_minor;
	char method[GOTRACE_METHOD_LEN];
	char path[GOTRACE_PATH_LEN];
	char host[GOTRACE_HOST_LEN];
};

_Static_assert(__builtin_offsetof(struct call_state, ctx) == 0, "sockcap.bpf.c reads ctx at 0");

/* A call_state is built here, not on the BPF stack (512 bytes). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct call_state);
	__uint(max_entries, 1);
} state_scratch SEC(".maps");

static __always_inline struct call_state *new_call_state(void)
{
	__u32 zero = 0;
	struct call_state *st = bpf_map_lookup_elem(&state_scratch, &zero);
	if (st)
		__builtin_memset(st, 0, sizeof(*st));
	return st;
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct call_key);
	__type(value, struct call_state);
	__uint(max_entries, 16384);
} calls SEC(".maps");

struct goroutine_key {
	__u64 g;
	__u32 pid;
	__u32 pad;
};

/* Context inherited by goroutines started under a request. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct goroutine_key);
	__type(value, struct trace_ctx);
	__uint(max_entries, 16384);
} inherited SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 4096);
} target_pids SEC(".maps");

static __always_inline bool traced(__u32 pid)
{
	return !filter_pids || bpf_map_lookup_elem(&target_pids, &pid);
}

/* Per process: where the interface types the local-port walk recognises lie. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct gotrace_types);
	__uint(max_entries, 4096);
} types SEC(".maps");

/* Requests in flight per process (http.server.active_requests). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __s64);
	__uint(max_entries, 1024);
} active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, GOTRACE_NR_COUNTERS);
} counters SEC(".maps");

static __always_inline void count(enum gotrace_counter which)
{
	counter_inc(&counters, which);
}

static __always_inline void add_active(__u32 pid, __s64 delta)
{
	__s64 *v = bpf_map_lookup_elem(&active, &pid);
	if (v) {
		__sync_fetch_and_add(v, delta);
		return;
	}
	if (delta > 0)
		bpf_map_update_elem(&active, &pid, &delta, BPF_NOEXIST);
}

/* Copies a Go string (ptr, len) into dst (at most max bytes); returns the copied length. */
static __always_inline __u32 copy_string(__u64 ptr, __u64 len, char *dst, __u32 max, __u8 *flags)
{
	__u32 n = len > max ? max : (__u32)len;
	if (len > max && flags)
		*flags |= GOTRACE_F_TRUNCATED;
	if (n == 0 || bpf_probe_read_user(dst, n, (void *)ptr))
		return 0;
	return n;
}

static __always_inline __u32 read_go_string(__u64 base, __s32 offset, char *dst, __u32 max, __u8 *flags)
{
	struct {
		__u64 ptr, len;
	} s = {};
	if (!base || offset < 0 || bpf_probe_read_user(&s, sizeof(s), (void *)(base + offset)))
		return 0;
	return copy_string(s.ptr, s.len, dst, max, flags);
}

#include "gotrace_context.bpf.h"

static __always_inline void read_request(struct call_state *st, __u32 kind)
{
	__u64 request = st->args.request;
	st->method_len = read_go_string(request, off.request_method, st->method, GOTRACE_METHOD_LEN, NULL);
	__u64 url = read_word(request, off.request_url);
	st->path_len = read_go_string(url, off.url_path, st->path, GOTRACE_PATH_LEN, &st->flags);
	if (kind == GOTRACE_CLIENT)
		st->host_len = read_go_string(url, off.url_host, st->host, GOTRACE_HOST_LEN, NULL);
	else /* the server's: its Host header (HTTP/1) or :authority (HTTP/2), as net/http took it */
		st->host_len = read_go_string(request, off.request_host, st->host, GOTRACE_HOST_LEN, NULL);
	struct {
		__u64 major, minor;
	} proto = {};
	if (off.request_proto_minor == off.request_proto_major + 8) /* adjacent: one read */
		bpf_probe_read_user(&proto, sizeof(proto), (void *)(request + off.request_proto_major));
	st->proto_major = (__u8)proto.major;
	st->proto_minor = (__u8)proto.minor;
}

static __always_inline int enter(struct pt_regs *ctx, __u32 kind, struct call_state *st)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = kind };
	st->start_ns = bpf_ktime_get_ns();
	if (kind == GOTRACE_SERVER)
		add_active(pid, 1);
	if (kind == GOTRACE_SERVER || kind == GOTRACE_CLIENT)
		read_request(st, kind);
	if (!tracing) {
		/* nothing else: metrics need only the state saved below */
	} else if (kind == GOTRACE_SERVER) {
		if (!read_traceparent(st->args.request, st))
			new_trace(&st->ctx);
	} else if (kind == GOTRACE_GRPC_SERVER) {
		if (!(st->flags & GOTRACE_F_REMOTE_PARENT)) /* joined from its metadata, or new */
			new_trace(&st->ctx);
	} else {
		struct trace_ctx parent;
		if (current_ctx(key.g, pid, &parent)) {
			__builtin_memcpy(st->ctx.trace_id, parent.trace_id, sizeof(parent.trace_id));
			st->parent_span_id = parent.span_id;
			st->flags |= GOTRACE_F_HAS_PARENT |
				     (parent.flags & (GOTRACE_F_SAMPLED | GOTRACE_F_REMOTE_PARENT));
		} else {
			new_trace(&st->ctx);
		}
	}
	if (tracing)
		st->ctx.span_id = random_id();
	st->ctx.flags = st->flags;
	bpf_map_update_elem(&calls, &key, st, BPF_ANY);
	return 0;
}

static __always_inline void submit(struct gotrace_event *ev)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
										    : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(ev, flags);
}

/* Reserves the event of a call whose entry saved st and fills what every kind shares, the
 * request as the entry saw it included; NULL if the ring buffer is full. *args receives what
 * the entry saved for the return. */
static __always_inline struct gotrace_event *event_from_state(struct call_state *st, __u32 pid, __u32 kind,
							      struct call_args *args)
{
	struct gotrace_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(GOTRACE_EVENTS_DROPPED);
		return NULL;
	}
	*args = st->args;
	ev->start_ns = st->start_ns;
	ev->end_ns = bpf_ktime_get_ns();
	__builtin_memcpy(ev->trace_id, st->ctx.trace_id, sizeof(ev->trace_id));
	ev->span_id = st->ctx.span_id;
	ev->parent_span_id = st->parent_span_id;
	ev->pid = pid;
	ev->kind = kind;
	ev->flags = st->flags;
	ev->status = 0;
	ev->driver_pc = 0;
	ev->db = 0;
	ev->route_len = 0;
	ev->query_len = 0;
	ev->method_len = st->method_len;
	ev->path_len = st->path_len;
	ev->host_len = st->host_len;
	ev->proto_major = st->proto_major;
	ev->proto_minor = st->proto_minor;
	ev->status_h2 = 0;
	ev->local_port = 0;
	ev->router = 0;
	__builtin_memcpy(ev->method, st->method, sizeof(ev->method));
	__builtin_memcpy(ev->host, st->host, sizeof(ev->host));
	if (kind == GOTRACE_SERVER || kind == GOTRACE_CLIENT || kind == GOTRACE_GRPC_SERVER ||
	    kind == GOTRACE_GRPC_CLIENT)
		__builtin_memcpy(ev->path, st->path, sizeof(ev->path));
	return ev;
}

/* The event of the current goroutine's returning call of this kind (its state is deleted);
 * NULL if there is nothing to report. */
static __always_inline struct gotrace_event *leave(struct pt_regs *ctx, __u32 kind, struct call_args *args)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return NULL;
	count(GOTRACE_PROBE_HITS);
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = kind };
	struct call_state *st = bpf_map_lookup_elem(&calls, &key);
	if (!st) {
		count(GOTRACE_STATE_MISSING);
		return NULL;
	}
	if (kind == GOTRACE_SERVER)
		add_active(pid, -1);
	struct gotrace_event *ev = event_from_state(st, pid, kind, args);
	bpf_map_delete_elem(&calls, &key);
	return ev;
}

/* golang.org/x/net/http2's own server (gotrace_xnet.bpf.h), whose h2c connections come in
 * h2c's bufConn. */
const volatile struct gotrace_xnet_offsets xnet_off = { .writer_rws = -1,
							.state_status = -1,
							.state_conn = -1,
							.serverconn_conn = -1,
							.bufconn_conn = -1,
							.opts_upgrade = -1 };

#include "gotrace_local_port.bpf.h"
#include "gotrace_router.bpf.h"
#include "gotrace_xnet.bpf.h"

/* serverHandler.ServeHTTP(rw ResponseWriter, req *Request): receiver in arg 1, the interface
 * (itab, data) in args 2-3, the request in arg 4. */
static __always_inline int server_begin(struct pt_regs *ctx)
{
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	st->args.request = GO_ARG4(ctx);
	st->args.response = GO_ARG3(ctx);
	/* An itab is {inter, _type, hash, _, fun[]}: fun[0], at 24, is the concrete type's first
	 * ResponseWriter method (Header). User space names it and reads the status only behind
	 * net/http's own *response: behind HTTP/2's writer or a wrapper that offset is foreign memory. */
	st->args.rw_type_pc = read_word(GO_ARG2(ctx), 24);
	if (xnet_writes(st->args.rw_type_pc))
		return 0; /* under x/net's runHandler, which measures it */
	router_drop(ctx);
	return enter(ctx, GOTRACE_SERVER, st);
}

SEC("uprobe")
int BPF_KPROBE(server_enter)
{
	return server_begin(ctx);
}

static __always_inline int server_end(struct pt_regs *ctx)
{
	struct call_args call;
	if (xnet_nested(ctx))
		return 0;
	struct gotrace_event *ev = leave(ctx, GOTRACE_SERVER, &call);
	if (!ev || xnet_took_over(call.request, ev->pid)) {
		if (ev) /* taken over by h2c: its HTTP/2 side reports it */
			bpf_ringbuf_discard(ev, 0);
		router_drop(ctx);
		return 0;
	}
	/* The status behind HTTP/1's *response, or behind HTTP/2's writer, as the writer's type
	 * says (user space checks that type again before keeping either). Where a type's address
	 * is unknown, its status is read anyway: user space keeps the one of the writer's type. */
	__u32 pid = ev->pid;
	const struct gotrace_types *ty = bpf_map_lookup_elem(&types, &pid);
	if (!ty || !ty->h1_writer || call.rw_type_pc == ty->h1_writer)
		ev->status = (__u16)read_word(call.response, off.response_status);
	if ((!ty || !ty->h2_writer || call.rw_type_pc == ty->h2_writer) && off.h2_writer_rws >= 0 &&
	    off.h2_state_status >= 0) {
		__u64 rws = read_word(call.response, off.h2_writer_rws);
		if (rws) {
			ev->status_h2 = (__u16)read_word(rws, off.h2_state_status);
			ev->flags |= GOTRACE_F_H2_STATUS;
		}
	}
	ev->driver_pc = call.rw_type_pc;
	ev->local_port = local_port(ty, call.rw_type_pc, call.response);
	/* The pattern is set while the handler runs (the mux matches it): read at return. */
	__u64 pat = read_word(call.request, off.request_pat);
	ev->route_len = read_go_string(pat, off.pattern_str, ev->route, GOTRACE_PATH_LEN, NULL);
	router_take(ctx, ev);
	submit(ev);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(server_return)
{
	return server_end(ctx);
}

#include "gotrace_xnet_wrap.bpf.h"

/* (*Transport).roundTrip(req *Request) (*Response, error): the request in arg 2. */
SEC("uprobe")
int BPF_KPROBE(client_enter)
{
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	st->args.request = GO_ARG2(ctx);
	return enter(ctx, GOTRACE_CLIENT, st);
}

SEC("uprobe")
int BPF_KPROBE(client_return)
{
	struct call_args call;
	struct gotrace_event *ev = leave(ctx, GOTRACE_CLIENT, &call);
	if (!ev)
		return 0;
	/* The *Response is in result 1, nil on error. */
	ev->status = (__u16)read_word(GO_ARG1(ctx), off.response_statuscode);
	submit(ev);
	return 0;
}

#include "gotrace_sql.bpf.h"

/* runtime.newproc1(fn, callergp, ...) *g returns the new goroutine. One probe, at its RETs
 * only: newproc1 runs on the system stack (g is g0 there), and g0.m.curg is the goroutine
 * that executed the go statement — the parent. (net/http itself starts a goroutine per
 * request for background reads, so every probe saved here is one per request.) */
SEC("uprobe")
int BPF_KPROBE(spawn_return)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	__u64 m = read_word(GO_G(ctx), off.g_m);
	__u64 caller = read_word(m, off.m_curg);
	struct goroutine_key child = { .g = GO_ARG1(ctx), .pid = pid };
	struct trace_ctx parent;
	/* Go reuses dead goroutines' g structs: a goroutine started outside any request must not
	 * keep the context a previous owner of its g had. */
	if (caller && current_ctx(caller, pid, &parent))
		bpf_map_update_elem(&inherited, &child, &parent, BPF_ANY);
	else
		bpf_map_delete_elem(&inherited, &child);
	return 0;
}

#include "gotrace_grpc.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
