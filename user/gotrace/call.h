/* SPDX-License-Identifier: Apache-2.0 */
/* One traced call, decoded once from its BPF event (bpf/gotrace.h): what both the metrics
 * (gotrace/call_metrics.c) and the spans (trace/span_builder.c) read. The method is normalized,
 * the route chosen (ServeMux pattern, or the privacy-safe heuristic, or none when nothing
 * matched), Go's implicit 200 applied, host and port split, the database named and its SQL
 * operation and table read, and the error rules of metrics/semconv.h applied. */
#ifndef GLIMPSE_GOTRACE_CALL_H
#define GLIMPSE_GOTRACE_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "gotrace.h"
#include "gotrace/db_driver.h"
#include "gotrace/route.h"

enum call_kind {
	CALL_HTTP_SERVER,
	CALL_HTTP_CLIENT,
	CALL_DB,
	CALL_RPC_SERVER, /* gRPC: gotrace/grpc_call.c */
	CALL_RPC_CLIENT,
};

struct call {
	enum call_kind kind;
	const struct gotrace_event *ev; /* ids, times, flags and the raw SQL text */
	uint64_t duration_ns;
	char method[GOTRACE_METHOD_LEN + 1]; /* HTTP: normalized (made-up methods are _OTHER) */
	char route[ROUTE_MAX];		     /* server: "" when no route matched */
	char path[GOTRACE_PATH_LEN + 1];     /* server: the raw path (exported only if asked) */
	uint16_t status;		     /* server: 200 for Go's implicit one; client: 0 = none */
	const char *protocol_version;	     /* server: network.protocol.version, NULL: unknown */
	char server_address[GOTRACE_HOST_LEN + 1];
	uint16_t server_port; /* client: the peer's; server: the local listener's (0 = unknown) */
	const char *db_system;
	char db_operation[32], db_collection[128];
	bool error;
	char error_type[24]; /* "" unless error */
	/* A server call whose ResponseWriter glimpse does not understand (a wrapper's, another
	 * server's): its status cannot be read, so it is not recorded — counted and reported
	 * instead. */
	bool unmeasured;
	char writer_type[96];
	/* gRPC: rpc.method ("pkg.Service/Method", or _OTHER for the unknown-service handler) and
	 * rpc.response.status_code ("OK", "NOT_FOUND", or the number of a code gRPC does not
	 * name); server_address/server_port as for HTTP (server: the :authority, read with
	 * traces only, on spans only). */
	char rpc_method[GOTRACE_PATH_LEN + 1];
	char rpc_status[24];
};

/* Decodes a gRPC event (GOTRACE_GRPC_SERVER or _CLIENT) into out (already zeroed, ev and
 * duration set): false when its status could not be read (an error of a type glimpse does
 * not know): then out->unmeasured is set and out->writer_type says why. */
bool grpc_call_decode(const struct gotrace_event *ev, struct call *out);

/* "host:port" or "[v6]:port" → host and port (0 when absent). */
void split_host_port(const char *hostport, char *host, size_t len, uint16_t *port);

/* A server call's Host (HTTP/1), :authority (HTTP/2, gRPC's incoming metadata) → its
 * server.address: a name or an IP address, nothing else (net/http refuses malformed Hosts
 * before any handler, but what is exported is checked here too); the port is not taken:
 * server.port stays the listener's. */
void call_server_address(const struct gotrace_event *ev, struct call *c);

/* Decodes ev into out. drivers names the database of SQL calls (NULL: "other_sql"); types
 * (go_target_runtime_types) tell HTTP/1's and HTTP/2's ResponseWriter by address (NULL, or an
 * address 0: drivers names the writer's code while the process lives). false for an event of a
 * kind this build does not know, and for a server call out->unmeasured says cannot be measured
 * (wrong data is worse than none). */
bool call_decode(const struct gotrace_event *ev, struct db_driver_cache *drivers,
		 const struct gotrace_types *types, struct call *out);

/* Says once per process (*reported remembers) that its server calls through c->writer_type are
 * not measured, and why. */
void call_report_unmeasured(const struct call *c, bool *reported);

#endif
