// SPDX-License-Identifier: Apache-2.0
/* gRPC calls as glimpse records them (user/gotrace/grpc_call.c, metrics/semconv.h): rpc.method
 * from grpc's full method name, rpc.response.status_code, the server's and the client's error
 * rules, server.address/port from a client's target and a server's :authority; and the
 * prologue skip that keeps an entry probe at one hit per call (binfmt/disasm.c). Ground truth: the OpenTelemetry gRPC
 * conventions' tables and grpc's status code list, and instruction bytes written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "binfmt/disasm.h"
#include "gotrace/call.h"
#include "metrics/semconv.h"

static struct gotrace_event event(uint8_t kind, const char *method, uint16_t status, uint8_t flags,
				  const char *target)
{
	struct gotrace_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.status = status;
	ev.flags = flags | GOTRACE_F_GRPC_STATUS;
	ev.path_len = (uint8_t)strlen(method);
	memcpy(ev.path, method, ev.path_len);
	ev.host_len = (uint8_t)strlen(target);
	memcpy(ev.host, target, ev.host_len);
	ev.start_ns = 1000;
	ev.end_ns = 51000;
	return ev;
}

static void decode(const struct gotrace_event *ev, struct call *c)
{
	assert_true(call_decode(ev, NULL, NULL, c));
}

static void test_code_names(void **state)
{
	(void)state;
	assert_string_equal(semconv_grpc_code_name(0), "OK");
	assert_string_equal(semconv_grpc_code_name(5), "NOT_FOUND");
	assert_string_equal(semconv_grpc_code_name(9), "FAILED_PRECONDITION");
	assert_string_equal(semconv_grpc_code_name(16), "UNAUTHENTICATED");
	assert_null(semconv_grpc_code_name(17));
}

/* The server fails only on UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and
 * DATA_LOSS; the client on everything but OK. */
static void test_error_rules(void **state)
{
	(void)state;
	const unsigned server_errors[] = { 2, 4, 12, 13, 14, 15 };
	for (unsigned code = 0; code <= 16; code++) {
		bool want = false;
		for (size_t i = 0; i < sizeof(server_errors) / sizeof(server_errors[0]); i++)
			want |= server_errors[i] == code;
		assert_int_equal(semconv_grpc_server_error(code), want);
		assert_int_equal(semconv_grpc_client_error(code), code != 0);
	}
}

static void test_server_call(void **state)
{
	(void)state;
	struct call c;
	struct gotrace_event ev = event(GOTRACE_GRPC_SERVER, "/glimpse.test.Echo/Fail", 5, 0, "");
	ev.local_port = 50051;
	decode(&ev, &c);
	assert_int_equal(c.kind, CALL_RPC_SERVER);
	assert_string_equal(c.rpc_method, "glimpse.test.Echo/Fail");
	assert_string_equal(c.rpc_status, "NOT_FOUND");
	assert_false(c.error); /* the caller's mistake, not the server's */
	assert_string_equal(c.error_type, "");
	assert_int_equal(c.server_port, 50051);
	assert_int_equal(c.duration_ns, 50000);

	ev = event(GOTRACE_GRPC_SERVER, "/glimpse.test.Echo/Fail", 13, 0, "");
	decode(&ev, &c);
	assert_true(c.error);
	assert_string_equal(c.error_type, "INTERNAL");

	/* A code gRPC does not name is its number. */
	ev = event(GOTRACE_GRPC_SERVER, "/a.B/C", 42, 0, "");
	decode(&ev, &c);
	assert_string_equal(c.rpc_status, "42");

	/* server.address: the :authority's host (the port stays the listener's), only a name or
	 * an IP address. */
	static const struct {
		const char *authority, *host;
	} authorities[] = {
		{ "echo.internal.test:8443", "echo.internal.test" },
		{ "127.0.0.1:50051", "127.0.0.1" },
		{ "[::1]:50051", "::1" },
		{ "api", "api" },
		{ "evil host:1", "" },
		{ "a/b:1", "" },
	};
	for (size_t i = 0; i < sizeof(authorities) / sizeof(authorities[0]); i++) {
		ev = event(GOTRACE_GRPC_SERVER, "/a.B/C", 0, 0, authorities[i].authority);
		ev.local_port = 50052;
		decode(&ev, &c);
		assert_string_equal(c.server_address, authorities[i].host);
		assert_int_equal(c.server_port, 50052);
	}

	/* The unknown-service handler's calls, and truncated names, are _OTHER. */
	ev = event(GOTRACE_GRPC_SERVER, "/made.up/Anything", 0, GOTRACE_F_GRPC_UNKNOWN, "");
	decode(&ev, &c);
	assert_string_equal(c.rpc_method, "_OTHER");
	ev = event(GOTRACE_GRPC_SERVER, "/a.B/C", 0, GOTRACE_F_TRUNCATED, "");
	decode(&ev, &c);
	assert_string_equal(c.rpc_method, "_OTHER");
}

static void test_client_call(void **state)
{
	(void)state;
	static const struct {
		const char *target, *host;
		uint16_t port;
	} targets[] = {
		{ "127.0.0.1:50051", "127.0.0.1", 50051 },
		{ "dns:///api.example.com:443", "api.example.com", 443 },
		{ "dns://8.8.8.8/api.example.com:8443", "api.example.com", 8443 },
		{ "passthrough:///[::1]:9000", "::1", 9000 },
		{ "unix:///run/app.sock", "/run/app.sock", 0 },
		{ "api.example.com", "api.example.com", 0 },
	};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct call c;
		struct gotrace_event ev =
			event(GOTRACE_GRPC_CLIENT, "/glimpse.test.Echo/Fail", 5, 0, targets[i].target);
		decode(&ev, &c);
		assert_int_equal(c.kind, CALL_RPC_CLIENT);
		assert_string_equal(c.server_address, targets[i].host);
		assert_int_equal(c.server_port, targets[i].port);
		assert_true(c.error);
		assert_string_equal(c.error_type, "NOT_FOUND");
	}
	/* An error glimpse could not type: not recorded, said. */
	struct call c;
	struct gotrace_event ev = event(GOTRACE_GRPC_CLIENT, "/a.B/C", 0, 0, "x:1");
	ev.flags &= (uint8_t)~GOTRACE_F_GRPC_STATUS;
	assert_false(call_decode(&ev, NULL, NULL, &c));
	assert_true(c.unmeasured);
}

/* Go's prologues: LEA -frame(SP), R12; CMP R12, 16(R14); JBE morestack — and the short form
 * CMP SP, 16(R14); JBE. A function without the check keeps its entry. */
static void test_stack_check_end(void **state)
{
	(void)state;
	static const uint8_t big[] = { 0x4c, 0x8d, 0xa4, 0x24, 0x60, 0xfd, 0xff, 0xff, /* lea */
				       0x4d, 0x3b, 0x66, 0x10,			       /* cmp */
				       0x0f, 0x86, 0xdb, 0x1d, 0x00, 0x00,	       /* jbe */
				       0x55, 0x48, 0x89, 0xe5 };		       /* push rbp */
	static const uint8_t small[] = { 0x49, 0x3b, 0x66, 0x10, /* cmp rsp, [r14+0x10] */
					 0x76, 0x20,		 /* jbe */
					 0x55, 0x48, 0x89, 0xe5 };
	static const uint8_t none[] = { 0x48, 0x8b, 0x44, 0x24, 0x08, 0xc3, 0x90, 0x90 };
	int n = find_stack_check_end(big, sizeof(big), 0x80ca20);
	if (n == -ENOSYS)
		skip(); /* capstone not installed */
	assert_int_equal(n, 18);
	assert_int_equal(find_stack_check_end(small, sizeof(small), 0x1000), 6);
	assert_int_equal(find_stack_check_end(none, sizeof(none), 0x1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_names),	cmocka_unit_test(test_error_rules),
		cmocka_unit_test(test_server_call),	cmocka_unit_test(test_client_call),
		cmocka_unit_test(test_stack_check_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
