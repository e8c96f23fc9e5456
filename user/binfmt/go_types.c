// SPDX-License-Identifier: Apache-2.0
#include "binfmt/go_types.h"

#include <errno.h>
#include <string.h>

#include "binfmt/elf_module.h"
#include "binfmt/gobinary.h"

/* abi.Type (Go 1.17+): tflag at 20, str (a nameOff from runtime.types) at 40. */
#define TYPE_TFLAG	 20
#define TYPE_STR	 40
#define TFLAG_EXTRA_STAR 2
#define MAX_TYPE_NAME	 256

int go_types_range(const struct elf_module *m, uint64_t *types, uint64_t *etypes)
{
	uint64_t size;
	if (!elf_module_find_symbol(m, "runtime.types", types, &size) &&
	    !elf_module_find_symbol(m, "runtime.etypes", etypes, &size) && *etypes > *types)
		return 0;
	return go_moduledata_types(elf_module_elf(m), types, etypes);
}

int go_type_name(const struct elf_module *m, uint64_t types, uint64_t etypes, uint64_t type, char *buf,
		 size_t len)
{
	uint8_t tflag, name[2 + 2 + MAX_TYPE_NAME];
	int32_t str;
	if (type < types || type + TYPE_STR + 4 > etypes ||
	    elf_module_read_data(m, type + TYPE_TFLAG, &tflag, sizeof(tflag)) ||
	    elf_module_read_data(m, type + TYPE_STR, &str, sizeof(str)) || str < 0 ||
	    types + (uint64_t)str >= etypes)
		return -ENOENT;
	/* A flags byte, a varint length, the bytes; read what the range holds. */
	size_t avail = etypes - (types + (uint64_t)str);
	size_t want = avail < sizeof(name) ? avail : sizeof(name);
	if (elf_module_read_data(m, types + (uint64_t)str, name, want))
		return -ENOENT;
	size_t n = 0, at = 1;
	for (int shift = 0; at < want && shift < 14; shift += 7) {
		n |= (size_t)(name[at] & 0x7f) << shift;
		if (!(name[at++] & 0x80))
			break;
	}
	if (at + n > want)
		return -ENOENT;
	const char *s = (const char *)name + at;
	if ((tflag & TFLAG_EXTRA_STAR) && n > 0 && s[0] == '*') {
		s++;
		n--;
	}
	if (n + 1 > len)
		return -ERANGE;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}
