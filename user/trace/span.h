/* SPDX-License-Identifier: Apache-2.0 */
/* A finished span as glimpse builds it from a traced call, before any exporter's encoding. */
#ifndef GLIMPSE_SPAN_H
#define GLIMPSE_SPAN_H

#include <stdbool.h>
#include <stdint.h>

#include "gotrace.h"
#include "gotrace/route.h"

enum span_kind {
	SPAN_SERVER,
	SPAN_CLIENT
};

struct span_record {
	uint8_t trace_id[16];
	uint64_t span_id, parent_span_id; /* parent 0: a root */
	bool remote_parent, parent_sampled, local_child, error;
	enum span_kind kind;
	int target; /* metrics_registry target: whose resource */
	uint64_t start_unix_ns, end_unix_ns;
	char name[ROUTE_MAX + GOTRACE_METHOD_LEN + 2]; /* "METHOD route" */
	/* Attributes; empty strings and zero numbers are left out. */
	char method[GOTRACE_METHOD_LEN + 1], route[ROUTE_MAX], url_path[GOTRACE_PATH_LEN + 1],
		server_address[GOTRACE_HOST_LEN + 1], error_type[24], protocol_version[4];
	uint16_t status, server_port;
	char db_system[24], db_operation[32], db_collection[128], db_query[GOTRACE_QUERY_LEN + 1];
	char rpc_system[8], rpc_method[GOTRACE_PATH_LEN + 1], rpc_status[24]; /* gRPC */
};

/* The one list of a span's attributes, in the order every output writes them; empty strings
 * and zero numbers are for the visitor to leave out. */
struct span_attribute_visitor {
	void (*str)(void *ctx, const char *key, const char *value);
	void (*num)(void *ctx, const char *key, int64_t value);
};
void span_visit_attributes(const struct span_record *s, const struct span_attribute_visitor *v, void *ctx);

#endif
