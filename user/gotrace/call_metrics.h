/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics from decoded calls (gotrace/call.h): HTTP server and client durations and database
 * operation durations, recorded into a metrics registry. Shared by attach and the agent. */
#ifndef GLIMPSE_GOTRACE_CALL_METRICS_H
#define GLIMPSE_GOTRACE_CALL_METRICS_H

#include "gotrace/call.h"
#include "metrics/registry.h"

void metrics_record_call(struct metrics_registry *reg, int target, const struct call *c);

#endif
