/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by bpf/gomux.bpf.c and user/sockcap/mux_learn.c (fixed-width types only): a Go
 * target's HTTP servers as the short learning window of the socket path sees them. */
#ifndef GLIMPSE_GOMUX_H
#define GLIMPSE_GOMUX_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Per process: where to read, and the types to check on the way (the address of the first
 * method of each type's itab, as in struct gotrace_types; 0: unknown, not followed). */
struct gomux_config {
	__s32 server_handler; /* net/http.Server.Handler */
	__s32 response_conn;  /* net/http.response.conn */
	__s32 conn_rwc;	      /* net/http.conn.rwc */
	__s32 netconn_fd;     /* net.conn.fd */
	__s32 netfd_laddr;    /* net.netFD.laddr */
	__s32 tcpaddr_port;   /* net.TCPAddr.Port */
	__u64 h1_writer;      /* net/http.(*response).Header */
	__u64 tcp_conn;	      /* net.(*TCPConn).Close */
	__u64 tcp_addr;	      /* net.(*TCPAddr).Network */
	/* 1: a nil Handler's mux (http.DefaultServeMux, whose address a stripped binary does not
	 * give) is taken from the (*ServeMux).ServeHTTP call that serves the same request. */
	__u64 find_default;
};

/* One server seen on one local port (0: the port could not be read, e.g. behind TLS). */
struct gomux_key {
	__u32 tgid;
	__u16 port;
	__u16 pad;
	__u64 server; /* *net/http.Server */
};

/* Its handler: the first method of the Handler interface's itab (its ServeHTTP; 0 for a nil
 * Handler, which means http.DefaultServeMux) and the interface's data word. */
struct gomux_server {
	__u64 handler_type;
	__u64 handler;
};

/* A goroutine of a process (g pointers of two processes may be equal). */
struct gomux_goroutine {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

/* A nil Handler's server waiting for its request's (*ServeMux).ServeHTTP call, per goroutine. */
struct gomux_pending {
	struct gomux_key key;
	__u64 request; /* the *Request both calls get */
};

/* Reported once per key on the ring buffer (with a wakeup: the window closes as soon as user
 * space knows what it needs). */
struct gomux_event {
	struct gomux_key key;
	struct gomux_server server;
};

#endif
