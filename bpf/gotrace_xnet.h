/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* HTTP/2 served by golang.org/x/net/http2 itself (http2.Server.ServeConn, h2c.NewHandler),
 * not net/http's bundled copy: shared between bpf/gotrace_xnet.bpf.h and user space
 * (user/gotrace/xnet_target.c). Fixed-width types only. */
#ifndef GLIMPSE_BPF_GOTRACE_XNET_H
#define GLIMPSE_BPF_GOTRACE_XNET_H

/* x/net/http2's struct field offsets, from the binary's DWARF (-1: unknown; then its requests
 * are only told from the HTTP/1 requests h2c took over, never measured). */
struct gotrace_xnet_offsets {
	__s32 writer_rws;      /* responseWriter.rws (*responseWriterState) */
	__s32 state_status;    /* responseWriterState.status (int) */
	__s32 state_conn;      /* responseWriterState.conn (*serverConn) */
	__s32 serverconn_conn; /* serverConn.conn (net.Conn) */
	__s32 bufconn_conn;    /* h2c.bufConn's embedded net.Conn: h2c's connections come wrapped */
	__s32 opts_upgrade;    /* ServeConnOpts.UpgradeRequest (*http.Request) */
};

#endif
