// SPDX-License-Identifier: Apache-2.0
/* glimpse inspect: what glimpse attach would hook in a Go binary, and with which offsets. */
#include <elfutils/libdw.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "binfmt/elf_module.h"
#include "binfmt/go_offsets_file.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "metrics/go_runtime.h"
#include "gotrace/module_offsets.h"
#include "gotrace/target.h"
#include "metrics/sql_pool_read.h"
#include "sockcap/mux_learn.h"
#include "base/preflight.h"
#include "base/procfs.h"

enum {
	OPT_OFFSETS_ROW = CLI_OPT_FIRST_PRIVATE,
	OPT_RUNTIME_OFFSETS_ROW,
	OPT_EMIT_OFFSETS,
};

/* The fields gRPC's probes read, in struct gotrace_grpc_offsets order after the flags of
 * gotrace/grpc_offsets_row.h (scripts/gen-grpc-offsets.sh reads this line); io.EOF and the
 * metadata types as found (DWARF or symbols, else the code). */
static void print_grpc_offsets(const struct go_grpc_target *g)
{
	const struct gotrace_grpc_offsets *o = &g->off;
	printf("  grpc offsets: legacy_status=%d server_ok=%d client_ok=%d stream_method=%d status_s=%d "
	       "spb_code=%d error_s=%d error_proto=%d stream_ctx=%d cc_target=%d wrapper_stream=%d "
	       "server_laddr=%d tcpaddr_port=%d valuectx_parent=%d valuectx_key=%d valuectx_val=%d "
	       "cancelctx_parent=%d stream_ptr=%d (from %s)\n",
	       g->legacy_status, g->server, g->client, o->stream_method, o->status_s, o->spb_code, o->error_s,
	       o->error_proto, o->stream_ctx, o->cc_target, o->wrapper_stream, o->server_laddr,
	       o->tcpaddr_port, o->valuectx_parent, o->valuectx_key, o->valuectx_val, o->cancelctx_parent,
	       o->stream_ptr, g->offsets_source);
	printf("  io.EOF 0x%" PRIx64 "; metadata types at runtime.types+0x%" PRIx64
	       " (incoming key), +0x%" PRIx64 " (MD)\n",
	       g->eof_vaddr, g->rtype_offsets[GRPC_RTYPE_MD_KEY], g->rtype_offsets[GRPC_RTYPE_MD]);
}

static const struct cli_option inspect_options[] = {
	{ "pid", 'p', "PID", "inspect a running process's executable" },
	{ "offsets-row", OPT_OFFSETS_ROW, NULL,
	  "print only the offsets as a row of user/binfmt/go_offsets_table.h" },
	{ "offsets", CLI_OPT_OFFSETS, "FILE", "use an offsets file, as attach --offsets does" },
	{ "emit-offsets", OPT_EMIT_OFFSETS, NULL,
	  "write the struct offsets of BINARY's Go version (read from its DWARF)\n"
	  "as an offsets file for attach/watch --offsets: for stripped binaries\n"
	  "of a Go version glimpse has no table row for" },
	{ "runtime-offsets-row", OPT_RUNTIME_OFFSETS_ROW, NULL,
	  "print only the runtime struct offsets (from DWARF) as a row of\n"
	  "go_runtime_offsets_table in user/binfmt/go_offsets_table.h" },
	{ 0 },
};

const struct cli_command cli_inspect_command = {
	.name = "inspect",
	.intro = "Usage: glimpse inspect (BINARY | -p PID) [--emit-offsets | --offsets-row |\n"
		 "                                           --runtime-offsets-row]\n"
		 "\n"
		 "Shows a Go binary's version, the struct offsets glimpse would use (from DWARF, or its\n"
		 "table for stripped binaries), the functions and return points it would probe, and where\n"
		 "the runtime keeps the goroutine list and memory statistics glimpse reads.\n"
		 "\n",
	.groups = { { NULL, inspect_options }, { "Logging:", cli_common_options } },
};

static void print_hook(const struct go_hook *h)
{
	if (!h->found) {
		printf("  %-36s not in the binary\n", h->function);
		return;
	}
	printf("  %-36s entry at file offset 0x%llx, %u return(s):", h->function,
	       (unsigned long long)h->entry_offset, h->nrets);
	for (uint32_t i = 0; i < h->nrets; i++)
		printf(" 0x%llx", (unsigned long long)h->ret_offsets[i]);
	printf("\n");
}

static int runtime_offsets_row(pid_t pid, const char *path)
{
	char exe[64];
	if (pid) {
		proc_path(exe, sizeof(exe), pid, "/exe");
		path = exe;
	}
	struct go_runtime_layout l;
	const char *why = NULL;
	int major, minor;
	if (go_runtime_layout_from_file(path, 0, &l, &why)) {
		fprintf(stderr, "glimpse: error: %s: %s\n", path, why ? why : "cannot read it");
		return GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	}
	if (strcmp(l.offsets_source, "DWARF") || sscanf(l.go_version, "go%d.%d", &major, &minor) != 2) {
		fprintf(stderr,
			"glimpse: error: %s has no DWARF or no Go version: build it without -ldflags=-w\n",
			path);
		return GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	}
	const struct go_runtime_offsets *o = &l.offsets;
	printf("\t{ \"%d.%d\", { %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d } },\n", major, minor,
	       o->g_atomicstatus, o->g_startpc, o->mstats_last_gc_unix, o->mstats_pause_total_ns,
	       o->mstats_numgc, o->mstats_numforcedgc, o->mstats_last_gc_nanotime, o->gcc_heap_inuse,
	       o->gcc_heap_released, o->gcc_heap_free, o->gcc_mapped_ready);
	return 0;
}

/* An offsets file from a build that keeps its DWARF (binfmt/go_offsets_file.h). */
static int emit_offsets(const char *path)
{
	struct elf_module *m = elf_module_open(path);
	if (!m) {
		fprintf(stderr, "glimpse: error: cannot read %s: %s\n", path, strerror(errno));
		return errno == EACCES ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	}
	struct go_offsets_row row = { 0 };
	int rc = GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	const char *version = elf_module_go_version(m);
	Dwarf *dw = dwarf_begin_elf(elf_module_elf(m), DWARF_C_READ, NULL);
	if (!version) {
		fprintf(stderr, "glimpse: error: %s is not a Go program (no Go build information)\n", path);
		goto out;
	}
	if (!dw) {
		fprintf(stderr,
			"glimpse: error: %s has no DWARF: emit the offsets from a build of %s made without "
			"-ldflags=-w (any program that serves HTTP)\n",
			path, version);
		goto out;
	}
	dwarf_end(dw);
	snprintf(row.go_version, sizeof(row.go_version), "%s", version);
	bool http = go_offsets_from_dwarf(elf_module_elf(m), &row.http) == 0;
	bool runtime = go_runtime_offsets_from_dwarf(elf_module_elf(m), &row.runtime) == 0;
	if (!http && !runtime) {
		fprintf(stderr,
			"glimpse: error: %s's DWARF has neither net/http's nor the runtime's structs\n",
			path);
		goto out;
	}
	if (!http)
		fprintf(stderr,
			"glimpse: warning: %s does not link net/http: this file gives no HTTP offsets "
			"(attach "
			"takes them from glimpse's table where it knows the Go version); emit from a %s "
			"program that serves HTTP for the others\n",
			path, version);
	else if (row.http.driverconn_ci < 0 || row.http.db_num_open < 0)
		fprintf(stderr,
			"glimpse: warning: %s does not link database/sql: with this file, SQL calls are "
			"measured but their database system is not named and their connection pools are "
			"not read; emit from a %s program that uses database/sql for that\n",
			path, version);
	char note[512];
	module_offsets_emit(m, &row, note, sizeof(note));
	for (char *line = note, *next; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		fprintf(stderr, "glimpse: warning: %s: %s\n", path, line);
	}
	rc = go_offsets_file_write(stdout, &row, path) ? GLIMPSE_EXIT_FAILURE : 0;
out:
	elf_module_close(m);
	return rc;
}

/* Whether attach can read the binary's database/sql pools (metrics/sql_pools.h). */
static void print_sql_pools(const struct go_target *t)
{
	static const char *const requests[] = {
		[SQL_POOL_REQUESTS_UNKNOWN] = "not readable: pending requests not reported",
		[SQL_POOL_REQUESTS_MAP] = "a map",
		[SQL_POOL_REQUESTS_SET] = "a connRequestSet",
	};
	const struct go_http_offsets *o = &t->offsets;
	struct sql_pool_layout l;
	const char *why = sql_pool_layout_from_offsets(o, t->map_layout, &l);
	if (!go_target_links_sql(t))
		printf("sql pools:   none (no database/sql)\n");
	else if (why)
		printf("sql pools:   not measured: %s\n", why);
	else
		printf("sql pools:   read from each *sql.DB at scrape time: DB.numOpen %d, .freeConn %d, "
		       ".maxOpen %d,\n             .waitCount %d, .waitDuration %d, .connRequests %d (%s)\n",
		       o->db_num_open, o->db_free_conn, o->db_max_open, o->db_wait_count, o->db_wait_duration,
		       o->db_conn_requests, requests[l.requests]);
}

static void print_runtime(const char *path)
{
	struct go_runtime_layout l;
	const char *why = NULL;
	if (go_runtime_layout_from_file(path, 0, &l, &why)) {
		printf("runtime:     not readable: %s\n", why ? why : "cannot read the binary");
		return;
	}
	const struct go_runtime_offsets *o = &l.offsets;
	printf("runtime:     variables from %s, offsets from %s\n", l.vars_source, l.offsets_source);
	printf("  runtime.allgs 0x%llx, .allglen 0x%llx, .allgptr 0x%llx; g.atomicstatus %d, g.startpc %d\n",
	       (unsigned long long)l.allgs, (unsigned long long)l.allglen, (unsigned long long)l.allgptr,
	       o->g_atomicstatus, o->g_startpc);
	if (l.have_memory)
		printf("  runtime.memstats 0x%llx (numgc %d), runtime.gcController 0x%llx (heapInUse %d)\n",
		       (unsigned long long)l.memstats, o->mstats_numgc, (unsigned long long)l.gc_controller,
		       o->gcc_heap_inuse);
	else
		printf("  memory statistics: not found\n");
}

/* What the process's fd is (readlink of /proc/PID/fd/N: "pipe:[…]", a file, a terminal). */
static const char *fd_target(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64], link[256];
	snprintf(path, sizeof(path), "/fd/%d", fd);
	ssize_t n = readlink(proc_path(link, sizeof(link), pid, path), buf, len - 1);
	if (n < 0)
		return "not readable";
	buf[n] = '\0';
	return buf;
}

/* What attach --logs would read: where stdout and stderr go, and the cost. */
static void print_logs(pid_t pid, bool go)
{
	char out[256], err[256];
	printf("logs:        --logs reads its writes to stdout and stderr (1 tracepoint run per write,\n"
	       "             no trap; %s)\n"
	       "  stdout %s\n"
	       "  stderr %s\n",
	       go ? "each line with the trace of the request it was written for;\n"
		    "             goroutine lineage: 1 uprobe hit per goroutine started"
		  : "no trace: not Go",
	       fd_target(pid, 1, out, sizeof(out)), fd_target(pid, 2, err, sizeof(err)));
}

/* What each capture path measures in this process and what it costs it, in one place for Go
 * and other programs. */
static void print_capture(pid_t pid, const struct go_target *t)
{
	static const char socket_cost[] = "1 tracepoint run per read/write-family call on a socket, no trap";
	if (t) {
		const char *wire_clients = t->wire_clients, *why = NULL;
		char socket_routes[512];
		if (mux_learn_possible(t, &why))
			snprintf(socket_routes, sizeof(socket_routes),
				 "http.route there: the ServeMux patterns, read\n"
				 "             from memory once a uprobe window (%d hit%s per server port, "
				 "at most %d)\n"
				 "             has seen each server's handler, then matched with no trap per "
				 "request\n"
				 "             (a handler that is not a *http.ServeMux keeps the path "
				 "heuristic)",
				 t->default_mux_vaddr ? 1 : 2, t->default_mux_vaddr ? "" : "s",
				 MUX_LEARN_MAX_HITS);
		else
			snprintf(socket_routes, sizeof(socket_routes),
				 "http.route there: the path heuristic\n             (%s)", why);
		printf("capture:     uprobes (attach's default for Go): HTTP server and client, "
		       "database/sql;\n"
		       "             the probes above, 2 uprobe hits per request (a trap each, ~10 µs);\n"
		       "             with them, when the binary links a client outside database/sql\n"
		       "             (here: %s), socket: the PostgreSQL and Redis wire\n"
		       "             (database/sql's calls stay the uprobes'),\n"
		       "             %s;\n"
		       "             --capture socket: HTTP/1, PostgreSQL, Redis all at the system calls,\n"
		       "             no HTTP/2 or TLS there; %s;\n"
		       "             --capture uprobes: no socket\n",
		       wire_clients && wire_clients[0] ? wire_clients : "none, so no socket capture",
		       socket_cost, socket_routes);
		if (mux_learn_possible(t, NULL)) {
			const struct go_http_offsets *o = &t->offsets;
			printf("  servemux offsets: Server.Handler=%d ServeMux.tree=%d "
			       "routingNode.pattern=%d "
			       ".children=%d .multiChild=%d .emptyChild=%d mapping.s=%d .m=%d (from %s); "
			       "DefaultServeMux: %s\n",
			       o->server_handler, o->servemux_tree, o->node_pattern, o->node_children,
			       o->node_multi, o->node_empty, o->mapping_s, o->mapping_m, t->offsets_source,
			       t->default_mux_vaddr ? "symbol"
						    : "no symbol: the receiver of the request's "
						      "(*ServeMux).ServeHTTP (2 hits per port)");
		}
		print_logs(pid, t != NULL);
		return;
	}
	printf("capture:     socket: HTTP/1 server and client, PostgreSQL and Redis (client or server),\n"
	       "             read at the system calls of the process and of its child processes;\n"
	       "             %s;\n"
	       "             TLS connections cannot be read there: they are counted, not measured\n",
	       socket_cost);
	print_logs(pid, t != NULL);
	uint16_t ports[32];
	int n = proc_listening_ports(pid, ports, 32);
	if (n > 0) {
		printf("listening:  ");
		for (int i = 0; i < n; i++)
			printf(" %u", ports[i]);
		printf("\n");
	}
}

int cmd_inspect(int argc, char **argv)
{
	pid_t pid = 0;
	bool row = false, runtime_row = false, emit = false;
	char err[256];
	int opt;
	const char *arg;
	struct cli_parser parser;
	cli_parser_init(&parser, &cli_inspect_command, argc, argv);
	while ((opt = cli_next(&parser, &arg)) != -1) {
		switch (opt) {
		case 'p':
			if (!parse_pid(arg, &pid))
				cli_usage_error("inspect", "-p: '%s' is not a process ID", arg);
			break;
		case OPT_OFFSETS_ROW:
			row = true;
			break;
		case OPT_RUNTIME_OFFSETS_ROW:
			runtime_row = true;
			break;
		case OPT_EMIT_OFFSETS:
			emit = true;
			break;
		case CLI_OPT_OFFSETS:
			if (go_offsets_file_load(arg, err, sizeof(err)))
				cli_usage_error("inspect", "--offsets %s: %s", arg, err);
			break;
		}
	}
	if ((pid == 0) == (optind >= argc) || optind + 1 < argc)
		cli_usage_error("inspect", "give exactly one BINARY or -p PID");
	if (emit + row + runtime_row > 1)
		cli_usage_error("inspect",
				"--emit-offsets, --offsets-row and --runtime-offsets-row go alone");
	if (emit) {
		char exe[64];
		return emit_offsets(pid ? proc_path(exe, sizeof(exe), pid, "/exe") : argv[optind]);
	}
	if (runtime_row)
		return runtime_offsets_row(pid, pid ? NULL : argv[optind]);
	int rc = pid ? preflight_pids(&pid, 1) : 0;
	if (!rc && pid)
		rc = preflight_target(pid);
	if (rc)
		return rc;
	if (pid && go_target_is_go_program(pid) == 0) {
		char comm[32] = "?";
		proc_comm(pid, pid, comm, sizeof(comm));
		printf("process:     %d (%s), not a Go program\n", (int)pid, comm);
		print_capture(pid, NULL);
		return 0;
	}
	struct go_target t;
	rc = pid ? go_target_open(pid, &t) : go_target_open_file(argv[optind], &t);
	if (rc)
		return rc;
	const struct go_http_offsets *o = &t.offsets;
	if (row) {
		int major, minor;
		if (sscanf(t.go_version, "go%d.%d", &major, &minor) != 2)
			return GLIMPSE_EXIT_UNSUPPORTED_TARGET;
		printf("\t{ \"%d.%d\", {", major, minor);
		for (size_t i = 0; i < go_offsets_slots(GO_OFFSETS_HTTP); i++)
			printf("%s %d", i ? "," : "", ((const int32_t *)o)[i]);
		printf(" } },\n");
		return 0;
	}
	printf("binary:      %s\n", t.binary);
	printf("go version:  %s\n", t.go_version);
	printf("offsets:     from %s\n", t.offsets_source);
	printf("maps:        %s\n", go_target_map_layout_name(t.map_layout));
	printf("  net/http.Request.Method %d, .URL %d, .pat %d; net/http.pattern.str %d\n", o->request_method,
	       o->request_url, o->request_pat, o->pattern_str);
	printf("  net/url.URL.Path %d, .Host %d; net/http.response.status %d; net/http.Response.StatusCode "
	       "%d\n",
	       o->url_path, o->url_host, o->response_status, o->response_statuscode);
	printf("  net/http.Request.Header %d; database/sql.driverConn.ci %d; runtime.g.m %d, runtime.m.curg "
	       "%d\n",
	       o->request_header, o->driverconn_ci, o->g_m, o->m_curg);
	print_sql_pools(&t);
	printf("probes:\n");
	for (int i = 0; i < GO_NR_HOOKS; i++)
		print_hook(&t.hooks[i]);
	for (int i = 0; i < XNET_NR_HOOKS; i++) /* golang.org/x/net/http2's own server, if linked */
		if (t.xnet_hooks[i].found)
			print_hook(&t.xnet_hooks[i]);
	if (t.xnet.linked) { /* scripts/gen-xnet-offsets.sh reads this line */
		const struct gotrace_xnet_offsets *x = &t.xnet.off;
		printf("  x/net offsets: writer_rws=%d state_status=%d state_conn=%d serverconn_conn=%d "
		       "bufconn_conn=%d opts_upgrade=%d (from %s)\n",
		       x->writer_rws, x->state_status, x->state_conn, x->serverconn_conn, x->bufconn_conn,
		       x->opts_upgrade, t.xnet.offsets_source);
	}
	char grpc[640];
	if (grpc_target_describe(&t.grpc, grpc, sizeof(grpc))) {
		printf("grpc:        %s\n", grpc);
		for (int i = 0; i < GRPC_NR_HOOKS; i++)
			if (t.grpc_hooks[i].found)
				print_hook(&t.grpc_hooks[i]);
		if (t.grpc.server || t.grpc.client)
			print_grpc_offsets(&t.grpc);
	}
	printf("not measured: %s\n", t.unmeasured[0] ? t.unmeasured : "-");
	if (!t.routers.read[0] && !t.routers.unread[0])
		printf("routers:     none known (http.route: ServeMux patterns, else the path heuristic)\n");
	else
		printf("routers:     templates read: %s (1 uprobe hit per request more); path heuristic: "
		       "%s\n",
		       t.routers.read[0] ? t.routers.read : "-",
		       t.routers.unread[0] ? t.routers.unread : "-");
	if (t.routers.read[0] || t.routers.unread[0]) {
		const struct gotrace_router_offsets *ro = &t.routers.off;
		printf("  router offsets: gin_fullpath=%d chi_patterns=%d chi_pattern=%d mux_route_path=%d "
		       "mux_template=%d echo_path=%d echo_handler=%d hr_trees=%d hr_node_path=%d "
		       "hr_node_children=%d hr_node_handle=%d (from %s)\n",
		       ro->gin_fullpath, ro->chi_patterns, ro->chi_pattern, ro->mux_route_path,
		       ro->mux_template, ro->echo_path, ro->echo_handler, ro->hr_trees, ro->hr_node_path,
		       ro->hr_node_children, ro->hr_node_handle,
		       t.routers.offsets_source[0] ? t.routers.offsets_source : "-");
		if (t.routers.echo_funcs[0][0])
			printf("  echo handlers: NotFoundHandler=%s MethodNotAllowedHandler=%s (variables at "
			       "0x%" PRIx64 ", 0x%" PRIx64 ")\n",
			       t.routers.echo_funcs[0], t.routers.echo_funcs[1], t.routers.echo_unmatched[0],
			       t.routers.echo_unmatched[1]);
	}
	print_capture(pid, &t);
	print_runtime(t.binary);
	return 0;
}
