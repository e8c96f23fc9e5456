/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC (google.golang.org/grpc) in a Go binary: the functions bpf/gotrace_grpc.bpf.h probes,
 * the struct offsets it reads (from DWARF, or for stripped binaries from the table row of their
 * grpc-go version: grpc's structs change from release to release), the types it checks behind
 * interfaces, and whether the binary is measured — said once, with the reason when it is not. */
#ifndef GLIMPSE_GOTRACE_GRPC_TARGET_H
#define GLIMPSE_GOTRACE_GRPC_TARGET_H

#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gotrace.h"

struct elf_module;
struct go_hook;

enum grpc_hook_id {
	GRPC_HOOK_SERVER,	    /* grpc.(*Server).processRPC (grpc-go 1.8x) */
	GRPC_HOOK_SERVER_UNARY,	    /* grpc.(*Server).processUnaryRPC (earlier releases) */
	GRPC_HOOK_SERVER_STREAMING, /* grpc.(*Server).processStreamingRPC (earlier releases) */
	GRPC_HOOK_STATUS,	    /* transport.(*http2Server).writeStatus / WriteStatus */
	GRPC_HOOK_CLIENT,	    /* grpc.newClientStream: entry and RETs */
	GRPC_HOOK_FINISH,	    /* grpc.(*clientStream).finish */
	GRPC_NR_HOOKS,
};

/* File offsets of the methods that identify the types of struct gotrace_grpc_types. */
enum grpc_type_id {
	GRPC_TYPE_STATUS_ERROR,
	GRPC_TYPE_CLIENT_STREAM,
	GRPC_TYPE_STREAM_WRAPPER,
	GRPC_TYPE_TCP_ADDR,
	GRPC_TYPE_VALUE_CTX,
	GRPC_TYPE_CANCEL_CTX,
	GRPC_NR_TYPES,
};

/* Runtime type descriptors, as offsets from runtime.types (from DWARF). */
enum grpc_runtime_type_id {
	GRPC_RTYPE_MD_KEY,
	GRPC_RTYPE_MD,
	GRPC_NR_RUNTIME_TYPES,
};

struct go_grpc_target {
	bool linked;	     /* the binary carries grpc's server or client */
	bool server, client; /* and glimpse measures them */
	bool legacy_status;  /* genproto's Status from protoc-gen-go's first API */
	char why[768];	     /* linked but not (wholly) measured: why, for the log and inspect */
	struct gotrace_grpc_offsets off;
	uint64_t type_offsets[GRPC_NR_TYPES];
	uint64_t eof_vaddr;		    /* io.EOF's link-time address, 0 if unknown */
	uint64_t anchor_vaddr, anchor_file; /* one function's address and file offset: the load bias */
	uint64_t rtype_offsets[GRPC_NR_RUNTIME_TYPES]; /* from runtime.types, 0 if unknown */
	uint64_t types_vaddr;			       /* runtime.types, 0 if unknown */
	char offsets_source[96]; /* "DWARF" or "table: google.golang.org/grpc v1.85.0" */
};

/* Finds grpc in an open Go binary (hooks: GRPC_NR_HOOKS of them, filled with what is found,
 * RETs included); tcpaddr_port from the HTTP offsets (-1 if unknown). Never fails: what cannot
 * be measured is said in g->why. */
void grpc_target_open(struct elf_module *m, int32_t tcpaddr_port, struct go_grpc_target *g,
		      struct go_hook *hooks);

/* Where the checked types and io.EOF lie in pid's memory (0 for those unknown). */
void grpc_target_runtime_types(const struct go_grpc_target *g, pid_t pid, struct gotrace_grpc_types *out);

/* One line for inspect and the attach log: "server and client measured", or what is not and
 * why. NULL when the binary has no gRPC. */
const char *grpc_target_describe(const struct go_grpc_target *g, char *buf, size_t len);

/* The offsets, runtime type offsets (GRPC_NR_RUNTIME_TYPES of them) and whether the probed
 * functions' parameters are laid out as the probes read them, from DWARF: 0, or -ENOENT when
 * the binary has no DWARF. The _isolated form reads in a child process, as the HTTP offsets. */
int grpc_offsets_from_dwarf(Elf *elf, struct gotrace_grpc_offsets *off, uint64_t *rtypes, bool *server_ok,
			    bool *client_ok);
int grpc_offsets_from_dwarf_isolated(Elf *elf, struct gotrace_grpc_offsets *off, uint64_t *rtypes,
				     bool *server_ok, bool *client_ok);

/* Binaries without DWARF (gotrace/grpc_stripped.c). The grpc-go version the binary was
 * built with: its build info's, or a GOPATH build's grpc.Version ("v1.33.3"); 0 or -ENOENT. */
int grpc_target_version(struct elf_module *m, char *buf, size_t len);
/* Whether its genproto rpc/status.Status comes from protoc-gen-go's first API (Debian's). */
bool grpc_target_legacy_status(struct elf_module *m);
/* The offsets and parameter checks of the binary's grpc-go version from an offsets file for
 * its Go version, else the generated table: 0 with the source in why ("offsets file: ..." or
 * "table: google.golang.org/grpc v1.85.0"), -ENOENT with why saying which version is missing,
 * -ENODATA when the binary does not say its version. */
int grpc_offsets_from_table(struct elf_module *m, struct gotrace_grpc_offsets *off, bool *server_ok,
			    bool *client_ok, char *why, size_t len);
/* The versions the table holds, for messages. */
const char *grpc_offsets_table_versions(void);
/* io.EOF's link-time address, from code that returns it; 0 when not found for sure. */
uint64_t grpc_find_eof_var(struct elf_module *m);
/* The metadata types' descriptors (GRPC_NR_RUNTIME_TYPES offsets from types into rtypes, all
 * 0 unless every one is found), from code that uses them, told by their names. */
void grpc_find_md_types(struct elf_module *m, uint64_t types, uint64_t etypes, uint64_t *rtypes);

#endif
