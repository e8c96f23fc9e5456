// SPDX-License-Identifier: Apache-2.0
/* inspect --emit-offsets: the gRPC and x/net sets of an offsets file, from a build's DWARF
 * (gotrace/module_offsets.h). */
#include "gotrace/module_offsets.h"

#include <stdio.h>
#include <string.h>

#include "binfmt/elf_module.h"
#include "binfmt/gobinary.h"
#include "gotrace/grpc_target.h"
#include "gotrace/target.h"
#include "gotrace/xnet_target.h"

static void note_line(char *note, size_t len, const char *line)
{
	size_t used = strlen(note);
	snprintf(note + used, len - used, "%s%s", used ? "\n" : "", line);
}

static void emit_grpc(struct elf_module *m, struct go_module_offsets *out, char *note, size_t len)
{
	struct go_hook hooks[GRPC_NR_HOOKS];
	struct go_grpc_target g;
	struct gotrace_grpc_offsets off;
	uint64_t rtypes[GRPC_NR_RUNTIME_TYPES];
	bool server_ok = false, client_ok = false;
	char version[sizeof(out->version)], line[256];
	grpc_target_open(m, -1, &g, hooks);
	if (!g.linked)
		return;
	if (grpc_target_version(m, version, sizeof(version)) || version[0] != 'v') {
		note_line(note, len,
			  "it links gRPC but does not say which grpc-go version: no gRPC offsets written");
		return;
	}
	if (grpc_offsets_from_dwarf_isolated(elf_module_elf(m), &off, rtypes, &server_ok, &client_ok)) {
		snprintf(line, sizeof(line), "its DWARF lacks grpc-go %s's structs: no gRPC offsets written",
			 version);
		note_line(note, len, line);
		return;
	}
	off.tcpaddr_port = -1; /* the HTTP offsets' own field, taken from there */
	snprintf(out->version, sizeof(out->version), "%s", version);
	memcpy(out->slots, &off, sizeof(off));
	out->slots[MODULE_OFFSETS_GRPC_LEGACY] = grpc_target_legacy_status(m);
	out->slots[MODULE_OFFSETS_GRPC_SERVER_OK] = server_ok;
	out->slots[MODULE_OFFSETS_GRPC_CLIENT_OK] = client_ok;
}

static void emit_xnet(struct elf_module *m, struct go_module_offsets *out, char *note, size_t len)
{
	struct go_hook hooks[XNET_NR_HOOKS];
	struct go_xnet_target x;
	char version[sizeof(out->version)], line[256];
	xnet_target_open(m, &x, hooks);
	if (!x.linked)
		return;
	/* Its own server needs the writer's fields; Go 1.27's wrapper only the upgrade's. */
	bool known = x.measured || (!hooks[XNET_HOOK_RUN].found && x.off.opts_upgrade >= 0);
	if (go_buildinfo_dep_version(elf_module_elf(m), "golang.org/x/net", version, sizeof(version))) {
		note_line(note, len,
			  "it links golang.org/x/net/http2's server but does not say which x/net version: no "
			  "x/net offsets written");
		return;
	}
	if (!known || strcmp(x.offsets_source, "DWARF")) {
		snprintf(line, sizeof(line),
			 "its DWARF lacks golang.org/x/net %s's structs: no x/net offsets written", version);
		note_line(note, len, line);
		return;
	}
	snprintf(out->version, sizeof(out->version), "%s", version);
	memcpy(out->slots, &x.off, sizeof(x.off));
}

void module_offsets_emit(struct elf_module *m, struct go_offsets_row *row, char *note, size_t len)
{
	note[0] = '\0';
	memset(&row->grpc, 0, sizeof(row->grpc));
	memset(&row->xnet, 0, sizeof(row->xnet));
	emit_grpc(m, &row->grpc, note, len);
	emit_xnet(m, &row->xnet, note, len);
}
