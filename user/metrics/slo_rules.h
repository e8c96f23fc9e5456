/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus rules for service level objectives, built on glimpse's own series
 * (http_server_request_duration_seconds and rpc_server_call_duration_seconds, with the service
 * in `job`): per objective, a recording
 * rule of its bad share per burn-rate window and the scheme's page and ticket alerts
 * (metrics/slo.h). `promtool check rules` accepts the output. */
#ifndef GLIMPSE_SLO_RULES_H
#define GLIMPSE_SLO_RULES_H

#include <stdio.h>

#include "metrics/slo.h"

/* The recording rule of the bad share over a window: "glimpse:slo_bad:ratio_rate5m". */
#define SLO_RULE_PREFIX "glimpse:slo_bad:ratio_rate"

/* One rule group per objective. 0, or -EIO when out could not be written. */
int slo_rules_write(FILE *out, const struct slo_objective *objs, int n);

#endif
