/* SPDX-License-Identifier: Apache-2.0 */
/* database/sql connection-pool metrics of Go targets, read from each pool's own sql.DB in the
 * target's memory (process_vm_readv) at scrape or export time: no probe of their own. The
 * *sql.DB pointers are the ones the Go tracer's database/sql probes already carry in their
 * events (the receiver of queryDC/execDC, a statement's db); each is checked and decoded by
 * metrics/sql_pool_read.h.
 *
 * Metrics, per pool (db.client.connection.pool.name: sql_pool_name):
 *   db.client.connection.count {connection} by db.client.connection.state (idle, used)
 *   db.client.connection.max {connection} (absent when the pool has no limit)
 *   db.client.connection.pending_requests {request} (waiting for a connection now)
 *   go.sql.connection.wait_count {request}, go.sql.connection.wait_duration s (counters:
 *     DBStats.WaitCount and WaitDuration; database/sql keeps no distribution of the waits, so
 *     the semantic conventions' db.client.connection.wait_time histogram cannot be made)
 *   go.sql.connection.closed {connection} by go.sql.connection.close_reason (max_idle,
 *     max_idle_time, max_lifetime: DBStats.MaxIdleClosed etc.)
 * Thread-safe: pools are announced from the event thread, read from the exporters'. */
#ifndef GLIMPSE_SQL_POOLS_H
#define GLIMPSE_SQL_POOLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "binfmt/go_offsets.h"
#include "metrics/registry.h"
#include "metrics/sql_pool_read.h"

#define SQL_POOLS_MAX 16 /* pools per target; more are said once and not read */

struct sql_pools;

/* Registers the metrics in reg. NULL when out of memory. */
struct sql_pools *sql_pools_new(struct metrics_registry *reg);
/* A Go target that links database/sql (its probes were found), whose pools are to be read,
 * with its binary's offsets and map layout (enum gotrace_map_layout). When they do not let its
 * pools be read, says so once and returns -ENOTSUP (the target's other metrics are
 * unaffected). 0, or -ENOMEM. */
int sql_pools_add_target(struct sql_pools *p, int target, pid_t pid, const struct go_http_offsets *o,
			 uint32_t map_layout);
/* A database/sql call of target went through the *sql.DB at db, of database system (as
 * db.system.name): the first time, that pool is named and read from then on. Cheap: one
 * lookup in a handful of pools. */
void sql_pools_saw(struct sql_pools *p, int target, uint64_t db, const char *system);
void sql_pools_remove_target(struct sql_pools *p, int target);
void sql_pools_free(struct sql_pools *p);

/* The live view's words for target's pools, read now, appended to the NUL-terminated line in
 * buf (after a space): "pool postgresql used=2/2 idle=0 waiting=3" for each (nothing for
 * none; max shown as "-" without a limit, waiting as "-" when it cannot be read). p may be
 * NULL. */
void sql_pools_append_status(struct sql_pools *p, int target, char *buf, size_t len);
/* The attach summary's table of target's pools, their last reading (the process may be gone
 * by now); nothing without pools. */
void sql_pools_print_summary(struct sql_pools *p, int target, FILE *out);

/* A pool's latest reading, for the attach summary. */
struct sql_pool_row {
	char name[48];
	uint64_t db;
	struct sql_pool_stats stats;
};
/* Reads target's pools now; fills at most max rows and returns how many. */
size_t sql_pools_rows(struct sql_pools *p, int target, struct sql_pool_row *rows, size_t max);

#endif
