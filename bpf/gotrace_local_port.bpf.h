/* SPDX-License-Identifier: GPL-2.0 */
/* The local TCP port of a server request, found by walking from its ResponseWriter to the
 * connection's *net.TCPAddr with every interface's type checked against the process's type
 * addresses (the types map, from user space). Included by gotrace.bpf.c after its maps,
 * helpers and xnet_off. */

#define CONN_MAX_WRAPS 3 /* tls.Conn around unencryptedNetConnInTLSConn around TCPConn */

/* The local TCP port of a server request's connection, 0 when unknown. The writer's type
 * says where its connection is: HTTP/1's *response → conn.rwc, HTTP/2's writer → its state's
 * serverConn.conn. The net.Conn is unwrapped through TLS (and h2c's wrapper) to a *TCPConn,
 * whose netFD's laddr is a *TCPAddr: every step is taken only after its type is checked. */
static __always_inline __u16 conn_local_port(const struct gotrace_types *ty, __u64 conn)
{
	if (!ty || off.tcpaddr_port < 0 || off.netfd_laddr < 0 || off.netconn_fd < 0)
		return 0;
	for (int i = 0; i < CONN_MAX_WRAPS; i++) {
		__u64 data = 0, type = read_iface(conn, &data);
		if (!type || !data)
			return 0;
		if (type == ty->tls_conn && off.tlsconn_conn >= 0) {
			conn = data + off.tlsconn_conn;
		} else if (type == ty->unencrypted_conn && off.unencrypted_conn >= 0) {
			conn = data + off.unencrypted_conn;
		} else if (ty->h2c_conn && type == ty->h2c_conn && xnet_off.bufconn_conn >= 0) {
			conn = data + xnet_off.bufconn_conn;
		} else if (type == ty->tcp_conn) {
			return read_tcpconn_local_port(data, ty->tcp_addr, off.netconn_fd, off.netfd_laddr,
						       off.tcpaddr_port);
		} else {
			return 0;
		}
	}
	return 0;
}

static __always_inline __u16 local_port(const struct gotrace_types *ty, __u64 writer_type, __u64 writer)
{
	if (!ty || !writer_type)
		return 0;
	__u64 holder, conn; /* conn: where a net.Conn interface value (itab, data) lies */
	if (writer_type == ty->h1_writer && off.response_conn >= 0 && off.conn_rwc >= 0) {
		holder = read_word(writer, off.response_conn);
		conn = holder + off.conn_rwc;
	} else if (writer_type == ty->h2_writer && off.h2_writer_rws >= 0 && off.h2_state_conn >= 0 &&
		   off.h2_serverconn_conn >= 0) {
		holder = read_word(read_word(writer, off.h2_writer_rws), off.h2_state_conn);
		conn = holder + off.h2_serverconn_conn;
	} else {
		return 0;
	}
	return holder ? conn_local_port(ty, conn) : 0;
}
