/* SPDX-License-Identifier: Apache-2.0 */
/* One PostgreSQL connection's parser state, shared by its two halves: postgres_wire.c frames
 * the messages of both directions, postgres_calls.c says what they mean for calls. */
#ifndef GLIMPSE_SOCKCAP_POSTGRES_CONN_H
#define GLIMPSE_SOCKCAP_POSTGRES_CONN_H

#include "sockcap/wire.h"
#include "sockcap/wire_internal.h"

/* Each waiting call holds its query text (1 KiB): drivers pipeline rounds, rarely many. */
#define PG_PENDING_MAX 4
#define PG_STMTS       32
#define PG_STMT_NAME   64 /* NAMEDATALEN: longer names are not remembered */
#define PG_STMT_TEXT   256
#define PG_MSG_MAX     0x40000000u /* PostgreSQL's own limit (1 GB) */
#define PG_STARTUP_MAX 10000u	   /* the server's limit on a startup packet */
/* What of a message body is kept: a Parse's statement name and text; an ErrorResponse's
 * first fields, where the SQLSTATE ('C') comes before the message text. */
#define PG_CLIENT_KEEP (PG_STMT_NAME + WIRE_QUERY_LEN + 1)
#define PG_SERVER_KEEP 128

#define PG_CODE_CANCEL 80877102u
#define PG_CODE_SSL    80877103u
#define PG_CODE_GSSENC 80877104u

struct pg_call {
	uint64_t start_ns;
	char query[WIRE_QUERY_LEN + 1];
	bool query_truncated;
	bool error;
	char error_type[WIRE_ERROR_LEN + 1];
	bool silent;	   /* a Sync with nothing before it, a FunctionCall: answered, never reported */
	bool prepare_only; /* a round that parsed a statement and executed nothing (a driver's
			    * Prepare: pgx's first use of a statement on a connection) */
};

struct pg_stmt {
	char name[PG_STMT_NAME];
	char text[PG_STMT_TEXT];
	bool truncated;
	bool used;
	uint32_t born; /* for evicting the oldest */
};

/* One direction's framing. */
struct pg_dir {
	bool untyped; /* startup-phase messages: a length and a code, no type byte */
	uint8_t hdr[5];
	size_t hdr_got;
	uint8_t type;
	uint32_t body_len;
	uint64_t left; /* body bytes still to come */
	size_t got;    /* body bytes kept */
	bool in_body;
	bool truncated; /* this message's truncation was counted */
	uint64_t start_ns;
};

struct pg_conn {
	struct pg_dir cl, sv;
	uint8_t cbody[PG_CLIENT_KEEP];
	uint8_t sbody[PG_SERVER_KEEP];
	bool first_seen;		 /* the client's first chunk said whether startup comes */
	bool answer_ssl;		 /* the server's next byte answers an SSLRequest/GSSENCRequest */
	bool round_open;		 /* extended-protocol messages since the last Sync */
	bool round_query;		 /* ... and the round's query is known */
	bool round_parse, round_execute; /* ... it had a Parse, an Execute */
	struct pg_call round;
	struct pg_call pending[PG_PENDING_MAX];
	unsigned first, count, overflow;
	struct pg_stmt stmts[PG_STMTS];
	uint32_t clock;
	bool lost; /* framing unknown: waiting for a chunk that starts a message */
	bool done; /* encrypted, or cancelled: nothing more is parsed */
};

struct pg_feed {
	struct pg_conn *g;
	const struct wire_chunk *c;
	struct wire_stats *stats;
	wire_call_fn fn;
	void *ctx;
};

static inline uint32_t pg_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A whole client message (its first got bytes kept; whole: all of it): false if it cannot be
 * one (a startup packet of an unknown protocol). */
bool pg_client_msg(struct pg_feed *f, bool untyped, uint8_t type, size_t got, bool whole);
/* A whole server message, its first got bytes kept. */
void pg_server_msg(struct pg_feed *f, uint8_t type, size_t got);

#endif
