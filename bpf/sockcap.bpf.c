// SPDX-License-Identifier: GPL-2.0
/* Socket capture: the bytes a traced process reads from and writes to its stream sockets, at
 * the socket layer every language's system calls reach (tracepoints: no uprobe trap, no kprobes).
 *
 * Data: tp_btf programs on sock:sock_send_length and sock:sock_recv_length, which fire inside
 * sock_sendmsg/sock_recvmsg only: a process's pipes, files, futexes and timers never run them.
 * They reject by one bit of `watched` (an inlined array load), then read the call from the
 * task's saved user registers (the system call number, the fd, the buffer: the bytes are
 * already there, the result is the tracepoint's). The fd in the registers is never trusted to
 * name the socket the kernel passed: each connection remembers its socket's cookie (unique per
 * socket, never reused), and a call whose socket is not its entry's is checked through the fd
 * table before it starts a new connection there. This replaces watching accept and connect.
 *
 * Close: a TCP socket's change to TCP_CLOSE (tp_btf/inet_sock_set_state, in whatever context
 * the kernel makes it) finds its connection through `socks` (cookie → process and fd) and
 * reports it. Unix sockets have no such tracepoint: their end is seen when the fd names another
 * socket, or at the process's exit.
 *
 * Logs: processes whose logs are captured have their writes to stdout and stderr (fds 1 and 2,
 * whatever they are) copied as SOCKCAP_LOG events by a sys_exit program, which runs for every
 * system call of the machine: user space attaches it only while some target's logs are read.
 *
 * Each event copies the first SOCKCAP_DATA_MAX bytes a call moved to the ring buffer with the
 * connection's identity. Parsing (HTTP/1, PostgreSQL, Redis) is user space's: one parser per
 * protocol, tested and fuzzed there. Wakeups are batched: user space reads the ring on its own
 * clock and is woken early only when the ring fills past wakeup_bytes. x86-64 syscall numbers
 * (vmlinux/x86 is the only target). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"
#include "sockcap.h"
#include "gocalls.bpf.h"
#include "gotrace.h"
#include "watched.bpf.h"

#define NR_READ	      0
#define NR_WRITE      1
#define NR_PWRITE64   18
#define NR_READV      19
#define NR_WRITEV     20
#define NR_SENDFILE   40
#define NR_SENDTO     44
#define NR_RECVFROM   45
#define NR_SENDMSG    46
#define NR_RECVMSG    47

#define S_IFMT	      00170000
#define S_IFSOCK      0140000
#define AF_UNIX	      1
#define AF_INET	      2
#define AF_INET6      10
#define MSG_PEEK      2
#define TCP_CLOSE     7
#define SHUTDOWN_MASK 3

/* Set by user space before load. */
const volatile __u64 wakeup_bytes = 1 << 20;

/* Processes whose sockets or logs are captured: tgid → the target it was found through and what
 * is captured. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sockcap_pid);
} pids SEC(".maps");

/* One bit per tgid, set for each pids entry (by user space, and by the fork program): the test
 * every system call on the machine pays before anything else (watched.bpf.h). */
WATCHED_MAP(watched);

/* Go targets whose HTTP the uprobes measure (bpf/gotrace.bpf.c): their writes carry the
 * goroutine that made them and what the Go tracer knows of it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sockcap_go_proc);
} go_procs SEC(".maps");

/* The Go tracers' own maps, per Go target (an inner map each: the agent runs one Go tracer per
 * binary), put in by user space: bpf/gocalls.bpf.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__array(values, struct go_ctx_map);
} go_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__array(values, struct go_ctx_map);
} go_inherited SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sockcap_conn_key);
	__type(value, struct sockcap_conn);
} conns SEC(".maps");

/* The TCP sockets of conns entries, by cookie: where a socket's close (made in any context,
 * softirq included) finds its connection. Deleted at the close, or when the fd names another
 * socket; the LRU bounds what a process's exit leaves (its sockets close then, too). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sockcap_conn_key);
} socks SEC(".maps");

/* A call, from its saved registers. */
struct call_args {
	__u64 buf; /* buffer, iovec array or msghdr, by syscall */
	__u64 count;
	__s32 fd;
	__u32 nr;
	__u32 root;
	__u16 ingress;
	__u16 go; /* SOCKCAP_CAP_GO */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sockcap_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOCKCAP_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 << 20);
} events SEC(".maps");

/* The calls whose bytes are read: a socket call made under another system call (splice,
 * io_uring, a network file system's write) is not one of them. */
static __always_inline bool is_traced_nr(long nr)
{
	switch (nr) {
	case NR_READ:
	case NR_WRITE:
	case NR_READV:
	case NR_WRITEV:
	case NR_SENDFILE:
	case NR_SENDTO:
	case NR_RECVFROM:
	case NR_SENDMSG:
	case NR_RECVMSG:
		return true;
	}
	return false;
}

static __always_inline bool is_read_nr(long nr)
{
	return nr == NR_READ || nr == NR_READV || nr == NR_RECVFROM || nr == NR_RECVMSG;
}

static __always_inline __u64 wakeup_flag(__u64 size)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
										    : BPF_RB_NO_WAKEUP;
}

/* The socket behind fd in the current process, or NULL when fd is something else. Its type is
 * checked (the inode says socket) before private_data is read as one. */
static __always_inline struct socket *fd_socket(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(file, private_data);
}

/* Identity of a new connection on socket sock: a stream socket of an address family glimpse
 * parses, or one marked SKIP so that later calls on the fd cost one lookup. */
static __always_inline void conn_describe(struct socket *sock, struct sock *sk, struct sockcap_conn *c)
{
	c->id = bpf_ktime_get_ns();
	if (BPF_CORE_READ(sock, type) != 1 /* SOCK_STREAM */) {
		c->flags = SOCKCAP_CONN_SKIP;
		return;
	}
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->family = family;
	if (family == AF_INET || family == AF_INET6) {
		c->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
		c->peer_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (family == AF_INET)
			BPF_CORE_READ_INTO(&c->peer_addr, sk, __sk_common.skc_daddr);
		else
			BPF_CORE_READ_INTO(&c->peer_addr, sk, __sk_common.skc_v6_daddr);
	} else if (family != AF_UNIX) {
		c->flags = SOCKCAP_CONN_SKIP;
	}
}

/* The connection of key's fd, whose call the kernel made on socket sk (cookie). The entry's own
 * socket: as it is. Another (a new connection on a reused fd number, or the first call seen):
 * fd must name sk in the fd table now, else the call is not fd's (NULL: skipped); then a new
 * connection starts there, with a new id. */
static __always_inline struct sockcap_conn *conn_get(const struct sockcap_conn_key *key, struct sock *sk,
						     __u64 cookie)
{
	struct sockcap_conn *c = bpf_map_lookup_elem(&conns, key);
	if (c && c->cookie == cookie)
		return c;
	struct socket *sock = fd_socket(key->fd);
	if (!sock || BPF_CORE_READ(sock, sk) != sk) {
		counter_inc(&counters, SOCKCAP_CTR_NOT_FD);
		return NULL;
	}
	if (c && c->family != AF_UNIX) {
		/* The fd's old socket: its close, if it comes, no longer concerns this entry. */
		struct sockcap_conn_key *owner = bpf_map_lookup_elem(&socks, &c->cookie);
		if (owner && owner->tgid == key->tgid && owner->fd == key->fd)
			bpf_map_delete_elem(&socks, &c->cookie);
	}
	struct sockcap_conn fresh = { .cookie = cookie };
	conn_describe(sock, sk, &fresh);
	if (fresh.flags & SOCKCAP_CONN_SKIP)
		counter_inc(&counters, SOCKCAP_CTR_NOT_SOCKET);
	bpf_map_update_elem(&conns, key, &fresh, BPF_ANY);
	if (fresh.family == AF_INET || fresh.family == AF_INET6)
		bpf_map_update_elem(&socks, &cookie, key, BPF_ANY);
	return bpf_map_lookup_elem(&conns, key);
}

/* An event with no data (a close, a process forked or gone). */
static __always_inline void send_notice(__u8 kind, __u32 tgid, __u32 root, int fd, __u64 conn_id, __u64 flags)
{
	struct sockcap_event *ev = bpf_ringbuf_reserve(&events, SOCKCAP_EVENT_HEADER_SIZE, 0);
	if (!ev) {
		counter_inc(&counters, SOCKCAP_CTR_DROPPED);
		return;
	}
	__builtin_memset(ev, 0, SOCKCAP_EVENT_HEADER_SIZE);
	ev->kind = kind;
	ev->tgid = tgid;
	ev->root = root;
	ev->fd = fd;
	ev->conn_id = conn_id;
	ev->end_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, flags);
}

/* Where the first bytes of the call's data lie, and how many there are: the buffer itself,
 * or the first element of an iovec array (readv/writev) or of a msghdr's (recvmsg/sendmsg). */
static __always_inline __u64 call_buffer(const struct call_args *a, __u64 *room)
{
	struct iovec iov = {};
	*room = a->count;
	switch (a->nr) {
	case NR_READ:
	case NR_WRITE:
	case NR_PWRITE64:
	case NR_RECVFROM:
	case NR_SENDTO:
		return a->buf;
	case NR_READV:
	case NR_WRITEV:
		if (!a->count || bpf_probe_read_user(&iov, sizeof(iov), (void *)a->buf))
			return 0;
		break;
	case NR_RECVMSG:
	case NR_SENDMSG: {
		struct user_msghdr msg = {};
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a->buf) || !msg.msg_iovlen ||
		    bpf_probe_read_user(&iov, sizeof(iov), msg.msg_iov))
			return 0;
		break;
	}
	default:
		return 0; /* sendfile: the bytes come from a file, not from memory */
	}
	*room = iov.iov_len;
	return (__u64)iov.iov_base;
}

static __always_inline bool go_in_call(void *calls, __u64 g, __u32 tgid, __u32 kind)
{
	struct go_call_key key = { .g = g, .pid = tgid, .kind = kind };
	return bpf_map_lookup_elem(calls, &key) != NULL;
}

/* A Go target's write: the goroutine that made it, whether it was inside a database/sql call
 * the uprobes measure, and the request it serves (its own, or the one that started it). R14
 * holds g at every system call Go's own code makes under its register ABI (Go 1.17+): the
 * syscall stubs leave it alone. */
static __always_inline void go_context(const struct pt_regs *regs, __u32 tgid, struct sockcap_go_ctx *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	const struct sockcap_go_proc *proc = bpf_map_lookup_elem(&go_procs, &tgid);
	if (!proc || regs->ip < proc->text_lo || regs->ip >= proc->text_hi)
		return; /* not Go, or not Go's code (cgo's C through libc): R14 is not g */
	__u64 g = regs->r14;
	out->g = g;
	out->flags = SOCKCAP_GO_SEEN;
	void *calls = bpf_map_lookup_elem(&go_calls, &tgid);
	if (!calls)
		return;
	if (go_in_call(calls, g, tgid, GOTRACE_SQL_QUERY) || go_in_call(calls, g, tgid, GOTRACE_SQL_EXEC) ||
	    go_in_call(calls, g, tgid, GOTRACE_STMT_QUERY) || go_in_call(calls, g, tgid, GOTRACE_STMT_EXEC))
		out->flags |= SOCKCAP_GO_IN_SQL;
	struct go_call_key key = { .g = g, .pid = tgid, .kind = GOTRACE_SERVER };
	const struct go_trace_ctx *ctx = bpf_map_lookup_elem(calls, &key);
	void *inherited = ctx ? NULL : bpf_map_lookup_elem(&go_inherited, &tgid);
	if (inherited) {
		key.kind = 0;
		ctx = bpf_map_lookup_elem(inherited, &key);
	}
	if (!ctx)
		return;
	__builtin_memcpy(out->trace_id, ctx->trace_id, sizeof(out->trace_id));
	out->span_id = ctx->span_id;
	out->go_flags = ctx->flags;
	out->flags |= SOCKCAP_GO_CTX;
}

/* A call's bytes: on connection c, or (c NULL) a write to stdout or stderr. */
static __always_inline void send_data(const struct pt_regs *regs, const struct call_args *a, __u32 tgid,
				      __u32 tid, long ret, struct sockcap_conn *c)
{
	__u32 zero = 0;
	struct sockcap_event *ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!ev)
		return;
	/* The bytes have moved: a read's are the reader's now (its start is idle time), and a
	 * write's duration is the kernel's, not the caller's (one clock read instead of two). */
	ev->end_ns = bpf_ktime_get_ns();
	ev->start_ns = ev->end_ns;
	ev->conn_id = c ? c->id : 0;
	ev->tgid = tgid;
	ev->tid = tid;
	ev->root = a->root;
	ev->fd = a->fd;
	ev->total = (__u32)ret;
	ev->kind = c ? SOCKCAP_DATA : SOCKCAP_LOG;
	ev->dir = a->ingress ? SOCKCAP_INGRESS : SOCKCAP_EGRESS;
	if (a->ingress || !a->go)
		__builtin_memset(&ev->go, 0, sizeof(ev->go));
	else
		go_context(regs, tgid, &ev->go);
	if (c) {
		ev->family = c->family;
		ev->local_port = c->local_port;
		ev->peer_port = c->peer_port;
		__builtin_memcpy(ev->peer_addr, c->peer_addr, sizeof(ev->peer_addr));
	} else {
		ev->family = ev->local_port = ev->peer_port = 0;
		__builtin_memset(ev->peer_addr, 0, sizeof(ev->peer_addr));
	}
	__u64 room = 0;
	__u64 buf = call_buffer(a, &room);
	__u64 n = (__u64)ret < room ? (__u64)ret : room;
	if (n > SOCKCAP_DATA_MAX)
		n = SOCKCAP_DATA_MAX;
	if (!buf)
		n = 0;
	n &= 2 * SOCKCAP_DATA_MAX - 1; /* a bound the verifier can follow: n <= SOCKCAP_DATA_MAX */
	if (n > SOCKCAP_DATA_MAX)
		return;
	if (n && bpf_probe_read_user(ev->data, n, (void *)buf))
		n = 0;
	ev->len = n;
	__u64 size = SOCKCAP_EVENT_HEADER_SIZE + n;
	if (bpf_ringbuf_output(&events, ev, size, wakeup_flag(size))) {
		counter_inc(&counters, c ? SOCKCAP_CTR_DROPPED : SOCKCAP_CTR_LOG_DROPPED);
		return;
	}
	if (c)
		c->flags |= SOCKCAP_CONN_SENT;
	else
		counter_inc(&counters, SOCKCAP_CTR_LOG_WRITES);
}

/* The capture entry of the current process (tgid) when it is watched and captures what need
 * names: a hit, counted. NULL for every other process, after one bit for most. */
static __always_inline const struct sockcap_pid *captured(__u32 tgid, __u32 need)
{
	if (!watched_test(&watched, tgid))
		return NULL;
	const struct sockcap_pid *p = bpf_map_lookup_elem(&pids, &tgid);
	if (!p || !(p->capture & need))
		return NULL;
	counter_inc(&counters, SOCKCAP_CTR_HITS);
	return p;
}

/* stdout and stderr are the log of a process whose logs are captured, whatever they are (a
 * socket too): their bytes are never parsed as a protocol. */
static __always_inline bool is_log_write(const struct sockcap_pid *p, int fd, long nr)
{
	return (p->capture & SOCKCAP_CAP_LOGS) && (fd == 1 || fd == 2) && (nr == NR_WRITE || nr == NR_WRITEV);
}

/* The call in the saved registers (fd, buffer, count), of p's process, sent with its bytes: on
 * connection c, or (c NULL) as a log write. */
static __always_inline void send_call(const struct pt_regs *regs, const struct sockcap_pid *p, __u64 pid_tgid,
				      long nr, bool ingress, long ret, struct sockcap_conn *c)
{
	struct call_args a = {
		.buf = regs->si,
		.count = regs->dx,
		.fd = (int)regs->di,
		.nr = nr,
		.root = p->root,
		.ingress = ingress,
		.go = !!(p->capture & SOCKCAP_CAP_GO),
	};
	send_data(regs, &a, pid_tgid >> 32, (__u32)pid_tgid, ret, c);
}

/* A socket call of a process: its data, when the call is one glimpse reads, on fd 1 or 2 not
 * already the log's, and moved bytes. The registers are the task's saved user ones: the system
 * call being made. */
static __always_inline int sock_call(struct sock *sk, int ret, int flags, bool ingress)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	const struct sockcap_pid *p = captured(tgid, SOCKCAP_CAP_SOCKETS);
	if (!p)
		return 0;
	/* Failed or empty calls carry nothing; bytes peeked at come again in a later read: seen
	 * twice, a request would be queued twice and every later response paired with the request
	 * before its own. */
	if (ret <= 0 || (ingress && (flags & MSG_PEEK)))
		return 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr = regs->orig_ax;
	if (!is_traced_nr(nr) || is_read_nr(nr) != ingress)
		return 0;
	int fd = (int)regs->di;
	if (!ingress && is_log_write(p, fd, nr))
		return 0;
	struct sockcap_conn_key key = { .tgid = tgid, .fd = fd };
	struct sockcap_conn *c = conn_get(&key, sk, bpf_get_socket_cookie(sk));
	if (!c || (c->flags & SOCKCAP_CONN_SKIP))
		return 0;
	send_call(regs, p, pid_tgid, nr, ingress, ret, c);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sockcap_send, struct sock *sk, int ret, int flags)
{
	return sock_call(sk, ret, flags, false);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sockcap_recv, struct sock *sk, int ret, int flags)
{
	return sock_call(sk, ret, flags, true);
}

/* A TCP socket closed: its connection's end, reported when data of it was sent. The kernel
 * makes the change in the closing process, or in softirq on the peer's last segment: the
 * connection is found through its cookie, never the current task. A socket without a cookie was
 * never one of glimpse's (the helper would make one: this reads it). Only a socket its process
 * is done with ends there: closing it (close() shuts both directions before the change) or
 * closed already (orphaned). One reset while its fd is open may still be read (what was queued
 * before the reset) and its close makes no second change: it ends at the fd's reuse or the
 * process's exit, as a Unix socket does. By now the fd may name another connection: then the
 * entry is that one's and stays. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sockcap_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (newstate != TCP_CLOSE)
		return 0;
	__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!cookie)
		return 0;
	if (BPF_CORE_READ(sk, sk_socket) && BPF_CORE_READ(sk, sk_shutdown) != SHUTDOWN_MASK)
		return 0;
	struct sockcap_conn_key *owner = bpf_map_lookup_elem(&socks, &cookie);
	if (!owner)
		return 0;
	struct sockcap_conn_key key = *owner;
	bpf_map_delete_elem(&socks, &cookie);
	struct sockcap_conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->cookie != cookie)
		return 0;
	if (c->flags & SOCKCAP_CONN_SENT) {
		const struct sockcap_pid *p = bpf_map_lookup_elem(&pids, &key.tgid);
		send_notice(SOCKCAP_CLOSE, key.tgid, p ? p->root : key.tgid, key.fd, c->id,
			    wakeup_flag(SOCKCAP_EVENT_HEADER_SIZE));
	}
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

/* A write to stdout or stderr of a process whose logs are captured. On every system call of the
 * machine while attached: the syscall number and fd are tested before anything else. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sockcap_logs, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;
	if (nr != NR_WRITE && nr != NR_WRITEV && nr != NR_PWRITE64)
		return 0;
	int fd = (int)regs->di;
	if (fd != 1 && fd != 2)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct sockcap_pid *p = captured(pid_tgid >> 32, SOCKCAP_CAP_LOGS);
	if (!p || ret <= 0)
		return 0;
	send_call(regs, p, pid_tgid, nr, false, ret, NULL);
	return 0;
}

/* A target's forked children are followed (nginx and PostgreSQL serve in forked processes);
 * threads share their process's entry already. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sockcap_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	if (ptgid == ctgid)
		return 0;
	const struct sockcap_pid *p = bpf_map_lookup_elem(&pids, &ptgid);
	if (!p)
		return 0;
	struct sockcap_pid kid = *p;
	if (bpf_map_update_elem(&pids, &ctgid, &kid, BPF_NOEXIST))
		return 0;
	watched_set(&watched, ctgid, true);
	send_notice(SOCKCAP_PROC_FORK, ctgid, kid.root, -1, 0, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sockcap_proc_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	const struct sockcap_pid *pp = bpf_map_lookup_elem(&pids, &tgid);
	if (!pp || BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	__u32 r = pp->root;
	/* A target itself stays in the map until user space removes it; its children go here. */
	if (r != tgid) {
		bpf_map_delete_elem(&pids, &tgid);
		watched_set(&watched, tgid, false);
	}
	send_notice(SOCKCAP_PROC_EXIT, tgid, r, -1, 0, BPF_RB_FORCE_WAKEUP);
	return 0;
}

#include "sockcap_syscalls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
