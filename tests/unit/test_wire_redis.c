// SPDX-License-Identifier: Apache-2.0
/* user/sockcap/redis_wire.c: Redis commands paired with their RESP2/RESP3 replies from
 * captured system calls. Ground truth: every exchange is written here byte by byte; keys and
 * values carry a marker that must appear in no reported call. */
#define _GNU_SOURCE /* memmem */
#define WIRE_OPS    redis_wire_ops
#include "wire_harness.h"

#define MARK "s3cr3tM4rk"

static void assert_call(const struct wire_call *k, const char *op, bool error, const char *error_type,
			uint64_t start, uint64_t end)
{
	assert_int_equal(k->protocol, WIRE_REDIS);
	assert_string_equal(k->operation, op);
	assert_int_equal(k->error, error);
	assert_string_equal(k->error_type, error_type);
	assert_int_equal(k->start_ns, start);
	assert_int_equal(k->end_ns, end);
	assert_string_equal(k->query, "");
	assert_string_equal(k->method, "");
	assert_string_equal(k->path, "");
	assert_null(memmem(k, sizeof(*k), MARK, strlen(MARK)));
	assert_null(memmem(k, sizeof(*k), "s3cr3t", 6));
}

static void test_set_get(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true, "*3\r\n$3\r\nset\r\n$14\r\nkey:" MARK "\r\n$15\r\nvalue" MARK "\r\n");
	uint64_t t1 = feed(&c, false, "+OK\r\n");
	uint64_t t2 = feed(&c, true, "*2\r\n$3\r\nGET\r\n$14\r\nkey:" MARK "\r\n");
	uint64_t t3 = feed(&c, false, "$15\r\nvalue" MARK "\r\n");
	uint64_t t4 = feed(&c, true, "*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n");
	uint64_t t5 = feed(&c, false, "$-1\r\n");
	uint64_t t6 = feed(&c, true, "PING\r\n");
	uint64_t t7 = feed(&c, false, "+PONG\r\n");
	assert_int_equal(c.n, 4);
	assert_call(&c.calls[0], "SET", false, "", t0, t1 + 1);
	assert_call(&c.calls[1], "GET", false, "", t2, t3 + 1);
	assert_call(&c.calls[2], "GET", false, "", t4, t5 + 1);
	assert_call(&c.calls[3], "PING", false, "", t6, t7 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_error_replies(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true,
			   "*2\r\n$4\r\nINCR\r\n$4\r\nlist\r\n"
			   "*1\r\n$7\r\nFOOBARX\r\n"
			   "*1\r\n$4\r\nKEYS\r\n"
			   "*1\r\n$4\r\nEXEC\r\n");
	uint64_t t1 = feed(&c, false,
			   "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
			   "-ERR unknown command 'FOOBARX'\r\n"
			   "-NOAUTHENTICATIONREQUIRED_X more\r\n"
			   "*2\r\n-ERR inner\r\n:1\r\n");
	assert_int_equal(c.n, 4);
	assert_call(&c.calls[0], "INCR", true, "WRONGTYPE", t0, t1 + 1);
	assert_call(&c.calls[1], "FOOBARX", true, "ERR", t0, t1 + 1);
	assert_call(&c.calls[2], "KEYS", true, "NOAUTHENTICATIO", t0, t1 + 1);
	/* an error inside EXEC's array is not the reply's */
	assert_call(&c.calls[3], "EXEC", false, "", t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_nested_and_resp3(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	uint64_t t0 = feed(&c, true,
			   "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
			   "*1\r\n$5\r\nXREAD\r\n"
			   "*1\r\n$4\r\nSCAN\r\n"
			   "*1\r\n$3\r\nGET\r\n"
			   "*1\r\n$4\r\nHGET\r\n"
			   "*1\r\n$8\r\nSMEMBERS\r\n"
			   "*1\r\n$4\r\nEVAL\r\n");
	uint64_t t1 = feed(&c, false,
			   "%3\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n+modules\r\n*0\r\n"
			   "*2\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*-1\r\n*-1\r\n");
	uint64_t t2 = feed(&c, false,
			   "*2\r\n$1\r\n0\r\n~2\r\n=8\r\ntxt:abcd\r\n(12345678901234567890\r\n"
			   ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
			   "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n_\r\n");
	uint64_t t3 = feed(&c, false, "*2\r\n|1\r\n+ttl\r\n:3600\r\n#t\r\n,inf\r\n");
	uint64_t t4 = feed(&c, false, "~2\r\n+x\r\n+y\r\n!21\r\nSYNTAX invalid syntax\r\n");
	assert_int_equal(c.n, 7);
	assert_call(&c.calls[0], "HELLO", false, "", t0, t1 + 1);
	assert_call(&c.calls[1], "XREAD", false, "", t0, t1 + 1);
	assert_call(&c.calls[2], "SCAN", false, "", t0, t2 + 1);
	assert_call(&c.calls[3], "GET", false, "", t0, t2 + 1);
	assert_call(&c.calls[4], "HGET", false, "", t0, t3 + 1);
	assert_call(&c.calls[5], "SMEMBERS", false, "", t0, t4 + 1);
	assert_call(&c.calls[6], "EVAL", true, "SYNTAX", t0, t4 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_big_value_truncated(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	static char req[8192], rsp[8192];
	int h = snprintf(req, sizeof(req), "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$5000\r\n");
	for (size_t i = (size_t)h; i + strlen(MARK) < sizeof(req); i += strlen(MARK))
		memcpy(req + i, MARK, strlen(MARK));
	int r = snprintf(rsp, sizeof(rsp), "+OK\r\n$5000\r\n");
	memcpy(rsp + r, req + h, sizeof(req) - (size_t)h);
	uint64_t t0 = feed_n(&c, true, req, 1024, (size_t)h + 5002);
	uint64_t t1 = feed(&c, true, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
	uint64_t t2 = feed(&c, true, "*1\r\n$4\r\nPING\r\n");
	uint64_t t3 = feed_n(&c, false, rsp, 1024, (size_t)r + 5002);
	uint64_t t4 = feed(&c, false, "+PONG\r\n");
	assert_int_equal(c.n, 3);
	assert_call(&c.calls[0], "SET", false, "", t0, t3 + 1);
	assert_call(&c.calls[1], "GET", false, "", t1, t3 + 1);
	assert_call(&c.calls[2], "PING", false, "", t2, t4 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 2);
}

static void test_pipelined_16_gets(void **state)
{
	(void)state;
	char req[2048] = "", rsp[2048] = "";
	for (int i = 0; i < 16; i++) {
		char k[64];
		snprintf(k, sizeof(k), "*2\r\n$3\r\nGET\r\n$6\r\nkey:%02d\r\n", i);
		strcat(req, k);
		snprintf(k, sizeof(k), "$4\r\nv:%02d\r\n", i);
		strcat(rsp, k);
	}
	for (int separate = 0; separate < 2; separate++) {
		struct conn c;
		conn_open(&c);
		uint64_t t0 = feed(&c, true, req);
		uint64_t t1 = 0;
		if (separate) {
			for (int i = 0; i < 16; i++)
				t1 = feed_n(&c, false, rsp + i * 10, 10, 10);
		} else {
			t1 = feed(&c, false, rsp);
		}
		assert_int_equal(c.n, 16);
		for (int i = 0; i < 16; i++)
			assert_call(&c.calls[i], "GET", false, "", t0,
				    separate ? t1 - 10 * (15 - i) + 1 : t1 + 1);
		conn_close(&c);
		assert_stats(&c, 0, 0, 0);
	}
}

static void test_split_tiny_chunks(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	const char *req =
		"*3\r\n$4\r\nHSET\r\n$4\r\nhkey\r\n$6\r\nfield1\r\n*2\r\n$6\r\nCONFIG\r\n$3\r\nget\r\n";
	const char *rsp = ":1\r\n*2\r\n$7\r\nmaxconn\r\n$5\r\n10000\r\n";
	size_t n = strlen(req), step = 1;
	uint64_t first = c.t;
	for (size_t i = 0; i < n; i += step, step = step % 3 + 1)
		feed_n(&c, true, req + i, i + step <= n ? step : n - i, i + step <= n ? step : n - i);
	n = strlen(rsp);
	uint64_t last = 0;
	for (size_t i = 0; i < n; i += step, step = step % 3 + 1) {
		size_t k = i + step <= n ? step : n - i;
		last = feed_n(&c, false, rsp + i, k, k);
	}
	assert_int_equal(c.n, 2);
	assert_int_equal(c.calls[0].start_ns, first);
	assert_string_equal(c.calls[0].operation, "HSET");
	assert_string_equal(c.calls[1].operation, "CONFIG GET");
	assert_int_equal(c.calls[1].end_ns, last + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_reply_before_command(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, false, "+OK\r\n");
	feed(&c, false, ":12\r\n");
	assert_stats(&c, 0, 0, 0);
	uint64_t t0 = feed(&c, true, "*1\r\n$4\r\nPING\r\n");
	uint64_t t1 = feed(&c, false, "+PONG\r\n");
	feed(&c, false, "\x01garbage\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "PING", false, "", t0, t1 + 1);
	assert_stats(&c, 1, 0, 0);
}

static void test_sync_lost_and_resync(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	static char rsp[4096];
	size_t n = (size_t)snprintf(rsp, sizeof(rsp), "*1000\r\n");
	for (int i = 0; n + 8 < sizeof(rsp); i++)
		n += (size_t)snprintf(rsp + n, sizeof(rsp) - n, ":%d\r\n", i);
	uint64_t t0 = feed(&c, true, "*1\r\n$4\r\nKEYS\r\n*1\r\n$4\r\nPING\r\n");
	/* elements go on past the capture, none of known length: where PING's reply is, unknown */
	feed_n(&c, false, rsp, 1024, 8000);
	assert_stats(&c, 1, 2, 0);
	feed(&c, false, "+PONG\r\n");
	feed(&c, true, ":1\r\n:2\r\n");
	uint64_t t1 = feed(&c, true, "*1\r\n$6\r\nDBSIZE\r\n");
	uint64_t t2 = feed(&c, false, ":42\r\n");
	(void)t0;
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "DBSIZE", false, "", t1, t2 + 1);
	conn_close(&c);
	assert_stats(&c, 1, 2, 0);
}

static void test_close_pending(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
	feed(&c, false, "+PONG\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_stats(&c, 0, 2, 0);
}

static void test_garbage(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "\x16\x03\x01\x02\x01\x01");
	feed(&c, true, "more garbage");
	feed(&c, false, "-ERR whatever\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 1, 0, 0);

	conn_open(&c);
	feed(&c, true, "*x\r\n");
	feed(&c, true, "*1\r\n$3\r\nGET\r\n*1\r\n+GET\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 2, 1, 0);
}

static void test_bad_command_name(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true,
	     "*1\r\n$40\r\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n*1\r\n$5\r\n12345\r\n*1\r\n$"
	     "4\r\nPING\r\n");
	feed(&c, false, "-ERR unknown command\r\n-ERR unknown command\r\n+PONG\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.calls[0].operation, "PING");
	assert_stats(&c, 2, 0, 0);
}

static void test_subscribe_stops(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "*1\r\n$4\r\nPING\r\n*3\r\n$9\r\nSUBSCRIBE\r\n$2\r\nc1\r\n$2\r\nc2\r\n");
	feed(&c, true, "*1\r\n$4\r\nPING\r\n");
	feed(&c, false, "+PONG\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n");
	feed(&c, false, "*3\r\n$9\r\nsubscribe\r\n$2\r\nc2\r\n:2\r\n");
	feed(&c, false, "*3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$5\r\nhello\r\n");
	feed(&c, true, "*2\r\n$11\r\nUNSUBSCRIBE\r\n$2\r\nc1\r\n");
	feed(&c, false, "garbage");
	conn_close(&c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.calls[0].operation, "PING");
	assert_string_equal(c.calls[1].operation, "SUBSCRIBE");
	assert_stats(&c, 0, 0, 0);

	/* RESP3: the confirmation is a push */
	conn_open(&c);
	feed(&c, true, "*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\nc*\r\n");
	feed(&c, false, ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:1\r\n");
	feed(&c, false, ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nc1\r\n$1\r\nx\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.calls[0].operation, "PSUBSCRIBE");
	assert_stats(&c, 0, 0, 0);
}

static void test_never_leaks(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true,
	     "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$10\r\n" MARK "\r\n"
	     "*3\r\n$6\r\nOBJECT\r\n$8\r\nENCODING\r\n$10\r\n" MARK "\r\n"
	     "*2\r\n$6\r\nCLIENT\r\n$10\r\n" MARK "\r\n"
	     "*2\r\n$4\r\nAUTH\r\n$10\r\n" MARK "\r\n"
	     "GET " MARK "\r\n"
	     "*2\r\n$3\r\nGET\r\n$10\r\n" MARK "\r\n");
	feed(&c, false,
	     "+OK\r\n$10\r\n" MARK "\r\n-ERR " MARK "\r\n-" MARK " x\r\n$10\r\n" MARK "\r\n"
	     "!13\r\n" MARK " xy\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 6);
	assert_string_equal(c.calls[0].operation, "CLIENT SETNAME");
	assert_string_equal(c.calls[1].operation, "OBJECT ENCODING");
	assert_string_equal(c.calls[2].operation, "CLIENT"); /* not a subcommand name */
	assert_string_equal(c.calls[3].operation, "AUTH");
	assert_string_equal(c.calls[4].operation, "GET");
	assert_string_equal(c.calls[5].operation, "GET");
	for (size_t i = 0; i < c.n; i++)
		assert_null(memmem(&c.calls[i], sizeof(c.calls[i]), "s3cr3t", 6) == NULL ? NULL : "leak");
	assert_stats(&c, 0, 0, 0);
}

static void test_multi_exec(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c);
	feed(&c, true, "*1\r\n$5\r\nMULTI\r\n");
	feed(&c, false, "+OK\r\n");
	feed(&c, true, "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nn\r\n");
	feed(&c, false, "+QUEUED\r\n+QUEUED\r\n");
	uint64_t t0 = feed(&c, true, "*1\r\n$4\r\nEXEC\r\n");
	uint64_t t1 = feed(&c, false, "*2\r\n:1\r\n-WRONGTYPE Operation against a key\r\n");
	conn_close(&c);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.calls[0].operation, "MULTI");
	assert_string_equal(c.calls[1].operation, "INCR");
	assert_string_equal(c.calls[2].operation, "LPOP");
	assert_call(&c.calls[3], "EXEC", false, "", t0, t1 + 1);
	assert_stats(&c, 0, 0, 0);
}

static void test_detect(void **state)
{
	(void)state;
	const char *redis[] = { "*1\r\n$4\r\nPING\r\n", "*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n" };
	const char *not_redis[] = { "*1\r\n$4\r\nPI", "*1\r\n$4\r\n1234\r\n", "*0\r\n", "+OK\r\n",
				    "PING\r\n",	      "*1\r\n:4\r\n" };
	for (size_t i = 0; i < sizeof(redis) / sizeof(redis[0]); i++)
		assert_int_equal(wire_detect((const uint8_t *)redis[i], strlen(redis[i])), WIRE_REDIS);
	for (size_t i = 0; i < sizeof(not_redis) / sizeof(not_redis[0]); i++)
		assert_int_equal(wire_detect((const uint8_t *)not_redis[i], strlen(not_redis[i])),
				 WIRE_UNKNOWN);
	assert_ptr_equal(wire_parser_ops_for(WIRE_REDIS), &redis_wire_ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_get),
		cmocka_unit_test(test_error_replies),
		cmocka_unit_test(test_nested_and_resp3),
		cmocka_unit_test(test_big_value_truncated),
		cmocka_unit_test(test_pipelined_16_gets),
		cmocka_unit_test(test_split_tiny_chunks),
		cmocka_unit_test(test_reply_before_command),
		cmocka_unit_test(test_sync_lost_and_resync),
		cmocka_unit_test(test_close_pending),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_bad_command_name),
		cmocka_unit_test(test_subscribe_stops),
		cmocka_unit_test(test_never_leaks),
		cmocka_unit_test(test_multi_exec),
		cmocka_unit_test(test_detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
