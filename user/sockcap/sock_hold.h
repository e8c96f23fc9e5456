/* SPDX-License-Identifier: Apache-2.0 */
/* Calls of a Go program's database connections whose owner is not known yet, held for a
 * while. In a program that links database/sql, the uprobes measure what database/sql runs in
 * the calls they probe (queries, execs, prepared statements' executions); the same connection
 * also carries round trips outside those calls (a Prepare, BEGIN, COMMIT, a ping) that must
 * not be counted from the socket either. A connection is known to be database/sql's once one
 * of its calls was made inside a probed call (sock_call.go_sql_conn); until then its other
 * calls wait here: claimed by database/sql (dropped), or handed back after the hold time as a
 * native driver's (pgx, go-redis). Bounded: SOCK_HOLD_CONNS connections, SOCK_HOLD_PER_CONN
 * calls each; past that a call is not held (the caller records it at once). */
#ifndef GLIMPSE_SOCKCAP_SOCK_HOLD_H
#define GLIMPSE_SOCKCAP_SOCK_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "sockcap/sock_streams.h"

#define SOCK_HOLD_CONNS	   256
#define SOCK_HOLD_PER_CONN 8
#define SOCK_HOLD_NS	   (2ULL * 1000000000ULL)

struct sock_hold;
typedef void (*sock_hold_fn)(void *ctx, const struct sock_call *c, int target);

/* NULL when out of memory. */
struct sock_hold *sock_hold_new(void);
/* Keeps a copy of c (its wire call and Go context too) for target, held since now_ns; false
 * when it cannot be held. */
bool sock_hold_add(struct sock_hold *h, const struct sock_call *c, int target, uint64_t now_ns);
/* The connection turned out to be database/sql's: forgets its held calls; how many. */
unsigned sock_hold_drop(struct sock_hold *h, uint64_t conn_id);
/* Hands fn every call held since before before_ns (all of them: UINT64_MAX), in the order
 * they came. */
void sock_hold_release(struct sock_hold *h, uint64_t before_ns, sock_hold_fn fn, void *ctx);
/* Calls held now. */
unsigned sock_hold_count(const struct sock_hold *h);
void sock_hold_free(struct sock_hold *h);

#endif
