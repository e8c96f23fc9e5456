// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target for the ELF, symbol table, DWARF (line tables, the struct offsets read for
 * probes, gRPC's offsets and parameter layouts), separate-debug-file lookup, frame-pointer and unwind-table readers,
 * variables found through the funcvals they hold: whole files as glimpse would meet them in
 * /proc/PID/map_files. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "binfmt/cfi_table.h"
#include "binfmt/elf_module.h"
#include "binfmt/go_funcval.h"
#include "binfmt/go_offsets.h"
#include "binfmt/go_types.h"
#include "gotrace/grpc_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct elf_module *m = elf_module_open(path);
	if (m) {
		/* The debug-file lookup parses .gnu_debuglink and the build id from the input; the root
		 * holds no files, so nothing is opened but the paths it builds. */
		elf_module_load_debug_file(m, "/nonexistent-fuzz-root", "/usr/lib/x86_64-linux-gnu/lib.so");
		struct elf_symbol sym;
		uint64_t entry, end, off, vaddr;
		/* Not static: one address depends on the input's size. */
		const uint64_t probes[] = { 0, 0x401000, 0x400000 + size / 2, UINT64_MAX };
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			elf_module_symbolize(m, probes[i], &sym);
			if (elf_module_vaddr_to_offset(m, probes[i], &off) == 0)
				elf_module_offset_to_vaddr(m, off, &vaddr);
		}
		elf_module_frame_pointer_share(m);
		struct cfi_table cfi;
		if (cfi_table_compile(elf_module_elf(m), elf_module_debug_elf(m), &cfi) == 0)
			cfi_table_find(&cfi, cfi.base + size / 2);
		cfi_table_free(&cfi);
		elf_module_find_function(m, "main.main", &entry, &end);
		elf_module_find_function(m, "net/http.serverHandler.ServeHTTP", &entry, &end);
		struct go_http_offsets offsets;
		go_offsets_from_dwarf(elf_module_elf(m), &offsets);
		struct gotrace_grpc_offsets grpc;
		uint64_t rtypes[GRPC_NR_RUNTIME_TYPES];
		bool server, client;
		grpc_offsets_from_dwarf(elf_module_elf(m), &grpc, rtypes, &server, &client);
		/* Stripped binaries: the type descriptors' range and names, the grpc-go version (a
		 * GOPATH build's from its read-only data), io.EOF and the metadata types from code. */
		char buf[128], why[256];
		uint64_t types, etypes;
		if (!go_types_range(m, &types, &etypes)) {
			for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
				go_type_name(m, types, etypes, types + probes[i] % (etypes - types), buf,
					     sizeof(buf));
			grpc_find_md_types(m, types, etypes, rtypes);
		}
		grpc_target_version(m, buf, sizeof(buf));
		grpc_offsets_from_table(m, &grpc, &server, &client, why, sizeof(why));
		grpc_find_eof_var(m);
		/* A variable found through the function literal it holds (echo's handlers). */
		uint64_t var;
		if (!elf_module_find_function(m, "main.main", &entry, &end))
			go_funcval_variable(m, entry, &var);
		go_funcval_variable(m, probes[2], &var);
		elf_module_close(m);
	}
	close(fd);
	return 0;
}
