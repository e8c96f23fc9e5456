// SPDX-License-Identifier: Apache-2.0
#include "gotrace/module_offsets.h"

#include <string.h>

_Static_assert(MODULE_OFFSETS_GRPC_OFF_SLOTS + 3 == GO_OFFSETS_GRPC_SLOTS, "the files' gRPC slots");
_Static_assert(sizeof(struct gotrace_xnet_offsets) / sizeof(int32_t) == GO_OFFSETS_XNET_SLOTS,
	       "the files' x/net slots");

bool module_offsets_grpc(const char *go_version, const char *version, bool legacy,
			 struct grpc_offsets_row *out)
{
	const struct go_module_offsets *mod = go_offsets_module_row(go_version, GO_OFFSETS_GRPC, version);
	if (!mod || mod->slots[MODULE_OFFSETS_GRPC_LEGACY] != legacy)
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(&out->off, mod->slots, sizeof(out->off));
	out->off.tcpaddr_port = -1;
	out->legacy_status = legacy;
	out->server_ok = mod->slots[MODULE_OFFSETS_GRPC_SERVER_OK] == 1;
	out->client_ok = mod->slots[MODULE_OFFSETS_GRPC_CLIENT_OK] == 1;
	return true;
}

bool module_offsets_xnet(const char *go_version, const char *version, struct gotrace_xnet_offsets *out)
{
	const struct go_module_offsets *mod = go_offsets_module_row(go_version, GO_OFFSETS_XNET, version);
	if (mod)
		memcpy(out, mod->slots, sizeof(*out));
	return mod != NULL;
}
