/* SPDX-License-Identifier: Apache-2.0 */
/* OpenTelemetry's HTTP and database rules, written once: which calls are errors and what their
 * error.type says. Decoding (gotrace/call.c), the metrics registry's labels and attributes, and
 * spans all ask here. */
#ifndef GLIMPSE_METRICS_SEMCONV_H
#define GLIMPSE_METRICS_SEMCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A Go handler that writes nothing still answers 200. */
static inline unsigned semconv_http_server_status(unsigned go_status)
{
	return go_status ? go_status : 200;
}

/* Server errors are 5xx only: a 4xx is the client's mistake (semconv span status). */
static inline bool semconv_http_server_error(unsigned status)
{
	return status >= 500;
}

/* A client call fails on a 4xx too, and when no response came at all (status 0). */
static inline bool semconv_http_client_error(unsigned status)
{
	return status == 0 || status >= 400;
}

/* error.type of a failed HTTP call: the status code, or _OTHER when there was none. */
static inline void semconv_http_error_type(unsigned status, char *buf, size_t len)
{
	if (status)
		snprintf(buf, len, "%u", status);
	else
		snprintf(buf, len, "_OTHER");
}

/* error.type of a failed database call: the driver's error type is not read (yet). */
#define SEMCONV_DB_ERROR_TYPE "_OTHER"

/* network.protocol.version from Request.ProtoMajor/ProtoMinor, as the SDKs spell it ("1.1",
 * "2"); NULL when unknown (left unset). */
static inline const char *semconv_http_protocol_version(unsigned major, unsigned minor)
{
	if (major == 1 && minor == 0)
		return "1.0";
	if (major == 1 && minor == 1)
		return "1.1";
	if (major == 2 && minor == 0)
		return "2";
	if (major == 3 && minor == 0)
		return "3";
	return NULL;
}

/* gRPC (rpc.response.status_code, span status): the code's name as gRPC spells it, NULL for
 * a code it does not name (then its number is the value). */
static inline const char *semconv_grpc_code_name(unsigned code)
{
	static const char *const names[] = {
		"OK",
		"CANCELLED",
		"UNKNOWN",
		"INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED",
		"NOT_FOUND",
		"ALREADY_EXISTS",
		"PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION",
		"ABORTED",
		"OUT_OF_RANGE",
		"UNIMPLEMENTED",
		"INTERNAL",
		"UNAVAILABLE",
		"DATA_LOSS",
		"UNAUTHENTICATED",
	};
	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

/* A server fails only on the codes that say the server did (semconv gRPC server span):
 * UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS; NOT_FOUND or
 * INVALID_ARGUMENT are the caller's. */
static inline bool semconv_grpc_server_error(unsigned code)
{
	return code == 2 || code == 4 || code == 12 || code == 13 || code == 14 || code == 15;
}

/* A client call fails on every code but OK. */
static inline bool semconv_grpc_client_error(unsigned code)
{
	return code != 0;
}

#endif
