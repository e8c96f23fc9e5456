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
/* Whether a server call's ResponseWriter is net/http's own *response (HTTP/1), the one type
 * whose status glimpse reads; the BPF side reports the first method of its itab. Otherwise
 * type receives the type's name from the code ("net/http.(*http2responseWriter)"), or "unknown"
 * when the code is not named. Cached per (process, address) with the drivers. */
bool go_response_writer_is_http1(struct db_driver_cache *c, pid_t pid, uint64_t pc, char *type, size_t len);
void db_driver_cache_free(struct db_driver_cache *c);

#endif
