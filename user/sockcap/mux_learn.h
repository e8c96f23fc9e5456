/* SPDX-License-Identifier: Apache-2.0 */
/* The socket path's http.route for a Go service: the pattern its http.ServeMux serves each
 * request with, as the uprobes record it (Request.pat), at no cost per request.
 *
 * A short learning window finds each server's handler: a uprobe on the entry of
 * net/http.serverHandler.ServeHTTP (bpf/gomux.bpf.c) reports each (server, local port) once
 * with its Handler, and is detached as soon as every listening TCP port of the process has
 * been seen, or after MUX_LEARN_MAX_HITS hits in all (its hits are counted: glimpse.probe.hits).
 * A Handler whose itab is *ServeMux's (or a nil one: http.DefaultServeMux, found by its symbol,
 * or in a stripped binary as the receiver of the (*ServeMux).ServeHTTP call that gets the same
 * request on the same goroutine — a second uprobe of the window there) has its patterns read from memory (sockcap/mux_read.h) and requests on
 * that port are matched in user space (sockcap/mux_match.h); any other handler — a wrapper
 * that may rewrite the path, a router — is named once in the log and its port keeps the path
 * heuristic. The mux is read again every 10 s, and when a request matches nothing (at most once
 * a second): patterns registered later. Go 1.21 and older, and GODEBUG=httpmuxgo121=1, record no
 * pattern on the uprobe path either: nothing is learned there (routes stay heuristic, as the
 * uprobes have them). */
#ifndef GLIMPSE_SOCKCAP_MUX_LEARN_H
#define GLIMPSE_SOCKCAP_MUX_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gotrace/target.h"

#define MUX_LEARN_MAX_HITS  64
#define MUX_LEARN_MAX_PORTS 32

struct mux_learn;

/* Whether target t's routes can be learned at all, and if not why (for inspect and the log). */
bool mux_learn_possible(const struct go_target *t, const char **why);

/* Loads the probe and attaches it to t->pid (t from go_target_open). 0, or an exit code after
 * logging why (the heuristic then applies). */
int mux_learn_start(const struct go_target *t, struct mux_learn **out);
/* The probe's ring buffer: a record on it means a server was seen (wake up and look). */
int mux_learn_events_fd(const struct mux_learn *l);
/* ring_buffer_sample_fn for that ring (ctx: the mux_learn). */
int mux_learn_on_event(void *ctx, void *data, size_t len);
/* Detaches once the window has seen what it needs or used its hits; reads each mux again every
 * 10 s. Cheap: call each poll. */
void mux_learn_tick(struct mux_learn *l);

/* The ServeMux pattern string that serves a request on local port `port` (method as sent,
 * host the Host header, path the request-target's path); NULL when none does or when the
 * port's handler is not a ServeMux glimpse read: route_for_request then applies the heuristic
 * (or no route for 404/405), exactly as the uprobe path does without a pattern. Valid until
 * the next call. */
const char *mux_learn_pattern(struct mux_learn *l, uint16_t port, const char *method, const char *host,
			      const char *path);

/* Uprobe hits of the window so far (they stop when it closes). */
uint64_t mux_learn_hits(const struct mux_learn *l);
bool mux_learn_window_open(const struct mux_learn *l);
/* "port 8080: ServeMux, 7 patterns; port 9090: not a ServeMux (heuristic)" ("" when none yet). */
void mux_learn_describe(const struct mux_learn *l, char *buf, size_t len);
/* Detaches the window if it is still open (glimpse detaches); NULL is fine. */
void mux_learn_close(struct mux_learn *l);
/* Detaches and frees (NULL is fine). */
void mux_learn_free(struct mux_learn *l);

#endif
