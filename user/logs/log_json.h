/* SPDX-License-Identifier: Apache-2.0 */
/* Log records as JSON lines (--logs-out), for people without a collector: the OTLP record's
 * fields under their OpenTelemetry names. */
#ifndef GLIMPSE_LOGS_LOG_JSON_H
#define GLIMPSE_LOGS_LOG_JSON_H

#include <stdio.h>

#include "agent/resource.h"
#include "logs/log_record.h"

void log_json_write(FILE *out, const struct resource *res, const struct log_record *r);

#endif
