/* SPDX-License-Identifier: Apache-2.0 */
/* Offsets files: the struct offsets of one Go version, written by `glimpse inspect
 * --emit-offsets BIN` from any build of that version that keeps its DWARF, and read by
 * `attach --offsets FILE`, `watch --offsets FILE` and the agent (go.offsets_files) so that
 * stripped binaries of a version missing from the built-in table can be measured.
 *
 * Text, one item per line; '#' starts a comment:
 *   go go1.25.3
 *   net/http.Request.Method 0
 *   ...                          every field of both sets, -1 for one the build lacks
 *   grpc v1.85.0                 optional: grpc-go's own structs at that version, then every
 *   grpc.stream_method 16        grpc.* field (the last three, legacy_status, server_ok and
 *   ...                          client_ok, are flags: 0 or 1)
 *   xnet v0.60.0                 optional: golang.org/x/net/http2's, then every xnet.* field
 *   ...
 * Every field must appear exactly once (a module's only with its version line), so a file from
 * an older or newer glimpse (with other fields) is refused with a line naming what differs
 * rather than half used. Files without module sets (older glimpse's) read as before. */
#ifndef GLIMPSE_GO_OFFSETS_FILE_H
#define GLIMPSE_GO_OFFSETS_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "binfmt/go_offsets.h"

/* Writes row as an offsets file; from is named in its header comment. 0 or -errno. */
int go_offsets_file_write(FILE *f, const struct go_offsets_row *row, const char *from);

/* Parses len bytes of an offsets file into *row. 0, or -EINVAL with a one-line reason
 * ("line 3: ...") in err. */
int go_offsets_file_parse(const char *text, size_t len, struct go_offsets_row *row, char *err, size_t errlen);

/* Reads and parses path and adds its row (go_offsets_add_row). 0, or -errno with a one-line
 * reason in err. */
int go_offsets_file_load(const char *path, char *err, size_t errlen);

#endif
