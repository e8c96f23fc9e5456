/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in live dashboard, served by the Prometheus exporter's HTTP server: the page and
 * its script and style at /, /dashboard.js, /dashboard.css (embedded in the binary at build
 * time), GET /api/snapshot (the newest state as JSON, dash_json.h), GET /api/stream (the same
 * JSON as server-sent events, one per second) and GET /api/trace?id= (one kept trace,
 * dash_traces.h), GET /api/profile (the CPU flame graph of the newest profile interval,
 * dash_profile.h). While someone uses the dashboard (a request or an open stream within
 * DASH_IDLE_S), a sampler thread snapshots the registry once a second and keeps the last
 * DASH_HISTORY snapshots (sparklines, windowed rates); the JSON is rendered once per tick
 * whatever the number of viewers. Idle, it takes no snapshot and holds none. Read-only. */
#ifndef GLIMPSE_DASHBOARD_H
#define GLIMPSE_DASHBOARD_H

#include <microhttpd.h>
#include <stdbool.h>

#include "metrics/registry.h"

#define DASH_HISTORY	 121 /* snapshots kept: two minutes of one-second points */
#define DASH_MAX_STREAMS 8   /* concurrent /api/stream viewers (each holds a server thread) */
#define DASH_IDLE_S	 300 /* the sampler stops this long after the last request */

struct dashboard;

/* Starts the sampler. NULL when out of memory or no thread. reg must outlive the dashboard. */
struct dashboard *dashboard_start(struct metrics_registry *reg);
/* The traces to list and show (trace/trace_recent.h); NULL, the default: traces are off. */
struct trace_recent;
void dashboard_set_traces(struct dashboard *d, struct trace_recent *recent);
/* The CPU flame graph to serve (attach --profile); NULL, the default: profiling is off. */
struct dash_profile;
void dashboard_set_profile(struct dashboard *d, struct dash_profile *profile);
/* Whether url is one of the dashboard's. */
bool dashboard_serves(const char *url);
/* Answers a GET or HEAD of a url dashboard_serves. Needs a server that runs a thread per
 * connection: a stream's reader waits for the next tick. */
enum MHD_Result dashboard_reply(struct dashboard *d, struct MHD_Connection *conn, const char *url);
/* Ends the streams (call before stopping the HTTP server, whose threads wait for them). */
void dashboard_shutdown(struct dashboard *d);
/* Stops the sampler and frees d (after the server stopped). NULL is fine. */
void dashboard_free(struct dashboard *d);

#endif
