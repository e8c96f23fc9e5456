/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading a Go program's memory from a uprobe: a word at an offset (0 when the base is nil or
 * the offset unknown, < 0), an interface value with the method that names its type, and a
 * *net.TCPConn's local port. The Go tracer and the ServeMux learning window (gomux.bpf.c) read
 * with these. */
#ifndef GLIMPSE_GOREAD_BPF_H
#define GLIMPSE_GOREAD_BPF_H

static __always_inline __u64 read_word(__u64 base, __s32 offset)
{
	__u64 v = 0;
	if (base && offset >= 0)
		bpf_probe_read_user(&v, sizeof(v), (void *)(base + offset));
	return v;
}

/* The interface value (itab, data) at iface_at, and its itab's first method, which says the
 * type it holds (0 if unreadable): two reads. */
static __always_inline __u64 read_iface(__u64 iface_at, __u64 *data)
{
	struct {
		__u64 itab, data;
	} v = {};
	if (iface_at < 4096 || bpf_probe_read_user(&v, sizeof(v), (void *)iface_at))
		return 0;
	*data = v.data;
	return read_word(v.itab, 24); /* itab: inter, _type, hash + pad, fun[0] */
}

/* The local port of a *net.TCPConn (the data of a net.Conn whose type was checked): its
 * conn.fd (a *netFD), the fd's laddr (a net.Addr that must hold tcpaddr_type, the first method
 * of *net.TCPAddr's itab) and that address's Port. The offsets are net.conn.fd, net.netFD.laddr
 * and net.TCPAddr.Port; 0 when one is unknown or a step is nil or of another type. */
static __always_inline __u16 read_tcpconn_local_port(__u64 tcpconn, __u64 tcpaddr_type, __s32 netconn_fd,
						     __s32 netfd_laddr, __s32 tcpaddr_port)
{
	__u64 fd = read_word(tcpconn, netconn_fd), addr = 0;
	if (!fd || netfd_laddr < 0 || read_iface(fd + netfd_laddr, &addr) != tcpaddr_type || !addr)
		return 0;
	return (__u16)read_word(addr, tcpaddr_port);
}

#endif
