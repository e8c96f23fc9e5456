/* SPDX-License-Identifier: Apache-2.0 */
/* The Go runtime's type descriptors in a binary: where they lie (the runtime.types symbol, or
 * the runtime's moduledata in stripped binaries, which have no symbols) and the name of one,
 * so that an address found in code (a LEA before a type assertion or an interface conversion)
 * is used only once it names the type expected. */
#ifndef GLIMPSE_GO_TYPES_H
#define GLIMPSE_GO_TYPES_H

#include <stddef.h>
#include <stdint.h>

struct elf_module;

/* [types, etypes), link-time addresses: 0 or -ENOENT. */
int go_types_range(const struct elf_module *m, uint64_t *types, uint64_t *etypes);

/* The name of the type descriptor at link-time address type, as Go's reflect prints it
 * ("metadata.MD", "*gin.Context"), into buf: 0, or -ENOENT when type is outside [types,
 * etypes) or its name cannot be read, -ERANGE when it does not fit. */
int go_type_name(const struct elf_module *m, uint64_t types, uint64_t etypes, uint64_t type, char *buf,
		 size_t len);

#endif
