// SPDX-License-Identifier: Apache-2.0
#include "gotrace/db_driver.h"

#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "binfmt/symbolizer.h"

#define CACHE_SLOTS 64

struct entry {
	pid_t pid;
	uint64_t pc;
	const char *system;
};

struct writer_entry {
	pid_t pid;
	uint64_t pc;
	enum go_writer_kind kind;
	char type[96];
};

struct db_driver_cache {
	struct symbolizer *syms; /* opened on the first miss: most targets never query */
	struct entry entries[CACHE_SLOTS];
	unsigned next;
	struct writer_entry writers[CACHE_SLOTS];
	unsigned next_writer;
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

/* The writer's first method, Header, names its type. */
static enum go_writer_kind writer_kind(const char *func)
{
	static const struct {
		const char *func;
		enum go_writer_kind kind;
	} known[] = {
		{ "net/http.(*response).Header", GO_WRITER_HTTP1 },
		{ "net/http.(*http2responseWriter).Header", GO_WRITER_HTTP2 }, /* Go <= 1.26 */
		{ "net/http.http2ResponseWriter.Header", GO_WRITER_HTTP2 },    /* Go 1.27 */
	};
	for (size_t i = 0; func && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(func, known[i].func))
			return known[i].kind;
	return GO_WRITER_OTHER;
}

enum go_writer_kind go_response_writer_kind(struct db_driver_cache *c, pid_t pid, uint64_t pc, char *type,
					    size_t len)
{
	snprintf(type, len, "unknown");
	if (!c || !pc)
		return GO_WRITER_OTHER;
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		const struct writer_entry *w = &c->writers[i];
		if (w->pc == pc && w->pid == pid) {
			snprintf(type, len, "%s", w->type);
			return w->kind;
		}
	}
	if (!c->syms && !(c->syms = symbolizer_new()))
		return GO_WRITER_OTHER;
	if (!symbolizer_tracks(c->syms, pid))
		symbolizer_track(c->syms, pid);
	struct sym_frame f;
	symbolizer_user(c->syms, pid, pc, false, &f);
	struct writer_entry *w = &c->writers[c->next_writer++ % CACHE_SLOTS];
	*w = (struct writer_entry){ .pid = pid, .pc = pc, .kind = writer_kind(f.func) };
	/* The type is the method's receiver: the name without ".Header". */
	const char *dot = f.func ? strrchr(f.func, '.') : NULL;
	if (f.func && dot)
		snprintf(w->type, sizeof(w->type), "%.*s", (int)(dot - f.func), f.func);
	else
		snprintf(w->type, sizeof(w->type), "unknown");
	snprintf(type, len, "%s", w->type);
	return w->kind;
}

void db_driver_cache_free(struct db_driver_cache *c)
{
	if (!c)
		return;
	symbolizer_free(c->syms);
	free(c);
}
