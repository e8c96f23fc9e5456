// SPDX-License-Identifier: Apache-2.0
#include "gotrace/call.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "base/log.h"
#include "gotrace/router_route.h"
#include "gotrace/router_tree.h"
#include "gotrace/sql_text.h"
#include "metrics/registry.h"
#include "metrics/semconv.h"

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

void call_server_address(const struct gotrace_event *ev, struct call *c)
{
	char hostport[GOTRACE_HOST_LEN + 1], host[GOTRACE_HOST_LEN + 1];
	uint16_t port;
	if (!ev->host_len || ev->host_len > GOTRACE_HOST_LEN)
		return;
	snprintf(hostport, sizeof(hostport), "%.*s", ev->host_len, ev->host);
	split_host_port(hostport, host, sizeof(host), &port);
	bool v6 = strchr(host, ':') != NULL;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_' && !(v6 && *p == ':'))
			return;
	if (host[0] && strlen(host) < sizeof(c->server_address))
		snprintf(c->server_address, sizeof(c->server_address), "%s", host);
}

/* httprouter: the template of the router's that matches the request (1), none when none does
 * (0: it answered a redirect, 404 or 405), -1 when its routes cannot be read or the path was
 * truncated (said once: the path heuristic stands in). */
static int httprouter_template(const struct gotrace_event *ev, const char *method, struct call *c)
{
	static _Atomic bool reported;
	struct gotrace_httprouter_ref ref;
	int rc = -ENOENT;
	if (ev->route_len >= sizeof(ref) && !(ev->flags & GOTRACE_F_TRUNCATED)) {
		memcpy(&ref, ev->route, sizeof(ref));
		rc = httprouter_route((pid_t)ev->pid, &ref, method, c->path, c->route, sizeof(c->route));
	}
	if (rc < 0 && !(ev->flags & GOTRACE_F_TRUNCATED) && !atomic_exchange(&reported, true))
		log_warn("process %u: httprouter's routes cannot be read (%s): its requests' http.route "
			 "comes from the path heuristic",
			 ev->pid, strerror(-rc));
	return rc < 0 ? -1 : rc;
}

static bool decode_http(const struct gotrace_event *ev, struct db_driver_cache *drivers,
			const struct gotrace_types *types, struct call *c)
{
	char method[GOTRACE_METHOD_LEN + 1], pattern[GOTRACE_PATH_LEN + 1];
	snprintf(method, sizeof(method), "%.*s", ev->method_len, ev->method);
	snprintf(c->method, sizeof(c->method), "%s", http_method_normalize(method));
	if (ev->kind == GOTRACE_SERVER) {
		c->kind = CALL_HTTP_SERVER;
		/* HTTP/2's connection preface ("PRI * HTTP/2.0"), which h2c takes over from net/http's
		 * HTTP/1 server for the length of the connection: not a request. */
		if (!strcmp(method, "PRI") && ev->path_len == 1 && ev->path[0] == '*' && ev->proto_major == 2)
			return false;
		/* net/http's writers are known by address; anything else is named from its code.
		 * The status is the one read behind the writer of that type. */
		enum go_writer_kind writer;
		if (types && types->h1_writer && ev->driver_pc == types->h1_writer)
			writer = GO_WRITER_HTTP1;
		else if (types && ((types->h2_writer && ev->driver_pc == types->h2_writer) ||
				   (types->xnet_writer && ev->driver_pc == types->xnet_writer))) {
			writer = GO_WRITER_HTTP2; /* net/http's bundled HTTP/2, or x/net/http2's */
			if (ev->driver_pc == types->xnet_writer) /* named, should its offsets be unknown */
				snprintf(c->writer_type, sizeof(c->writer_type),
					 "golang.org/x/net/http2.(*responseWriter)");
		} else
			writer = go_response_writer_kind(drivers, (pid_t)ev->pid, ev->driver_pc,
							 c->writer_type, sizeof(c->writer_type));
		if (writer == GO_WRITER_HTTP1)
			c->status = (uint16_t)semconv_http_server_status(ev->status);
		else if (writer == GO_WRITER_HTTP2 && (ev->flags & GOTRACE_F_H2_STATUS))
			c->status = (uint16_t)semconv_http_server_status(ev->status_h2);
		else
			c->unmeasured = true;
		c->protocol_version = semconv_http_protocol_version(ev->proto_major, ev->proto_minor);
		c->server_port = ev->local_port;
		call_server_address(ev, c);
		snprintf(c->path, sizeof(c->path), "%.*s", ev->path_len, ev->path);
		size_t route_len = ev->route_len < GOTRACE_PATH_LEN ? ev->route_len : GOTRACE_PATH_LEN;
		int routed = -1; /* 1: the router's template; 0: the router matched none; -1: no router */
		if (ev->router == GOTRACE_ROUTER_HTTPROUTER)
			routed = httprouter_template(ev, method, c);
		else if (ev->router) { /* its template whatever the status, or none: it matched none */
			router_route(ev->router, ev->route, route_len, c->route, sizeof(c->route));
			routed = c->route[0] ? 1 : 0;
		}
		if (!c->route[0] && routed != 0) {
			snprintf(pattern, sizeof(pattern), "%.*s", (int)route_len, ev->route);
			route_for_request(route_len && !ev->router ? pattern : NULL, c->path, c->status,
					  c->route, sizeof(c->route));
		}
		c->error = semconv_http_server_error(c->status);
	} else {
		char hostport[GOTRACE_HOST_LEN + 1];
		c->kind = CALL_HTTP_CLIENT;
		c->status = ev->status;
		snprintf(hostport, sizeof(hostport), "%.*s", ev->host_len, ev->host);
		split_host_port(hostport, c->server_address, sizeof(c->server_address), &c->server_port);
		c->error = semconv_http_client_error(c->status);
	}
	if (c->error)
		semconv_http_error_type(c->status, c->error_type, sizeof(c->error_type));
	return true;
}

static void decode_db(const struct gotrace_event *ev, struct db_driver_cache *drivers, struct call *c)
{
	size_t len = ev->query_len < GOTRACE_QUERY_LEN ? ev->query_len : GOTRACE_QUERY_LEN;
	c->kind = CALL_DB;
	c->db_system = drivers ? db_driver_system(drivers, (pid_t)ev->pid, ev->driver_pc) : "other_sql";
	sql_operation(ev->query, len, c->db_operation, sizeof(c->db_operation));
	sql_collection(ev->query, len, c->db_collection, sizeof(c->db_collection));
	c->error = ev->flags & GOTRACE_F_ERROR;
	if (c->error)
		snprintf(c->error_type, sizeof(c->error_type), "%s", SEMCONV_DB_ERROR_TYPE);
}

bool call_decode(const struct gotrace_event *ev, struct db_driver_cache *drivers,
		 const struct gotrace_types *types, struct call *out)
{
	memset(out, 0, sizeof(*out));
	out->ev = ev;
	out->duration_ns = ev->end_ns > ev->start_ns ? ev->end_ns - ev->start_ns : 0;
	switch (ev->kind) {
	case GOTRACE_SERVER:
	case GOTRACE_CLIENT:
		return decode_http(ev, drivers, types, out) && !out->unmeasured;
	case GOTRACE_SQL_QUERY:
	case GOTRACE_SQL_EXEC:
	case GOTRACE_STMT_QUERY:
	case GOTRACE_STMT_EXEC:
		decode_db(ev, drivers, out);
		return true;
	case GOTRACE_GRPC_SERVER:
	case GOTRACE_GRPC_CLIENT:
		return grpc_call_decode(ev, out);
	default:
		return false;
	}
}

void call_report_unmeasured(const struct call *c, bool *reported)
{
	if (*reported)
		return;
	*reported = true;
	if (c->kind == CALL_RPC_CLIENT || c->kind == CALL_RPC_SERVER) {
		log_warn("process %u: %s are not measured; they are counted in "
			 "glimpse_requests_unmeasured_total",
			 c->ev->pid, c->writer_type);
		return;
	}
	log_warn("process %u: requests served through %s are not measured (glimpse reads the status only "
		 "behind net/http's own HTTP/1 and HTTP/2 writers); they are counted in "
		 "glimpse_requests_unmeasured_total",
		 c->ev->pid, c->writer_type);
}
