// SPDX-License-Identifier: Apache-2.0
#include "gotrace/grpc_target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/procfs.h"
#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "binfmt/go_types.h"
#include "gotrace/target.h"

static const char *const hook_functions[GRPC_NR_HOOKS] = {
	[GRPC_HOOK_SERVER] = "google.golang.org/grpc.(*Server).processRPC",
	[GRPC_HOOK_SERVER_UNARY] = "google.golang.org/grpc.(*Server).processUnaryRPC",
	[GRPC_HOOK_SERVER_STREAMING] = "google.golang.org/grpc.(*Server).processStreamingRPC",
	[GRPC_HOOK_STATUS] = "google.golang.org/grpc/internal/transport.(*http2Server).writeStatus",
	[GRPC_HOOK_CLIENT] = "google.golang.org/grpc.newClientStream",
	[GRPC_HOOK_FINISH] = "google.golang.org/grpc.(*clientStream).finish",
};
#define WRITE_STATUS_OLD "google.golang.org/grpc/internal/transport.(*http2Server).WriteStatus"

static const char *const type_methods[GRPC_NR_TYPES] = {
	[GRPC_TYPE_STATUS_ERROR] = "google.golang.org/grpc/internal/status.(*Error).Error",
	[GRPC_TYPE_CLIENT_STREAM] = "google.golang.org/grpc.(*clientStream).CloseSend",
	[GRPC_TYPE_STREAM_WRAPPER] = "google.golang.org/grpc.(*clientStreamWrapper).CloseSend",
	[GRPC_TYPE_TCP_ADDR] = "net.(*TCPAddr).Network",
	[GRPC_TYPE_VALUE_CTX] = "context.(*valueCtx).Deadline",
	[GRPC_TYPE_CANCEL_CTX] = "context.(*cancelCtx).Deadline",
};

/* A hook probed at its entry only: its RETs are not needed (processUnaryRPC has more than
 * GO_HOOK_MAX_RETS of them). */
static void find_entry(struct elf_module *m, struct go_hook *h)
{
	uint64_t entry, end;
	h->found = !elf_module_find_function(m, h->function, &entry, &end) &&
		   !elf_module_vaddr_to_offset(m, entry, &h->entry_offset);
	h->nrets = 0;
}

static void unhook(struct go_hook *hooks, int from, int to)
{
	for (int i = from; i <= to; i++)
		hooks[i].found = false;
}

void grpc_target_open(struct elf_module *m, int32_t tcpaddr_port, struct go_grpc_target *g,
		      struct go_hook *hooks)
{
	uint64_t entry, end;
	memset(g, 0, sizeof(*g));
	for (int i = 0; i < GRPC_NR_HOOKS; i++) {
		hooks[i] = (struct go_hook){ .function = hook_functions[i] };
		if (i == GRPC_HOOK_CLIENT)
			go_target_find_hook(m, &hooks[i]);
		else
			find_entry(m, &hooks[i]);
	}
	if (!hooks[GRPC_HOOK_STATUS].found) {
		hooks[GRPC_HOOK_STATUS].function = WRITE_STATUS_OLD;
		find_entry(m, &hooks[GRPC_HOOK_STATUS]);
	}
	for (int i = 0; i < GRPC_NR_HOOKS; i++)
		go_hook_past_stack_check(m, &hooks[i]);
	bool server = hooks[GRPC_HOOK_SERVER].found || hooks[GRPC_HOOK_SERVER_UNARY].found;
	bool client = hooks[GRPC_HOOK_CLIENT].found;
	g->linked = server || client;
	if (!g->linked)
		return;
	for (int i = 0; i < GRPC_NR_TYPES; i++)
		if (elf_module_find_function(m, type_methods[i], &entry, &end) ||
		    elf_module_vaddr_to_offset(m, entry, &g->type_offsets[i]))
			g->type_offsets[i] = 0;
	uint64_t size;
	if (elf_module_find_symbol(m, "io.EOF", &g->eof_vaddr, &size))
		g->eof_vaddr = 0;
	if (!elf_module_find_function(m, type_methods[GRPC_TYPE_STATUS_ERROR], &entry, &end) &&
	    !elf_module_vaddr_to_offset(m, entry, &g->anchor_file))
		g->anchor_vaddr = entry;
	bool server_ok = false, client_ok = false;
	uint64_t etypes = 0;
	if (go_types_range(m, &g->types_vaddr, &etypes))
		g->types_vaddr = 0;
	snprintf(g->offsets_source, sizeof(g->offsets_source), "DWARF");
	g->legacy_status = grpc_target_legacy_status(m);
	char why[sizeof(g->why) - 192] = "";
	int table = 0;
	if (grpc_offsets_from_dwarf_isolated(elf_module_elf(m), &g->off, g->rtype_offsets, &server_ok,
					     &client_ok) &&
	    (table = grpc_offsets_from_table(m, &g->off, &server_ok, &client_ok, why, sizeof(why)))) {
		snprintf(g->why, sizeof(g->why),
			 "gRPC %s not measured: the binary has no DWARF (built with -ldflags=-w) and %s: "
			 "build it without -w%s",
			 server && client ? "server and client"
			 : server	  ? "server"
					  : "client",
			 why,
			 table == -ENODATA
				 ? ""
				 : ", or pass attach --offsets a file from 'glimpse inspect --emit-offsets' "
				   "on a build of that version with DWARF, or add that version with "
				   "scripts/gen-grpc-offsets.sh");
		unhook(hooks, 0, GRPC_NR_HOOKS - 1);
		return;
	} else if (why[0]) { /* "table: ..." or "offsets file: ..." */
		snprintf(g->offsets_source, sizeof(g->offsets_source), "%s", why);
	}
	/* Without symbols or DWARF: io.EOF and the metadata types from the code that uses them. */
	if (!g->eof_vaddr)
		g->eof_vaddr = grpc_find_eof_var(m);
	if ((!g->rtype_offsets[GRPC_RTYPE_MD_KEY] || !g->rtype_offsets[GRPC_RTYPE_MD]) && g->types_vaddr)
		grpc_find_md_types(m, g->types_vaddr, etypes, g->rtype_offsets);
	g->off.tcpaddr_port = tcpaddr_port;
	/* A client whose streams come wrapped needs the wrapper's field to reach the stream;
	 * statuses behind an error need its type; a stream ending with io.EOF needs its address. */
	if (g->type_offsets[GRPC_TYPE_STREAM_WRAPPER] && g->off.wrapper_stream < 0)
		client_ok = false;
	if (!g->type_offsets[GRPC_TYPE_STATUS_ERROR] || !g->type_offsets[GRPC_TYPE_CLIENT_STREAM] ||
	    !g->eof_vaddr || !g->anchor_vaddr)
		client_ok = false;
	g->server = server && server_ok && hooks[GRPC_HOOK_STATUS].found;
	g->client = client && client_ok && hooks[GRPC_HOOK_FINISH].found;
	if (!g->server)
		unhook(hooks, GRPC_HOOK_SERVER, GRPC_HOOK_STATUS);
	if (!g->client)
		unhook(hooks, GRPC_HOOK_CLIENT, GRPC_HOOK_FINISH);
	if ((server && !g->server) || (client && !g->client))
		snprintf(g->why, sizeof(g->why),
			 "gRPC %s not measured: this grpc-go release's functions or structs are not the "
			 "layout glimpse reads (found in its DWARF)",
			 server && !g->server && client && !g->client ? "server and client"
			 : server && !g->server			      ? "server"
								      : "client");
}

void grpc_target_runtime_types(const struct go_grpc_target *g, pid_t pid, struct gotrace_grpc_types *out)
{
	struct proc_exe_maps x;
	memset(out, 0, sizeof(*out));
	if (!g->linked || proc_exe_maps_read(pid, &x))
		return;
	uint64_t runtime[GRPC_NR_TYPES] = { 0 };
	for (int t = 0; t < GRPC_NR_TYPES; t++)
		runtime[t] = g->type_offsets[t] ? proc_exe_addr(&x, g->type_offsets[t]) : 0;
	uint64_t anchor = g->anchor_file ? proc_exe_addr(&x, g->anchor_file) : 0;
	proc_exe_maps_free(&x);
	out->status_error = runtime[GRPC_TYPE_STATUS_ERROR];
	out->client_stream = runtime[GRPC_TYPE_CLIENT_STREAM];
	out->stream_wrapper = runtime[GRPC_TYPE_STREAM_WRAPPER];
	out->tcp_addr = runtime[GRPC_TYPE_TCP_ADDR];
	out->value_ctx = runtime[GRPC_TYPE_VALUE_CTX];
	out->cancel_ctx = runtime[GRPC_TYPE_CANCEL_CTX];
	/* io.EOF is data: where the code's mapping puts the anchor function says how far the
	 * whole image moved (0 for the usual non-PIE Go executable). */
	if (anchor && g->eof_vaddr)
		out->eof_var = g->eof_vaddr + (anchor - g->anchor_vaddr);
	if (anchor && g->types_vaddr && g->rtype_offsets[GRPC_RTYPE_MD_KEY] &&
	    g->rtype_offsets[GRPC_RTYPE_MD]) {
		out->md_key_type =
			g->types_vaddr + g->rtype_offsets[GRPC_RTYPE_MD_KEY] + (anchor - g->anchor_vaddr);
		out->md_type = g->types_vaddr + g->rtype_offsets[GRPC_RTYPE_MD] + (anchor - g->anchor_vaddr);
	}
}

const char *grpc_target_describe(const struct go_grpc_target *g, char *buf, size_t len)
{
	if (!g->linked)
		return NULL;
	if (g->why[0] && !g->server && !g->client)
		snprintf(buf, len, "%s", g->why);
	else if (g->why[0])
		snprintf(buf, len, "gRPC %s measured; %s", g->server ? "server" : "client", g->why);
	else
		snprintf(buf, len, "gRPC %s measured",
			 g->server && g->client ? "server and client"
			 : g->server		? "server"
						: "client");
	return buf;
}
