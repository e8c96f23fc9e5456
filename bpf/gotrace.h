/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/gotrace.bpf.c and user space: fixed-width types only. */
#ifndef GLIMPSE_BPF_GOTRACE_H
#define GLIMPSE_BPF_GOTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "gotrace_router.h"

#define GOTRACE_METHOD_LEN 16
#define GOTRACE_PATH_LEN   128
#define GOTRACE_HOST_LEN   64
#define GOTRACE_QUERY_LEN  256

enum gotrace_kind {
	GOTRACE_SERVER = 1,	 /* net/http.serverHandler.ServeHTTP */
	GOTRACE_CLIENT = 2,	 /* net/http.(*Transport).roundTrip */
	GOTRACE_SQL_QUERY = 3,	 /* database/sql.(*DB).queryDC */
	GOTRACE_SQL_EXEC = 4,	 /* database/sql.(*DB).execDC */
	GOTRACE_STMT_QUERY = 5,	 /* database/sql.(*Stmt).QueryContext: prepared statements */
	GOTRACE_STMT_EXEC = 6,	 /* database/sql.(*Stmt).ExecContext */
	GOTRACE_GRPC_SERVER = 7, /* google.golang.org/grpc: bpf/gotrace_grpc.bpf.h */
	GOTRACE_GRPC_CLIENT = 8,
};

enum gotrace_flags {
	GOTRACE_F_SAMPLED = 1 << 0,	  /* the incoming traceparent said "sampled" */
	GOTRACE_F_REMOTE_PARENT = 1 << 1, /* the trace came in through a traceparent header */
	GOTRACE_F_ERROR = 1 << 2,	  /* SQL: the call returned an error */
	GOTRACE_F_TRUNCATED = 1 << 3,	  /* path or query longer than its buffer */
	GOTRACE_F_HAS_PARENT = 1 << 4,	  /* parent_span_id is set */
	GOTRACE_F_H2_STATUS = 1 << 5,	  /* server: status_h2 was read (the binary has HTTP/2's offsets) */
	GOTRACE_F_GRPC_STATUS = 1 << 6,	  /* gRPC: status holds the call's gRPC code */
	GOTRACE_F_GRPC_UNKNOWN = 1 << 7,  /* gRPC server: no registered method (unknown-service handler) */
};

/* One finished call, sent when the probed function returns. */
struct gotrace_event {
	__u64 start_ns, end_ns; /* CLOCK_MONOTONIC */
	__u8 trace_id[16];
	__u64 span_id, parent_span_id;
	__u64 driver_pc; /* SQL: first method of the driver connection's itab (names the driver);
			  * server: first method of the ResponseWriter's itab (names its type) */
	__u64 db;	 /* SQL: the *sql.DB the call went through: its pool is read at scrape time */
	__u32 pid;
	__u16 status; /* HTTP status; 0: server handler wrote nothing (Go answers 200), client: no response */
	__u8 kind;
	__u8 flags;
	__u8 method_len, path_len, route_len, host_len;
	__u16 query_len;
	/* Server: the status behind HTTP/2's writer, read beside the HTTP/1 one: which of the two
	 * is the request's is known only in user space, from the writer's type (driver_pc). */
	__u16 status_h2;
	__u8 proto_major, proto_minor; /* HTTP: Request.ProtoMajor/Minor */
	__u16 local_port;	       /* server: the connection's local TCP port, 0 = unknown */
	__u8 router; /* server: enum gotrace_router that routed it, 0: none; route: its template ("": none) */
	__u8 pad[3];
	char method[GOTRACE_METHOD_LEN];
	/* client: URL.Host ("host:port"); server: Request.Host; gRPC: the target, the :authority */
	char host[GOTRACE_HOST_LEN];
	union {
		struct {
			char path[GOTRACE_PATH_LEN];  /* URL.Path */
			char route[GOTRACE_PATH_LEN]; /* router template, or ServeMux pattern (Go 1.22+) */
		};
		char query[GOTRACE_QUERY_LEN]; /* SQL text, raw: user space sanitizes it */
	};
};

/* Struct field offsets, set by user space per binary before load (-1: absent). */
struct gotrace_offsets {
	__s32 request_method, request_url, request_pat, pattern_str;
	__s32 url_path, url_host, response_status, response_statuscode;
	__s32 request_header, driverconn_ci;
	__s32 g_m, m_curg;
	__s32 request_proto_major, request_proto_minor;
	__s32 h2_writer_rws, h2_state_status;
	__s32 stmt_query, stmt_css, connstmt_dc;
	__s32 response_conn, conn_rwc, h2_state_conn, h2_serverconn_conn, tlsconn_conn, unencrypted_conn;
	__s32 netconn_fd, netfd_laddr, tcpaddr_port;
	__s32 stmt_db;
	__s32 request_host; /* net/http.Request.Host: a server request's Host or :authority */
};

/* Where, in one process, the first method of each interface type's itab that the walk from a
 * request to its local port must recognise lies (user space finds them by name): a value is
 * read behind an interface only once its type is known (0: the type is not in the binary). */
struct gotrace_types {
	__u64 h1_writer;	/* net/http.(*response).Header */
	__u64 h2_writer;	/* HTTP/2's ResponseWriter's Header */
	__u64 tcp_conn;		/* net.(*TCPConn).Close */
	__u64 tls_conn;		/* crypto/tls.(*Conn).Close */
	__u64 unencrypted_conn; /* net/http.(*unencryptedNetConnInTLSConn).Close (h2c) */
	__u64 tcp_addr;		/* net.(*TCPAddr).Network */
	__u64 xnet_writer;	/* golang.org/x/net/http2.(*responseWriter).Header */
	__u64 h2c_conn;		/* golang.org/x/net/http2/h2c.(*bufConn).Close */
	__u64 server_handler;	/* net/http.serverHandler.ServeHTTP, the code itself (Go 1.27+'s
				 * http2Handler calls it for net/http's own HTTP/2 requests) */
	/* Router templates (gotrace_router.h): the code of echo's OPTIONS answer; the type
	 * descriptors of the contexts pooled routers Put back; where echo's variables holding its
	 * handlers for requests that matched no route are. */
	__u64 echo_options;
	__u64 router_ctx[GOTRACE_NR_POOLED];
	__u64 echo_unmatched[GOTRACE_ECHO_UNMATCHED_VARS];
};

/* How the binary's maps are laid out, for the Header walk (bpf/gomap.bpf.h). */
enum gotrace_map_layout {
	GOTRACE_MAP_UNKNOWN = 0, /* neither recognised: traceparent is not read */
	GOTRACE_MAP_BUCKETS = 1, /* runtime.hmap, Go 1.17-1.23 */
	GOTRACE_MAP_SWISS = 2,	 /* internal/runtime/maps.Map, Go 1.24+ */
};

enum gotrace_counter {
	GOTRACE_EVENTS_DROPPED,
	GOTRACE_STATE_MISSING,	 /* a return with no matching entry (attached mid-call) */
	GOTRACE_HEADERS_TOO_BIG, /* a Header map beyond the walk's bound: traceparent not looked for */
	GOTRACE_PROBE_HITS,	 /* uprobe hits in traced processes: the cost the target pays */
	GOTRACE_NR_COUNTERS,
};

#include "gotrace_grpc.h"
#include "gotrace_xnet.h"

#endif
