#include "go_offsets.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "go_offsets_table.h"

struct wanted_field {
	const char *type, *field;
	size_t out_index; /* index into struct go_http_offsets viewed as int32_t[] */
	bool required;
};

static const struct wanted_field wanted[] = {
	{ "net/http.Request", "Method", 0, true },
	{ "net/http.Request", "URL", 1, true },
	{ "net/http.Request", "pat", 2, false },
	{ "net/http.pattern", "str", 3, false },
	{ "net/url.URL", "Path", 4, true },
	{ "net/url.URL", "Host", 5, true },
	{ "net/http.response", "status", 6, true },
	{ "net/http.Response", "StatusCode", 7, true },
};
#define NWANTED (sizeof(wanted) / sizeof(wanted[0]))
_Static_assert(sizeof(struct go_http_offsets) == NWANTED * sizeof(int32_t), "one slot per field");

static void read_struct(Dwarf_Die *type, const char *name, int32_t *slots)
{
	Dwarf_Die member;
	if (dwarf_child(type, &member) != 0)
		return;
	do {
		if (dwarf_tag(&member) != DW_TAG_member)
			continue;
		const char *field = dwarf_diename(&member);
		Dwarf_Attribute attr;
		Dwarf_Word offset;
		if (!field || !dwarf_attr(&member, DW_AT_data_member_location, &attr) ||
		    dwarf_formudata(&attr, &offset) != 0)
			continue;
		for (size_t i = 0; i < NWANTED; i++)
			if (!strcmp(wanted[i].type, name) && !strcmp(wanted[i].field, field))
				slots[wanted[i].out_index] = (int32_t)offset;
	} while (dwarf_siblingof(&member, &member) == 0);
}

int go_offsets_from_dwarf(Elf *elf, struct go_http_offsets *out)
{
	int32_t *slots = (int32_t *)out;
	for (size_t i = 0; i < NWANTED; i++)
		slots[i] = -1;
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	Dwarf_Off off = 0, next;
	size_t hdr;
	/* Go emits its types as top-level DIEs of the compilation units. */
	while (dwarf_nextcu(dw, off, &next, &hdr, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		if (dwarf_offdie(dw, off + hdr, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				if (dwarf_tag(&die) != DW_TAG_structure_type)
					continue;
				const char *name = dwarf_diename(&die);
				if (name && (!strncmp(name, "net/http.", 9) || !strcmp(name, "net/url.URL")))
					read_struct(&die, name, slots);
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	for (size_t i = 0; i < NWANTED; i++)
		if (wanted[i].required && slots[wanted[i].out_index] < 0)
			return -ENOENT;
	return 0;
}

/* "go1.22.12" → "1.22"; false if not of that shape. */
static bool minor_version(const char *v, char *buf, size_t len)
{
	int major, minor;
	if (sscanf(v, "go%d.%d", &major, &minor) != 2)
		return false;
	snprintf(buf, len, "%d.%d", major, minor);
	return true;
}

int go_offsets_from_table(const char *go_version, struct go_http_offsets *out)
{
	char minor[16];
	if (!go_version || !minor_version(go_version, minor, sizeof(minor)))
		return -ENOENT;
	for (size_t i = 0; i < sizeof(go_offsets_table) / sizeof(go_offsets_table[0]); i++) {
		if (!strcmp(go_offsets_table[i].version, minor)) {
			*out = go_offsets_table[i].offsets;
			return 0;
		}
	}
	return -ENOENT;
}

const char *go_offsets_table_versions(void)
{
	static char list[256];
	if (!list[0]) {
		size_t used = 0;
		for (size_t i = 0; i < sizeof(go_offsets_table) / sizeof(go_offsets_table[0]); i++)
			used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 go_offsets_table[i].version);
	}
	return list;
}
