// SPDX-License-Identifier: Apache-2.0
#include "binfmt/go_offsets.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "binfmt/go_offsets_table.h"

struct wanted_field {
	const char *type, *field;
	size_t out_index; /* index into the offsets struct viewed as int32_t[] */
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
	{ "net/http.Request", "Header", 8, false },
	{ "database/sql.driverConn", "ci", 9, false },
	{ "runtime.g", "m", 10, false },
	{ "runtime.m", "curg", 11, false },
};
#define NWANTED (sizeof(wanted) / sizeof(wanted[0]))
_Static_assert(sizeof(struct go_http_offsets) == NWANTED * sizeof(int32_t), "one slot per field");

/* The memory fields are not required here: without them go_runtime reports no memory. */
static const struct wanted_field runtime_wanted[] = {
	{ "runtime.g", "atomicstatus", 0, true },
	{ "runtime.g", "startpc", 1, true },
	{ "runtime.mstats", "last_gc_unix", 2, false },
	{ "runtime.mstats", "pause_total_ns", 3, false },
	{ "runtime.mstats", "numgc", 4, false },
	{ "runtime.mstats", "numforcedgc", 5, false },
	{ "runtime.mstats", "last_gc_nanotime", 6, false },
	{ "runtime.gcControllerState", "heapInUse", 7, false },
	{ "runtime.gcControllerState", "heapReleased", 8, false },
	{ "runtime.gcControllerState", "heapFree", 9, false },
	{ "runtime.gcControllerState", "mappedReady", 10, false },
};
#define NRUNTIME_WANTED (sizeof(runtime_wanted) / sizeof(runtime_wanted[0]))
_Static_assert(sizeof(struct go_runtime_offsets) == NRUNTIME_WANTED * sizeof(int32_t), "one slot per field");

static void read_struct(Dwarf_Die *type, const char *name, const struct wanted_field *w, size_t nw,
			int32_t *slots)
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
		for (size_t i = 0; i < nw; i++)
			if (!strcmp(w[i].type, name) && !strcmp(w[i].field, field))
				slots[w[i].out_index] = (int32_t)offset;
	} while (dwarf_siblingof(&member, &member) == 0);
}

static bool is_wanted_type(const char *name, const struct wanted_field *w, size_t nw)
{
	for (size_t i = 0; i < nw; i++)
		if (!strcmp(w[i].type, name))
			return true;
	return false;
}

/* Fills slots[out_index] for every wanted field (-1 if absent); -ENOENT without DWARF or
 * when a required field is missing. */
static int fields_from_dwarf(Elf *elf, const struct wanted_field *w, size_t nw, int32_t *slots)
{
	for (size_t i = 0; i < nw; i++)
		slots[w[i].out_index] = -1;
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
				if (name && is_wanted_type(name, w, nw))
					read_struct(&die, name, w, nw, slots);
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	for (size_t i = 0; i < nw; i++)
		if (w[i].required && slots[w[i].out_index] < 0)
			return -ENOENT;
	return 0;
}

int go_offsets_from_dwarf(Elf *elf, struct go_http_offsets *out)
{
	return fields_from_dwarf(elf, wanted, NWANTED, (int32_t *)out);
}

int go_runtime_offsets_from_dwarf(Elf *elf, struct go_runtime_offsets *out)
{
	return fields_from_dwarf(elf, runtime_wanted, NRUNTIME_WANTED, (int32_t *)out);
}

static int http_from_dwarf(Elf *elf, void *out)
{
	return go_offsets_from_dwarf(elf, out);
}

static int runtime_from_dwarf(Elf *elf, void *out)
{
	return go_runtime_offsets_from_dwarf(elf, out);
}

int go_offsets_from_dwarf_isolated(Elf *elf, struct go_http_offsets *out)
{
	return go_offsets_run_isolated(elf, http_from_dwarf, out, sizeof(*out));
}

int go_runtime_offsets_from_dwarf_isolated(Elf *elf, struct go_runtime_offsets *out)
{
	return go_offsets_run_isolated(elf, runtime_from_dwarf, out, sizeof(*out));
}

int go_offsets_run_isolated(Elf *elf, int (*fn)(Elf *elf, void *out), void *out, size_t len)
{
	int fds[2];
	if (pipe(fds))
		return fn(elf, out);
	pid_t child = fork();
	if (child < 0) {
		close(fds[0]);
		close(fds[1]);
		return fn(elf, out);
	}
	if (child == 0) {
		close(fds[0]);
		int rc = fn(elf, out);
		if (rc == 0 && write(fds[1], out, len) != (ssize_t)len)
			rc = -EIO;
		_exit(rc == 0 ? 0 : 1);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fds[0], (char *)out + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return got == len && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOENT;
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

int go_runtime_offsets_from_table(const char *go_version, struct go_runtime_offsets *out)
{
	char minor[16];
	if (!go_version || !minor_version(go_version, minor, sizeof(minor)))
		return -ENOENT;
	for (size_t i = 0; i < sizeof(go_runtime_offsets_table) / sizeof(go_runtime_offsets_table[0]); i++) {
		if (!strcmp(go_runtime_offsets_table[i].version, minor)) {
			*out = go_runtime_offsets_table[i].offsets;
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

const char *go_runtime_offsets_table_versions(void)
{
	static char list[256];
	if (!list[0]) {
		size_t used = 0;
		for (size_t i = 0; i < sizeof(go_runtime_offsets_table) / sizeof(go_runtime_offsets_table[0]);
		     i++)
			used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 go_runtime_offsets_table[i].version);
	}
	return list;
}
