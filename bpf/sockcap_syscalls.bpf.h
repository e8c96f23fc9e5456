/* SPDX-License-Identifier: GPL-2.0 */
/* The socket probe on kernels without sock:sock_send_length and sock:sock_recv_length (before
 * Linux 6.3: Debian 12's and most long-term-support kernels of 2023-2025): the same calls,
 * read at sys_exit, where the call's arguments are still in the saved user registers. This
 * program runs for every system call of every process on the machine (user space loads it
 * only where the socket tracepoints are missing, and says so): it tests the system call number
 * first, then the watched bit.
 *
 * Without the tracepoint's socket, a connection is the struct socket its fd names (the fd table
 * is read at each call): the entry keeps that socket's address where the tracepoints keep its
 * cookie. An address can be reused once its socket is freed, so the closes, accepts and
 * connects of a watched process end the entry of their fd too, as seen at their exits.
 * Included by sockcap.bpf.c (its maps and helpers). */
#ifndef GLIMPSE_SOCKCAP_SYSCALLS_BPF_H
#define GLIMPSE_SOCKCAP_SYSCALLS_BPF_H

#define NR_CLOSE    3
#define NR_CONNECT  42
#define NR_ACCEPT   43
#define NR_ACCEPT4  288
#define EINPROGRESS 115

/* The connection of key's fd, which names sock now. */
static __always_inline struct sockcap_conn *syscalls_conn_get(const struct sockcap_conn_key *key,
							      struct socket *sock)
{
	struct sockcap_conn *c = bpf_map_lookup_elem(&conns, key);
	if (c && c->cookie == (__u64)sock)
		return c;
	struct sockcap_conn fresh = { .cookie = (__u64)sock };
	conn_describe(sock, BPF_CORE_READ(sock, sk), &fresh);
	if (fresh.flags & SOCKCAP_CONN_SKIP)
		counter_inc(&counters, SOCKCAP_CTR_NOT_SOCKET);
	bpf_map_update_elem(&conns, key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&conns, key);
}

/* A close that succeeded: its connection's end, reported when data of it was sent. The fd
 * number is free from inside close, before this exit: another thread may have been given it
 * already (accept4, connect's socket) and made calls on it, so the entry can be the new
 * connection's. Then the fd names the entry's socket again and the entry stays: dropping it
 * would end the new connection's stream between its request and its response (a lost request:
 * 1 to 7 of 8,000 short connections from 4 clients to a Go server). The closed socket is still
 * alive here (its release runs after this exit), so no new socket shares its address. */
static __always_inline void syscalls_conn_closed(__u32 tgid, __u32 root, int fd)
{
	struct sockcap_conn_key key = { .tgid = tgid, .fd = fd };
	struct sockcap_conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return;
	struct socket *now = fd_socket(fd);
	if (now && (__u64)now == c->cookie)
		return;
	if (c->flags & SOCKCAP_CONN_SENT)
		send_notice(SOCKCAP_CLOSE, tgid, root, fd, c->id, wakeup_flag(SOCKCAP_EVENT_HEADER_SIZE));
	bpf_map_delete_elem(&conns, &key);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sockcap_syscalls, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;
	bool state = nr == NR_CLOSE || nr == NR_ACCEPT || nr == NR_ACCEPT4 || nr == NR_CONNECT;
	if (!state && !is_traced_nr(nr))
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	const struct sockcap_pid *p = captured(tgid, SOCKCAP_CAP_SOCKETS);
	if (!p)
		return 0;
	int fd = (int)regs->di;
	struct sockcap_conn_key key = { .tgid = tgid, .fd = fd };
	switch (nr) {
	case NR_CLOSE:
		if (ret == 0)
			syscalls_conn_closed(tgid, p->root, fd);
		return 0;
	case NR_ACCEPT:
	case NR_ACCEPT4:
		/* A new connection on a reused fd number: its identity is read at its first call. */
		key.fd = (int)ret;
		if (ret >= 0)
			bpf_map_delete_elem(&conns, &key);
		return 0;
	case NR_CONNECT:
		if (ret == 0 || ret == -EINPROGRESS)
			bpf_map_delete_elem(&conns, &key);
		return 0;
	}
	bool ingress = is_read_nr(nr);
	__u64 flags = nr == NR_RECVFROM ? regs->r10 : nr == NR_RECVMSG ? regs->dx : 0;
	/* As at the tracepoints (sock_call): failed and empty calls, bytes peeked at, and the log's
	 * writes are not a connection's. */
	if (ret <= 0 || (flags & MSG_PEEK) || (!ingress && is_log_write(p, fd, nr)))
		return 0;
	struct socket *sock = fd_socket(fd);
	if (!sock)
		return 0;
	struct sockcap_conn *c = syscalls_conn_get(&key, sock);
	if (!c || (c->flags & SOCKCAP_CONN_SKIP))
		return 0;
	send_call(regs, p, pid_tgid, nr, ingress, ret, c);
	return 0;
}

#endif
