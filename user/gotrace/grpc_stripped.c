// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE /* memmem */
/* What gRPC's probes need that DWARF gives, for binaries without it (-ldflags=-w): the struct
 * offsets and parameter checks of the grpc-go version the binary was built with, from an
 * offsets file (gotrace/module_offsets.h) or else the table generated from reference builds
 * (scripts/gen-grpc-offsets.sh); io.EOF's address and
 * the metadata types' descriptors, from the code that uses them. */
#include "gotrace/grpc_target.h"

#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "binfmt/go_types.h"
#include "binfmt/gobinary.h"
#include "gotrace/grpc_offsets_table.h"
#include "gotrace/module_offsets.h"

#define GRPC_MODULE    "google.golang.org/grpc"
#define MAX_FUNC_BYTES (1 << 20)
#define MAX_REFS       4096
/* grpc's user agent, "grpc-go/" + grpc.Version: a constant every build carries. */
#define USER_AGENT "grpc-go/"

/* A GOPATH build (Debian's) records no module versions: its grpc.Version from the user-agent
 * constant in the read-only data, "1.33.3" → "v1.33.3" (a pre-release keeps its suffix). */
static int version_from_user_agent(Elf *elf, char *buf, size_t len)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    (sh.sh_flags & (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR)) != SHF_ALLOC ||
		    !(d = elf_rawdata(scn, NULL)) || !d->d_buf)
			continue;
		const char *p = d->d_buf, *end = p + d->d_size;
		while ((p = memmem(p, (size_t)(end - p), USER_AGENT, strlen(USER_AGENT)))) {
			const char *v = p + strlen(USER_AGENT), *s = v;
			int dots = 0;
			while (s < end &&
			       ((*s >= '0' && *s <= '9') || (*s == '.' && dots < 2 && s > v && s[-1] != '.')))
				dots += *s++ == '.';
			if (s < end && *s == '-')
				while (s < end && (*s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
						   (*s >= 'a' && *s <= 'z')))
					s++;
			if (dots == 2 && s[-1] != '.' && (size_t)(s - v) + 2 <= len) {
				snprintf(buf, len, "v%.*s", (int)(s - v), v);
				return 0;
			}
			p = v;
		}
	}
	return -ENOENT;
}

int grpc_target_version(struct elf_module *m, char *buf, size_t len)
{
	if (!go_buildinfo_dep_version(elf_module_elf(m), GRPC_MODULE, buf, len))
		return 0;
	return version_from_user_agent(elf_module_elf(m), buf, len);
}

/* protoc-gen-go's first API left XXX_ methods on every message; today's leaves none. */
bool grpc_target_legacy_status(struct elf_module *m)
{
	uint64_t entry, end;
	return !elf_module_find_function(
		m, "google.golang.org/genproto/googleapis/rpc/status.(*Status).XXX_Unmarshal", &entry, &end);
}

const char *grpc_offsets_table_versions(void)
{
	static char list[256];
	size_t used = 0;
	list[0] = '\0';
	for (size_t i = 0; i < sizeof(grpc_offsets_table) / sizeof(grpc_offsets_table[0]); i++)
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s%s",
					 i ? ", " : "", grpc_offsets_table[i].version,
					 grpc_offsets_table[i].legacy_status ? " (Debian)" : "");
	return list;
}

int grpc_offsets_from_table(struct elf_module *m, struct gotrace_grpc_offsets *off, bool *server_ok,
			    bool *client_ok, char *why, size_t len)
{
	char version[64];
	*server_ok = *client_ok = false;
	if (grpc_target_version(m, version, sizeof(version))) {
		snprintf(why, len, "its build info does not say which grpc-go it is");
		return -ENODATA;
	}
	bool legacy = grpc_target_legacy_status(m);
	struct grpc_offsets_row file;
	if (module_offsets_grpc(elf_module_go_version(m), version, legacy, &file)) {
		*off = file.off;
		*server_ok = file.server_ok;
		*client_ok = file.client_ok;
		snprintf(why, len, "offsets file: " GRPC_MODULE " %s", version);
		return 0;
	}
	for (size_t i = 0; i < sizeof(grpc_offsets_table) / sizeof(grpc_offsets_table[0]); i++) {
		const struct grpc_offsets_row *row = &grpc_offsets_table[i];
		if (strcmp(row->version, version) || row->legacy_status != legacy)
			continue;
		*off = row->off;
		*server_ok = row->server_ok;
		*client_ok = row->client_ok;
		snprintf(why, len, "table: " GRPC_MODULE " %s", version);
		return 0;
	}
	snprintf(why, len,
		 GRPC_MODULE " %s%s is neither in an offsets file nor in glimpse's table of gRPC offsets "
			     "(it knows %s)",
		 version, legacy ? " with a legacy genproto" : "", grpc_offsets_table_versions());
	return -ENOENT;
}

/* Whether addr lies in a writable allocated section (a variable). */
static bool in_data(Elf *elf, uint64_t addr)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_flags & (SHF_ALLOC | SHF_WRITE)) == (SHF_ALLOC | SHF_WRITE) &&
		    addr >= sh.sh_addr && addr - sh.sh_addr < sh.sh_size)
			return true;
	}
	return false;
}

/* The RIP-relative references of a function, in refs (freed by the caller); -errno. */
static int function_refs(struct elf_module *m, const char *name, struct rip_ref **refs)
{
	uint64_t entry, end;
	if (elf_module_find_function(m, name, &entry, &end) || end <= entry || end - entry > MAX_FUNC_BYTES)
		return -ENOENT;
	uint8_t *code = malloc(end - entry);
	*refs = calloc(MAX_REFS, sizeof(**refs));
	int n = !code || !*refs ? -ENOMEM : elf_module_read(m, entry, code, end - entry);
	if (!n)
		n = find_rip_refs(code, end - entry, entry, *refs, MAX_REFS);
	free(code);
	if (n > MAX_REFS)
		n = MAX_REFS;
	return n;
}

/* Where the linker initialised the variable (Go does errors.New("EOF") at build time), it
 * must hold an *errors.errorString whose text is "EOF"; left to run time (zeros), the code's
 * word is taken. */
static bool eof_in_file(struct elf_module *m, uint64_t var)
{
	uint64_t iface[2], str[2];
	char text[3];
	if (elf_module_read_data(m, var, iface, sizeof(iface)))
		return false;
	if (!iface[0] && !iface[1])
		return true;
	return iface[0] && !elf_module_read_data(m, iface[1], str, sizeof(str)) && str[1] == 3 &&
	       !elf_module_read_data(m, str[0], text, sizeof(text)) && !memcmp(text, "EOF", 3);
}

/* io.EOF without symbols: small functions whose one variable is io.EOF, returned as
 * `return 0, io.EOF` — its two words loaded from one 16-byte variable. Every one of them the
 * binary has must name the same variable. */
uint64_t grpc_find_eof_var(struct elf_module *m)
{
	static const char *const returners[] = {
		"io.(*LimitedReader).Read",
		"bytes.(*Reader).Read",
		"strings.(*Reader).Read",
	};
	uint64_t found = 0;
	for (size_t f = 0; f < sizeof(returners) / sizeof(returners[0]); f++) {
		struct rip_ref *refs = NULL;
		int n = function_refs(m, returners[f], &refs);
		uint64_t var = 0;
		bool other = false;
		for (int i = 0; i < n; i++) {
			if (refs[i].lea || refs[i].size != 8 || !in_data(elf_module_elf(m), refs[i].target))
				continue;
			bool pair = false;
			for (int j = 0; j < n && !pair; j++)
				pair = !refs[j].lea && refs[j].size == 8 &&
				       refs[j].target == refs[i].target + 8;
			if (pair && (!var || var == refs[i].target))
				var = refs[i].target;
			else if (pair || (var && refs[i].target != var + 8))
				other = true;
		}
		free(refs);
		if (n < 0)
			continue;
		if (other || !var || (found && found != var))
			return 0;
		found = var;
	}
	return found && eof_in_file(m, found) ? found : 0;
}

/* grpc/metadata's incoming key and MD type descriptors without DWARF: LEA'd where the incoming
 * metadata is stored or looked up, and told by name. */
void grpc_find_md_types(struct elf_module *m, uint64_t types, uint64_t etypes, uint64_t *rtypes)
{
	static const char *const users[] = {
		"google.golang.org/grpc/metadata.FromIncomingContext",
		"google.golang.org/grpc/metadata.NewIncomingContext",
		"google.golang.org/grpc/metadata.ValueFromIncomingContext",
		"google.golang.org/grpc/internal/transport.(*http2Server).operateHeaders",
	};
	static const char *const names[GRPC_NR_RUNTIME_TYPES] = {
		[GRPC_RTYPE_MD_KEY] = "metadata.mdIncomingKey",
		[GRPC_RTYPE_MD] = "metadata.MD",
	};
	uint64_t got[GRPC_NR_RUNTIME_TYPES] = { 0 };
	for (size_t f = 0; f < sizeof(users) / sizeof(users[0]) && (!got[0] || !got[1]); f++) {
		struct rip_ref *refs = NULL;
		int n = function_refs(m, users[f], &refs);
		for (int i = 0; i < n; i++) {
			char name[64];
			if (!refs[i].lea || refs[i].target < types || refs[i].target >= etypes ||
			    go_type_name(m, types, etypes, refs[i].target, name, sizeof(name)))
				continue;
			for (int t = 0; t < GRPC_NR_RUNTIME_TYPES; t++)
				if (!got[t] && !strcmp(name, names[t]))
					got[t] = refs[i].target;
		}
		free(refs);
	}
	for (int t = 0; t < GRPC_NR_RUNTIME_TYPES; t++)
		rtypes[t] = got[0] && got[1] ? got[t] - types : 0;
}
