// SPDX-License-Identifier: Apache-2.0
/* user/metrics/sql_pools.c against sql.DB structs laid out (Go 1.26's offsets, from the
 * generated table) in this test's own memory and read with process_vm_readv as a target's
 * would be: pools named per system in the order seen, each read once per scrape, a closed
 * pool's name taken back by the next, a struct that stops reading as a pool given up, and
 * the Prometheus series of what was read. Ground truth: the fields written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/resource.h"
#include "gotrace.h"
#include "metrics/registry.h"
#include "metrics/sql_pools.h"

static struct go_http_offsets o;

struct fake_db {
	uint8_t bytes[512];
};

static void put(struct fake_db *db, int32_t off, int64_t v)
{
	memcpy(db->bytes + off, &v, sizeof(v));
}

/* open connections, of which idle are free; limit; waiting requests; waits so far. */
static void fill(struct fake_db *db, int64_t open, int64_t idle, int64_t limit, int64_t waiting,
		 int64_t waits)
{
	static int64_t free_array[8], waiters[8];
	memset(db, 0, sizeof(*db));
	put(db, o.db_connector, 0x7a0000);
	put(db, o.db_connector + 8, (int64_t)(uintptr_t)db);
	put(db, o.db_free_conn, (int64_t)(uintptr_t)free_array);
	put(db, o.db_free_conn + 8, idle);
	put(db, o.db_free_conn + 16, 8);
	put(db, o.db_num_open, open);
	put(db, o.db_max_open, limit);
	put(db, o.db_conn_requests + o.conn_request_set_s, (int64_t)(uintptr_t)waiters);
	put(db, o.db_conn_requests + o.conn_request_set_s + 8, waiting);
	put(db, o.db_conn_requests + o.conn_request_set_s + 16, 8);
	put(db, o.db_wait_count, waits);
	put(db, o.db_wait_duration, waits * 250000000);
}

static const struct resource res = {
	.service_name = "svc", .executable_name = "svc", .host_name = "h", .pid = 1
};

struct fixture {
	struct metrics_registry *reg;
	struct sql_pools *p;
	int target;
};

static int setup(void **state)
{
	static struct fixture f;
	assert_int_equal(go_offsets_from_table("go1.26.8", &o), 0);
	f.reg = metrics_registry_new(0);
	assert_non_null(f.reg);
	f.target = metrics_registry_add_target(f.reg, &res);
	assert_true(f.target >= 0);
	f.p = sql_pools_new(f.reg);
	assert_non_null(f.p);
	assert_int_equal(sql_pools_add_target(f.p, f.target, getpid(), &o, GOTRACE_MAP_SWISS), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sql_pools_free(f->p);
	metrics_registry_free(f->reg);
	return 0;
}

static const struct sql_pool_row *row_named(const struct sql_pool_row *rows, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

static void test_pools_named_read_and_given_up(void **state)
{
	struct fixture *f = *state;
	struct fake_db *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	struct fake_db *d = calloc(1, sizeof(*d));
	fill(a, 2, 0, 2, 3, 5);	 /* exhausted */
	fill(b, 3, 1, 0, 0, 0);	 /* no limit */
	fill(c, 1, 1, 10, 0, 1); /* idle */
	sql_pools_saw(f->p, f->target, (uintptr_t)a, "postgresql");
	sql_pools_saw(f->p, f->target, (uintptr_t)b, "postgresql");
	sql_pools_saw(f->p, f->target, (uintptr_t)c, "sqlite");
	sql_pools_saw(f->p, f->target, (uintptr_t)a, "postgresql"); /* seen again: nothing new */
	sql_pools_saw(f->p, f->target + 1, (uintptr_t)d, "mysql");  /* not a target: ignored */
	struct sql_pool_row rows[SQL_POOLS_MAX];
	size_t n = sql_pools_rows(f->p, f->target, rows, SQL_POOLS_MAX);
	assert_int_equal(n, 3);
	const struct sql_pool_row *ra = row_named(rows, n, "postgresql"),
				  *rb = row_named(rows, n, "postgresql-2"),
				  *rc = row_named(rows, n, "sqlite");
	assert_non_null(ra);
	assert_non_null(rb);
	assert_non_null(rc);
	assert_int_equal(ra->db, (uintptr_t)a);
	assert_int_equal(ra->stats.in_use, 2);
	assert_int_equal(ra->stats.idle, 0);
	assert_int_equal(ra->stats.pending, 3);
	assert_int_equal(ra->stats.wait_count, 5);
	assert_int_equal(ra->stats.wait_duration_ns, 1250000000);
	assert_int_equal(rb->stats.in_use, 2);
	assert_int_equal(rb->stats.max_open, 0);
	assert_int_equal(rc->stats.idle, 1);

	char line[512] = "goroutines=7";
	sql_pools_append_status(f->p, f->target, line, sizeof(line));
	assert_non_null(strstr(line, "goroutines=7 pool "));
	assert_non_null(strstr(line, "pool postgresql used=2/2 idle=0 waiting=3"));
	assert_non_null(strstr(line, "pool postgresql-2 used=2/- idle=1 waiting=0"));
	char small[20] = "x";
	sql_pools_append_status(f->p, f->target, small, sizeof(small)); /* cut, still terminated */
	assert_int_equal(strlen(small), sizeof(small) - 1);

	char *text;
	size_t len;
	assert_int_equal(metrics_registry_render_prometheus(f->reg, &text, &len), 0);
	assert_non_null(strstr(
		text,
		"db_client_connection_pool_name=\"postgresql\",db_client_connection_state=\"used\"} 2\n"));
	assert_non_null(strstr(text, "db_client_connection_pending_requests{job=\"svc\",instance=\"h:1\","
				     "db_client_connection_pool_name=\"postgresql\"} 3\n"));
	assert_non_null(strstr(text,
			       "go_sql_connection_wait_duration_seconds_total{job=\"svc\",instance=\"h:1\","
			       "db_client_connection_pool_name=\"postgresql\"} 1.25\n"));
	/* No limit: no db.client.connection.max point for postgresql-2. */
	assert_null(strstr(text, "db_client_connection_max{job=\"svc\",instance=\"h:1\","
				 "db_client_connection_pool_name=\"postgresql-2\"}"));
	free(text);

	/* a is closed: it goes, and the next postgresql pool takes its name back. */
	a->bytes[o.db_closed] = 1;
	n = sql_pools_rows(f->p, f->target, rows, SQL_POOLS_MAX);
	assert_int_equal(n, 2);
	assert_null(row_named(rows, n, "postgresql"));
	fill(d, 1, 1, 4, 0, 0);
	sql_pools_saw(f->p, f->target, (uintptr_t)d, "postgresql");
	n = sql_pools_rows(f->p, f->target, rows, SQL_POOLS_MAX);
	assert_int_equal(n, 3);
	assert_int_equal(row_named(rows, n, "postgresql")->db, (uintptr_t)d);

	/* b no longer reads as a pool: given up. c's counter goes back: given up too. */
	put(b, o.db_num_open, -4);
	put(c, o.db_wait_count, 0);
	n = sql_pools_rows(f->p, f->target, rows, SQL_POOLS_MAX);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "postgresql");
	/* Its next query brings b back, afresh. */
	put(b, o.db_num_open, 3);
	sql_pools_saw(f->p, f->target, (uintptr_t)b, "postgresql");
	n = sql_pools_rows(f->p, f->target, rows, SQL_POOLS_MAX);
	assert_int_equal(n, 2);
	assert_int_equal(row_named(rows, n, "postgresql-2")->db, (uintptr_t)b);

	sql_pools_remove_target(f->p, f->target);
	assert_int_equal(sql_pools_rows(f->p, f->target, rows, SQL_POOLS_MAX), 0);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_pools_beyond_the_cap_are_not_read(void **state)
{
	struct fixture *f = *state;
	struct fake_db *dbs = calloc(SQL_POOLS_MAX + 2, sizeof(*dbs));
	for (int i = 0; i < SQL_POOLS_MAX + 2; i++) {
		fill(&dbs[i], 1, 1, 2, 0, 0);
		sql_pools_saw(f->p, f->target, (uintptr_t)&dbs[i], "sqlite");
	}
	struct sql_pool_row rows[SQL_POOLS_MAX];
	assert_int_equal(sql_pools_rows(f->p, f->target, rows, SQL_POOLS_MAX), SQL_POOLS_MAX);
	assert_non_null(row_named(rows, SQL_POOLS_MAX, "sqlite-16"));
	free(dbs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pools_named_read_and_given_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pools_beyond_the_cap_are_not_read, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
