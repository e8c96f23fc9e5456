// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for user/metrics/sql_pool_read.c, which decodes a sql.DB's bytes read out
 * of a target's memory (anything at all, if the address no longer holds a DB). Input: one
 * byte choosing the Go version's layout (and the map layout), 8 bytes of the connRequests
 * map's count, then the DB's bytes. Checked besides memory safety: whatever is accepted is a
 * pool's possible figures, and a reading always follows itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace.h"
#include "metrics/sql_pool_read.h"

static const char *const versions[] = { "go1.19.8", "go1.21.13", "go1.22.12",
					"go1.23.5", "go1.26.8",	 "go1.27.3" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	struct go_http_offsets o;
	if (go_offsets_from_table(versions[data[0] % 6], &o))
		abort();
	uint32_t map_layout = (data[0] / 6) % 3;
	int64_t map_count;
	memcpy(&map_count, data + 1, sizeof(map_count));
	struct sql_pool_layout l;
	if (sql_pool_layout_from_offsets(&o, map_layout, &l))
		abort();
	/* Exactly the bytes given, in a buffer of their own: a read past them is caught. */
	size_t len = size - 9;
	uint8_t *db = malloc(len ? len : 1);
	if (!db)
		return 0;
	memcpy(db, data + 9, len);
	struct sql_pool_stats s;
	const char *why = sql_pool_decode(&l, db, len, map_count, &s);
	if (!why) {
		if (s.open < 0 || s.idle < 0 || s.in_use < 0 || s.idle > s.open || s.max_open < 0 ||
		    s.wait_count < 0 || s.wait_duration_ns < 0 || s.pending < -1 ||
		    s.open >= SQL_POOL_MAX_COUNT ||
		    (l.requests != SQL_POOL_REQUESTS_UNKNOWN && s.pending < 0) || !s.connector[0] ||
		    !s.connector[1] || sql_pool_follows(&s, &s))
			abort();
	} else if (!why[0]) {
		abort();
	}
	free(db);
	return 0;
}
