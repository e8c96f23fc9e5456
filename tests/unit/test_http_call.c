// SPDX-License-Identifier: Apache-2.0
/* HTTP server calls as glimpse decodes them (user/gotrace/call.c): server.address from the
 * request's Host or :authority (a name or an IP address, without its port, nothing else), the
 * status behind golang.org/x/net/http2's writer, and HTTP/2's connection preface ("PRI *"),
 * which h2c takes over from net/http's HTTP/1 server, never counted as a request; and where Go
 * 1.27's net/http.http2Handler.ServeHTTP calls the handler (binfmt/disasm.c), the site that
 * measures x/net/http2's wrapped requests. Ground truth: the HTTP conventions' server.address
 * rules, RFC 9113's preface, and instruction bytes of a Go 1.27.3 build written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "binfmt/disasm.h"
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

/* The end of http2Handler.ServeHTTP (Go 1.27.3): the handler's ServeHTTP loaded from its itab
 * into DX, the arguments into AX, BX, CX, DI, then CALL RDX; before it a direct call and a call
 * through another register, neither of which is the site. */
static void test_handler_call_site(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xe8, 0x64, 0xf0, 0xda, 0xff,		  /* call runtime.newobject */
		0xff, 0xd1,				  /* call rcx: not the site */
		0x48, 0x8b, 0x54, 0x24, 0x20,		  /* mov rdx, [rsp+0x20]: the itab */
		0x48, 0x8b, 0x52, 0x18,			  /* mov rdx, [rdx+0x18]: its ServeHTTP */
		0x48, 0x8d, 0x1d, 0x89, 0x09, 0x4c, 0x00, /* lea rbx, the writer's itab */
		0x48, 0x8b, 0x4c, 0x24, 0x50,		  /* mov rcx, [rsp+0x50]: the writer */
		0x48, 0x89, 0xc7,			  /* mov rdi, rax: the request */
		0x48, 0x8b, 0x44, 0x24, 0x28,		  /* mov rax, [rsp+0x28]: the handler */
		0xff, 0xd2,				  /* call rdx */
		0x48, 0x83, 0xc4, 0x30,			  /* add rsp, 0x30 */
		0x5d, 0xc3,				  /* pop rbp; ret */
	};
	uint32_t at[2], size[2];
	int n = find_dx_call_offsets(code, sizeof(code), 0x6732ea, at, size, 2);
	if (n == -ENOSYS)
		skip(); /* capstone not installed */
	assert_int_equal(n, 1);
	assert_int_equal(at[0], 36);
	assert_int_equal(size[0], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_address),
		cmocka_unit_test(test_xnet_writer_status),
		cmocka_unit_test(test_preface_is_not_a_request),
		cmocka_unit_test(test_handler_call_site),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
