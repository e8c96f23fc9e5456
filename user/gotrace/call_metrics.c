// SPDX-License-Identifier: Apache-2.0
#include "gotrace/call_metrics.h"

void metrics_record_call(struct metrics_registry *reg, int target, const struct call *c)
{
	if (c->kind == CALL_DB) {
		struct db_record r = {
			.system = c->db_system,
			.operation = c->db_operation,
			.collection = c->db_collection,
			.error = c->error,
			.duration_ns = c->duration_ns,
		};
		metrics_registry_record_db(reg, target, &r);
		return;
	}
	if (c->kind == CALL_RPC_SERVER || c->kind == CALL_RPC_CLIENT) {
		struct rpc_record r = {
			.server = c->kind == CALL_RPC_SERVER,
			.system = "grpc",
			.method = c->rpc_method,
			.status = c->rpc_status,
			.error = c->error,
			.error_type = c->error_type,
			/* server: the :authority is on spans only (opt-in on metrics, and the
			 * client chooses it: each value would be a series) */
			.server_address = c->kind == CALL_RPC_CLIENT ? c->server_address : NULL,
			.server_port = c->server_port,
			.duration_ns = c->duration_ns,
		};
		metrics_registry_record_rpc(reg, target, &r);
		return;
	}
	struct http_record r = {
		.kind = c->kind == CALL_HTTP_CLIENT ? HTTP_CLIENT : HTTP_SERVER,
		.method = c->method,
		.status = c->status,
		.route = c->kind == CALL_HTTP_SERVER ? c->route : NULL,
		.protocol_version = c->protocol_version,
		.server_address = c->server_address,
		.server_port = c->server_port,
		.duration_ns = c->duration_ns,
	};
	metrics_registry_record(reg, target, &r);
}
