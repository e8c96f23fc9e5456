// SPDX-License-Identifier: Apache-2.0
/* A gRPC call's event → struct call: rpc.method, rpc.response.status_code, the error rules of
 * metrics/semconv.h (server and client differ), server.address and server.port. */
#include "gotrace/call.h"

#include <stdio.h>
#include <string.h>

#include "metrics/semconv.h"

/* A client's target ("127.0.0.1:50051", "dns:///api.example.com:443", "passthrough:///x")
 * → host and port: the scheme and authority are not the server's. */
static void target_host_port(const char *target, char *host, size_t len, uint16_t *port)
{
	/* unix:///abs/path (empty authority) and unix:path name a socket, not a host. */
	if (!strncmp(target, "unix:", 5)) {
		snprintf(host, len, "%s", target + (strncmp(target, "unix://", 7) ? 5 : 7));
		*port = 0;
		return;
	}
	const char *scheme = strstr(target, "://");
	if (scheme) {
		const char *path = strchr(scheme + 3, '/');
		target = path ? path + 1 : scheme + 3;
	}
	split_host_port(target, host, len, port);
}

bool grpc_call_decode(const struct gotrace_event *ev, struct call *c)
{
	bool server = ev->kind == GOTRACE_GRPC_SERVER;
	c->kind = server ? CALL_RPC_SERVER : CALL_RPC_CLIENT;
	if (!(ev->flags & GOTRACE_F_GRPC_STATUS)) {
		c->unmeasured = true;
		snprintf(c->writer_type, sizeof(c->writer_type),
			 "gRPC client calls whose stream or final error is of a type glimpse does not know");
		return false;
	}
	/* Full method names are "/package.Service/Method": the attribute drops the slash. */
	const char *method = ev->path;
	size_t len = ev->path_len < GOTRACE_PATH_LEN ? ev->path_len : GOTRACE_PATH_LEN;
	if (len && method[0] == '/') {
		method++;
		len--;
	}
	if ((ev->flags & GOTRACE_F_GRPC_UNKNOWN) || !len || (ev->flags & GOTRACE_F_TRUNCATED))
		snprintf(c->rpc_method, sizeof(c->rpc_method), "_OTHER");
	else
		snprintf(c->rpc_method, sizeof(c->rpc_method), "%.*s", (int)len, method);
	const char *name = semconv_grpc_code_name(ev->status);
	if (name)
		snprintf(c->rpc_status, sizeof(c->rpc_status), "%s", name);
	else
		snprintf(c->rpc_status, sizeof(c->rpc_status), "%u", ev->status);
	c->error = server ? semconv_grpc_server_error(ev->status) : semconv_grpc_client_error(ev->status);
	if (c->error)
		snprintf(c->error_type, sizeof(c->error_type), "%s", c->rpc_status);
	if (server) {
		c->server_port = ev->local_port;
		call_server_address(ev, c);
	} else {
		char target[GOTRACE_HOST_LEN + 1];
		snprintf(target, sizeof(target), "%.*s", ev->host_len, ev->host);
		target_host_port(target, c->server_address, sizeof(c->server_address), &c->server_port);
	}
	return true;
}
