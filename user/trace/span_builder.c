// SPDX-License-Identifier: Apache-2.0
#include "trace/span_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gotrace/call_metrics.h"
#include "metrics/registry.h"
#include "metrics/registry.h"
#include "gotrace/route.h"
#include "gotrace/sql_text.h"

void span_builder_init(struct span_builder *b, const struct span_builder_opts *opts,
		       struct db_driver_cache *drivers)
{
	struct timespec mono, real;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	b->opts = *opts;
	b->drivers = drivers;
	b->mono_to_unix_ns = (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

static void copy_field(char *dst, size_t dstlen, const char *src, size_t len)
{
	snprintf(dst, dstlen, "%.*s", (int)len, src);
}

static void build_http(struct span_builder *b, const struct gotrace_event *ev, int target,
		       struct span_record *s)
{
	char path[GOTRACE_PATH_LEN + 1], pattern[GOTRACE_PATH_LEN + 1];
	copy_field(s->method, sizeof(s->method), ev->method, ev->method_len);
	snprintf(s->method, sizeof(s->method), "%s", http_method_normalize(s->method));
	copy_field(path, sizeof(path), ev->path, ev->path_len);
	copy_field(pattern, sizeof(pattern), ev->route, ev->route_len);
	s->status = ev->status;
	if (ev->kind == GOTRACE_SERVER) {
		s->kind = SPAN_SERVER;
		if (!s->status)
			s->status = 200; /* the handler wrote nothing: Go answers 200 */
		route_for_request(ev->route_len ? pattern : NULL, path, s->status, s->route,
				  sizeof(s->route));
		if (b->opts.routes && s->route[0])
			metrics_registry_cap_route(b->opts.routes, target, s->route, s->route,
						   sizeof(s->route));
		if (b->opts.url_path)
			snprintf(s->url_path, sizeof(s->url_path), "%s", path);
		/* No route (nothing matched): the span is named by its method alone, as OTel does. */
		snprintf(s->name, sizeof(s->name), s->route[0] ? "%s %s" : "%s", s->method, s->route);
		s->error = s->status >= 500;
	} else {
		s->kind = SPAN_CLIENT;
		char host[GOTRACE_HOST_LEN + 1];
		copy_field(host, sizeof(host), ev->host, ev->host_len);
		split_host_port(host, s->server_address, sizeof(s->server_address), &s->server_port);
		snprintf(s->name, sizeof(s->name), "%s", s->method);
		/* A client call fails on a 4xx too, and when no response came at all. */
		s->error = s->status == 0 || s->status >= 400;
	}
	if (s->error)
		snprintf(s->error_type, sizeof(s->error_type), "%u", s->status ? s->status : 0);
	if (s->error && !s->status)
		snprintf(s->error_type, sizeof(s->error_type), "_OTHER");
}

static void build_sql(struct span_builder *b, const struct gotrace_event *ev, struct span_record *s)
{
	s->kind = SPAN_CLIENT;
	size_t len = ev->query_len < GOTRACE_QUERY_LEN ? ev->query_len : GOTRACE_QUERY_LEN;
	snprintf(s->db_system, sizeof(s->db_system), "%s",
		 db_driver_system(b->drivers, (pid_t)ev->pid, ev->driver_pc));
	sql_operation(ev->query, len, s->db_operation, sizeof(s->db_operation));
	sql_collection(ev->query, len, s->db_collection, sizeof(s->db_collection));
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
	s->error = ev->flags & GOTRACE_F_ERROR;
	if (s->error)
		snprintf(s->error_type, sizeof(s->error_type), "_OTHER");
}

void span_builder_build(struct span_builder *b, const struct gotrace_event *ev, int target,
			struct span_record *s)
{
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
	s->local_child = has_parent && ev->kind != GOTRACE_SERVER;
	if (ev->kind == GOTRACE_SQL_QUERY || ev->kind == GOTRACE_SQL_EXEC)
		build_sql(b, ev, s);
	else
		build_http(b, ev, target, s);
}
