/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* gRPC (google.golang.org/grpc) probes: shared between bpf/gotrace_grpc.bpf.h and user space
 * (user/gotrace/grpc_target.c). Fixed-width types only. */
#ifndef GLIMPSE_BPF_GOTRACE_GRPC_H
#define GLIMPSE_BPF_GOTRACE_GRPC_H

/* Struct field offsets from the binary's DWARF or the grpc-go version's table row (-1: absent). */
struct gotrace_grpc_offsets {
	__s32 stream_method;  /* the server stream's method string, from *ServerStream (or *Stream) */
	__s32 status_s;	      /* grpc/internal/status.Status.s (*spb.Status) */
	__s32 spb_code;	      /* genproto rpc/status.Status.Code (int32) */
	__s32 error_s;	      /* grpc/internal/status.Error.s (*Status), or .e (*spb.Status) before */
	__s32 error_proto;    /* 1: error_s leads to the proto directly (Error.e) */
	__s32 stream_ctx;     /* the server stream's context (Stream.ctx), from *ServerStream (*Stream) */
	__s32 cc_target;      /* grpc.ClientConn.target (string) */
	__s32 wrapper_stream; /* grpc.clientStreamWrapper.ClientStream (interface), -1 before 1.8x */
	__s32 server_laddr;   /* the transport's local net.Addr: http2Server.peer.LocalAddr */
	__s32 tcpaddr_port;   /* net.TCPAddr.Port (int) */
	/* context.valueCtx's parent Context, key and val (both `any`): the walk from the call's
	 * context to the incoming metadata (traceparent). */
	__s32 valuectx_parent, valuectx_key, valuectx_val;
	__s32 cancelctx_parent; /* context.cancelCtx.Context */
	/* The server stream's embedded *Stream (grpc-go 1.6x-1.7x's ServerStream): stream_method
	 * and stream_ctx are then offsets in the Stream it points to; -1 when the stream holds
	 * them itself (1.8x embeds Stream by value; before 1.6x the probes get a *Stream). */
	__s32 stream_ptr;
};

/* Per process: where the first method of each type checked behind an interface lies, and
 * where the io.EOF variable is (0: unknown). */
struct gotrace_grpc_types {
	__u64 status_error;   /* grpc/internal/status.(*Error).Error: the error's itab fun[0] */
	__u64 client_stream;  /* grpc.(*clientStream).CloseSend: the ClientStream's itab fun[0] */
	__u64 stream_wrapper; /* grpc.(*clientStreamWrapper).CloseSend */
	__u64 tcp_addr;	      /* net.(*TCPAddr).Network */
	__u64 eof_var;	      /* &io.EOF: an error equal to it ends a stream successfully */
	/* The incoming metadata's context: contexts are recognised by their itab's first method
	 * (Deadline), the metadata by its key's and value's runtime type descriptors. */
	__u64 value_ctx;   /* context.(*valueCtx).Deadline */
	__u64 cancel_ctx;  /* context.(*cancelCtx).Deadline: its parent is its first field too */
	__u64 md_key_type; /* type of grpc/metadata.mdIncomingKey */
	__u64 md_type;	   /* type of grpc/metadata.MD (map[string][]string) */
};

#endif
