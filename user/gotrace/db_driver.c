// SPDX-License-Identifier: Apache-2.0
#include "gotrace/db_driver.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt/symbolizer.h"

#define CACHE_SLOTS 64

struct entry {
	pid_t pid;
	uint64_t pc;
	const char *system;
};

struct db_driver_cache {
	struct symbolizer *syms; /* opened on the first miss: most targets never query */
	struct entry entries[CACHE_SLOTS];
	unsigned next;
};

const char *db_system_from_function(const char *func)
{
	static const struct {
		const char *prefix, *system;
	} drivers[] = {
		{ "github.com/lib/pq.", "postgresql" },
		{ "github.com/jackc/pgx", "postgresql" },
		{ "github.com/mattn/go-sqlite3.", "sqlite" },
		{ "modernc.org/sqlite", "sqlite" },
		{ "github.com/go-sql-driver/mysql.", "mysql" },
		{ "github.com/microsoft/go-mssqldb", "microsoft.sql_server" },
		{ "github.com/denisenkom/go-mssqldb", "microsoft.sql_server" },
		{ "github.com/sijms/go-ora", "oracle.db" },
		{ "github.com/ClickHouse/clickhouse-go", "clickhouse" },
	};
	for (size_t i = 0; func && i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (!strncmp(func, drivers[i].prefix, strlen(drivers[i].prefix)))
			return drivers[i].system;
	return "other_sql";
}

struct db_driver_cache *db_driver_cache_new(void)
{
	return calloc(1, sizeof(struct db_driver_cache));
}

const char *db_driver_system(struct db_driver_cache *c, pid_t pid, uint64_t pc)
{
	if (!c || !pc)
		return "other_sql";
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		if (c->entries[i].pc == pc && c->entries[i].pid == pid)
			return c->entries[i].system;
	if (!c->syms && !(c->syms = symbolizer_new()))
		return "other_sql";
	if (!symbolizer_tracks(c->syms, pid))
		symbolizer_track(c->syms, pid);
	struct sym_frame f;
	symbolizer_user(c->syms, pid, pc, false, &f);
	const char *system = db_system_from_function(f.func);
	c->entries[c->next++ % CACHE_SLOTS] = (struct entry){ pid, pc, system };
	return system;
}

void db_driver_cache_free(struct db_driver_cache *c)
{
	if (!c)
		return;
	symbolizer_free(c->syms);
	free(c);
}
