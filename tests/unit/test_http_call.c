// SPDX-License-Identifier: Apache-2.0
/* HTTP server calls as glimpse decodes them (user/gotrace/call.c): server.address from the
 * request's Host or :authority (a name or an IP address, without its port, nothing else), the
 * status behind golang.org/x/net/http2's writer, and HTTP/2's connection preface ("PRI *"),
 * which h2c takes over from net/http's HTTP/1 server, never counted as a request. Ground truth:
 * the HTTP conventions' server.address rules and RFC 9113's preface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gotrace/call.h"

#define H1_WRITER   0x401000
#define XNET_WRITER 0x402000

static const struct gotrace_types types = { .h1_writer = H1_WRITER, .xnet_writer = XNET_WRITER };

static struct gotrace_event server(const char *method, const char *path, const char *host, uint64_t writer)
{
	struct gotrace_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = GOTRACE_SERVER;
	ev.method_len = (uint8_t)strlen(method);
	memcpy(ev.method, method, ev.method_len);
	ev.path_len = (uint8_t)strlen(path);
	memcpy(ev.path, path, ev.path_len);
	ev.host_len = (uint8_t)strlen(host);
	memcpy(ev.host, host, ev.host_len);
	ev.driver_pc = writer;
	ev.status = 200;
	ev.proto_major = 1;
	ev.proto_minor = 1;
	ev.start_ns = 1000;
	ev.end_ns = 2000;
	return ev;
}

static void test_server_address(void **state)
{
	(void)state;
	static const struct {
		const char *host, *want;
	} cases[] = {
		{ "api.example.com", "api.example.com" },
		{ "api.example.com:8443", "api.example.com" },
		{ "127.0.0.1:8080", "127.0.0.1" },
		{ "[::1]:8080", "::1" },
		{ "[2001:db8::7]", "2001:db8::7" },
		{ "my_host-1.internal", "my_host-1.internal" },
		{ "", "" },
		{ "evil host", "" },
		{ "a/b", "" },
		{ "user@host", "" },
		{ "h\"x", "" },
		{ "caf\xc3\xa9.example", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gotrace_event ev = server("GET", "/fast", cases[i].host, H1_WRITER);
		struct call c;
		assert_true(call_decode(&ev, NULL, &types, &c));
		assert_string_equal(c.server_address, cases[i].want);
	}
}

static void test_xnet_writer_status(void **state)
{
	(void)state;
	struct gotrace_event ev = server("GET", "/status/418", "x", XNET_WRITER);
	ev.status = 0; /* not HTTP/1's: only status_h2 holds */
	ev.status_h2 = 418;
	ev.flags = GOTRACE_F_H2_STATUS;
	ev.proto_major = 2;
	ev.proto_minor = 0;
	struct call c;
	assert_true(call_decode(&ev, NULL, &types, &c));
	assert_int_equal(c.status, 418);
	assert_string_equal(c.protocol_version, "2");
	/* Without the status read, it is not measured: never a guessed 200. */
	ev.flags = 0;
	assert_false(call_decode(&ev, NULL, &types, &c));
	assert_true(c.unmeasured);
}

static void test_preface_is_not_a_request(void **state)
{
	(void)state;
	struct gotrace_event ev = server("PRI", "*", "127.0.0.1:8080", H1_WRITER);
	ev.proto_major = 2;
	ev.proto_minor = 0;
	struct call c;
	assert_false(call_decode(&ev, NULL, &types, &c));
	assert_false(c.unmeasured); /* dropped, not counted as unmeasured */
	/* A PRI request in HTTP/1.1 is some client's method: kept (as _OTHER). */
	ev.proto_major = 1;
	ev.proto_minor = 1;
	assert_true(call_decode(&ev, NULL, &types, &c));
	assert_string_equal(c.method, "_OTHER");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_address),
		cmocka_unit_test(test_xnet_writer_status),
		cmocka_unit_test(test_preface_is_not_a_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
