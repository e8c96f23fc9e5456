/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/sockcap.bpf.c and user space (user/sockcap/): fixed-width types only. */
#ifndef GLIMPSE_BPF_SOCKCAP_H
#define GLIMPSE_BPF_SOCKCAP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes of each system call's buffer copied to user space: an HTTP header block, a SQL
 * statement, a burst of pipelined requests (a dozen HTTP requests or a hundred RESP commands)
 * fit; a body past it is skipped by count (total). Only what a call moved is copied, so small
 * messages cost no more than before. A power of two, so that the copy length can be bounded by
 * a mask the verifier follows. */
#define SOCKCAP_DATA_MAX 4096

enum sockcap_kind {
	SOCKCAP_DATA = 1,      /* bytes a read- or write-family call moved on a stream socket
				* (sendfile: as many events as the kernel's sends) */
	SOCKCAP_CLOSE = 2,     /* a TCP connection glimpse had sent data of was closed (Unix
				* sockets' closes are not seen: a new conn_id on the fd, or
				* the process's exit, ends them) */
	SOCKCAP_PROC_EXIT = 3, /* a followed process (a child of a target) exited */
	SOCKCAP_PROC_FORK = 4, /* a target forked a process that is now followed too */
	SOCKCAP_LOG = 5,       /* bytes a process wrote to its stdout or stderr (fd 1 or 2: a
				* pipe, a file, a terminal or a socket), whatever they are */
};

/* What is captured of a process (the pids map's value). */
enum sockcap_capture {
	SOCKCAP_CAP_SOCKETS = 1 << 0, /* its stream sockets */
	SOCKCAP_CAP_LOGS = 1 << 1,    /* its writes to fds 1 and 2 (SOCKCAP_LOG) */
	SOCKCAP_CAP_GO = 1 << 2,      /* a Go target in go_procs: its writes carry their goroutine
				       * (without it, a write costs no lookup there) */
};

struct sockcap_pid {
	__u32 root;    /* the target it was found through (itself, or a parent) */
	__u32 capture; /* sockcap_capture */
};

enum sockcap_dir {
	SOCKCAP_INGRESS = 0, /* read, readv, recvfrom, recvmsg */
	SOCKCAP_EGRESS = 1,  /* write, writev, sendto, sendmsg, sendfile */
};

/* Per-CPU counters (summed by user space). */
enum sockcap_counter {
	SOCKCAP_CTR_HITS,	 /* tracepoint runs in captured processes: their socket calls
				  * (sockets captured), their writes to fd 1 and 2 (logs) */
	SOCKCAP_CTR_DROPPED,	 /* events the ring buffer had no room for */
	SOCKCAP_CTR_NOT_SOCKET,	 /* connections found not to be stream sockets (UDP, raw) */
	SOCKCAP_CTR_LOG_WRITES,	 /* writes to fd 1 or 2 sent to user space (SOCKCAP_LOG) */
	SOCKCAP_CTR_LOG_DROPPED, /* writes to fd 1 or 2 the ring buffer had no room for */
	SOCKCAP_CTR_NOT_FD,	 /* socket calls whose fd (in the registers) did not name the
				  * socket the kernel used: skipped */
	SOCKCAP_CTR_MAX,
};

/* One connection: (process, fd) while it names the same socket. */
struct sockcap_conn_key {
	__u32 tgid;
	__s32 fd;
};

enum sockcap_conn_flags {
	SOCKCAP_CONN_SKIP = 1 << 0, /* not a stream socket, or user space gave up on its bytes */
	SOCKCAP_CONN_SENT = 1 << 1, /* data was sent: its close is reported */
};

struct sockcap_conn {
	__u64 id;	  /* unique per connection: (tgid, fd) pairs are reused */
	__u64 cookie;	  /* its socket's (bpf_get_socket_cookie: never reused) */
	__u32 flags;	  /* sockcap_conn_flags */
	__u16 family;	  /* AF_INET, AF_INET6, AF_UNIX */
	__u16 local_port; /* host order; 0 for AF_UNIX */
	__u16 peer_port;  /* host order */
	__u8 pad[6];
	__u8 peer_addr[16]; /* IPv4 in the first 4 bytes */
};

enum sockcap_go_flags {
	SOCKCAP_GO_SEEN = 1 << 0,   /* g was read: a write of a Go target */
	SOCKCAP_GO_CTX = 1 << 1,    /* trace_id/span_id: the request the goroutine serves */
	SOCKCAP_GO_IN_SQL = 1 << 2, /* the goroutine was inside a database/sql call the uprobes
				     * measure (queryDC, execDC, Stmt.QueryContext/ExecContext) */
};

/* A Go target's own code (its executable's text): a system call made from elsewhere (C code
 * in a cgo program, through libc) has no goroutine in R14. */
struct sockcap_go_proc {
	__u64 text_lo, text_hi;
};

/* What the Go tracer's maps (bpf/gotrace.bpf.c: calls, inherited) said about the goroutine
 * that made a write, at the write: the join of socket calls to Go requests is exact because it
 * is made while both are in flight, in the kernel. */
struct sockcap_go_ctx {
	__u64 g; /* the goroutine (R14 under Go's register ABI, Go 1.17+) */
	__u8 trace_id[16];
	__u64 span_id; /* the span its children hang under (the server request's) */
	__u8 flags;    /* sockcap_go_flags */
	__u8 go_flags; /* the context's gotrace_flags (sampled, remote parent) */
	__u8 pad[6];
};

struct sockcap_event {
	__u64 start_ns, end_ns; /* CLOCK_MONOTONIC: the call's return (both) */
	__u64 conn_id;
	__u32 tgid, tid;
	__u32 root; /* the target process this one was found through (itself, or a parent) */
	__s32 fd;
	__u32 total;	/* bytes the call moved */
	__u16 len;	/* bytes of them in data */
	__u8 kind, dir; /* sockcap_kind, sockcap_dir */
	__u16 family, local_port, peer_port;
	__u16 pad;
	__u8 peer_addr[16];
	struct sockcap_go_ctx go; /* writes of Go targets (go_procs): who made the call */
	/* SOCKCAP_LOG: fd is 1 or 2; len < total when the write was longer than data (or its
	 * iovec array had more than one element: only the first is read) */
	__u8 data[SOCKCAP_DATA_MAX]; /* only len bytes are sent */
};

#define SOCKCAP_EVENT_HEADER_SIZE ((unsigned long)&((struct sockcap_event *)0)->data)

#endif
