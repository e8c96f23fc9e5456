// SPDX-License-Identifier: Apache-2.0
#include "gotrace/target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/preflight.h"
#include "base/procfs.h"

/* Go's register ABI (needed to read arguments from registers) arrived in Go 1.17. */
#define MIN_GO_MINOR   17
#define MAX_FUNC_BYTES (1 << 20)

int go_target_find_hook(struct elf_module *m, struct go_hook *h)
{
	uint64_t entry, end;
	if (elf_module_find_function(m, h->function, &entry, &end) || end <= entry ||
	    end - entry > MAX_FUNC_BYTES)
		return -ENOENT;
	uint8_t *code = malloc(end - entry);
	if (!code)
		return -ENOMEM;
	uint32_t rets[GO_HOOK_MAX_RETS];
	int err = elf_module_read(m, entry, code, end - entry);
	int n = err ? err : find_return_offsets(code, end - entry, entry, rets, GO_HOOK_MAX_RETS);
	free(code);
	if (n <= 0 || n > GO_HOOK_MAX_RETS)
		return n < 0 ? n : n ? -E2BIG : -ENOENT;
	if (elf_module_vaddr_to_offset(m, entry, &h->entry_offset))
		return -EFAULT;
	h->nrets = 0;
	for (int i = 0; i < n; i++)
		if (!elf_module_vaddr_to_offset(m, entry + rets[i], &h->ret_offsets[h->nrets]))
			h->nrets++;
	h->found = h->nrets > 0;
	return h->found ? 0 : -ENOENT;
}

void go_hook_past_stack_check(struct elf_module *m, struct go_hook *h)
{
	uint8_t code[48];
	uint64_t vaddr;
	if (!h->found || elf_module_offset_to_vaddr(m, h->entry_offset, &vaddr) ||
	    elf_module_read(m, vaddr, code, sizeof(code)))
		return;
	int body = find_stack_check_end(code, sizeof(code), vaddr);
	if (body > 0)
		h->entry_offset += (uint64_t)body;
}

/* Each map implementation brings runtime functions the other lacks: hmap's incremental
 * evacuation, the Swiss tables' table growth. A binary with both or neither is not guessed at. */
static uint32_t map_layout(struct elf_module *m)
{
	uint64_t entry, end;
	bool buckets = !elf_module_find_function(m, "runtime.evacuate", &entry, &end);
	bool swiss = !elf_module_find_function(m, "internal/runtime/maps.(*table).grow", &entry, &end);
	return buckets == swiss ? GOTRACE_MAP_UNKNOWN : buckets ? GOTRACE_MAP_BUCKETS : GOTRACE_MAP_SWISS;
}

bool go_target_links_sql(const struct go_target *t)
{
	for (int h = GO_HOOK_SQL_QUERY; h <= GO_HOOK_STMT_EXEC; h++)
		if (t->hooks[h].found)
			return true;
	return false;
}

const char *go_target_map_layout_name(uint32_t layout)
{
	switch (layout) {
	case GOTRACE_MAP_BUCKETS:
		return "buckets (Go 1.17-1.23)";
	case GOTRACE_MAP_SWISS:
		return "Swiss tables (Go 1.24+)";
	default:
		return "not recognised: incoming traceparent headers are not read";
	}
}

static int open_binary(const char *path, const char *what, struct go_target *t)
{
	struct elf_module *m = elf_module_open(path);
	if (!m && (errno == EISDIR || errno == ENODEV)) {
		log_error("%s is not a regular file; give the path of a Go executable", what);
		return GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	}
	if (!m && errno == ENOEXEC) {
		log_error("%s is not an ELF executable; give the path of a Go executable", what);
		return GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	}
	if (!m) {
		log_error("cannot read %s (%s): %s", what, path, strerror(errno));
		return errno == EACCES || errno == EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_FAILURE;
	}
	int rc = GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	int major = 0, minor = 0;
	if (!elf_module_is_go(m)) {
		log_error("%s is not a Go program (no .gopclntab): uprobes need Go; attach measures any "
			  "other program at its sockets (--capture auto or socket)",
			  what);
		goto out;
	}
	snprintf(t->go_version, sizeof(t->go_version), "%s",
		 elf_module_go_version(m) ? elf_module_go_version(m) : "unknown");
	if (sscanf(t->go_version, "go%d.%d", &major, &minor) == 2 && major == 1 && minor < MIN_GO_MINOR) {
		log_error("%s was built with %s; glimpse attach needs Go 1.17 or later (register ABI)", what,
			  t->go_version);
		goto out;
	}
	if (go_offsets_from_dwarf_isolated(elf_module_elf(m), &t->offsets) == 0) {
		t->offsets_source = "DWARF";
	} else if (go_offsets_from_table(t->go_version, &t->offsets) == 0) {
		t->offsets_source = go_offsets_table_source(t->go_version, GO_OFFSETS_HTTP);
	} else {
		log_error(
			"%s has no DWARF (stripped with -ldflags=-w) and was built with %s, for which "
			"glimpse "
			"has no struct offsets (it knows Go %s): write them with 'glimpse inspect "
			"--emit-offsets BIN > FILE' from any build of that Go version that keeps DWARF, then "
			"pass --offsets FILE",
			what, t->go_version, go_offsets_table_versions());
		goto out;
	}
	static const char *const functions[GO_NR_HOOKS] = {
		[GO_HOOK_SERVER] = "net/http.serverHandler.ServeHTTP",
		[GO_HOOK_CLIENT] = "net/http.(*Transport).roundTrip",
		[GO_HOOK_SQL_QUERY] = "database/sql.(*DB).queryDC",
		[GO_HOOK_SQL_EXEC] = "database/sql.(*DB).execDC",
		[GO_HOOK_STMT_QUERY] = "database/sql.(*Stmt).QueryContext",
		[GO_HOOK_STMT_EXEC] = "database/sql.(*Stmt).ExecContext",
		[GO_HOOK_SPAWN] = "runtime.newproc1",
	};
	for (int i = 0; i < GO_NR_HOOKS; i++) {
		t->hooks[i].function = functions[i];
		go_target_find_hook(m, &t->hooks[i]);
		/* A call whose stack must grow at the function's start runs its entry twice: a
		 * client call at the bottom of a deep stack (a reverse proxy's RoundTrip) would
		 * otherwise be entered twice (tests/e2e/test_attach.py's stack-growth test). */
		go_hook_past_stack_check(m, &t->hooks[i]);
	}
	uint64_t entry, end;
	/* golang.org/x/net/http2's own server bypasses net/http's: probed apart, with offsets
	 * from DWARF only. */
	xnet_target_open(m, &t->xnet, t->xnet_hooks);
	if (t->xnet.linked && !t->xnet.measured)
		snprintf(t->unmeasured, sizeof(t->unmeasured),
			 "HTTP/2 server (golang.org/x/net/http2 used directly; %s)", t->xnet.why);
	/* A function every connection of the client runs, per client package. */
	static const struct {
		const char *function, *what;
	} wire_clients[] = {
		{ "github.com/jackc/pgx/v5/pgconn.ConnectConfig", "pgx/v5" },
		{ "github.com/jackc/pgconn.ConnectConfig", "pgx/v4" },
		{ "github.com/redis/go-redis/v9.(*baseClient)._process", "go-redis/v9" },
		{ "github.com/go-redis/redis/v8.(*baseClient)._process", "go-redis/v8" },
		{ "github.com/gomodule/redigo/redis.DialContext", "redigo" },
	};
	for (size_t i = 0; i < sizeof(wire_clients) / sizeof(wire_clients[0]); i++)
		if (!elf_module_find_function(m, wire_clients[i].function, &entry, &end)) {
			size_t used = strlen(t->wire_clients);
			snprintf(t->wire_clients + used, sizeof(t->wire_clients) - used, "%s%s",
				 used ? ", " : "", wire_clients[i].what);
		}
	grpc_target_open(m, t->offsets.tcpaddr_port, &t->grpc, t->grpc_hooks);
	t->map_layout = map_layout(m);
	/* In struct gotrace_types order. */
	static const char *const type_methods[][2] = {
		{ "net/http.(*response).Header", NULL },
		{ "net/http.(*http2responseWriter).Header", "net/http.http2ResponseWriter.Header" },
		{ "net.(*TCPConn).Close", NULL },
		{ "crypto/tls.(*Conn).Close", NULL },
		{ "net/http.(*unencryptedNetConnInTLSConn).Close", NULL },
		{ "net.(*TCPAddr).Network", NULL },
		{ "golang.org/x/net/http2.(*responseWriter).Header", NULL },
		{ "golang.org/x/net/http2/h2c.(*bufConn).Close", NULL },
		{ "net/http.serverHandler.ServeHTTP", NULL },
	};
	_Static_assert(sizeof(type_methods) / sizeof(type_methods[0]) == GO_TYPES_NAMED,
		       "one method per type");
	for (size_t i = 0; i < sizeof(type_methods) / sizeof(type_methods[0]); i++)
		for (int j = 0; j < 2 && type_methods[i][j] && !t->types.at[i]; j++)
			if (!elf_module_find_function(m, type_methods[i][j], &entry, &end) &&
			    elf_module_vaddr_to_offset(m, entry, &t->types.at[i]))
				t->types.at[i] = 0;
	go_routers_find(m, &t->routers);
	for (int i = 0; i < GOTRACE_NR_POOLED; i++)
		t->types.at[GO_TYPES_BY_METHOD + i] = t->routers.ctx_type[i];
	t->types.at[GO_TYPES_NAMED] = t->routers.echo_options;
	for (int i = 0; i < GOTRACE_ECHO_UNMATCHED_VARS; i++)
		t->types.at[GO_TYPES_BY_METHOD + GOTRACE_NR_POOLED + i] = t->routers.echo_unmatched[i];
	uint64_t size;
	if (!elf_module_find_function(m, "net/http.(*ServeMux).ServeHTTP", &entry, &end))
		t->mux_serve_vaddr = entry;
	if (elf_module_find_symbol(m, "net/http.DefaultServeMux", &t->default_mux_vaddr, &size) || size != 8)
		t->default_mux_vaddr = 0;
	if (t->hooks[GO_HOOK_SERVER].found &&
	    (elf_module_find_function(m, t->hooks[GO_HOOK_SERVER].function, &t->types.text_vaddr, &end) ||
	     elf_module_vaddr_to_offset(m, t->types.text_vaddr, &t->types.text_offset)))
		t->types.text_vaddr = t->types.text_offset = 0;
	if (!t->hooks[GO_HOOK_SERVER].found && !t->hooks[GO_HOOK_CLIENT].found &&
	    !t->hooks[GO_HOOK_SQL_QUERY].found && !t->grpc.server && !t->grpc.client && !t->xnet.measured) {
		if (t->grpc.linked)
			log_error("%s: %s; it uses neither net/http nor database/sql: nothing for glimpse "
				  "attach to measure",
				  what, t->grpc.why);
		else
			log_error(
				"%s uses neither net/http, gRPC nor database/sql: nothing for glimpse attach "
				"to measure",
				what);
		goto out;
	}
	rc = 0;
out:
	elf_module_close(m);
	return rc;
}

static int open_pid(pid_t pid, struct go_target *t, bool gone_is_error)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (!proc_exists(pid)) {
		if (gone_is_error)
			log_error("process %d does not exist; check the PID (ps -p %d) and that it is still "
				  "running",
				  (int)pid, (int)pid);
		return GLIMPSE_EXIT_NO_PROCESS;
	}
	char comm[32] = "?", what[64];
	if (proc_comm(pid, pid, comm, sizeof(comm)) < 0)
		snprintf(comm, sizeof(comm), "?");
	snprintf(what, sizeof(what), "process %d (%s)", (int)pid, comm);
	int rc = preflight_target(pid);
	if (rc)
		return rc;
	proc_path(t->binary, sizeof(t->binary), pid, "/exe");
	rc = open_binary(t->binary, what, t);
	if (rc == GLIMPSE_EXIT_FAILURE && !proc_exists(pid)) {
		if (gone_is_error)
			log_error("process %d exited while glimpse was attaching", (int)pid);
		return GLIMPSE_EXIT_NO_PROCESS;
	}
	return rc;
}

int go_target_is_go_program(pid_t pid)
{
	char exe[64];
	struct elf_module *m = elf_module_open(proc_path(exe, sizeof(exe), pid, "/exe"));
	if (!m)
		return errno ? -errno : -ENOENT;
	int go = elf_module_is_go(m);
	elf_module_close(m);
	return go;
}

int go_target_open(pid_t pid, struct go_target *t)
{
	return open_pid(pid, t, true);
}

int go_target_open_live(pid_t pid, struct go_target *t)
{
	return open_pid(pid, t, false);
}

int go_target_open_file(const char *path, struct go_target *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->binary, sizeof(t->binary), "%s", path);
	return open_binary(path, path, t);
}

/* Where the code at file offset types->text_offset lies in pid's memory; 0 when unknown. */
static uint64_t runtime_text(const struct go_type_offsets *types, const struct proc_exe_maps *x)
{
	return types->text_offset ? proc_exe_addr(x, types->text_offset) : 0;
}

uint64_t go_target_runtime_vaddr(const struct go_type_offsets *types, pid_t pid, uint64_t vaddr)
{
	struct proc_exe_maps x;
	if (!vaddr || proc_exe_maps_read(pid, &x))
		return 0;
	uint64_t text = runtime_text(types, &x);
	proc_exe_maps_free(&x);
	return text ? vaddr + (text - types->text_vaddr) : 0;
}

void go_target_runtime_types(const struct go_type_offsets *types, pid_t pid, struct gotrace_types *out)
{
	struct proc_exe_maps x;
	__u64 *pcs = (__u64 *)out;
	memset(out, 0, sizeof(*out));
	if (proc_exe_maps_read(pid, &x))
		return;
	/* Each file offset, where the executable's mapping puts it. */
	for (size_t t = 0; t < GO_TYPES_BY_METHOD; t++)
		pcs[t] = types->at[t] ? proc_exe_addr(&x, types->at[t]) : 0;
	/* The router types and variables: as far from their link-time address as the code is. */
	uint64_t text = runtime_text(types, &x);
	for (size_t t = GO_TYPES_BY_METHOD; t < sizeof(types->at) / sizeof(types->at[0]); t++)
		pcs[t] = text && types->at[t] ? types->at[t] + (text - types->text_vaddr) : 0;
	proc_exe_maps_free(&x);
}

void go_target_report_unmeasured(const struct go_target *t)
{
	if (t->map_layout == GOTRACE_MAP_UNKNOWN && t->hooks[GO_HOOK_SERVER].found)
		log_warn("process %d: glimpse does not recognise its Go map layout, so incoming traceparent "
			 "headers are not read and its server spans start new traces",
			 (int)t->pid);
	go_routers_report(&t->routers, (int)t->pid);
	char grpc[640];
	if (grpc_target_describe(&t->grpc, grpc, sizeof(grpc))) {
		if (t->grpc.why[0])
			log_warn("process %d: %s", (int)t->pid, grpc);
		else
			log_info("process %d: %s", (int)t->pid, grpc);
	}
	if (t->unmeasured[0])
		log_warn("process %d carries %s code: those requests are not measured", (int)t->pid,
			 t->unmeasured);
}
