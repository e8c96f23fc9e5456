/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* HTTP/2 requests served by golang.org/x/net/http2 itself (its Server.ServeConn, which
 * h2c.NewHandler uses), measured as net/http's: the same GOTRACE_SERVER call state and event,
 * read from the same *http.Request. Included by gotrace.bpf.c.
 *
 * Probe budget: 2 hits a request, as net/http's. The entry of (*serverConn).runHandler(rw
 * *responseWriter, req *http.Request, handler) — the request's goroutine, started for it —
 * and the entry of (*responseWriter).handlerDone, which runHandler's deferred function calls
 * once the handler returned, still holding the writer's state (status, connection): at
 * runHandler's RETs that state is gone back to its pool. A handler that panics never reaches
 * handlerDone: its call is not reported. Both probes sit past the stack-bound check (a new
 * goroutine's first frame grows its stack and re-runs the entry).
 *
 * h2c takes its connections over from net/http's HTTP/1 server: the preface "PRI *" (prior
 * knowledge), or a request with Upgrade: h2c that becomes stream 1 — the same *http.Request,
 * still HTTP/1.1 (ProtoMajor 1), which runHandler then serves. Such a request is noted here,
 * and its HTTP/1 twin dropped at serverHandler.ServeHTTP's return (which comes when the whole
 * HTTP/2 connection is over). Only those are noted: a note of any other request would outlive
 * it, and an HTTP/1 request later allocated at its address would be dropped.
 *
 * Over TLS (http2.ConfigureServer: x/net's Server takes the connections ALPN gives h2), the
 * handler runHandler calls is net/http's serverHandler, whose probes then see x/net's writer
 * on the goroutine runHandler measures: they leave it to x/net's probes (xnet_writes,
 * xnet_nested), so such a request costs 4 hits, and is measured once.
 */
#ifndef GLIMPSE_BPF_GOTRACE_XNET_BPF_H
#define GLIMPSE_BPF_GOTRACE_XNET_BPF_H

/* xnet_off (the offsets) is defined in gotrace.bpf.c: the connection walk reads it too. */
/* 0: the offsets are unknown (no DWARF): requests are only noted, for the HTTP/1 side. */
const volatile __u32 xnet_measured = 0;

struct xnet_request_key {
	__u64 request; /* *http.Request */
	__u32 pid;
	__u32 pad;
};

/* Requests x/net/http2 served: an HTTP/1 request found here at its return was taken over by
 * h2c (Upgrade: h2c) and is reported by the HTTP/2 side only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xnet_request_key);
	__type(value, __u8);
	__uint(max_entries, 4096);
} xnet_requests SEC(".maps");

/* Whether serverHandler.ServeHTTP's request (returning now) was handed to x/net/http2. */
static __always_inline bool xnet_took_over(__u64 request, __u32 pid)
{
	struct xnet_request_key k = { .request = request, .pid = pid };
	if (!bpf_map_lookup_elem(&xnet_requests, &k))
		return false;
	bpf_map_delete_elem(&xnet_requests, &k);
	return true;
}

static __always_inline void xnet_note(__u64 request, __u32 pid)
{
	struct xnet_request_key k = { .request = request, .pid = pid };
	__u8 one = 1;
	if (request)
		bpf_map_update_elem(&xnet_requests, &k, &one, BPF_ANY);
}

/* serverHandler.ServeHTTP's entry, its writer of type rw_type_pc: whether it is x/net's own,
 * whose request runHandler measures (the hit counted here). */
static __always_inline bool xnet_writes(__u64 rw_type_pc)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!xnet_measured || !traced(pid))
		return false;
	const struct gotrace_types *ty = bpf_map_lookup_elem(&types, &pid);
	if (!ty || !ty->xnet_writer || rw_type_pc != ty->xnet_writer)
		return false;
	count(GOTRACE_PROBE_HITS);
	return true;
}

/* serverHandler.ServeHTTP's return: whether the goroutine's request is runHandler's (its writer
 * x/net's), which handlerDone ends (the hit counted here). */
static __always_inline bool xnet_nested(struct pt_regs *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!xnet_measured || !traced(pid))
		return false;
	const struct gotrace_types *ty = bpf_map_lookup_elem(&types, &pid);
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = GOTRACE_SERVER };
	struct call_state *st = bpf_map_lookup_elem(&calls, &key);
	if (!ty || !ty->xnet_writer || !st || st->args.rw_type_pc != ty->xnet_writer)
		return false;
	count(GOTRACE_PROBE_HITS);
	return true;
}

/* Go 1.27+: x/net/http2's server is a wrapper of net/http's internal one, whose requests are
 * not read here; its (*Server).serveConn(c net.Conn, opts *ServeConnOpts, ...) — the receiver
 * in arg 1, the connection in 2-3, opts in 4 — only notes the HTTP/1 request h2c upgraded. */
SEC("uprobe")
int BPF_KPROBE(xnet_serve_conn)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	xnet_note(read_word(GO_ARG4(ctx), xnet_off.opts_upgrade), pid);
	return 0;
}

/* (*serverConn).runHandler(rw *responseWriter, req *http.Request, handler func(...)): the
 * receiver in arg 1, the writer in 2, the request in 3. */
SEC("uprobe")
int BPF_KPROBE(xnet_server_enter)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	if (read_word(GO_ARG3(ctx), off.request_proto_major) == 1) /* h2c's upgrade */
		xnet_note(GO_ARG3(ctx), pid);
	if (!xnet_measured) {
		count(GOTRACE_PROBE_HITS);
		return 0;
	}
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	st->args.request = GO_ARG3(ctx);
	st->args.response = GO_ARG2(ctx);
	/* Names the writer for user space as an itab's first method would: x/net's own. */
	const struct gotrace_types *ty = bpf_map_lookup_elem(&types, &pid);
	st->args.rw_type_pc = ty ? ty->xnet_writer : 0;
	router_drop(ctx);
	return enter(ctx, GOTRACE_SERVER, st);
}

/* (*responseWriter).handlerDone(): the writer in arg 1, its state still attached. */
SEC("uprobe")
int BPF_KPROBE(xnet_server_done)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = GOTRACE_SERVER };
	struct call_state *st = bpf_map_lookup_elem(&calls, &key);
	if (st && st->args.response != GO_ARG1(ctx)) {
		count(GOTRACE_PROBE_HITS); /* not this goroutine's request: not its end */
		return 0;
	}
	struct call_args call;
	struct gotrace_event *ev = leave(ctx, GOTRACE_SERVER, &call);
	if (!ev) {
		router_drop(ctx);
		return 0;
	}
	__u64 rws = read_word(call.response, xnet_off.writer_rws);
	if (rws && xnet_off.state_status >= 0) {
		ev->status_h2 = (__u16)read_word(rws, xnet_off.state_status);
		ev->flags |= GOTRACE_F_H2_STATUS;
	}
	ev->driver_pc = call.rw_type_pc;
	const struct gotrace_types *ty = bpf_map_lookup_elem(&types, &pid);
	__u64 sc = read_word(rws, xnet_off.state_conn);
	if (sc && xnet_off.serverconn_conn >= 0)
		ev->local_port = conn_local_port(ty, sc + xnet_off.serverconn_conn);
	__u64 pat = read_word(call.request, off.request_pat);
	ev->route_len = read_go_string(pat, off.pattern_str, ev->route, GOTRACE_PATH_LEN, NULL);
	router_take(ctx, ev);
	submit(ev);
	return 0;
}

#endif
