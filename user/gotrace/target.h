/* SPDX-License-Identifier: Apache-2.0 */
/* A Go process to instrument: its binary, Go version, struct offsets and the file offsets
 * of the probed functions' entries and RETs. */
#ifndef GLIMPSE_GO_TARGET_H
#define GLIMPSE_GO_TARGET_H

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "binfmt/go_offsets.h"
#include "gotrace/grpc_target.h"
#include "gotrace.h"
#include "gotrace/router_probe.h"
#include "gotrace/xnet_target.h"

#define GO_HOOK_MAX_RETS 32

struct go_hook {
	const char *function;
	bool found;
	uint64_t entry_offset; /* file offsets, as uprobes want them */
	uint32_t nrets;
	uint64_t ret_offsets[GO_HOOK_MAX_RETS];
};

/* The functions glimpse probes, in the order the tracer attaches them. */
enum go_hook_id {
	GO_HOOK_SERVER,	    /* net/http.serverHandler.ServeHTTP */
	GO_HOOK_CLIENT,	    /* net/http.(*Transport).roundTrip */
	GO_HOOK_SQL_QUERY,  /* database/sql.(*DB).queryDC */
	GO_HOOK_SQL_EXEC,   /* database/sql.(*DB).execDC */
	GO_HOOK_STMT_QUERY, /* database/sql.(*Stmt).QueryContext */
	GO_HOOK_STMT_EXEC,  /* database/sql.(*Stmt).ExecContext */
	GO_HOOK_SPAWN,	    /* runtime.newproc1: goroutine lineage for trace context */
	GO_NR_HOOKS,
};

/* File offsets of the methods that identify the types of struct gotrace_types, in its order
 * (0: absent from the binary), except from router_ctx on: type descriptors and variables,
 * outside the code, given by virtual address, placed by where the code at text_offset (a file
 * offset) lies compared to its address text_vaddr. */
struct go_type_offsets {
	uint64_t at[sizeof(struct gotrace_types) / sizeof(__u64)];
	uint64_t text_vaddr, text_offset;
};
#define GO_TYPES_NAMED	   (offsetof(struct gotrace_types, echo_options) / sizeof(__u64))
#define GO_TYPES_BY_METHOD (offsetof(struct gotrace_types, router_ctx) / sizeof(__u64))

struct go_target {
	pid_t pid;
	char binary[PATH_MAX]; /* the path uprobes attach to: /proc/PID/exe reaches any namespace */
	char go_version[32];
	const char *offsets_source; /* "DWARF", "table" or "offsets file" */
	struct go_http_offsets offsets;
	struct go_hook hooks[GO_NR_HOOKS];
	/* enum gotrace_map_layout: which map implementation the Header walk reads (found from the
	 * runtime functions the binary carries, not assumed from its version). */
	uint32_t map_layout;
	/* Where the writers, connections and addresses whose types glimpse checks are (HTTP/1's
	 * and HTTP/2's ResponseWriter among them). */
	struct go_type_offsets types;
	/* Traffic the binary can carry that glimpse does not measure yet, said once at attach and
	 * by inspect: a comma-separated list ("gRPC server, HTTP/2 server"), "" for none. */
	char unmeasured[288];
	/* Database clients outside database/sql the binary links ("pgx/v5, go-redis/v9"), whose
	 * wire the socket path reads beside the uprobes; "" when none: then the sockets are not
	 * captured at all, and the target pays nothing for them. */
	char wire_clients[96];
	/* The socket path's ServeMux routes (sockcap/mux_learn.h): link-time addresses of
	 * net/http.(*ServeMux).ServeHTTP and of the DefaultServeMux variable (0: unknown; the
	 * variable needs the symbol table). */
	uint64_t mux_serve_vaddr, default_mux_vaddr;
	/* Which routers' templates are read, and how (gotrace/router_probe.h). */
	struct go_routers routers;
	/* gRPC: found by grpc_target_open, probed by the same tracer. */
	struct go_grpc_target grpc;
	struct go_hook grpc_hooks[GRPC_NR_HOOKS];
	/* golang.org/x/net/http2's own server: found by xnet_target_open. */
	struct go_xnet_target xnet;
	struct go_hook xnet_hooks[XNET_NR_HOOKS];
};

struct elf_module;
/* Fills h (h->function set) with its entry and RETs in m: 0, or -errno when it is absent. */
int go_target_find_hook(struct elf_module *m, struct go_hook *h);

/* True when the binary's database/sql calls are probed (any of its four functions found). */
bool go_target_links_sql(const struct go_target *t);
/* Moves h's entry probe past the function's stack-bound check: a goroutine whose stack must
 * grow for the call re-runs the function from its entry after morestack, so a probe on the
 * entry would fire twice for that call (the argument registers are untouched up to there). */
void go_hook_past_stack_check(struct elf_module *m, struct go_hook *h);

/* How inspect and the attach log describe a map layout (enum gotrace_map_layout). */
const char *go_target_map_layout_name(uint32_t layout);

/* Logs once, for a process, what go_target found it cannot measure (nothing when empty). */
void go_target_report_unmeasured(const struct go_target *t);

/* The types of struct gotrace_types where they lie in pid's memory, from its executable's
 * mappings, read while it lives (0 for those unknown). */
void go_target_runtime_types(const struct go_type_offsets *types, pid_t pid, struct gotrace_types *out);

/* Where link-time address vaddr of the executable lies in pid's memory (placed as the code
 * is), 0 when unknown. */
uint64_t go_target_runtime_vaddr(const struct go_type_offsets *types, pid_t pid, uint64_t vaddr);

/* Reads the process's binary. Returns 0, or an exit code (exit_codes.h) after logging one
 * line that says what is wrong: gone, not Go, too old, no offsets, no net/http. */
int go_target_open(pid_t pid, struct go_target *t);
/* 1 if pid's executable is a Go program (has a .gopclntab), 0 if it is an ELF file that is
 * not, -errno when it cannot be told (unreadable, gone, not ELF). */
int go_target_is_go_program(pid_t pid);
/* Same for a process found rather than named (the agent): one that is gone, or exits while
 * being read, is no error: GLIMPSE_EXIT_NO_PROCESS without a log line. */
int go_target_open_live(pid_t pid, struct go_target *t);
/* Same for a binary on disk (glimpse inspect); pid 0. */
int go_target_open_file(const char *path, struct go_target *t);

#endif
