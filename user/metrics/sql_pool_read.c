// SPDX-License-Identifier: Apache-2.0
#include "metrics/sql_pool_read.h"

#include <stdio.h>
#include <string.h>

#include "gotrace.h"

static void grow_span(uint32_t *span, int32_t off, uint32_t size)
{
	if (off >= 0 && (uint32_t)off + size > *span)
		*span = (uint32_t)off + size;
}

const char *sql_pool_layout_from_offsets(const struct go_http_offsets *o, uint32_t map_layout,
					 struct sql_pool_layout *out)
{
	memset(out, 0, sizeof(*out));
	*out = (struct sql_pool_layout){
		.wait_duration = o->db_wait_duration,
		.connector = o->db_connector,
		.free_conn = o->db_free_conn,
		.conn_requests = o->db_conn_requests,
		.num_open = o->db_num_open,
		.closed = o->db_closed,
		.max_open = o->db_max_open,
		.wait_count = o->db_wait_count,
		.closed_max_idle = o->db_max_idle_closed,
		.closed_max_idle_time = o->db_max_idle_time_closed,
		.closed_max_lifetime = o->db_max_lifetime_closed,
		.requests_len = -1,
	};
	const int32_t need[] = { out->wait_duration,	  out->connector,	out->free_conn,
				 out->num_open,		  out->closed,		out->max_open,
				 out->wait_count,	  out->closed_max_idle, out->closed_max_idle_time,
				 out->closed_max_lifetime };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (need[i] < 0)
			return "the binary's offsets lack database/sql.DB's fields (an offsets file from "
			       "a program without database/sql?)";
	if (o->db_conn_requests >= 0 && o->conn_request_set_s >= 0) {
		out->requests = SQL_POOL_REQUESTS_SET;
		out->requests_len = o->db_conn_requests + o->conn_request_set_s + 8;
	} else if (o->db_conn_requests >= 0 && map_layout == GOTRACE_MAP_BUCKETS) {
		out->requests = SQL_POOL_REQUESTS_MAP;
	}
	grow_span(&out->span, out->wait_duration, 8);
	grow_span(&out->span, out->connector, 16);
	grow_span(&out->span, out->free_conn, 24);
	grow_span(&out->span, out->conn_requests, 8);
	grow_span(&out->span, out->requests_len, 8);
	grow_span(&out->span, out->num_open, 8);
	grow_span(&out->span, out->closed, 1);
	grow_span(&out->span, out->max_open, 8);
	grow_span(&out->span, out->wait_count, 8);
	grow_span(&out->span, out->closed_max_idle, 8);
	grow_span(&out->span, out->closed_max_idle_time, 8);
	grow_span(&out->span, out->closed_max_lifetime, 8);
	return NULL;
}

static int64_t word(const uint8_t *db, int32_t off)
{
	int64_t v;
	memcpy(&v, db + off, sizeof(v));
	return v;
}

uint64_t sql_pool_requests_map(const struct sql_pool_layout *l, const uint8_t *db, size_t len)
{
	if (l->requests != SQL_POOL_REQUESTS_MAP || len < l->span)
		return 0;
	return (uint64_t)word(db, l->conn_requests);
}

static bool count_ok(int64_t v)
{
	return v >= 0 && v < SQL_POOL_MAX_COUNT;
}

const char *sql_pool_decode(const struct sql_pool_layout *l, const uint8_t *db, size_t len, int64_t map_count,
			    struct sql_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!l->span || len < l->span)
		return "short read";
	int64_t free_len = word(db, l->free_conn + 8), free_cap = word(db, l->free_conn + 16);
	out->max_open = word(db, l->max_open);
	out->open = word(db, l->num_open);
	out->idle = free_len;
	out->wait_count = word(db, l->wait_count);
	out->wait_duration_ns = word(db, l->wait_duration);
	out->closed_max_idle = word(db, l->closed_max_idle);
	out->closed_max_idle_time = word(db, l->closed_max_idle_time);
	out->closed_max_lifetime = word(db, l->closed_max_lifetime);
	memcpy(out->connector, db + l->connector, sizeof(out->connector));
	uint8_t closed = db[l->closed];
	out->closed = closed == 1;
	out->pending = -1;
	if (l->requests == SQL_POOL_REQUESTS_SET) {
		out->pending = word(db, l->requests_len);
		if (!count_ok(out->pending) || out->pending > word(db, l->requests_len + 8))
			return "connRequests is not a slice";
	} else if (l->requests == SQL_POOL_REQUESTS_MAP) {
		if (!word(db, l->conn_requests) || !count_ok(map_count))
			return "connRequests is not a map";
		out->pending = map_count;
	}
	if (closed > 1)
		return "closed is not a bool";
	if (!out->connector[0] || !out->connector[1])
		return "no connector";
	if (!count_ok(out->open) || !count_ok(out->max_open))
		return "numOpen or maxOpen out of range";
	if (!count_ok(free_len) || free_len > free_cap || !count_ok(free_cap) ||
	    (free_cap && !word(db, l->free_conn)))
		return "freeConn is not a slice";
	if (free_len > out->open)
		return "more idle connections than open ones";
	if (!count_ok(out->wait_count) || out->wait_duration_ns < 0 || !count_ok(out->closed_max_idle) ||
	    !count_ok(out->closed_max_idle_time) || !count_ok(out->closed_max_lifetime))
		return "a counter out of range";
	out->in_use = out->open - free_len; /* both checked: no overflow, >= 0 */
	return NULL;
}

const char *sql_pool_follows(const struct sql_pool_stats *prev, const struct sql_pool_stats *cur)
{
	if (prev->connector[0] != cur->connector[0] || prev->connector[1] != cur->connector[1])
		return "its connector changed: the memory holds another object now";
	if (cur->wait_count < prev->wait_count || cur->wait_duration_ns < prev->wait_duration_ns ||
	    cur->closed_max_idle < prev->closed_max_idle ||
	    cur->closed_max_idle_time < prev->closed_max_idle_time ||
	    cur->closed_max_lifetime < prev->closed_max_lifetime)
		return "a counter went backwards: the memory holds another object now";
	return NULL;
}

void sql_pool_name(const char *system, unsigned n, char *out, size_t len)
{
	if (n <= 1)
		snprintf(out, len, "%s", system);
	else
		snprintf(out, len, "%s-%u", system, n);
}
