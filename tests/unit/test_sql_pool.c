// SPDX-License-Identifier: Apache-2.0
/* user/metrics/sql_pool_read.c: a sql.DB's bytes, laid out with the real offsets of Go 1.19
 * (connRequests a map) and Go 1.26 (a connRequestSet) from the generated table, decode to the
 * figures DB.Stats would give; every figure no live pool can have is refused, and so is a
 * reading that cannot follow the previous one. Ground truth: the fields written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gotrace.h"
#include "metrics/sql_pool_read.h"

static struct go_http_offsets offsets_of(const char *version)
{
	struct go_http_offsets o;
	assert_int_equal(go_offsets_from_table(version, &o), 0);
	return o;
}

static void put(uint8_t *db, int32_t off, int64_t v)
{
	assert_true(off >= 0);
	memcpy(db + off, &v, sizeof(v));
}

/* A pool of 2 exhausted: both connections in use, none idle, 3 requests waiting; 5 waits so
 * far totalling 1.5 s; 4 connections closed by the idle limit, 1 by the idle time. */
static void busy_pool(const struct go_http_offsets *o, uint8_t *db)
{
	memset(db, 0, 512);
	put(db, o->db_connector, 0x7a0000); /* itab */
	put(db, o->db_connector + 8, 0xc000010000);
	put(db, o->db_free_conn, 0xc000020000);
	put(db, o->db_free_conn + 8, 0);
	put(db, o->db_free_conn + 16, 2);
	put(db, o->db_num_open, 2);
	put(db, o->db_max_open, 2);
	put(db, o->db_wait_count, 5);
	put(db, o->db_wait_duration, 1500000000);
	put(db, o->db_max_idle_closed, 4);
	put(db, o->db_max_idle_time_closed, 1);
	put(db, o->db_max_lifetime_closed, 0);
	if (o->conn_request_set_s >= 0) {
		put(db, o->db_conn_requests + o->conn_request_set_s, 0xc000030000);
		put(db, o->db_conn_requests + o->conn_request_set_s + 8, 3);
		put(db, o->db_conn_requests + o->conn_request_set_s + 16, 4);
	} else {
		put(db, o->db_conn_requests, 0xc000040000); /* *hmap */
	}
}

static void check_busy(const struct sql_pool_stats *s, int64_t pending)
{
	assert_int_equal(s->open, 2);
	assert_int_equal(s->in_use, 2);
	assert_int_equal(s->idle, 0);
	assert_int_equal(s->max_open, 2);
	assert_int_equal(s->pending, pending);
	assert_int_equal(s->wait_count, 5);
	assert_int_equal(s->wait_duration_ns, 1500000000);
	assert_int_equal(s->closed_max_idle, 4);
	assert_int_equal(s->closed_max_idle_time, 1);
	assert_int_equal(s->closed_max_lifetime, 0);
	assert_false(s->closed);
}

static void test_set_layout_decodes(void **state)
{
	(void)state;
	struct go_http_offsets o = offsets_of("go1.26.8");
	struct sql_pool_layout l;
	uint8_t db[512];
	struct sql_pool_stats s;
	assert_null(sql_pool_layout_from_offsets(&o, GOTRACE_MAP_SWISS, &l));
	assert_int_equal(l.requests, SQL_POOL_REQUESTS_SET);
	assert_int_equal(l.span, o.db_max_lifetime_closed + 8);
	busy_pool(&o, db);
	assert_int_equal(sql_pool_requests_map(&l, db, l.span), 0);
	assert_null(sql_pool_decode(&l, db, l.span, 0, &s));
	check_busy(&s, 3);
	/* One connection back: one idle, one used. */
	put(db, o.db_free_conn + 8, 1);
	assert_null(sql_pool_decode(&l, db, l.span, 0, &s));
	assert_int_equal(s.idle, 1);
	assert_int_equal(s.in_use, 1);
	/* No limit: DBStats.MaxOpenConnections 0. */
	put(db, o.db_max_open, 0);
	assert_null(sql_pool_decode(&l, db, l.span, 0, &s));
	assert_int_equal(s.max_open, 0);
	db[o.db_closed] = 1;
	assert_null(sql_pool_decode(&l, db, l.span, 0, &s));
	assert_true(s.closed);
	assert_non_null(sql_pool_decode(&l, db, l.span - 1, 0, &s)); /* short read */
}

static void test_map_layout_decodes(void **state)
{
	(void)state;
	struct go_http_offsets o = offsets_of("go1.19.8");
	struct sql_pool_layout l;
	uint8_t db[512];
	struct sql_pool_stats s;
	assert_int_equal(o.conn_request_set_s, -1);
	assert_null(sql_pool_layout_from_offsets(&o, GOTRACE_MAP_BUCKETS, &l));
	assert_int_equal(l.requests, SQL_POOL_REQUESTS_MAP);
	busy_pool(&o, db);
	assert_int_equal(sql_pool_requests_map(&l, db, l.span), 0xc000040000);
	assert_null(sql_pool_decode(&l, db, l.span, 3, &s));
	check_busy(&s, 3);
	assert_non_null(sql_pool_decode(&l, db, l.span, -1, &s)); /* the count could not be read */
	put(db, o.db_conn_requests, 0);
	assert_non_null(sql_pool_decode(&l, db, l.span, 3, &s)); /* no map */
	/* A map of a layout glimpse does not know: no pending requests, the rest as before. */
	assert_null(sql_pool_layout_from_offsets(&o, GOTRACE_MAP_UNKNOWN, &l));
	assert_int_equal(l.requests, SQL_POOL_REQUESTS_UNKNOWN);
	assert_null(sql_pool_decode(&l, db, l.span, 0, &s));
	assert_int_equal(s.pending, -1);
	assert_int_equal(s.in_use, 2);
}

static void test_impossible_figures_are_refused(void **state)
{
	(void)state;
	struct go_http_offsets o = offsets_of("go1.26.8");
	struct sql_pool_layout l;
	uint8_t db[512];
	struct sql_pool_stats s;
	assert_null(sql_pool_layout_from_offsets(&o, GOTRACE_MAP_SWISS, &l));
	const struct {
		int32_t off;
		int64_t value;
	} bad[] = {
		{ o.db_num_open, -1 },
		{ o.db_num_open, 1 }, /* fewer open than the idle ones below */
		{ o.db_max_open, -2 },
		{ o.db_free_conn + 8, 3 }, /* len > cap */
		{ o.db_free_conn, 0 },	   /* cap 2 but no array */
		{ o.db_wait_count, -5 },
		{ o.db_wait_duration, -1 },
		{ o.db_max_idle_closed, SQL_POOL_MAX_COUNT },
		{ o.db_connector, 0 },
		{ o.db_connector + 8, 0 },
		{ o.db_conn_requests + o.conn_request_set_s + 8, 5 }, /* waiting len > cap */
		{ o.db_conn_requests + o.conn_request_set_s + 8, -1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		busy_pool(&o, db);
		put(db, o.db_free_conn + 8, 2); /* both idle: a valid base for each case */
		assert_null(sql_pool_decode(&l, db, l.span, 0, &s));
		put(db, bad[i].off, bad[i].value);
		assert_non_null(sql_pool_decode(&l, db, l.span, 0, &s));
	}
	busy_pool(&o, db);
	db[o.db_closed] = 2; /* not a bool */
	assert_non_null(sql_pool_decode(&l, db, l.span, 0, &s));
}

static void test_a_reading_must_follow_the_last(void **state)
{
	(void)state;
	struct go_http_offsets o = offsets_of("go1.23.5");
	struct sql_pool_layout l;
	uint8_t db[512];
	struct sql_pool_stats prev, cur;
	assert_null(sql_pool_layout_from_offsets(&o, GOTRACE_MAP_BUCKETS, &l));
	assert_int_equal(l.requests, SQL_POOL_REQUESTS_SET);
	busy_pool(&o, db);
	assert_null(sql_pool_decode(&l, db, l.span, 0, &prev));
	put(db, o.db_wait_count, 6);
	put(db, o.db_wait_duration, 1600000000);
	assert_null(sql_pool_decode(&l, db, l.span, 0, &cur));
	assert_null(sql_pool_follows(&prev, &cur));
	put(db, o.db_wait_count, 4);
	assert_null(sql_pool_decode(&l, db, l.span, 0, &cur));
	assert_non_null(sql_pool_follows(&prev, &cur));
	put(db, o.db_wait_count, 6);
	put(db, o.db_connector, 0x7b0000); /* another connector: another object */
	assert_null(sql_pool_decode(&l, db, l.span, 0, &cur));
	assert_non_null(sql_pool_follows(&prev, &cur));
}

static void test_offsets_without_database_sql(void **state)
{
	(void)state;
	struct go_http_offsets o = offsets_of("go1.26.8");
	struct sql_pool_layout l;
	o.db_num_open = -1;
	assert_non_null(sql_pool_layout_from_offsets(&o, GOTRACE_MAP_SWISS, &l));
}

static void test_pool_names(void **state)
{
	(void)state;
	char name[48];
	sql_pool_name("postgresql", 1, name, sizeof(name));
	assert_string_equal(name, "postgresql");
	sql_pool_name("postgresql", 2, name, sizeof(name));
	assert_string_equal(name, "postgresql-2");
	sql_pool_name("sqlite", 12, name, sizeof(name));
	assert_string_equal(name, "sqlite-12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_layout_decodes),
		cmocka_unit_test(test_map_layout_decodes),
		cmocka_unit_test(test_impossible_figures_are_refused),
		cmocka_unit_test(test_a_reading_must_follow_the_last),
		cmocka_unit_test(test_offsets_without_database_sql),
		cmocka_unit_test(test_pool_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
