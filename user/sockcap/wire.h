/* SPDX-License-Identifier: Apache-2.0 */
/* What the socket probe (bpf/sockcap.bpf.c) saw of one connection, one system call at a time,
 * and what the protocol parsers (http1_wire.c, postgres_wire.c, redis_wire.c) make of it: finished
 * calls — a request paired with its response — with the fields the metrics and spans need.
 *
 * The bytes are hostile: whatever a peer sent. Every parser is bounded (fixed state per
 * connection, never reads past len), counts what it could not parse instead of guessing, and
 * resynchronizes only at a point where a message provably starts. Only the first bytes of each
 * system call are captured (SOCKCAP_DATA_MAX); total says how many the call really moved, so a
 * parser can skip a body it did not see whole. */
#ifndef GLIMPSE_SOCKCAP_WIRE_H
#define GLIMPSE_SOCKCAP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One read-family or write-family system call on a connection. */
struct wire_chunk {
	bool from_client;    /* the request direction: client → server */
	const uint8_t *data; /* the first bytes the call moved */
	size_t len;	     /* bytes in data (<= total) */
	size_t total;	     /* bytes the call moved; those past len were not captured */
	uint64_t start_ns;   /* CLOCK_MONOTONIC when the call began */
	uint64_t end_ns;     /* ... and when it returned */
};

enum wire_protocol {
	WIRE_UNKNOWN,
	WIRE_HTTP1,
	WIRE_POSTGRES,
	WIRE_REDIS,
};

#define WIRE_METHOD_LEN	     15
#define WIRE_PATH_LEN	     255
#define WIRE_TRACEPARENT_LEN 55
#define WIRE_HOST_LEN	     255
#define WIRE_QUERY_LEN	     1023
#define WIRE_OPERATION_LEN   31
#define WIRE_ERROR_LEN	     15

/* A finished call: a request and the response that answered it. */
struct wire_call {
	enum wire_protocol protocol;
	uint64_t start_ns; /* the request's first byte: start_ns of the chunk that carried it */
	uint64_t end_ns;   /* the response's end: end_ns of the chunk that completed its header
			    * (HTTP: the status line; PostgreSQL: ReadyForQuery or the last
			    * message of the reply; Redis: the reply) */
	/* HTTP/1 */
	char method[WIRE_METHOD_LEN + 1];	    /* as sent ("GET"); the caller normalizes it */
	char path[WIRE_PATH_LEN + 1];		    /* request-target up to '?' or '#' */
	uint16_t status;			    /* 0: no response (the connection closed first) */
	uint8_t version_minor;			    /* HTTP/1.x of the request */
	char traceparent[WIRE_TRACEPARENT_LEN + 1]; /* the request's header value, "" if none */
	/* Only to match a Go ServeMux's host patterns (sockcap/mux_match.h); never exported. */
	char host[WIRE_HOST_LEN + 1]; /* the request's one Host header's value, "" if none */
	bool route_exact; /* path is the whole origin-form path and host the one whole Host header:
			   * the request can be matched exactly as the server saw it */
	/* PostgreSQL and Redis */
	char operation[WIRE_OPERATION_LEN + 1]; /* Redis: the command name, upper-cased ("GET");
						 * PostgreSQL: "PREPARE" for a round that
						 * prepared a statement and executed nothing,
						 * else "" (the caller reads the query) */
	char query[WIRE_QUERY_LEN + 1];		/* PostgreSQL: the statement text (raw: the caller
						 * sanitizes it before it leaves); Redis: "" (keys and
						 * values never leave the parser) */
	bool query_truncated;			/* the text was longer than was captured */
	bool error;				/* PostgreSQL ErrorResponse, Redis error reply, HTTP: never
						* (status rules are the caller's) */
	char error_type[WIRE_ERROR_LEN + 1];	/* PostgreSQL: the SQLSTATE ("42P01"); Redis: the
						* error's first word ("ERR", "WRONGTYPE"); "" */
};

typedef void (*wire_call_fn)(void *ctx, const struct wire_call *call);

/* What a parser could not use, for glimpse_* counters and the summary. */
struct wire_stats {
	uint64_t unparseable; /* chunks that did not parse where a message had to start */
	uint64_t unanswered;  /* requests dropped without a response (closed, or the table of
			       * pipelined requests was full) */
	uint64_t truncated;   /* messages longer than was captured, parsed as far as seen */
};

/* Which protocol a connection speaks, from the first captured bytes of a chunk; WIRE_UNKNOWN
 * unless they begin a message that only a client sends (an HTTP/1 request line, a PostgreSQL
 * StartupMessage or SSLRequest or a well-formed Query/Parse message, a RESP array of bulk
 * strings). Whoever read those bytes is the server; whoever wrote them, the client. A
 * connection glimpse first sees mid-reply (opened before it attached) stays unknown until its
 * next request: nothing is paired by guesswork. */
enum wire_protocol wire_detect(const uint8_t *data, size_t len);

/* One connection's parser: the state between its chunks (bounded: a few KiB at most). */
struct wire_parser;

struct wire_parser_ops {
	enum wire_protocol protocol;
	const char *name; /* "http1", "postgresql", "redis" */
	/* A parser for a connection whose first chunk wire_detect recognized. NULL: no memory. */
	struct wire_parser *(*open)(void);
	/* One chunk, in the order the system calls returned; fn gets each call it completes. */
	void (*feed)(struct wire_parser *p, const struct wire_chunk *c, struct wire_stats *stats,
		     wire_call_fn fn, void *ctx);
	/* The connection closed: requests still waiting for a response are counted unanswered
	 * (none is reported: a guess would be wrong data). Frees p. */
	void (*close)(struct wire_parser *p, struct wire_stats *stats);
};

extern const struct wire_parser_ops http1_wire_ops, postgres_wire_ops, redis_wire_ops;

/* The ops of a protocol wire_detect returns; NULL for WIRE_UNKNOWN. */
const struct wire_parser_ops *wire_parser_ops_for(enum wire_protocol protocol);

#endif
