// SPDX-License-Identifier: Apache-2.0
#include "gotrace/call_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace/sql_text.h"

void split_host_port(const char *hostport, char *host, size_t len, uint16_t *port)
{
	const char *colon = strrchr(hostport, ':');
	const char *close = strrchr(hostport, ']');
	*port = 0;
	size_t n = strlen(hostport);
	if (colon && (!close || colon > close)) {
		*port = (uint16_t)atoi(colon + 1);
		n = colon - hostport;
	}
	if (n >= 2 && hostport[0] == '[' && hostport[n - 1] == ']') {
		hostport++;
		n -= 2;
	}
	snprintf(host, len, "%.*s", (int)n, hostport);
}

static void record_sql(struct metrics_registry *reg, int target, const struct gotrace_event *ev,
		       struct db_driver_cache *drivers)
{
	char operation[32], collection[128];
	size_t len = ev->query_len < GOTRACE_QUERY_LEN ? ev->query_len : GOTRACE_QUERY_LEN;
	sql_operation(ev->query, len, operation, sizeof(operation));
	sql_collection(ev->query, len, collection, sizeof(collection));
	struct db_record r = {
		.system = db_driver_system(drivers, (pid_t)ev->pid, ev->driver_pc),
		.operation = operation,
		.collection = collection,
		.error = ev->flags & GOTRACE_F_ERROR,
		.duration_ns = ev->end_ns > ev->start_ns ? ev->end_ns - ev->start_ns : 0,
	};
	metrics_registry_record_db(reg, target, &r);
}

void metrics_record_event(struct metrics_registry *reg, int target, const struct gotrace_event *ev,
			  struct db_driver_cache *drivers)
{
	if (ev->kind == GOTRACE_SQL_QUERY || ev->kind == GOTRACE_SQL_EXEC) {
		record_sql(reg, target, ev, drivers);
		return;
	}
	if (ev->kind != GOTRACE_SERVER && ev->kind != GOTRACE_CLIENT)
		return;
	char method[GOTRACE_METHOD_LEN + 1], path[GOTRACE_PATH_LEN + 1], route[GOTRACE_PATH_LEN + 1];
	char hostport[GOTRACE_HOST_LEN + 1], host[GOTRACE_HOST_LEN + 1];
	snprintf(method, sizeof(method), "%.*s", ev->method_len, ev->method);
	snprintf(path, sizeof(path), "%.*s", ev->path_len, ev->path);
	snprintf(route, sizeof(route), "%.*s", ev->route_len, ev->route);
	snprintf(hostport, sizeof(hostport), "%.*s", ev->host_len, ev->host);
	struct http_record r = {
		.kind = ev->kind == GOTRACE_CLIENT ? HTTP_CLIENT : HTTP_SERVER,
		.method = method,
		.status = ev->status,
		.path = path,
		.pattern = ev->route_len ? route : NULL,
		.duration_ns = ev->end_ns > ev->start_ns ? ev->end_ns - ev->start_ns : 0,
	};
	if (r.kind == HTTP_CLIENT) {
		split_host_port(hostport, host, sizeof(host), &r.server_port);
		r.server_address = host;
	}
	metrics_registry_record(reg, target, &r);
}
