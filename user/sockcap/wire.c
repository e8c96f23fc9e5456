// SPDX-License-Identifier: Apache-2.0
/* Which parser a connection gets. Each protocol's own check decides (the same one its parser
 * uses to start again after losing its way); the order only matters for bytes two checks
 * could both accept, and none can: a PostgreSQL startup packet begins with a zero byte, a RESP
 * request with '*', an HTTP/1 request line with a token and a space. */
#include "sockcap/wire.h"
#include "sockcap/wire_internal.h"

enum wire_protocol wire_detect(const uint8_t *data, size_t len)
{
	if (data == NULL || len == 0)
		return WIRE_UNKNOWN;
	if (redis_wire_detect(data, len))
		return WIRE_REDIS;
	if (http1_wire_detect(data, len))
		return WIRE_HTTP1;
	if (postgres_wire_detect(data, len))
		return WIRE_POSTGRES;
	return WIRE_UNKNOWN;
}

const struct wire_parser_ops *wire_parser_ops_for(enum wire_protocol protocol)
{
	switch (protocol) {
	case WIRE_HTTP1:
		return &http1_wire_ops;
	case WIRE_POSTGRES:
		return &postgres_wire_ops;
	case WIRE_REDIS:
		return &redis_wire_ops;
	default:
		return NULL;
	}
}
