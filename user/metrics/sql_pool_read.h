/* SPDX-License-Identifier: Apache-2.0 */
/* What a database/sql pool's own state says, from the bytes of its sql.DB read out of the
 * target's memory: the same figures as its (*DB).Stats() — open, idle and in-use connections,
 * the limit, the waits and the connections closed by each limit — plus the requests waiting
 * for a connection right now (DB.Stats does not expose those: len(DB.connRequests)).
 *
 * Pure: no process is read here (metrics/sql_pools.c does that). The bytes are checked before
 * anything is believed: a struct whose figures no live pool can have (negative counts, more
 * idle connections than open ones, a counter that went backwards, another connector) is
 * refused with the reason, never exported. */
#ifndef GLIMPSE_SQL_POOL_READ_H
#define GLIMPSE_SQL_POOL_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binfmt/go_offsets.h"

/* How DB.connRequests is kept: a map[uint64]chan connRequest up to Go 1.22 (its count is the
 * first word of the runtime's bucket map header), a connRequestSet (a slice) since 1.23. */
enum sql_pool_requests {
	SQL_POOL_REQUESTS_UNKNOWN, /* neither readable: pending requests are not reported */
	SQL_POOL_REQUESTS_MAP,
	SQL_POOL_REQUESTS_SET,
};

/* Offsets within sql.DB (go_offsets.h), and how many of its bytes one read takes. */
struct sql_pool_layout {
	int32_t wait_duration, connector, free_conn, conn_requests, num_open, closed, max_open, wait_count;
	int32_t closed_max_idle, closed_max_idle_time, closed_max_lifetime;
	enum sql_pool_requests requests;
	int32_t requests_len; /* SET: offset of the slice's length within the DB */
	uint32_t span;	      /* bytes from the DB's start to the end of the last field read */
};

/* A bound no real pool comes near: a count beyond it is not a count. */
#define SQL_POOL_MAX_COUNT (1LL << 32)

/* NULL, and *out, when the binary's offsets name every field DB.Stats reads; else why not (a
 * phrase for "pool metrics are not measured: ..."). map_layout is enum gotrace_map_layout:
 * a connRequests map is counted only in the bucket layout its header is known in. */
const char *sql_pool_layout_from_offsets(const struct go_http_offsets *o, uint32_t map_layout,
					 struct sql_pool_layout *out);

struct sql_pool_stats {
	int64_t max_open; /* DBStats.MaxOpenConnections: 0 for no limit */
	int64_t open, idle, in_use;
	int64_t pending; /* requests waiting for a connection; -1: unknown (the layout) */
	int64_t wait_count, wait_duration_ns;
	int64_t closed_max_idle, closed_max_idle_time, closed_max_lifetime;
	uint64_t connector[2]; /* the driver.Connector interface: the same for the DB's whole life */
	bool closed;	       /* DB.Close was called */
};

/* For SQL_POOL_REQUESTS_MAP: where the map header lies (0: none). */
uint64_t sql_pool_requests_map(const struct sql_pool_layout *l, const uint8_t *db, size_t len);

/* Decodes len >= l->span bytes read at a DB. map_count is the connRequests map's count (for
 * SQL_POOL_REQUESTS_MAP; read at sql_pool_requests_map's address, else ignored). NULL when the
 * figures are a live pool's, else what is wrong with them. */
const char *sql_pool_decode(const struct sql_pool_layout *l, const uint8_t *db, size_t len, int64_t map_count,
			    struct sql_pool_stats *out);

/* NULL when cur can follow prev (read earlier from the same address): the same connector,
 * counters that never went back. */
const char *sql_pool_follows(const struct sql_pool_stats *prev, const struct sql_pool_stats *cur);

/* db.client.connection.pool.name of a process's n-th pool (n >= 1) of a database system, in the
 * order glimpse first saw them query: "postgresql", "postgresql-2", … */
void sql_pool_name(const char *system, unsigned n, char *out, size_t len);

#endif
