// SPDX-License-Identifier: Apache-2.0
#include "trace/span_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "gotrace/call_metrics.h"
#include "metrics/registry.h"
#include "metrics/registry.h"
#include "gotrace/route.h"
#include "gotrace/sql_text.h"

void span_builder_init(struct span_builder *b, const struct span_builder_opts *opts,
		       struct db_driver_cache *drivers)
{
	b->opts = *opts;
	b->drivers = drivers;
	b->mono_to_unix_ns = clock_mono_to_real_ns();
}

static void copy_field(char *dst, size_t dstlen, const char *src, size_t len)
{
	snprintf(dst, dstlen, "%.*s", (int)len, src);
}

static void build_http(struct span_builder *b, const struct call *c, int target, struct span_record *s)
{
	const struct gotrace_event *ev = c->ev;
	snprintf(s->method, sizeof(s->method), "%s", c->method);
	s->status = c->status;
	s->error = c->error;
	snprintf(s->error_type, sizeof(s->error_type), "%s", c->error_type);
	if (c->kind == CALL_HTTP_SERVER) {
		s->kind = SPAN_SERVER;
		snprintf(s->route, sizeof(s->route), "%s", c->route);
		if (b->opts.routes && s->route[0])
			metrics_registry_cap_route(b->opts.routes, target, s->route, s->route,
						   sizeof(s->route));
		if (b->opts.url_path)
			copy_field(s->url_path, sizeof(s->url_path), ev->path, ev->path_len);
		if (c->protocol_version)
			snprintf(s->protocol_version, sizeof(s->protocol_version), "%s", c->protocol_version);
		s->server_port = c->server_port;
		/* From the Host or :authority (spans only: on metrics it is opt-in, and the client
		 * chooses it, so each value would be a series). */
		snprintf(s->server_address, sizeof(s->server_address), "%s", c->server_address);
		/* No route (nothing matched): the span is named by its method alone, as OTel does. */
		if (s->route[0])
			snprintf(s->name, sizeof(s->name), "%s %s", s->method, s->route);
		else
			snprintf(s->name, sizeof(s->name), "%s", s->method);
	} else {
		s->kind = SPAN_CLIENT;
		snprintf(s->server_address, sizeof(s->server_address), "%s", c->server_address);
		s->server_port = c->server_port;
		snprintf(s->name, sizeof(s->name), "%s", s->method);
	}
}

static void build_db(struct span_builder *b, const struct call *c, struct span_record *s)
{
	const struct gotrace_event *ev = c->ev;
	size_t len = ev->query_len < GOTRACE_QUERY_LEN ? ev->query_len : GOTRACE_QUERY_LEN;
	s->kind = SPAN_CLIENT;
	snprintf(s->db_system, sizeof(s->db_system), "%s", c->db_system);
	snprintf(s->db_operation, sizeof(s->db_operation), "%s", c->db_operation);
	snprintf(s->db_collection, sizeof(s->db_collection), "%s", c->db_collection);
	if (b->opts.raw_query)
		copy_field(s->db_query, sizeof(s->db_query), ev->query, len);
	else
		sql_sanitize(ev->query, len, s->db_query, sizeof(s->db_query));
	if (s->db_operation[0] && s->db_collection[0])
		snprintf(s->name, sizeof(s->name), "%s %s", s->db_operation, s->db_collection);
	else if (s->db_operation[0])
		snprintf(s->name, sizeof(s->name), "%s", s->db_operation);
	else
		snprintf(s->name, sizeof(s->name), "%s", s->db_system);
	s->error = c->error;
	snprintf(s->error_type, sizeof(s->error_type), "%s", c->error_type);
}

/* gRPC: named by rpc.method, as the conventions name RPC spans. */
static void build_rpc(const struct call *c, struct span_record *s)
{
	s->kind = c->kind == CALL_RPC_SERVER ? SPAN_SERVER : SPAN_CLIENT;
	snprintf(s->rpc_system, sizeof(s->rpc_system), "grpc");
	snprintf(s->rpc_method, sizeof(s->rpc_method), "%s", c->rpc_method);
	snprintf(s->rpc_status, sizeof(s->rpc_status), "%s", c->rpc_status);
	snprintf(s->server_address, sizeof(s->server_address), "%s", c->server_address);
	s->server_port = c->server_port;
	snprintf(s->name, sizeof(s->name), "%s", c->rpc_method);
	s->error = c->error;
	snprintf(s->error_type, sizeof(s->error_type), "%s", c->error_type);
}

void span_builder_build(struct span_builder *b, const struct call *c, int target, struct span_record *s)
{
	const struct gotrace_event *ev = c->ev;
	memset(s, 0, sizeof(*s));
	memcpy(s->trace_id, ev->trace_id, sizeof(s->trace_id));
	s->span_id = ev->span_id;
	s->target = target;
	s->start_unix_ns = ev->start_ns + b->mono_to_unix_ns;
	s->end_unix_ns = ev->end_ns + b->mono_to_unix_ns;
	bool has_parent = ev->flags & GOTRACE_F_HAS_PARENT;
	s->parent_span_id = has_parent ? ev->parent_span_id : 0;
	s->remote_parent = ev->flags & GOTRACE_F_REMOTE_PARENT;
	s->parent_sampled = ev->flags & GOTRACE_F_SAMPLED;
	/* Servers' parents are remote callers; every other span with a parent hangs under a
	 * request of this process. */
	s->local_child = has_parent && ev->kind != GOTRACE_SERVER && ev->kind != GOTRACE_GRPC_SERVER;
	if (c->kind == CALL_DB)
		build_db(b, c, s);
	else if (c->kind == CALL_RPC_SERVER || c->kind == CALL_RPC_CLIENT)
		build_rpc(c, s);
	else
		build_http(b, c, target, s);
}
