// SPDX-License-Identifier: Apache-2.0
/* user/sockcap/http1_wire.c: HTTP/1.x requests paired with responses from captured system
 * calls. Ground truth: every exchange is written here byte by byte, so the calls, their times
 * and the counters expected are known exactly. */
#define _GNU_SOURCE /* memmem */
#define WIRE_OPS    http1_wire_ops
#include "wire_harness.h"

static void assert_call(const struct wire_call *k, const char *method, const char *path, uint16_t status,
			uint64_t start, uint64_t end)
{
	assert_int_equal(k->protocol, WIRE_HTTP1);
	assert_string_equal(k->method, method);
	assert_string_equal(k->path, path);
	assert_int_equal(k->status, status);
	assert_int_equal(k->start_ns, start);
	assert_int_equal(k->end_ns, end);
	assert_string_equal(k->operation, "");
	assert_string_equal(k->query, "");
	assert_false(k->error);
}

static void test_single(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, "GET /users/42 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n");
	uint64_t t1 = feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "GET", "/users/42", 200, t0, t1 + 1);
	assert_int_equal(c.calls[0].version_minor, 1);
	assert_string_equal(c.calls[0].traceparent, "");
	/* the body was consumed: the next exchange pairs */
	uint64_t t2 = feed(&c, true, "POST /submit HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	uint64_t t3 = feed(&c, false, "HTTP/1.0 201 Created\r\n\r\n");
	assert_int_equal(c.n, 2);
	assert_call(&c.calls[1], "POST", "/submit", 201, t2, t3 + 1);
	assert_int_equal(c.calls[1].version_minor, 0);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static const char three_requests[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
				     "POST /b HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
				     "DELETE /c HTTP/1.1\r\n\r\n";

static void test_pipelined_one_chunk(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, three_requests);
	uint64_t t1 = feed(&c, false,
			   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			   "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
			   "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 3);
	assert_call(&c.calls[0], "GET", "/a", 200, t0, t1 + 1);
	assert_call(&c.calls[1], "POST", "/b", 202, t0, t1 + 1);
	assert_call(&c.calls[2], "DELETE", "/c", 404, t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_pipelined_separate_responses(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, three_requests);
	uint64_t t1 = feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	uint64_t t2 = feed(&c, false, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(c.n, 2);
	conn_close(&c);
	assert_call(&c.calls[0], "GET", "/a", 200, t0, t1 + 1);
	assert_call(&c.calls[1], "POST", "/b", 204, t0, t2 + 1);
	assert_stats(&c, 0, 1, 0); /* DELETE never answered */
}

static void test_split_tiny_chunks(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	const char *req = "PUT /x/y?z=1 HTTP/1.1\r\nTraceparent: "
			  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
			  "Content-Length: 7\r\n\r\npayload";
	const char *rsp =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-T: 1\r\n\r\n";
	size_t n = strlen(req), step = 1;
	uint64_t first = c.t;
	for (size_t i = 0; i < n; i += step, step = step % 3 + 1)
		feed_n(&c, true, req + i, i + step <= n ? step : n - i, i + step <= n ? step : n - i);
	uint64_t last = 0;
	n = strlen(rsp);
	for (size_t i = 0; i < n; i += step, step = step % 3 + 1) {
		size_t k = i + step <= n ? step : n - i;
		uint64_t t = feed_n(&c, false, rsp + i, k, k);
		if (i < 17 && i + k >= 17)
			last = t; /* the chunk holding the status line's "\n" */
	}
	feed(&c, true, "GET /next HTTP/1.1\r\n\r\n");
	feed(&c, false, "HTTP/1.1 304 Not Modified\r\n\r\n");
	assert_int_equal(c.n, 2);
	assert_call(&c.calls[0], "PUT", "/x/y", 200, first, last + 1);
	assert_string_equal(c.calls[0].traceparent,
			    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	assert_string_equal(c.calls[1].path, "/next");
	assert_int_equal(c.calls[1].status, 304);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_response_before_request(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	feed(&c, false, "more of a body nobody asked for");
	assert_int_equal(c.n, 0);
	assert_stats(&c, 0, 0, 0);
	uint64_t t0 = feed(&c, true, "GET / HTTP/1.1\r\n\r\n");
	uint64_t t1 = feed(&c, false, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "GET", "/", 500, t0, t1 + 1);
	/* garbage nobody asked for is malformed, still no call */
	feed(&c, false, "\x01\x02garbage");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_stats(&c, 1, 0, 0);
}

static void test_truncated_known_length(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	static char req[8192], rsp[8192];
	int h = snprintf(req, sizeof(req), "POST /upload HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
	memset(req + h, 'x', sizeof(req) - (size_t)h);
	int r = snprintf(rsp, sizeof(rsp), "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n");
	memset(rsp + r, 'y', sizeof(rsp) - (size_t)r);
	uint64_t t0 = feed_n(&c, true, req, 1024, (size_t)h + 5000);
	uint64_t t1 = feed_n(&c, false, rsp, 1024, (size_t)r + 6000);
	feed_n(&c, false, rsp + r, 1024, 4000); /* the rest of the body, another read */
	uint64_t t2 = feed(&c, true, "GET /after HTTP/1.1\r\n\r\n");
	uint64_t t3 = feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 2);
	assert_call(&c.calls[0], "POST", "/upload", 200, t0, t1 + 1);
	assert_call(&c.calls[1], "GET", "/after", 200, t2, t3 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 2); /* once per message, however many chunks it spans */
}

static void test_sync_lost_and_resync(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	static char rsp[4096];
	int r = snprintf(rsp, sizeof(rsp), "HTTP/1.1 200 OK\r\nSet-Cookie: ");
	memset(rsp + r, 'c', sizeof(rsp) - (size_t)r);
	uint64_t t0 = feed(&c, true, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	/* the header block goes on past the capture: where /2's response starts is unknown */
	uint64_t t1 = feed_n(&c, false, rsp, 1024, 3000);
	assert_stats(&c, 1, 1, 0);
	feed(&c, false, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	feed(&c, true, "cookie bytes, not a request\r\n\r\n");
	uint64_t t2 = feed(&c, true, "GET /3 HTTP/1.1\r\n\r\n");
	uint64_t t3 = feed(&c, false, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 2);
	assert_call(&c.calls[0], "GET", "/1", 200, t0, t1 + 1); /* its status line was whole */
	assert_call(&c.calls[1], "GET", "/3", 201, t2, t3 + 1);
	conn_close(&c);
	assert_stats(&c, 1, 1, 0);
}

static void test_close_pending(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 0, 2, 0);
}

static void test_garbage(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "\x16\x03\x01\x02\x01\x01\xfc\x03\x03");
	feed(&c, false, "\x16\x03\x03\x01\x7a\x02");
	feed(&c, true, "GET\t/ HTTP/1.1\r\n\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 1, 0, 0);

	conn_open(&c);
	feed(&c, true, "GET / HTTP/2.0\r\n\r\n");
	feed(&c, true, "GET / HTTP/1.1\r\nBad Header\r\n\r\n");
	feed(&c, true, "GET / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 3, 0, 0);
}

static void test_chunked_response_spanning(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, "GET /stream HTTP/1.1\r\n\r\n");
	uint64_t t1 = feed(&c, false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhel");
	feed(&c, false, "lo\r\n1");
	feed(&c, false, "0;ext=1\r\n0123456789abcdef\r\n0\r");
	feed(&c, false, "\n\r\n");
	uint64_t t2 = feed(&c, true, "GET /next HTTP/1.1\r\n\r\n");
	uint64_t t3 = feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 2);
	assert_call(&c.calls[0], "GET", "/stream", 200, t0, t1 + 1);
	assert_call(&c.calls[1], "GET", "/next", 200, t2, t3 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_chunk_size_uncaptured(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	static char rsp[2048];
	int r = snprintf(rsp, sizeof(rsp), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n");
	memset(rsp + r, 'z', sizeof(rsp) - (size_t)r);
	feed(&c, true, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	/* 16 bytes of data, then a chunk-size line nobody captured */
	feed_n(&c, false, rsp, 1024, 1500);
	assert_int_equal(c.n, 1);
	assert_stats(&c, 1, 1, 0);
	conn_close(&c);
}

static void test_head_has_no_body(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, "HEAD /big HTTP/1.1\r\n\r\nGET /small HTTP/1.1\r\n\r\n");
	uint64_t t1 = feed(&c, false,
			   "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
			   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
	assert_int_equal(c.n, 2);
	assert_call(&c.calls[0], "HEAD", "/big", 200, t0, t1 + 1);
	assert_call(&c.calls[1], "GET", "/small", 200, t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_expect_continue(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 =
		feed(&c, true, "PUT /obj HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
	feed(&c, false, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_int_equal(c.n, 0);
	feed(&c, true, "0123456789");
	uint64_t t1 = feed(&c, false, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "PUT", "/obj", 201, t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_204_304(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "DELETE /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
	/* 204 and 304 say Content-Length, yet carry no body */
	feed(&c, false,
	     "HTTP/1.1 204 No Content\r\nContent-Length: 50\r\n\r\n"
	     "HTTP/1.1 304 Not Modified\r\nContent-Length: 70\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!");
	assert_int_equal(c.n, 3);
	assert_int_equal(c.calls[0].status, 204);
	assert_int_equal(c.calls[1].status, 304);
	assert_int_equal(c.calls[2].status, 200);
	assert_string_equal(c.calls[2].path, "/c");
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_paths(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true,
	     "GET /a/b?x=1&token=secret#frag HTTP/1.1\r\n\r\n"
	     "GET /only#frag HTTP/1.1\r\n\r\n"
	     "GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\n\r\n"
	     "GET http://example.com HTTP/1.1\r\n\r\n"
	     "OPTIONS * HTTP/1.1\r\n\r\n"
	     "M-SEARCH * HTTP/1.1\r\n\r\n");
	for (int i = 0; i < 6; i++)
		feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 6);
	assert_string_equal(c.calls[0].path, "/a/b");
	assert_string_equal(c.calls[1].path, "/only");
	assert_string_equal(c.calls[2].path, "/p/q");
	assert_string_equal(c.calls[3].path, "/");
	assert_string_equal(c.calls[4].path, "*");
	assert_string_equal(c.calls[4].method, "OPTIONS");
	assert_string_equal(c.calls[5].method, "M-SEARCH");
	for (size_t i = 0; i < c.n; i++)
		assert_null(memmem(&c.calls[i], sizeof(c.calls[i]), "secret", 6));
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_long_path_truncated(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	char req[700];
	memcpy(req, "GET /", 5);
	memset(req + 5, 'p', 500);
	strcpy(req + 505, " HTTP/1.1\r\n\r\n");
	feed(&c, true, req);
	feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 1);
	assert_int_equal(strlen(c.calls[0].path), WIRE_PATH_LEN);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_traceparent(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true,
	     "GET /t HTTP/1.1\r\nTRACEPARENT:   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01  "
	     "\r\n\r\n"
	     "GET /u HTTP/1.1\r\ntraceparent: "
	     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-toolong\r\n\r\n"
	     "GET /v HTTP/1.1\r\n\r\n");
	feed(&c, false,
	     "HTTP/1.1 200 OK\r\ntraceparent: 00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01\r\n"
	     "Content-Length: 0\r\n\r\n");
	feed(&c, false,
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 3);
	assert_string_equal(c.calls[0].traceparent,
			    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	assert_string_equal(c.calls[1].traceparent, "");
	assert_string_equal(c.calls[2].traceparent, "");
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_huge_request_line(void **state)
{
	(void)state;
	size_t n = 65536;
	char *req = malloc(n + 32);
	assert_non_null(req);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'a', n);
	strcpy(req + n, " HTTP/1.1\r\n\r\n");
	struct conn c;
	conn_open(&c);
	feed(&c, true, req); /* all captured: longer than any header block we keep */
	conn_close(&c);
	assert_stats(&c, 1, 0, 0);
	conn_open(&c);
	feed_n(&c, true, req, 1024, strlen(req)); /* as the probe sees it */
	feed(&c, false, "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 1, 0, 0);
	free(req);
}

static void test_switching_protocols(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	uint64_t t1 = feed(&c, false,
			   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
	feed(&c, true, "\x81\x85masked");
	feed(&c, true, "GET /not-http-any-more HTTP/1.1\r\n\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "GET", "/ws", 101, t0, t1 + 1);
	assert_stats(&c, 0, 0, 0);
}

static void test_read_until_close(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "GET /old HTTP/1.0\r\n\r\n");
	feed(&c, false, "HTTP/1.0 200 OK\r\n\r\nbody until close");
	feed_n(&c, false, "HTTP/1.1 200 OK\r\n\r\n", 5, 5000);
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.calls[0].version_minor, 0);
	assert_stats(&c, 0, 0, 0);
}

static void test_connect_tunnel(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n");
	uint64_t t1 = feed(&c, false, "HTTP/1.1 200 Connection Established\r\n\r\n");
	feed(&c, true, "\x16\x03\x01 tunneled bytes");
	feed(&c, false, "HTTP/1.1 200 OK\r\n\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "CONNECT", "", 200, t0, t1 + 1);
	assert_stats(&c, 0, 0, 0);
}

static void test_other_coding_until_close(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	/* gzip last: the body ends with the connection, whatever Content-Length says */
	feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\nabc");
	feed(&c, false, "HTTP/1.1 200 OK\r\n\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_stats(&c, 0, 1, 0);

	/* a request body of unknown length cannot be framed */
	conn_open(&c);
	feed(&c, true, "POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
	conn_close(&c);
	assert_stats(&c, 1, 0, 0);
}

static void test_pipeline_full(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	for (int i = 0; i < 20; i++) {
		char req[64];
		snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\n\r\n", i);
		feed(&c, true, req);
	}
	assert_stats(&c, 0, 4, 0);
	for (int i = 0; i < 20; i++)
		feed(&c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	/* only the 16 remembered are reported, each with its own response */
	assert_int_equal(c.n, 16);
	assert_string_equal(c.calls[15].path, "/15");
	feed(&c, true, "GET /last HTTP/1.1\r\n\r\n");
	feed(&c, false, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c.n, 17);
	assert_string_equal(c.calls[16].path, "/last");
	assert_int_equal(c.calls[16].status, 202);
	conn_close(&c);
	assert_stats(&c, 0, 4, 0);
}

static void test_detect(void **state)
{
	(void)state;
	const char *http[] = { "GET / HTTP/1.1\r\n", "PROPFIND /dav HTTP/1.1\r\nDepth: 1\r\n\r\n",
			       "POST /very/long/path/whose/line/was/not/captured/whole" };
	const char *not_http[] = { "GET / HTTP/2\r\n", "HTTP/1.1 200 OK\r\n\r\n", "GET /\r\n",
				   "hello world",      "GET  / HTTP/1.1\r\n",	  "" };
	for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++)
		assert_int_equal(wire_detect((const uint8_t *)http[i], strlen(http[i])), WIRE_HTTP1);
	for (size_t i = 0; i < sizeof(not_http) / sizeof(not_http[0]); i++)
		assert_int_equal(wire_detect((const uint8_t *)not_http[i], strlen(not_http[i])),
				 WIRE_UNKNOWN);
	assert_ptr_equal(wire_parser_ops_for(WIRE_HTTP1), &http1_wire_ops);
	assert_null(wire_parser_ops_for(WIRE_UNKNOWN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_pipelined_one_chunk),
		cmocka_unit_test(test_pipelined_separate_responses),
		cmocka_unit_test(test_split_tiny_chunks),
		cmocka_unit_test(test_response_before_request),
		cmocka_unit_test(test_truncated_known_length),
		cmocka_unit_test(test_sync_lost_and_resync),
		cmocka_unit_test(test_close_pending),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_chunked_response_spanning),
		cmocka_unit_test(test_chunk_size_uncaptured),
		cmocka_unit_test(test_head_has_no_body),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_204_304),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_long_path_truncated),
		cmocka_unit_test(test_traceparent),
		cmocka_unit_test(test_huge_request_line),
		cmocka_unit_test(test_switching_protocols),
		cmocka_unit_test(test_read_until_close),
		cmocka_unit_test(test_connect_tunnel),
		cmocka_unit_test(test_other_coding_until_close),
		cmocka_unit_test(test_pipeline_full),
		cmocka_unit_test(test_detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
