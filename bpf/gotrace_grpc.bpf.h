/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* gRPC (google.golang.org/grpc) calls, server and client, unary and streaming; included by
 * gotrace.bpf.c, whose call states, events and trace context it shares.
 *
 * Probe budget, counted in GOTRACE_PROBE_HITS and held by tests/e2e/test_grpc.py:
 * - server call: 2 hits. The entry of (*Server).processRPC (grpc-go 1.8x; processUnaryRPC /
 *   processStreamingRPC before, same argument layout, which user space checks in DWARF) and
 *   the entry of the transport's (*http2Server).writeStatus, which every call that reached a
 *   registered method (or the unknown-service handler) ends with, in the same goroutine, and
 *   whose *status.Status is a concrete type: its code is read without an interface.
 * - client call: 3 hits, unary or streaming: newClientStream's entry (method, target, start)
 *   and RET (the *clientStream the call continues as, found behind the returned interface
 *   once its itab is checked), and (*clientStream).finish's entry (the final error: nil, io.EOF
 *   or a *status.Error, each told apart by address before any read). A streaming call pays a
 *   4th: grpc's context watcher calls finish once more after the stream ends (a no-op there).
 * Entry probes sit past each function's stack-bound check (user space finds it): a stream's
 * handler runs on a new goroutine, whose first call into processRPC's large frame grows the
 * stack and re-runs the function from its entry — a probe there would fire twice.
 * With traces, the server entry also reads the call's incoming metadata (grpc_read_md): its
 * traceparent is joined and its :authority becomes the span's server.address; no extra hit.
 */
#ifndef GLIMPSE_BPF_GOTRACE_GRPC_BPF_H
#define GLIMPSE_BPF_GOTRACE_GRPC_BPF_H

const volatile struct gotrace_grpc_offsets grpc_off = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct gotrace_grpc_types);
	__uint(max_entries, 4096);
} grpc_types SEC(".maps");

struct grpc_stream_key {
	__u64 stream; /* *clientStream */
	__u32 pid;
	__u32 pad;
};

/* Client calls between newClientStream's return and finish, by stream: the stream may end
 * on any goroutine. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct grpc_stream_key);
	__type(value, struct call_state);
	__uint(max_entries, 16384);
} grpc_streams SEC(".maps");

static __always_inline __u32 read_u32(__u64 base, __s32 offset)
{
	__u32 v = 0;
	if (base && offset >= 0)
		bpf_probe_read_user(&v, sizeof(v), (void *)(base + offset));
	return v;
}

/* The code of a *status.Status (a nil Status, or one without its proto, is OK, as grpc's own
 * Code() says). */
static __always_inline __u16 grpc_status_code(__u64 status)
{
	__u64 proto = read_word(status, grpc_off.status_s);
	return proto ? (__u16)read_u32(proto, grpc_off.spb_code) : 0;
}

/* An error interface (itab, data) → its gRPC code in ev: nil and io.EOF are OK, a
 * *status.Error carries one; any other type leaves GOTRACE_F_GRPC_STATUS unset (not guessed). */
static __always_inline void grpc_error_code(const struct gotrace_grpc_types *ty, __u64 itab, __u64 data,
					    struct gotrace_event *ev)
{
	if (!itab) {
		ev->status = 0;
		ev->flags |= GOTRACE_F_GRPC_STATUS;
		return;
	}
	if (!ty)
		return;
	struct {
		__u64 itab, data;
	} eof = {};
	if (ty->eof_var && !bpf_probe_read_user(&eof, sizeof(eof), (void *)ty->eof_var) && eof.itab == itab &&
	    eof.data == data) {
		ev->status = 0;
		ev->flags |= GOTRACE_F_GRPC_STATUS;
		return;
	}
	if (ty->status_error && read_word(itab, 24) == ty->status_error) {
		__u64 held = read_word(data, grpc_off.error_s);
		ev->status = grpc_off.error_proto ? (held ? (__u16)read_u32(held, grpc_off.spb_code) : 0)
						  : grpc_status_code(held);
		ev->flags |= GOTRACE_F_GRPC_STATUS;
	}
}

#define GRPC_CTX_MAX_DEPTH 8

/* The incoming metadata of a call's context: up the context chain (each step's type checked:
 * a valueCtx, or a cancelCtx whose parent is its first field) to the valueCtx whose key is
 * metadata's incoming key and whose value is an MD, a map[string][]string read like HTTP's
 * Header. Returns the map, or 0. */
static __always_inline __u64 grpc_incoming_md(__u64 itab, __u64 data, const struct gotrace_grpc_types *ty)
{
	if (!ty || !ty->value_ctx || !ty->md_key_type || !ty->md_type || grpc_off.valuectx_parent < 0 ||
	    grpc_off.valuectx_key < 0 || grpc_off.valuectx_val < 0)
		return 0;
	for (int i = 0; i < GRPC_CTX_MAX_DEPTH && itab && data; i++) {
		__u64 type = read_word(itab, 24);
		if (type == ty->value_ctx) {
			struct {
				__u64 type, data;
			} k = {}, v = {};
			if (bpf_probe_read_user(&k, sizeof(k), (void *)(data + grpc_off.valuectx_key)) ||
			    bpf_probe_read_user(&v, sizeof(v), (void *)(data + grpc_off.valuectx_val)))
				return 0;
			/* A map in an interface is its pointer. */
			if (k.type == ty->md_key_type)
				return v.type == ty->md_type ? v.data : 0;
		} else if (!ty->cancel_ctx || type != ty->cancel_ctx || grpc_off.cancelctx_parent < 0) {
			return 0; /* a context glimpse does not know: not read through */
		}
		struct {
			__u64 itab, data;
		} parent = {};
		__s32 at = type == ty->value_ctx ? grpc_off.valuectx_parent : grpc_off.cancelctx_parent;
		if (bpf_probe_read_user(&parent, sizeof(parent), (void *)(data + at)))
			return 0;
		itab = parent.itab;
		data = parent.data;
	}
	return 0;
}

/* From the incoming metadata md: joins the trace of its "traceparent", and takes its
 * ":authority" (grpc-go puts the HTTP/2 pseudo-header there, or Host when there is none) into
 * st->host, the server.address of the call's span. */
static __always_inline void grpc_read_md(__u64 md, struct call_state *st)
{
	static const char traceparent[] = "traceparent", authority[] = ":authority";
	struct go_slice_header values = {};
	enum gomap_result r =
		gomap_find_string_key(md, map_layout, traceparent, sizeof(traceparent) - 1, &values);
	if (r == GOMAP_TOO_BIG) {
		count(GOTRACE_HEADERS_TOO_BIG);
		return;
	}
	if (r == GOMAP_FOUND)
		join_header_values(&values, st);
	struct go_string_header first = {};
	if (gomap_find_string_key(md, map_layout, authority, sizeof(authority) - 1, &values) == GOMAP_FOUND &&
	    values.len == 1 && !bpf_probe_read_user(&first, sizeof(first), (void *)values.ptr) &&
	    first.len <= GOTRACE_HOST_LEN)
		st->host_len = copy_string(first.ptr, first.len, st->host, GOTRACE_HOST_LEN, NULL);
}

/* processRPC(ctx context.Context, stream *ServerStream, info *serviceInfo, ...): the receiver
 * in arg 1, ctx in 2-3, the stream in 4, info in 5 (nil: the unknown-service handler); before
 * 1.8x, processUnaryRPC / processStreamingRPC(ctx, stream *ServerStream, info, ...) and before
 * grpc-go 1.6x (t ServerTransport, stream *Stream, info *serviceInfo, ...): the stream and
 * info in the same registers. */
SEC("uprobe")
int BPF_KPROBE(grpc_server_enter)
{
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	__u64 stream = GO_ARG4(ctx);
	st->args.request = stream;
	if (!GO_ARG5(ctx))
		st->flags |= GOTRACE_F_GRPC_UNKNOWN;
	/* grpc-go 1.6x-1.7x: the method and context are in the Stream the ServerStream points to. */
	__u64 sdata = grpc_off.stream_ptr >= 0 ? read_word(stream, grpc_off.stream_ptr) : stream;
	st->path_len = read_go_string(sdata, grpc_off.stream_method, st->path, GOTRACE_PATH_LEN, &st->flags);
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct {
		__u64 itab, data;
	} sctx = {};
	/* The stream's context carries the incoming metadata (args 2-3 are not always a context):
	 * read for spans only (their traceparent and server.address). */
	if (tracing && traced(pid) && grpc_off.stream_ctx >= 0 && sdata &&
	    !bpf_probe_read_user(&sctx, sizeof(sctx), (void *)(sdata + grpc_off.stream_ctx))) {
		__u64 md = grpc_incoming_md(sctx.itab, sctx.data, bpf_map_lookup_elem(&grpc_types, &pid));
		if (md)
			grpc_read_md(md, st);
	}
	return enter(ctx, GOTRACE_GRPC_SERVER, st);
}

/* The local port behind http2Server.localAddr, once the net.Addr is known to be a *TCPAddr. */
static __always_inline __u16 grpc_local_port(__u64 transport, __u32 pid)
{
	const struct gotrace_grpc_types *ty = bpf_map_lookup_elem(&grpc_types, &pid);
	__u64 addr = 0;
	if (!ty || !ty->tcp_addr || grpc_off.server_laddr < 0 ||
	    read_iface(transport + grpc_off.server_laddr, &addr) != ty->tcp_addr)
		return 0;
	return (__u16)read_word(addr, grpc_off.tcpaddr_port);
}

/* (*http2Server).writeStatus(s *ServerStream, st *status.Status): the transport in arg 1, the
 * stream in 2, the status in 3. */
SEC("uprobe")
int BPF_KPROBE(grpc_server_status)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = GOTRACE_GRPC_SERVER };
	struct call_state *st = bpf_map_lookup_elem(&calls, &key);
	if (st && st->args.request != GO_ARG2(ctx)) {
		count(GOTRACE_PROBE_HITS); /* another stream's status: not this call's end */
		return 0;
	}
	struct call_args call;
	struct gotrace_event *ev = leave(ctx, GOTRACE_GRPC_SERVER, &call);
	if (!ev)
		return 0;
	ev->status = grpc_status_code(GO_ARG3(ctx));
	ev->flags |= GOTRACE_F_GRPC_STATUS;
	ev->local_port = grpc_local_port(GO_ARG1(ctx), pid);
	submit(ev);
	return 0;
}

/* newClientStream(ctx context.Context, desc *StreamDesc, cc *ClientConn, method string,
 * opts ...CallOption): ctx in args 1-2, desc 3, cc 4, method 5-6. */
SEC("uprobe")
int BPF_KPROBE(grpc_client_enter)
{
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	__u64 cc = GO_ARG4(ctx);
	st->path_len = copy_string(GO_ARG5(ctx), GO_ARG6(ctx), st->path, GOTRACE_PATH_LEN, &st->flags);
	st->host_len = read_go_string(cc, grpc_off.cc_target, st->host, GOTRACE_HOST_LEN, NULL);
	return enter(ctx, GOTRACE_GRPC_CLIENT, st);
}

/* Ends a client call whose state is st with the error (itab, data), and deletes the state. */
static __always_inline void grpc_client_end(struct call_state *st, __u32 pid, __u64 itab, __u64 data)
{
	struct call_args call;
	struct gotrace_event *ev = event_from_state(st, pid, GOTRACE_GRPC_CLIENT, &call);
	if (!ev)
		return;
	grpc_error_code(bpf_map_lookup_elem(&grpc_types, &pid), itab, data, ev);
	submit(ev);
}

/* newClientStream returns (ClientStream, error): the interface in args 1-2, the error in 3-4.
 * The stream is a *clientStream, directly or (grpc-go 1.8x) inside a *clientStreamWrapper. */
SEC("uprobe")
int BPF_KPROBE(grpc_client_created)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = GOTRACE_GRPC_CLIENT };
	struct call_state *st = bpf_map_lookup_elem(&calls, &key);
	if (!st)
		return 0; /* ended already: finish ran inside newClientStream */
	if (GO_ARG3(ctx)) {
		grpc_client_end(st, pid, GO_ARG3(ctx), GO_ARG4(ctx));
		bpf_map_delete_elem(&calls, &key);
		return 0;
	}
	const struct gotrace_grpc_types *ty = bpf_map_lookup_elem(&grpc_types, &pid);
	__u64 data = GO_ARG2(ctx), type = read_word(GO_ARG1(ctx), 24);
	if (ty && ty->stream_wrapper && type == ty->stream_wrapper && grpc_off.wrapper_stream >= 0)
		type = read_iface(data + grpc_off.wrapper_stream, &data);
	if (ty && ty->client_stream && type == ty->client_stream && data) {
		struct grpc_stream_key sk = { .stream = data, .pid = pid };
		bpf_map_update_elem(&grpc_streams, &sk, st, BPF_ANY);
	} else {
		/* A stream of a type glimpse does not know (an interceptor's): its end cannot be
		 * found. Reported now without a status: user space counts it as not measured. */
		struct call_args call;
		struct gotrace_event *ev = event_from_state(st, pid, GOTRACE_GRPC_CLIENT, &call);
		if (ev)
			submit(ev);
	}
	bpf_map_delete_elem(&calls, &key);
	return 0;
}

/* (*clientStream).finish(err error): the stream in arg 1, the error in 2-3. */
SEC("uprobe")
int BPF_KPROBE(grpc_client_finish)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	count(GOTRACE_PROBE_HITS);
	struct grpc_stream_key sk = { .stream = GO_ARG1(ctx), .pid = pid };
	struct call_state *st = bpf_map_lookup_elem(&grpc_streams, &sk);
	if (st) {
		grpc_client_end(st, pid, GO_ARG2(ctx), GO_ARG3(ctx));
		bpf_map_delete_elem(&grpc_streams, &sk);
		return 0;
	}
	/* A stream that failed while newClientStream was still making it ends here, on the
	 * goroutine that called newClientStream. */
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = GOTRACE_GRPC_CLIENT };
	st = bpf_map_lookup_elem(&calls, &key);
	if (st) {
		grpc_client_end(st, pid, GO_ARG2(ctx), GO_ARG3(ctx));
		bpf_map_delete_elem(&calls, &key);
	}
	return 0;
}

#endif
