/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus scrape endpoint: GET /metrics renders a metrics_registry, GET /healthz answers
 * "ok", and / is the live dashboard (export/dashboard.h). Served by libmicrohttpd's threads. */
#ifndef GLIMPSE_PROM_EXPORTER_H
#define GLIMPSE_PROM_EXPORTER_H

#include <stddef.h>

#include "metrics/registry.h"

#define PROM_DEFAULT_ADDR "127.0.0.1:9464"

struct prom_exporter;

/* addr is "host:port", "[v6addr]:port" or ":port" (every IPv4 interface, only when asked
 * for); NULL or "" means PROM_DEFAULT_ADDR. Port 0 picks a free port (see prom_exporter_port).
 * On failure returns NULL with a one-line reason in err. reg must outlive the exporter. */
struct prom_exporter *prom_exporter_start(const char *addr, struct metrics_registry *reg, char *err,
					  size_t errlen);
/* The port actually listened on. */
int prom_exporter_port(const struct prom_exporter *e);
/* Where to scrape: "http://HOST:PORT/metrics" with the port actually listened on (the
 * banners print it; with port 0 the address given does not say). */
const char *prom_exporter_url(const struct prom_exporter *e);
/* The traces the dashboard lists (NULL: traces are off, which it says). recent must outlive
 * the exporter. */
struct trace_recent;
void prom_exporter_set_traces(struct prom_exporter *e, struct trace_recent *recent);
/* The dashboard's CPU flame graph (export/dash_profile.h); it must outlive the exporter. */
struct dash_profile;
void prom_exporter_set_profile(struct prom_exporter *e, struct dash_profile *profile);
/* Stops serving (waits for the server thread) and frees e. NULL is fine. */
void prom_exporter_stop(struct prom_exporter *e);

/* Splits addr as prom_exporter_start does into a socket address; 0 or -EINVAL with err set. */
struct sockaddr_storage;
int prom_parse_addr(const char *addr, struct sockaddr_storage *ss, size_t *sslen, char *err, size_t errlen);

/* Whether addr is well formed and can be listened on now (port free, address of this machine):
 * 0, -EINVAL for a malformed address or -errno of the listen, with a one-line reason in err.
 * Lets a command fail before its work rather than after. */
int prom_check_addr(const char *addr, char *err, size_t errlen);

#endif
