/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC and x/net/http2 offsets that offsets files carry (binfmt/go_offsets_file.h) beside
 * the Go ones: written by `inspect --emit-offsets` from a build with DWARF, read back for
 * stripped binaries of the same Go minor version and the same module version, before the
 * built-in tables. The one place the files' module slots map onto gotrace's rows. */
#ifndef GLIMPSE_GOTRACE_MODULE_OFFSETS_H
#define GLIMPSE_GOTRACE_MODULE_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "binfmt/go_offsets.h"
#include "gotrace/grpc_offsets_row.h"
#include "gotrace/xnet_offsets_row.h"

struct elf_module;

/* The files' gRPC slots: struct gotrace_grpc_offsets in order, then the row's three flags. */
#define MODULE_OFFSETS_GRPC_OFF_SLOTS (sizeof(struct gotrace_grpc_offsets) / sizeof(int32_t))
enum {
	MODULE_OFFSETS_GRPC_LEGACY = MODULE_OFFSETS_GRPC_OFF_SLOTS,
	MODULE_OFFSETS_GRPC_SERVER_OK,
	MODULE_OFFSETS_GRPC_CLIENT_OK,
};

/* (module_offsets_emit.c) Fills row->grpc and row->xnet from m's DWARF where m links them (version "" otherwise); a
 * line for each module linked whose offsets are not written (no DWARF for it, or no version
 * in the build info) goes to stderr-ready text in note (empty: none). */
void module_offsets_emit(struct elf_module *m, struct go_offsets_row *row, char *note, size_t len);

/* The offsets files' gRPC row for a binary of go_version linking grpc-go version with a
 * legacy genproto Status or not: true with *out (version NULL) when a file gives it. */
bool module_offsets_grpc(const char *go_version, const char *version, bool legacy,
			 struct grpc_offsets_row *out);

/* The offsets files' x/net/http2 offsets for that Go version and x/net version: true with *out. */
bool module_offsets_xnet(const char *go_version, const char *version, struct gotrace_xnet_offsets *out);

#endif
