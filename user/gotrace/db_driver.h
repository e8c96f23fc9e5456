/* SPDX-License-Identifier: Apache-2.0 */
/* Which database a database/sql call went to: the BPF side reports the first method of the
 * driver connection's itab, code of the driver's package; its function name names the
 * driver ("github.com/lib/pq." → postgresql). Cached per (process, address). */
#ifndef GLIMPSE_DB_DRIVER_H
#define GLIMPSE_DB_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct db_driver_cache;

struct db_driver_cache *db_driver_cache_new(void);
/* db.system.name for the driver code at pc in pid; "other_sql" when unknown. */
const char *db_driver_system(struct db_driver_cache *c, pid_t pid, uint64_t pc);
/* db.system.name for a Go function name of a database/sql driver. */
const char *db_system_from_function(const char *func);
/* The ResponseWriters whose status glimpse reads: net/http's own *response (HTTP/1) and its
 * HTTP/2 server's writer (bundled up to Go 1.26, net/http/internal/http2 from 1.27). */
enum go_writer_kind {
	GO_WRITER_OTHER, /* a wrapper or another server's writer: its status is not read */
	GO_WRITER_HTTP1,
	GO_WRITER_HTTP2,
};

/* Which writer a server call went through; the BPF side reports the first method of its
 * itab (pc). type receives the type's name from the code ("net/http.(*response)"), or
 * "unknown" when the code is not named. Cached per (process, address) with the drivers. */
enum go_writer_kind go_response_writer_kind(struct db_driver_cache *c, pid_t pid, uint64_t pc, char *type,
					    size_t len);
void db_driver_cache_free(struct db_driver_cache *c);

#endif
