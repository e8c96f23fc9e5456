/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics from calls seen at the sockets (sockcap/sock_streams.h), with the same names and
 * attributes as the Go tracer's: HTTP server and client durations, database operation
 * durations (client side, or server side when glimpse watches the database itself). */
#ifndef GLIMPSE_SOCKCAP_SOCK_METRICS_H
#define GLIMPSE_SOCKCAP_SOCK_METRICS_H

#include "metrics/registry.h"
#include "sockcap/sock_streams.h"

/* db.system.name of a database protocol; NULL for others. */
const char *sock_db_system(enum wire_protocol protocol);
/* db.operation.name and db.collection.name of a database call: read from a PostgreSQL statement,
 * the command name for Redis (which names no collection). Both always NUL-terminated. */
void sock_db_names(const struct wire_call *w, char *operation, size_t oplen, char *collection, size_t collen);
void sock_metrics_record(struct metrics_registry *reg, int target, const struct sock_call *c);

#endif
