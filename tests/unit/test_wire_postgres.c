// SPDX-License-Identifier: Apache-2.0
/* user/sockcap/postgres_wire.c: PostgreSQL queries paired with their replies from captured
 * system calls. Ground truth: every message is built here byte by byte (type, length, body),
 * so the calls, their times and the counters expected are known exactly. */
#define _GNU_SOURCE /* memmem */
#define WIRE_OPS    postgres_wire_ops
#include "wire_harness.h"

/* A message body written as a string literal, every NUL spelled out. */
#define B(s) (const uint8_t *)(s), sizeof(s) - 1

struct msgs {
	char b[16384];
	size_t n;
};

/* type 0: a startup-phase message (no type byte) */
static struct msgs *put(struct msgs *m, char type, const uint8_t *body, size_t len)
{
	uint32_t l = (uint32_t)len + 4;
	if (type != 0)
		m->b[m->n++] = type;
	m->b[m->n++] = (char)(l >> 24);
	m->b[m->n++] = (char)(l >> 16);
	m->b[m->n++] = (char)(l >> 8);
	m->b[m->n++] = (char)l;
	memcpy(m->b + m->n, body, len);
	m->n += len;
	return m;
}

static uint64_t send_msgs(struct conn *c, bool from_client, struct msgs *m)
{
	uint64_t t = feed_n(c, from_client, m->b, m->n, m->n);
	m->n = 0;
	return t;
}

static void assert_call_op(const struct wire_call *k, const char *operation, const char *query, bool error,
			   const char *error_type, uint64_t start, uint64_t end)
{
	assert_int_equal(k->protocol, WIRE_POSTGRES);
	assert_string_equal(k->query, query);
	assert_false(k->query_truncated);
	assert_int_equal(k->error, error);
	assert_string_equal(k->error_type, error_type);
	assert_int_equal(k->start_ns, start);
	assert_int_equal(k->end_ns, end);
	assert_string_equal(k->operation, operation);
	assert_string_equal(k->method, "");
	assert_int_equal(k->status, 0);
}

/* A call that ran a statement (PostgreSQL calls carry no operation: it is read from the query). */
static void assert_call(const struct wire_call *k, const char *query, bool error, const char *error_type,
			uint64_t start, uint64_t end)
{
	assert_call_op(k, "", query, error, error_type, start, end);
}

static void startup(struct conn *c, struct msgs *m)
{
	put(m, 0, B("\x00\x03\x00\x00user\0bob\0database\0shop\0\0"));
	send_msgs(c, true, m);
	put(m, 'R',
	    B("\0\0\0\x0a"
	      "SCRAM-SHA-256\0\0"));
	send_msgs(c, false, m);
	put(m, 'p', B("SCRAM-SHA-256\0\0\0\0\x05n,,n="));
	send_msgs(c, true, m);
	put(m, 'R', B("\0\0\0\0"));
	put(m, 'S',
	    B("server_version\0"
	      "16.2\0"));
	put(m, 'K', B("\0\0\x30\x39\x12\x34\x56\x78"));
	put(m, 'Z', B("I"));
	send_msgs(c, false, m);
}

static void rows(struct msgs *m, int n)
{
	put(m, 'T',
	    B("\0\x01"
	      "a\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0"));
	for (int i = 0; i < n; i++)
		put(m, 'D',
		    B("\0\x01\0\0\0\x01"
		      "7"));
}

static void test_startup_then_query(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	assert_int_equal(c.n, 0);
	uint64_t t0 = send_msgs(&c, true, put(&m, 'Q', B("SELECT a FROM t\0")));
	rows(&m, 3);
	put(&m, 'C', B("SELECT 3\0"));
	uint64_t t1 = send_msgs(&c, false, &m);
	assert_int_equal(c.n, 0);
	uint64_t t2 = send_msgs(&c, false, put(&m, 'Z', B("I")));
	assert_int_equal(c.n, 1);
	(void)t1;
	assert_call(&c.calls[0], "SELECT a FROM t", false, "", t0, t2 + 1);
	send_msgs(&c, true, put(&m, 'X', B("")));
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_ssl_refused(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	send_msgs(&c, true, put(&m, 0, B("\x04\xd2\x16\x2f")));
	feed(&c, false, "N");
	startup(&c, &m);
	uint64_t t0 = send_msgs(&c, true, put(&m, 'Q', B("SELECT 1\0")));
	rows(&m, 1);
	put(&m, 'C', B("SELECT 1\0"));
	put(&m, 'Z', B("I"));
	uint64_t t1 = send_msgs(&c, false, &m);
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "SELECT 1", false, "", t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_ssl_accepted(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	send_msgs(&c, true, put(&m, 0, B("\x04\xd2\x16\x2f")));
	feed(&c, false, "S");
	feed(&c, true, "\x16\x03\x01\x02\x01\x01");
	feed_n(&c, false, "\x16\x03\x03\x01\x7a\x02", 6, 4000);
	send_msgs(&c, true, put(&m, 'Q', B("SELECT 1\0")));
	send_msgs(&c, false, put(&m, 'Z', B("I")));
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 0, 0, 0);

	/* GSSENCRequest answered 'G': the same */
	conn_open(&c);
	send_msgs(&c, true, put(&m, 0, B("\x04\xd2\x16\x30")));
	feed(&c, false, "G");
	feed(&c, true, "\x60\x82\x02\x10garbage");
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_cancel_request(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	send_msgs(&c, true, put(&m, 0, B("\x04\xd2\x16\x2e\0\0\x30\x39\x12\x34\x56\x78")));
	feed(&c, true, "anything");
	feed(&c, false, "anything");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 0, 0, 0);
}

static void test_multi_statement(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	uint64_t t0 = send_msgs(&c, true, put(&m, 'Q', B("BEGIN; UPDATE t SET a = 1; COMMIT\0")));
	put(&m, 'C', B("BEGIN\0"));
	put(&m, 'C', B("UPDATE 4\0"));
	put(&m, 'C', B("COMMIT\0"));
	put(&m, 'Z', B("I"));
	uint64_t t1 = send_msgs(&c, false, &m);
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "BEGIN; UPDATE t SET a = 1; COMMIT", false, "", t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static const uint8_t error_42p01[] = "SERROR\0VERROR\0C42P01\0Mrelation \"secret_table\" does not exist\0"
				     "P15\0Fparse_relation.c\0L1392\0RparserOpenTable\0";

static void test_error_response(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	uint64_t t0 = send_msgs(&c, true, put(&m, 'Q', B("SELECT * FROM secret_table\0")));
	put(&m, 'E', error_42p01, sizeof(error_42p01));
	put(&m, 'Z', B("I"));
	uint64_t t1 = send_msgs(&c, false, &m);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.calls[0].query, "SELECT * FROM secret_table");
	assert_true(c.calls[0].error);
	assert_string_equal(c.calls[0].error_type, "42P01");
	assert_int_equal(c.calls[0].start_ns, t0);
	assert_int_equal(c.calls[0].end_ns, t1 + 1);
	/* the query names the table; the message text is nowhere */
	assert_null(memmem(&c.calls[0], sizeof(c.calls[0]), "does not exist", 14));
	assert_null(memmem(&c.calls[0], sizeof(c.calls[0]), "parse_relation", 14));
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_extended_unnamed(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	put(&m, 'P', B("\0SELECT a FROM t WHERE id = $1\0\0\x01\0\0\0\x17"));
	put(&m, 'B',
	    B("\0\0\0\0\0\x01\0\0\0\x01"
	      "7\0\0"));
	put(&m, 'D', B("P\0"));
	put(&m, 'E', B("\0\0\0\0\0"));
	put(&m, 'S', B(""));
	uint64_t t0 = send_msgs(&c, true, &m);
	put(&m, '1', B(""));
	put(&m, '2', B(""));
	rows(&m, 1);
	put(&m, 'C', B("SELECT 1\0"));
	put(&m, 'Z', B("I"));
	uint64_t t1 = send_msgs(&c, false, &m);
	/* drivers bind the unnamed statement again without parsing it */
	put(&m, 'B',
	    B("\0\0\0\0\0\x01\0\0\0\x01"
	      "8\0\0"));
	put(&m, 'E', B("\0\0\0\0\0"));
	put(&m, 'S', B(""));
	uint64_t t2 = send_msgs(&c, true, &m);
	put(&m, '2', B(""));
	put(&m, 'C', B("SELECT 0\0"));
	put(&m, 'Z', B("I"));
	uint64_t t3 = send_msgs(&c, false, &m);
	assert_int_equal(c.n, 2);
	assert_call(&c.calls[0], "SELECT a FROM t WHERE id = $1", false, "", t0, t1 + 1);
	assert_call(&c.calls[1], "SELECT a FROM t WHERE id = $1", false, "", t2, t3 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_extended_named(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	/* prepare: Parse, Describe, Sync */
	put(&m, 'P', B("stmtcache_1\0UPDATE t SET a = $1\0\0\0"));
	put(&m, 'D', B("Sstmtcache_1\0"));
	put(&m, 'S', B(""));
	uint64_t t0 = send_msgs(&c, true, &m);
	put(&m, '1', B(""));
	put(&m, 't', B("\0\x01\0\0\0\x17"));
	put(&m, 'n', B(""));
	put(&m, 'Z', B("I"));
	uint64_t t1 = send_msgs(&c, false, &m);
	/* execute it twice in one round: one call per Sync */
	put(&m, 'B',
	    B("\0stmtcache_1\0\0\0\0\x01\0\0\0\x01"
	      "5\0\0"));
	put(&m, 'E', B("\0\0\0\0\0"));
	put(&m, 'B',
	    B("\0stmtcache_1\0\0\0\0\x01\0\0\0\x01"
	      "6\0\0"));
	put(&m, 'E', B("\0\0\0\0\0"));
	put(&m, 'S', B(""));
	uint64_t t2 = send_msgs(&c, true, &m);
	put(&m, '2', B(""));
	put(&m, 'C', B("UPDATE 1\0"));
	put(&m, '2', B(""));
	put(&m, 'C', B("UPDATE 1\0"));
	put(&m, 'Z', B("I"));
	uint64_t t3 = send_msgs(&c, false, &m);
	/* a statement never seen (prepared before glimpse attached) */
	put(&m, 'B', B("\0other\0\0\0\0\0\0\0"));
	put(&m, 'E', B("\0\0\0\0\0"));
	put(&m, 'S', B(""));
	uint64_t t4 = send_msgs(&c, true, &m);
	put(&m, '2', B(""));
	put(&m, 'C', B("DELETE 0\0"));
	put(&m, 'Z', B("I"));
	uint64_t t5 = send_msgs(&c, false, &m);
	/* closed, then bound: unknown too */
	put(&m, 'C', B("Sstmtcache_1\0"));
	put(&m, 'B', B("\0stmtcache_1\0\0\0\0\0\0\0"));
	put(&m, 'S', B(""));
	send_msgs(&c, true, &m);
	put(&m, '3', B(""));
	put(&m, 'Z', B("I"));
	send_msgs(&c, false, &m);
	assert_int_equal(c.n, 4);
	/* parsed, executed nothing: a call of its own, PREPARE */
	assert_call_op(&c.calls[0], "PREPARE", "UPDATE t SET a = $1", false, "", t0, t1 + 1);
	assert_call(&c.calls[1], "UPDATE t SET a = $1", false, "", t2, t3 + 1);
	assert_call(&c.calls[2], "", false, "", t4, t5 + 1);
	assert_string_equal(c.calls[3].query, "");
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_extended_error(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	put(&m, 'P', B("\0SELECT * FROM secret_table\0\0\0"));
	put(&m, 'B', B("\0\0\0\0\0\0\0\0"));
	put(&m, 'E', B("\0\0\0\0\0"));
	put(&m, 'S', B(""));
	uint64_t t0 = send_msgs(&c, true, &m);
	put(&m, 'E', error_42p01, sizeof(error_42p01));
	uint64_t t1 = send_msgs(&c, false, &m);
	assert_int_equal(c.n, 0);
	put(&m, 'Z', B("I"));
	uint64_t t2 = send_msgs(&c, false, &m);
	(void)t1;
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "SELECT * FROM secret_table", true, "42P01", t0, t2 + 1);
	/* a bare Sync after the error: answered, not a call */
	send_msgs(&c, true, put(&m, 'S', B("")));
	send_msgs(&c, false, put(&m, 'Z', B("I")));
	assert_int_equal(c.n, 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_pipelined(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	put(&m, 'Q', B("SELECT 1\0"));
	put(&m, 'Q', B("SELECT 2\0"));
	put(&m, 'Q', B("SELECT 3\0"));
	uint64_t t0 = send_msgs(&c, true, &m);
	for (int i = 0; i < 2; i++) {
		rows(&m, 1);
		put(&m, 'C', B("SELECT 1\0"));
		put(&m, 'Z', B("I"));
	}
	uint64_t t1 = send_msgs(&c, false, &m);
	put(&m, 'C', B("SELECT 1\0"));
	put(&m, 'Z', B("I"));
	uint64_t t2 = send_msgs(&c, false, &m);
	assert_int_equal(c.n, 3);
	assert_call(&c.calls[0], "SELECT 1", false, "", t0, t1 + 1);
	assert_call(&c.calls[1], "SELECT 2", false, "", t0, t1 + 1);
	assert_call(&c.calls[2], "SELECT 3", false, "", t0, t2 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

/* Feeds m in chunks of 1, 2, 3, 1, ... bytes; returns the start of the chunk holding byte at,
 * or of the last chunk when at is past the end. */
static uint64_t feed_tiny(struct conn *c, bool from_client, struct msgs *m, size_t at)
{
	size_t step = 1;
	uint64_t t = 0, hit = 0;
	for (size_t i = 0; i < m->n; i += step, step = step % 3 + 1) {
		size_t k = i + step <= m->n ? step : m->n - i;
		t = feed_n(c, from_client, m->b + i, k, k);
		if (i <= at && at < i + k)
			hit = t;
	}
	m->n = 0;
	return at == SIZE_MAX ? t : hit;
}

static void test_pipeline_full(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	for (char d = '1'; d <= '6'; d++) {
		uint8_t q[] = "SELECT 0";
		q[7] = (uint8_t)d;
		put(&m, 'Q', q, sizeof(q));
	}
	send_msgs(&c, true, &m);
	assert_stats(&c, 0, 2, 0); /* four wait; two are dropped */
	for (int i = 0; i < 6; i++)
		send_msgs(&c, false, put(&m, 'Z', B("I")));
	assert_int_equal(c.n, 4);
	assert_string_equal(c.calls[3].query, "SELECT 4");
	uint64_t t0 = send_msgs(&c, true, put(&m, 'Q', B("SELECT 7\0")));
	uint64_t t1 = send_msgs(&c, false, put(&m, 'Z', B("I")));
	assert_int_equal(c.n, 5);
	assert_call(&c.calls[4], "SELECT 7", false, "", t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 2, 0);
}

static void test_split_tiny_chunks(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	feed_tiny(&c, true, put(&m, 0, B("\x00\x03\x00\x00user\0bob\0\0")), 0);
	put(&m, 'R', B("\0\0\0\0"));
	put(&m, 'Z', B("I"));
	feed_tiny(&c, false, &m, 0);
	uint64_t t0 = feed_tiny(&c, true, put(&m, 'Q', B("SELECT 42\0")), 0);
	rows(&m, 2);
	put(&m, 'C', B("SELECT 2\0"));
	put(&m, 'Z', B("I"));
	uint64_t t1 = feed_tiny(&c, false, &m, SIZE_MAX);
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "SELECT 42", false, "", t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 0);
}

static void test_reply_before_query(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	put(&m, 'C', B("SELECT 1\0"));
	put(&m, 'Z', B("I"));
	send_msgs(&c, false, &m);
	uint64_t t0 = send_msgs(&c, true, put(&m, 'Q', B("SELECT 2\0")));
	uint64_t t1 = send_msgs(&c, false, put(&m, 'Z', B("I")));
	conn_close(&c);
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "SELECT 2", false, "", t0, t1 + 1);
	assert_stats(&c, 0, 0, 0);
}

static void test_truncated_known_length(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	static char text[5001];
	memcpy(text, "SELECT '", 8);
	memset(text + 8, 'x', 5000 - 9);
	text[4999] = '\'';
	put(&m, 'Q', (const uint8_t *)text, sizeof(text));
	uint64_t t0 = feed_n(&c, true, m.b, 1024, m.n);
	m.n = 0;
	put(&m, 'T',
	    B("\0\x01"
	      "a\0\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff\0\0"));
	put(&m, 'D', (const uint8_t *)text, 5000); /* a long row, whatever its bytes */
	put(&m, 'C', B("SELECT 1\0"));
	put(&m, 'Z', B("I"));
	size_t all = m.n;
	feed_n(&c, false, m.b, 1024, 3000);
	uint64_t t1 = feed_n(&c, false, m.b + 3000, all - 3000, all - 3000); /* D's tail, C, Z */
	assert_int_equal(c.n, 1);
	m.n = 0;
	uint64_t t2 = send_msgs(&c, true, put(&m, 'Q', B("SELECT 2\0")));
	uint64_t t3 = send_msgs(&c, false, put(&m, 'Z', B("I")));
	assert_int_equal(c.n, 2);
	assert_int_equal(c.calls[0].start_ns, t0);
	assert_int_equal(c.calls[0].end_ns, t1 + 1);
	assert_true(c.calls[0].query_truncated);
	assert_int_equal(strlen(c.calls[0].query), 1024 - 5);
	assert_memory_equal(c.calls[0].query, text, 1024 - 5);
	assert_call(&c.calls[1], "SELECT 2", false, "", t2, t3 + 1);
	conn_close(&c);
	assert_stats(&c, 0, 0, 2);
}

static void test_sync_lost_and_resync(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	put(&m, 'Q', B("SELECT a FROM big\0"));
	put(&m, 'Q', B("SELECT 2\0"));
	send_msgs(&c, true, &m);
	rows(&m, 400); /* 13-byte rows: the gap cuts through their headers */
	feed_n(&c, false, m.b, 1024, m.n);
	assert_stats(&c, 1, 2, 0);
	m.n = 0;
	put(&m, 'C', B("SELECT 400\0"));
	put(&m, 'Z', B("I"));
	put(&m, 'Z', B("I"));
	send_msgs(&c, false, &m);
	feed(&c, true, "not a message");
	uint64_t t0 = send_msgs(&c, true, put(&m, 'Q', B("SELECT 3\0")));
	uint64_t t1 = send_msgs(&c, false, put(&m, 'Z', B("I")));
	assert_int_equal(c.n, 1);
	assert_call(&c.calls[0], "SELECT 3", false, "", t0, t1 + 1);
	conn_close(&c);
	assert_stats(&c, 1, 2, 0);
}

static void test_close_pending(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	startup(&c, &m);
	put(&m, 'Q', B("SELECT pg_sleep(100)\0"));
	send_msgs(&c, true, &m);
	put(&m, 'P', B("\0SELECT 1\0\0\0"));
	put(&m, 'S', B(""));
	send_msgs(&c, true, &m);
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 0, 2, 0);
}

static void test_garbage(void **state)
{
	(void)state;
	struct conn c;
	struct msgs m = { .n = 0 };
	conn_open(&c);
	feed(&c, true, "\x16\x03\x01\x02\x01\x01");
	feed(&c, false, "garbage");
	feed(&c, true, "more");
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 1, 0, 0);

	conn_open(&c);
	startup(&c, &m);
	send_msgs(&c, true, put(&m, 'Q', B("SELECT 1\0")));
	feed(&c, false, "\x01\x02\x03\x04\x05\x06");
	send_msgs(&c, false, put(&m, 'Z', B("I")));
	conn_close(&c);
	assert_int_equal(c.n, 0);
	assert_stats(&c, 1, 1, 0);
}

static void test_detect(void **state)
{
	(void)state;
	struct msgs m = { .n = 0 };
	put(&m, 0, B("\x00\x03\x00\x00user\0bob\0\0"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_POSTGRES);
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n - 1), WIRE_UNKNOWN);
	m.n = 0;
	put(&m, 0, B("\x04\xd2\x16\x2f"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_POSTGRES);
	m.n = 0;
	put(&m, 'Q', B("SELECT 1\0"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_POSTGRES);
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n - 1), WIRE_UNKNOWN);
	m.n = 0;
	put(&m, 'Q',
	    B("SELECT\x01"
	      "1\0"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_UNKNOWN);
	m.n = 0;
	put(&m, 'P', B("s1\0SELECT $1\0\0\x01\0\0\0\x17"));
	put(&m, 'S', B(""));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_POSTGRES);
	m.n = 0;
	put(&m, 'P', B("s1\0SELECT $1\0\0\x02\0\0\0\x17"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_UNKNOWN);
	m.n = 0;
	put(&m, 'Z', B("I"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_UNKNOWN);
	/* A connection opened before the attach whose driver prepared its statements then
	 * (pgx's cache) shows Binds only: portal, statement, 1 format, 2 values (one NULL), 1
	 * result format, fields filling the length exactly. */
	m.n = 0;
	put(&m, 'B', B("\0stmtcache_1\0\0\x01\0\x01\0\x02\0\0\0\x04\0\0\0\x07\xff\xff\xff\xff\0\x01\0\x01"));
	put(&m, 'E', B("\0\0\0\0\0"));
	put(&m, 'S', B(""));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_POSTGRES);
	m.n = 0; /* a value longer than the message */
	put(&m, 'B',
	    B("\0s\0\0\0\0\x01\0\0\0\x09"
	      "abcd\0\0"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_UNKNOWN);
	m.n = 0; /* a byte left over */
	put(&m, 'B', B("\0s\0\0\0\0\0\0\0\0"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_UNKNOWN);
	m.n = 0; /* followed by something no client sends */
	put(&m, 'B', B("\0s\0\0\0\0\0\0\0"));
	put(&m, 'Z', B("I"));
	assert_int_equal(wire_detect((const uint8_t *)m.b, m.n), WIRE_UNKNOWN);
	assert_ptr_equal(wire_parser_ops_for(WIRE_POSTGRES), &postgres_wire_ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup_then_query),
		cmocka_unit_test(test_ssl_refused),
		cmocka_unit_test(test_ssl_accepted),
		cmocka_unit_test(test_cancel_request),
		cmocka_unit_test(test_multi_statement),
		cmocka_unit_test(test_error_response),
		cmocka_unit_test(test_extended_unnamed),
		cmocka_unit_test(test_extended_named),
		cmocka_unit_test(test_extended_error),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_pipeline_full),
		cmocka_unit_test(test_split_tiny_chunks),
		cmocka_unit_test(test_reply_before_query),
		cmocka_unit_test(test_truncated_known_length),
		cmocka_unit_test(test_sync_lost_and_resync),
		cmocka_unit_test(test_close_pending),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
