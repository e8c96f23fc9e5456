/* SPDX-License-Identifier: Apache-2.0 */
/* The socket probe's events (bpf/sockcap.h) turned into calls: one stream per connection
 * (process, fd, connection id), its protocol recognized from the first message a client sends
 * (sockcap/wire.h), its parser fed in order, its calls handed on with who served them.
 *
 * A connection whose bytes match no protocol (TLS, a protocol glimpse does not parse) is given
 * up on and the kernel told to stop sending it. Bounded: at most SOCK_STREAMS_MAX connections
 * are followed; past that the one followed longest is dropped (its pending requests counted
 * unanswered). */
#ifndef GLIMPSE_SOCKCAP_SOCK_STREAMS_H
#define GLIMPSE_SOCKCAP_SOCK_STREAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "sockcap.h"
#include "sockcap/wire.h"

#define SOCK_STREAMS_MAX 16384

/* A finished call and the connection it was made on. */
struct sock_call {
	const struct wire_call *wire;
	bool server;	       /* glimpse saw the server's side of the connection */
	uint32_t pid, root;    /* the process that made it; the target it was found through */
	uint32_t tid;	       /* the thread whose system call completed it */
	uint64_t conn_id;      /* the connection (sockcap_conn.id) */
	uint16_t family;       /* AF_INET, AF_INET6, AF_UNIX */
	uint16_t local_port;   /* server: the port it listens on (0 for AF_UNIX) */
	uint16_t peer_port;    /* client: the server's port */
	char peer_address[48]; /* client: the server's address ("127.0.0.1", "::1"); "" for AF_UNIX */
	/* A Go target's client call: what the kernel said of the goroutine that wrote the request
	 * (bpf/sockcap.h), found by the request's first write; NULL when not known. */
	const struct sockcap_go_ctx *go;
	/* The connection has carried a call made inside database/sql (go->flags SOCKCAP_GO_IN_SQL):
	 * it is database/sql's, which the uprobes measure. */
	bool go_sql_conn;
	/* A Go target's HTTP server call: the pattern its ServeMux serves it with
	 * (sockcap/mux_learn.h; set by sock_capture), NULL when none or unknown. */
	const char *go_pattern;
};

struct sock_streams_callbacks {
	void (*call)(void *ctx, const struct sock_call *call);
	/* A connection given up on: tell the kernel to stop sending its bytes. May be NULL. */
	void (*skip)(void *ctx, uint32_t tgid, int32_t fd, uint64_t conn_id);
	/* Thread tid read client bytes on a server connection (spans tie a thread's calls to the
	 * request it serves). May be NULL. */
	void (*request_read)(void *ctx, uint32_t tid, uint64_t conn_id);
	/* A connection of process root's target was recognized as protocol p: false gives it up
	 * (the kernel stops sending it; counted declined, not unrecognized). May be NULL. */
	bool (*accept)(void *ctx, uint32_t root, enum wire_protocol p);
};

struct sock_stream_stats {
	struct wire_stats wire; /* summed over every parser */
	uint64_t unrecognized;	/* connections given up on: no known protocol */
	uint64_t encrypted;	/* ... of them, TLS (not readable at the socket) */
	uint64_t evicted;	/* connections dropped to stay within SOCK_STREAMS_MAX */
	uint64_t declined;	/* connections of a protocol another path measures (accept) */
	uint64_t calls[4];	/* calls per enum wire_protocol */
};

struct sock_streams;

/* NULL when out of memory. cb is copied. */
struct sock_streams *sock_streams_new(const struct sock_streams_callbacks *cb, void *ctx);
/* One event from the socket probe, in ring-buffer order. */
void sock_streams_event(struct sock_streams *s, const struct sockcap_event *ev);
/* Drops every stream of process tgid (it exited). */
void sock_streams_forget_process(struct sock_streams *s, uint32_t tgid);
const struct sock_stream_stats *sock_streams_stats(const struct sock_streams *s);
/* Connections followed now. */
unsigned sock_streams_count(const struct sock_streams *s);
void sock_streams_free(struct sock_streams *s);

#endif
