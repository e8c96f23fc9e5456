// SPDX-License-Identifier: Apache-2.0
/* user/logs: the line splitter (log_lines.c) and the log line parser (log_parse.c,
 * log_parse_json.c). Ground truth: lines written here the way log/slog, zap, zerolog, logrus, the
 * log package and glog write them, with their fields known. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "logs/log_lines.h"
#include "logs/log_parse.h"

static struct log_parser parser;

static struct log_record parse(const char *line)
{
	struct log_record r = { 0 };
	log_parse_line(&parser, line, strlen(line), &r);
	return r;
}

static const struct log_attr *attr(const struct log_record *r, const char *key)
{
	for (unsigned i = 0; i < r->nattrs; i++)
		if (!strcmp(r->attrs[i].key, key))
			return &r->attrs[i];
	print_error("no attribute %s\n", key);
	fail();
	return NULL;
}

static void test_slog_json(void **state)
{
	(void)state;
	struct log_record r =
		parse("{\"time\":\"2026-11-29T08:00:00.002Z\",\"level\":\"WARN\",\"msg\":\"handling "
		      "hello\",\"request_id\":\"r1\",\"i\":3,\"ratio\":0.25,\"ok\":true,\"none\":null,"
		      "\"req\":{\"method\":\"GET\",\"path\":\"/hello\"}}");
	assert_int_equal(r.format, LOG_FORMAT_JSON);
	assert_int_equal(r.time_unix_ns, 1795939200002000000ull);
	assert_int_equal(r.severity_number, 13);
	assert_string_equal(r.severity_text, "WARN");
	assert_string_equal(r.body, "handling hello");
	assert_int_equal(r.nattrs, 6); /* null says nothing */
	assert_string_equal(attr(&r, "request_id")->s, "r1");
	assert_int_equal(attr(&r, "i")->type, LOG_VALUE_INT);
	assert_int_equal(attr(&r, "i")->i, 3);
	assert_int_equal(attr(&r, "ratio")->type, LOG_VALUE_DOUBLE);
	assert_true(attr(&r, "ratio")->d == 0.25);
	assert_int_equal(attr(&r, "ok")->type, LOG_VALUE_BOOL);
	assert_true(attr(&r, "ok")->b);
	assert_string_equal(attr(&r, "req.method")->s, "GET");
	assert_string_equal(attr(&r, "req.path")->s, "/hello");
}

static void test_zap_and_zerolog(void **state)
{
	(void)state;
	/* zap's production encoder: ts in seconds as a float, lowercase level, caller */
	struct log_record r =
		parse("{\"level\":\"error\",\"ts\":1795939200.5,\"caller\":\"svc/main.go:42\","
		      "\"msg\":\"query failed\",\"tags\":[\"a\",{\"b\":1}],\"big\":12345678901234567890}");
	assert_int_equal(r.time_unix_ns, 1795939200500000000ull);
	assert_int_equal(r.severity_number, 17);
	assert_string_equal(r.body, "query failed");
	assert_string_equal(attr(&r, "caller")->s, "svc/main.go:42");
	assert_int_equal(attr(&r, "tags")->type, LOG_VALUE_JSON);
	assert_string_equal(attr(&r, "tags")->s, "[\"a\",{\"b\":1}]");
	assert_int_equal(attr(&r, "big")->type, LOG_VALUE_DOUBLE); /* past int64 */
	/* zerolog: "message", RFC 3339 with an offset, escapes */
	r = parse("{\"level\":\"debug\",\"time\":\"2026-11-29T09:00:00+01:00\",\"message\":\"caf\\u00e9 "
		  "\\ud83d\\ude00 \\ud800 \\u0000\\n\"}");
	assert_int_equal(r.time_unix_ns, 1795939200000000000ull);
	assert_int_equal(r.severity_number, 5);
	assert_string_equal(r.body, "café 😀 \xef\xbf\xbd \xef\xbf\xbd\n"); /* lone surrogate, NUL: U+FFFD */
	/* zerolog with a Unix time in milliseconds; logrus's "level":"warning" */
	r = parse("{\"level\":\"warning\",\"time\":1795939200123,\"msg\":\"x\"}");
	assert_int_equal(r.time_unix_ns, 1795939200123000000ull);
	assert_int_equal(r.severity_number, 13);
}

static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(log_severity_from_text("INFO", 4), 9);
	assert_int_equal(log_severity_from_text("INFO+2", 6), 11); /* slog's levels between */
	assert_int_equal(log_severity_from_text("DEBUG-4", 7), 1);
	assert_int_equal(log_severity_from_text("ERROR+8", 7), 24);
	assert_int_equal(log_severity_from_text("dpanic", 6), 21);
	assert_int_equal(log_severity_from_text("verbose", 7), 0);
	assert_int_equal(log_severity_from_text("INFO+x", 6), 0);
	/* a level that is not a string is an attribute, not a severity */
	struct log_record r = parse("{\"level\":30,\"msg\":\"bunyan\"}");
	assert_int_equal(r.severity_number, 0);
	assert_int_equal(attr(&r, "level")->i, 30);
}

static void test_rfc3339(void **state)
{
	(void)state;
	assert_int_equal(log_parse_rfc3339("1970-01-01T00:00:01Z", 20), 1000000000ull);
	assert_int_equal(log_parse_rfc3339("2026-11-29 08:00:00.123456789Z", 30), 1795939200123456789ull);
	assert_int_equal(log_parse_rfc3339("2026-11-29T08:00:00", 19), 0); /* no zone */
	assert_int_equal(log_parse_rfc3339("2026-13-29T08:00:00Z", 20), 0);
	assert_int_equal(log_parse_rfc3339("2026-11-29T08:00:00.Z", 21), 0);
	/* a time that does not parse stays a field */
	struct log_record r = parse("{\"time\":\"yesterday\",\"msg\":\"m\"}");
	assert_int_equal(r.time_unix_ns, 0);
	assert_string_equal(attr(&r, "time")->s, "yesterday");
}

static void test_plain_lines(void **state)
{
	(void)state;
	static const struct {
		const char *line, *text;
		int sev;
	} cases[] = {
		{ "WARN hello done request_id=r1", "WARN", 13 },
		{ "2026/11/29 08:00:00 ERROR: disk full", "ERROR", 17 },
		{ "[info] started", "info", 9 },
		{ "time=2026-11-29T08:00:00Z level=DEBUG msg=x", "DEBUG", 5 },
		{ "E1129 08:00:00.000000 1 main.go:1] failed", "E", 17 },
		{ "error connecting to db", "", 0 }, /* prose, not a level */
		{ "2026/11/29 08:00:00 listening", "", 0 },
		{ "", "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct log_record r = parse(cases[i].line);
		assert_int_equal(r.format, LOG_FORMAT_PLAIN);
		assert_string_equal(r.body, cases[i].line);
		if (strcmp(r.severity_text, cases[i].text) || r.severity_number != cases[i].sev) {
			print_error("case %zu: %s: got %s/%d\n", i, cases[i].line, r.severity_text,
				    r.severity_number);
			fail();
		}
	}
}

static void test_not_json_is_plain(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"msg\":\"x\"} trailing",
		"{\"msg\":\"x\"",
		"{\"msg\" \"x\"}",
		"{\"a\":tru}",
		"{\"a\":1.}",
		"{\"a\":\"\\q\"}",
		"{\"a\":[1,2}",
		"{'a':1}",
		"{\"a\":\"\x01\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct log_record r = parse(bad[i]);
		assert_int_equal(r.format, LOG_FORMAT_PLAIN);
		assert_int_equal(r.nattrs, 0);
		assert_string_equal(r.body, bad[i]);
	}
	/* invalid UTF-8 and NUL are repaired, never passed on */
	struct log_record r = { 0 };
	log_parse_line(&parser, "a\xff\0b\r", 5, &r);
	assert_string_equal(r.body, "a\xef\xbf\xbd\xef\xbf\xbd"
				    "b");
}

static struct log_record parse_cut(const char *line)
{
	struct log_record r = { .truncated = true };
	log_parse_line(&parser, line, strlen(line), &r);
	return r;
}

/* A JSON line cut short keeps what came before the cut. */
static void test_cut_json(void **state)
{
	(void)state;
	struct log_record r =
		parse_cut("{\"time\":\"2026-11-29T08:00:00.008Z\",\"level\":\"INFO\",\"msg\":\"big xxx");
	assert_int_equal(r.format, LOG_FORMAT_JSON);
	assert_int_equal(r.time_unix_ns, 1795939200008000000ull);
	assert_int_equal(r.severity_number, 9);
	assert_string_equal(r.body, "big xxx");
	r = parse_cut("{\"level\":\"warn\",\"msg\":\"m\",\"n\":12");
	assert_int_equal(r.severity_number, 13);
	assert_int_equal(r.nattrs, 0); /* a number cut may be any number: left out */
	r = parse_cut("{\"msg\":\"a\\");
	assert_string_equal(r.body, "a");
	r = parse_cut("{\"msg\":\"a\\u00");
	assert_string_equal(r.body, "a");
	r = parse_cut("{\"msg\":\"m\",\"req\":{\"method\":\"GE");
	assert_string_equal(attr(&r, "req.method")->s, "GE");
	r = parse_cut("{\"msg\":\"m\",\"ke");
	assert_int_equal(r.nattrs, 0);
	/* not cut: the same text is no JSON */
	r = parse("{\"level\":\"INFO\",\"msg\":\"big xxx");
	assert_int_equal(r.format, LOG_FORMAT_PLAIN);
	/* cut but malformed before the cut: still plain */
	r = parse_cut("{\"level\" \"INFO\",\"msg\":\"x");
	assert_int_equal(r.format, LOG_FORMAT_PLAIN);
}

static void test_attribute_limits(void **state)
{
	(void)state;
	char line[4096];
	size_t n = (size_t)snprintf(line, sizeof(line), "{\"msg\":\"m\"");
	for (int i = 0; i < LOG_MAX_ATTRS + 5; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"k%d\":%d", i, i);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}");
	struct log_record r = parse(line);
	assert_int_equal(r.format, LOG_FORMAT_JSON);
	assert_int_equal(r.nattrs, LOG_MAX_ATTRS);
	assert_int_equal(r.dropped_attrs, 5 + 1);
}

/* ---- lines ---- */

struct got {
	char text[8][LOG_LINE_MAX + 1];
	bool truncated[8];
	uint32_t tid[8];
	int n;
};

static void collect(void *ctx, const struct log_origin *o, const char *text, size_t len, bool truncated)
{
	struct got *g = ctx;
	assert_true(g->n < 8);
	memcpy(g->text[g->n], text, len);
	g->text[g->n][len] = '\0';
	g->truncated[g->n] = truncated;
	g->tid[g->n] = o->tid;
	g->n++;
}

static void write_str(struct log_lines *l, uint32_t pid, int fd, uint32_t tid, const char *s)
{
	struct log_origin o = { .pid = pid, .fd = fd, .tid = tid };
	log_lines_write(l, &o, s, strlen(s), strlen(s));
}

static void test_lines_split_and_join(void **state)
{
	(void)state;
	struct got g = { 0 };
	struct log_lines *l = log_lines_new(collect, &g);
	write_str(l, 1, 1, 10, "one\ntwo\nthr"); /* a buffered writer: several lines in one write */
	write_str(l, 1, 2, 20, "err ");		 /* another fd of the same process: its own line */
	write_str(l, 1, 1, 11, "ee\n");		 /* the rest: the line keeps its first write's origin */
	write_str(l, 1, 2, 21, "line\n");
	write_str(l, 2, 1, 30, "unfinished");
	assert_int_equal(g.n, 4);
	assert_string_equal(g.text[0], "one");
	assert_string_equal(g.text[1], "two");
	assert_string_equal(g.text[2], "three");
	assert_int_equal(g.tid[2], 10);
	assert_string_equal(g.text[3], "err line");
	assert_int_equal(g.tid[3], 20);
	log_lines_flush(l, 2);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.text[4], "unfinished");
	assert_false(g.truncated[4]);
	assert_int_equal(log_lines_truncated(l), 0);
	log_lines_free(l);
}

static void test_lines_truncated(void **state)
{
	(void)state;
	struct got g = { 0 };
	struct log_lines *l = log_lines_new(collect, &g);
	/* The kernel saw 4 bytes of a 100-byte write: the line ends unseen. */
	struct log_origin o = { .pid = 1, .fd = 1 };
	log_lines_write(l, &o, "abcd", 4, 100);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text[0], "abcd");
	assert_true(g.truncated[0]);
	/* Its seen part ended a line: what followed went by unseen, counted. */
	log_lines_write(l, &o, "ab\n", 3, 50);
	assert_int_equal(g.n, 2);
	assert_false(g.truncated[1]);
	assert_int_equal(log_lines_unseen(l), 1);
	g.n = 1;
	/* A line longer than LOG_LINE_MAX over several writes: cut, the rest dropped to its newline. */
	static char chunk[3000];
	memset(chunk, 'x', sizeof(chunk));
	log_lines_write(l, &o, chunk, sizeof(chunk), sizeof(chunk));
	log_lines_write(l, &o, chunk, sizeof(chunk), sizeof(chunk));
	write_str(l, 1, 1, 0, "tail\nnext\n");
	assert_int_equal(g.n, 3);
	assert_int_equal(strlen(g.text[1]), LOG_LINE_MAX);
	assert_true(g.truncated[1]);
	assert_string_equal(g.text[2], "next");
	assert_false(g.truncated[2]);
	assert_int_equal(log_lines_truncated(l), 2);
	log_lines_free(l);
}

static void test_lines_bounded(void **state)
{
	(void)state;
	struct got g = { 0 };
	struct log_lines *l = log_lines_new(collect, &g);
	/* More unfinished lines than slots: the oldest goes out as it is, flagged. */
	for (uint32_t pid = 1; pid <= LOG_PENDING_MAX + 1; pid++)
		write_str(l, pid, 1, pid, "partial");
	assert_int_equal(g.n, 1);
	assert_int_equal(g.tid[0], 1);
	assert_true(g.truncated[0]);
	log_lines_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slog_json),
		cmocka_unit_test(test_zap_and_zerolog),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_plain_lines),
		cmocka_unit_test(test_not_json_is_plain),
		cmocka_unit_test(test_attribute_limits),
		cmocka_unit_test(test_cut_json),
		cmocka_unit_test(test_lines_split_and_join),
		cmocka_unit_test(test_lines_truncated),
		cmocka_unit_test(test_lines_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
