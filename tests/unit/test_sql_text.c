// SPDX-License-Identifier: Apache-2.0
/* user/gotrace/sql_text.c, the privacy boundary between a query's text and what leaves the
 * host. Ground truth: each input is written here with its literals known, and the expected
 * text is that input with exactly those literals replaced by '?'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gotrace/sql_text.h"

struct sanitize_case {
	const char *in, *want;
};

static const struct sanitize_case sanitize_cases[] = {
	/* literal kinds */
	{ "SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = ?" },
	{ "SELECT * FROM t WHERE a = 42", "SELECT * FROM t WHERE a = ?" },
	{ "SELECT * FROM t WHERE a = 4.25", "SELECT * FROM t WHERE a = ?" },
	{ "SELECT * FROM t WHERE a = .5", "SELECT * FROM t WHERE a = ?" },
	{ "SELECT * FROM t WHERE a = 1e-9", "SELECT * FROM t WHERE a = ?-?" },
	{ "SELECT * FROM t WHERE a = 0xDEADBEEF", "SELECT * FROM t WHERE a = ?" },
	{ "SELECT * FROM t WHERE a = X'0fab'", "SELECT * FROM t WHERE a = X?" },
	{ "SELECT * FROM t WHERE a = E'\\x41'", "SELECT * FROM t WHERE a = E?" },
	{ "SELECT * FROM t WHERE a IN (1, 2, 'three')", "SELECT * FROM t WHERE a IN (?, ?, ?)" },
	{ "SELECT * FROM t WHERE a = -7", "SELECT * FROM t WHERE a = -?" },
	/* placeholders and identifiers stay */
	{ "SELECT * FROM t WHERE a = $1 AND b = $12", "SELECT * FROM t WHERE a = $1 AND b = $12" },
	{ "SELECT * FROM t WHERE a = ? AND b = :name", "SELECT * FROM t WHERE a = ? AND b = :name" },
	{ "SELECT * FROM t2 WHERE col_3 = :1", "SELECT * FROM t2 WHERE col_3 = :1" },
	{ "SELECT \"Weird Col\", `tick` FROM t", "SELECT \"Weird Col\", `tick` FROM t" },
	/* nested and escaped quotes */
	{ "SELECT 'it''s' FROM t", "SELECT ? FROM t" },
	{ "SELECT 'a\\'b' FROM t", "SELECT ? FROM t" },
	{ "SELECT 'say \"hi\"' FROM t", "SELECT ? FROM t" },
	{ "SELECT \"it's\" FROM t", "SELECT \"it's\" FROM t" },
	{ "SELECT \"a\"\"b\" FROM t", "SELECT \"a\"\"b\" FROM t" },
	{ "SELECT '', '''' FROM t", "SELECT ?, ? FROM t" },
	/* dollar quotes (PostgreSQL): the body is a literal */
	{ "SELECT $$secret$$", "SELECT ?" },
	{ "SELECT $tag$it's $$ secret$tag$ FROM t", "SELECT ? FROM t" },
	{ "SELECT $a$x$b$y$a$, $1", "SELECT ?, $1" },
	{ "SELECT $$never closed", "SELECT ?" },
	{ "SELECT a$b FROM t", "SELECT a$b FROM t" },
	/* comments go, white space folds */
	{ "SELECT a -- 'secret' 42\nFROM t", "SELECT a FROM t" },
	{ "SELECT /* 'secret' */ a FROM t", "SELECT a FROM t" },
	{ "SELECT a/**/FROM t", "SELECT a FROM t" },
	{ "  SELECT\t\ta\n\n FROM   t  ", "SELECT a FROM t" },
	{ "SELECT a FROM t /* never closed 'x'", "SELECT a FROM t" },
	{ "SELECT a FROM t --", "SELECT a FROM t" },
	{ "SELECT a\x01\x7f FROM t\x1b", "SELECT a FROM t" },
	/* truncated input (the BPF side copies at most GOTRACE_QUERY_LEN bytes) */
	{ "SELECT * FROM t WHERE a = 'unterminated secr", "SELECT * FROM t WHERE a = ?" },
	{ "SELECT * FROM t WHERE a = \"unterminated", "SELECT * FROM t WHERE a = ?" },
	{ "SELECT `a FROM t WHERE b = 'secret'", "SELECT ?" },
	{ "SELECT \"a\x01"
	  "b\" FROM t",
	  "SELECT \"a b\" FROM t" },
	{ "SELECT $.5, :.5 FROM t", "SELECT $?, :? FROM t" },
	{ "", "" },
};

static void test_sanitize_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sanitize_cases) / sizeof(sanitize_cases[0]); i++) {
		const struct sanitize_case *c = &sanitize_cases[i];
		char out[256];
		memset(out, '#', sizeof(out));
		size_t n = sql_sanitize(c->in, strlen(c->in), out, sizeof(out));
		if (strcmp(out, c->want) || n != strlen(c->want)) {
			print_error("case %zu: %s\n  got  %s (%zu)\n  want %s\n", i, c->in, out, n, c->want);
			fail();
		}
	}
}

/* len bounds the read: bytes past it (a literal here) never show. */
static void test_sanitize_reads_only_len(void **state)
{
	(void)state;
	const char q[] = "SELECT a FROM t WHERE b = 'x'";
	char out[64];
	assert_int_equal(sql_sanitize(q, 8, out, sizeof(out)), 8);
	assert_string_equal(out, "SELECT a");
	/* Nor do they decide the table: a ',' past len would mean a list of tables. */
	const char cut[] = "SELECT * FROM users AS u, orders o";
	char coll[32];
	sql_collection(cut, strlen("SELECT * FROM users AS u"), coll, sizeof(coll));
	assert_string_equal(coll, "users");
	/* An embedded NUL is white space, not the end of the output. */
	const char nul[] = "SELECT a\0FROM t";
	assert_int_equal(sql_sanitize(nul, sizeof(nul) - 1, out, sizeof(out)), 15);
	assert_string_equal(out, "SELECT a FROM t");
}

/* Output truncation: every buffer size gives a NUL-terminated prefix of the whole result. */
static void test_sanitize_truncates(void **state)
{
	(void)state;
	const char *q = "SELECT name FROM users WHERE id = 12 AND note = 'x y z'";
	const char *whole = "SELECT name FROM users WHERE id = ? AND note = ?";
	for (size_t cap = 1; cap <= strlen(whole) + 2; cap++) {
		char out[64];
		memset(out, '#', sizeof(out));
		size_t n = sql_sanitize(q, strlen(q), out, cap);
		size_t want = strlen(whole) < cap - 1 ? strlen(whole) : cap - 1;
		assert_int_equal(n, want);
		assert_int_equal(out[n], '\0');
		assert_memory_equal(out, whole, n);
		assert_int_equal(out[cap], '#'); /* nothing written past cap */
	}
	char one = '#';
	assert_int_equal(sql_sanitize(q, strlen(q), &one, 0), 0);
	assert_int_equal(one, '#');
}

struct meta_case {
	const char *in, *operation, *collection;
};

static const struct meta_case meta_cases[] = {
	{ "SELECT name FROM users WHERE id = 1", "SELECT", "users" },
	{ "select * from users u where u.id = $1", "SELECT", "users" },
	{ "INSERT INTO orders (user_id, total) VALUES (1, 2)", "INSERT", "orders" },
	{ "UPDATE accounts SET balance = 0", "UPDATE", "accounts" },
	{ "DELETE FROM sessions WHERE expires < now()", "DELETE", "sessions" },
	{ "SELECT * FROM \"Mixed Case\"", "SELECT", "Mixed Case" },
	{ "SELECT * FROM public.users", "SELECT", "public.users" },
	{ "  /* hint */ -- c\n  SELECT 1", "SELECT", "" },
	{ "SELECT * FROM a JOIN b ON a.id = b.id", "SELECT", "" },
	{ "SELECT * FROM a, b", "SELECT", "" },
	{ "SELECT * FROM (SELECT 1) s", "SELECT", "" },
	{ "SELECT (SELECT x FROM inner_t) FROM outer_t", "SELECT", "outer_t" },
	{ "SELECT 'from x' FROM real_t", "SELECT", "real_t" },
	{ "BEGIN", "BEGIN", "" },
	{ "", "", "" },
	{ "  ", "", "" },
};

static void test_operation_and_collection(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(meta_cases) / sizeof(meta_cases[0]); i++) {
		const struct meta_case *c = &meta_cases[i];
		char op[32], coll[64];
		sql_operation(c->in, strlen(c->in), op, sizeof(op));
		sql_collection(c->in, strlen(c->in), coll, sizeof(coll));
		if (strcmp(op, c->operation) || strcmp(coll, c->collection)) {
			print_error("case %zu: %s\n  got  %s / %s\n  want %s / %s\n", i, c->in, op, coll,
				    c->operation, c->collection);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_sanitize_reads_only_len),
		cmocka_unit_test(test_sanitize_truncates),
		cmocka_unit_test(test_operation_and_collection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
