/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics from the Go tracer's events: HTTP server and client durations (and database
 * operation durations) recorded into a metrics registry. Shared by attach and the agent. */
#ifndef GLIMPSE_GO_METRICS_H
#define GLIMPSE_GO_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "gotrace/db_driver.h"
#include "gotrace.h"
#include "metrics/registry.h"

/* "host:port" or "[v6]:port" → host and port (0 when absent). */
void split_host_port(const char *hostport, char *host, size_t len, uint16_t *port);
/* drivers names the database of SQL events (NULL: "other_sql"). */
void metrics_record_event(struct metrics_registry *reg, int target, const struct gotrace_event *ev,
			  struct db_driver_cache *drivers);

#endif
