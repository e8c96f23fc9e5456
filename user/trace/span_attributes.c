// SPDX-License-Identifier: Apache-2.0
#include "trace/span.h"

void span_visit_attributes(const struct span_record *s, const struct span_attribute_visitor *v, void *ctx)
{
	v->str(ctx, "http.request.method", s->method);
	v->num(ctx, "http.response.status_code", s->status);
	v->str(ctx, "http.route", s->route);
	v->str(ctx, "url.path", s->url_path);
	v->str(ctx, "network.protocol.version", s->protocol_version);
	v->str(ctx, "server.address", s->server_address);
	v->num(ctx, "server.port", s->server_port);
	v->str(ctx, "db.system.name", s->db_system);
	v->str(ctx, "db.operation.name", s->db_operation);
	v->str(ctx, "db.collection.name", s->db_collection);
	v->str(ctx, "db.query.text", s->db_query);
	v->str(ctx, "rpc.system.name", s->rpc_system);
	v->str(ctx, "rpc.method", s->rpc_method);
	v->str(ctx, "rpc.response.status_code", s->rpc_status);
	v->str(ctx, "error.type", s->error_type);
}
