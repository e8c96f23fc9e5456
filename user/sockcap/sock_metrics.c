// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_metrics.h"

#include <stdio.h>
#include <string.h>

#include "gotrace/route.h"
#include "gotrace/sql_text.h"
#include "metrics/semconv.h"

const char *sock_db_system(enum wire_protocol protocol)
{
	switch (protocol) {
	case WIRE_POSTGRES:
		return "postgresql";
	case WIRE_REDIS:
		return "redis";
	default:
		return NULL;
	}
}

static void record_http(struct metrics_registry *reg, int target, const struct sock_call *c)
{
	const struct wire_call *w = c->wire;
	char route[ROUTE_MAX] = "";
	if (c->server)
		route_for_request(c->go_pattern, w->path, w->status, route, sizeof(route));
	struct http_record r = {
		.kind = c->server ? HTTP_SERVER : HTTP_CLIENT,
		.method = http_method_normalize(w->method),
		.status = w->status,
		.route = c->server ? route : NULL,
		.protocol_version = semconv_http_protocol_version(1, w->version_minor),
		.server_address = c->server ? "" : c->peer_address,
		.server_port = c->server ? c->local_port : c->peer_port,
		.duration_ns = w->end_ns > w->start_ns ? w->end_ns - w->start_ns : 0,
	};
	metrics_registry_record(reg, target, &r);
}

void sock_db_names(const struct wire_call *w, char *operation, size_t oplen, char *collection, size_t collen)
{
	collection[0] = 0;
	if (w->protocol == WIRE_POSTGRES) {
		size_t len = strnlen(w->query, sizeof(w->query));
		if (w->operation[0]) /* PREPARE: of the statement's table */
			snprintf(operation, oplen, "%s", w->operation);
		else
			sql_operation(w->query, len, operation, oplen);
		sql_collection(w->query, len, collection, collen);
	} else {
		snprintf(operation, oplen, "%s", w->operation);
	}
}

static void record_db(struct metrics_registry *reg, int target, const struct sock_call *c)
{
	const struct wire_call *w = c->wire;
	char operation[WIRE_OPERATION_LEN + 1], collection[128];
	sock_db_names(w, operation, sizeof(operation), collection, sizeof(collection));
	struct db_record r = {
		.system = sock_db_system(w->protocol),
		.operation = operation,
		.collection = collection,
		.error = w->error,
		.error_type = w->error_type,
		.server = c->server,
		.duration_ns = w->end_ns > w->start_ns ? w->end_ns - w->start_ns : 0,
	};
	metrics_registry_record_db(reg, target, &r);
}

void sock_metrics_record(struct metrics_registry *reg, int target, const struct sock_call *c)
{
	if (c->wire->protocol == WIRE_HTTP1)
		record_http(reg, target, c);
	else if (sock_db_system(c->wire->protocol))
		record_db(reg, target, c);
}
