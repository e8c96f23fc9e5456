/* SPDX-License-Identifier: Apache-2.0 */
/* One Redis connection's parser state, shared by its two halves: redis_wire.c reads commands
 * (client to server), redis_reply.c reads replies and pairs them with the commands. */
#ifndef GLIMPSE_SOCKCAP_REDIS_CONN_H
#define GLIMPSE_SOCKCAP_REDIS_CONN_H

#include "sockcap/wire.h"
#include "sockcap/wire_internal.h"

#define REDIS_PENDING_MAX 64
#define REDIS_DEPTH_MAX	  32
/* Redis's own limits: 1024*1024 arguments, proto-max-bulk-len 512 MB (configurable higher, so
 * the bulk bound is looser). */
#define REDIS_ARGS_MAX 1048576
#define REDIS_BULK_MAX 100000000000ULL
#define REDIS_AGG_MAX  4294967295ULL
/* Header lines ("*3", "$5", "-WRONGTYPE ...") need only their first bytes; keeping few means
 * an inline command's keys are barely held even inside the parser. */
#define REDIS_LINE_KEEP 32

struct redis_cmd {
	uint64_t start_ns;
	char op[WIRE_OPERATION_LEN + 1];
	bool bad;	/* its name could not be read: its reply is consumed, nothing reported */
	bool subscribe; /* its reply puts the connection into subscribe mode */
};

enum redis_req_state {
	RQ_START,      /* '*' of an array, or an inline command */
	RQ_ARRAY,      /* the "*N" line */
	RQ_BULK_HDR,   /* a "$L" line */
	RQ_BULK_DATA,  /* left bytes of a bulk string and its CRLF */
	RQ_INLINE,     /* an inline command's line */
	RQ_SUBSCRIBED, /* after a SUBSCRIBE: commands are no longer answered in order */
};

struct redis_req {
	enum redis_req_state state;
	struct wire_line line;
	uint64_t args;	  /* arguments still to come */
	uint64_t left;	  /* of the current bulk string, CRLF included */
	uint64_t arg_len; /* the current argument's length */
	unsigned arg;	  /* its index: 0 is the command name, 1 maybe a subcommand */
	size_t got;	  /* bytes of it copied into word */
	bool keep_arg;	  /* this argument is a name: copy it */
	bool truncated;	  /* this command's truncation was counted */
	char word[WIRE_OPERATION_LEN + 1];
	struct redis_cmd cur;
};

enum redis_rsp_state {
	RS_START,  /* a value's type byte and line */
	RS_BULK,   /* left bytes of a bulk value and its CRLF */
	RS_IGNORE, /* replies nobody is waiting for */
};

struct redis_rsp {
	enum redis_rsp_state state;
	struct wire_line line;
	uint64_t left;
	uint64_t frames[REDIS_DEPTH_MAX]; /* values still to come in each open aggregate */
	bool attr[REDIS_DEPTH_MAX];	  /* ... which is an attribute, not a value itself */
	unsigned depth;
	uint8_t top; /* the type byte of the top-level value being read */
	bool error;  /* it is an error */
	char error_type[WIRE_ERROR_LEN + 1];
	size_t blob_got; /* bytes of a top-level blob error's first word copied */
	bool blob_done;	 /* ... all of it */
	bool truncated;
};

struct redis_conn {
	struct redis_req req;
	struct redis_rsp rsp;
	struct redis_cmd pending[REDIS_PENDING_MAX];
	unsigned first, count;
	unsigned overflow; /* commands dropped for want of room, answered after those kept */
	bool lost;	   /* framing unknown: waiting for a chunk that starts a command */
	bool done;	   /* subscribed: nothing more is parsed */
};

struct redis_feed {
	struct redis_conn *r;
	const struct wire_chunk *c;
	struct wire_stats *stats;
	wire_call_fn fn;
	void *ctx;
};

void redis_rsp_reset(struct redis_rsp *s);
/* The framing is lost: pending commands are dropped, the chunk counted unparseable. */
void redis_lose(struct redis_feed *f);
/* Consumes some reply bytes; returns how many. */
size_t redis_rsp_step(struct redis_feed *f, const uint8_t *d, size_t n);
/* Uncaptured reply bytes; false if they fall where the framing needed to see them. */
bool redis_rsp_gap(struct redis_feed *f, uint64_t gap);

#endif
