/* SPDX-License-Identifier: Apache-2.0 */
/* Finished spans as JSON lines (--spans-out), for people without a collector. */
#ifndef GLIMPSE_SPAN_JSON_H
#define GLIMPSE_SPAN_JSON_H

#include <stdio.h>

#include "agent/resource.h"
#include "trace/span.h"

void span_json_write(FILE *out, const struct resource *res, const struct span_record *s);

#endif
