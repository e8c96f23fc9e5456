// SPDX-License-Identifier: Apache-2.0
#include "binfmt/go_offsets_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (64 * 1024)
#define MAX_OFFSET     (1 << 20) /* far beyond any Go runtime struct */
#define MAX_SLOTS      64
_Static_assert(sizeof(struct go_http_offsets) / sizeof(int32_t) <= MAX_SLOTS &&
		       sizeof(struct go_runtime_offsets) / sizeof(int32_t) <= MAX_SLOTS,
	       "every slot has its seen flag");

static int32_t *slots_of(struct go_offsets_row *row, enum go_offsets_set set)
{
	switch (set) {
	case GO_OFFSETS_HTTP:
		return (int32_t *)&row->http;
	case GO_OFFSETS_RUNTIME:
		return (int32_t *)&row->runtime;
	case GO_OFFSETS_GRPC:
		return row->grpc.slots;
	default:
		return row->xnet.slots;
	}
}

/* A module set's own line ("grpc v1.85.0") and its version, NULL for the Go sets. */
static const char *module_key(enum go_offsets_set set)
{
	return set == GO_OFFSETS_GRPC ? "grpc" : set == GO_OFFSETS_XNET ? "xnet" : NULL;
}

static char *module_version(struct go_offsets_row *row, enum go_offsets_set set)
{
	return set == GO_OFFSETS_GRPC ? row->grpc.version : row->xnet.version;
}

/* gRPC's last three slots are flags (legacy genproto Status, server and client parameters as
 * the probes read them): 0 or 1. */
static bool is_flag(enum go_offsets_set set, size_t slot)
{
	return set == GO_OFFSETS_GRPC && slot >= GO_OFFSETS_GRPC_SLOTS - 3;
}

int go_offsets_file_write(FILE *f, const struct go_offsets_row *row, const char *from)
{
	fprintf(f,
		"# Go struct offsets for glimpse (attach/watch --offsets FILE), written by\n"
		"# glimpse inspect --emit-offsets from %s\n"
		"go %s\n",
		from, row->go_version);
	struct go_offsets_row *r = (struct go_offsets_row *)row;
	for (int set = GO_OFFSETS_HTTP; set < GO_OFFSETS_NSETS; set++) {
		if (module_key(set) && !module_version(r, set)[0])
			continue;
		if (module_key(set))
			fprintf(f, "# %s's own structs, at this version of it\n%s %s\n",
				go_offsets_module(set), module_key(set), module_version(r, set));
		for (size_t i = 0; i < go_offsets_slots(set); i++) {
			char name[96];
			go_offsets_field_name(set, i, name, sizeof(name), NULL);
			fprintf(f, "%s %" PRId32 "\n", name, slots_of(r, set)[i]);
		}
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}

static int fail(char *err, size_t errlen, int line, const char *fmt, const char *what)
{
	char msg[160];
	snprintf(msg, sizeof(msg), fmt, what);
	if (line)
		snprintf(err, errlen, "line %d: %s", line, msg);
	else
		snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

/* The slot a field name fills, or false. */
static bool find_field(const char *name, enum go_offsets_set *set, size_t *slot)
{
	for (int s = GO_OFFSETS_HTTP; s < GO_OFFSETS_NSETS; s++)
		for (size_t i = 0; i < go_offsets_slots(s); i++) {
			char buf[96];
			if (!strcmp(go_offsets_field_name(s, i, buf, sizeof(buf), NULL), name)) {
				*set = s;
				*slot = i;
				return true;
			}
		}
	return false;
}

/* "go1.25" or "go1.25.3" (nothing else: the minor version is what rows are matched on). */
static bool valid_version(const char *v)
{
	unsigned major, minor, n = 0;
	if (sscanf(v, "go%u.%u%n", &major, &minor, &n) != 2 || major != 1)
		return false;
	v += n;
	if (*v == '.')
		for (v++; *v >= '0' && *v <= '9'; v++)
			;
	return *v == '\0';
}

/* A module version as go.mod spells it: "v1.85.0", "v0.0.0-20240101000000-abcdef123456". */
static bool valid_module_version(const char *v)
{
	if (v[0] != 'v' || v[1] < '0' || v[1] > '9' ||
	    strlen(v) >= sizeof(((struct go_module_offsets *)0)->version))
		return false;
	for (v++; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      *v == '.' || *v == '-' || *v == '+'))
			return false;
	return true;
}

/* The set whose own line key is, or -1. */
static int module_set(const char *key)
{
	for (int set = GO_OFFSETS_HTTP; set < GO_OFFSETS_NSETS; set++)
		if (module_key(set) && !strcmp(module_key(set), key))
			return set;
	return -1;
}

int go_offsets_file_parse(const char *text, size_t len, struct go_offsets_row *row, char *err, size_t errlen)
{
	bool seen[GO_OFFSETS_NSETS][MAX_SLOTS] = { { false } };
	memset(row, 0, sizeof(*row));
	if (len > MAX_FILE_BYTES)
		return fail(err, errlen, 0, "larger than 64 KiB: not an offsets file%s", "");
	int lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		char line[160];
		if (n >= sizeof(line))
			return fail(err, errlen, lineno, "line too long%s", "");
		memcpy(line, start, n);
		line[n] = '\0';
		if (memchr(line, '\0', n))
			return fail(err, errlen, lineno, "NUL byte%s", "");
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char key[100], value[40], extra[2];
		int fields = sscanf(line, "%99s %39s %1s", key, value, extra);
		if (fields <= 0)
			continue;
		if (fields != 2)
			return fail(err, errlen, lineno, "expected a name and a value%s", "");
		if (!strcmp(key, "go")) {
			if (row->go_version[0])
				return fail(err, errlen, lineno, "a second 'go' line%s", "");
			if (!valid_version(value) || strlen(value) >= sizeof(row->go_version))
				return fail(err, errlen, lineno, "'%s' is not a Go version like go1.25.3",
					    value);
			memcpy(row->go_version, value, strlen(value) + 1);
			continue;
		}
		int mset = module_set(key);
		if (mset >= 0) {
			char *version = module_version(row, mset);
			if (version[0])
				return fail(err, errlen, lineno, "a second '%s' line", key);
			if (!valid_module_version(value))
				return fail(err, errlen, lineno, "'%s' is not a module version like v1.85.0",
					    value);
			memcpy(version, value, strlen(value) + 1);
			continue;
		}
		enum go_offsets_set set;
		size_t slot;
		if (!find_field(key, &set, &slot))
			return fail(err, errlen, lineno,
				    "unknown field '%s' (a file from another glimpse version?)", key);
		if (seen[set][slot])
			return fail(err, errlen, lineno, "'%s' given twice", key);
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || *end || v < -1 || v > MAX_OFFSET)
			return fail(err, errlen, lineno, "'%s' is not an offset (-1 or 0..1048576)", value);
		if (is_flag(set, slot) && v != 0 && v != 1)
			return fail(err, errlen, lineno, "'%s' is not a flag (0 or 1)", value);
		seen[set][slot] = true;
		slots_of(row, set)[slot] = (int32_t)v;
	}
	if (!row->go_version[0])
		return fail(err, errlen, 0, "no 'go goX.Y' line: not an offsets file%s", "");
	for (int set = GO_OFFSETS_HTTP; set < GO_OFFSETS_NSETS; set++) {
		bool any = false;
		for (size_t i = 0; i < go_offsets_slots(set); i++)
			any |= seen[set][i];
		/* A module set is optional, but whole: its own line and every field, or nothing. */
		if (module_key(set) && !module_version(row, set)[0]) {
			if (any)
				return fail(err, errlen, 0, "the '%s vX.Y.Z' line its fields need is missing",
					    module_key(set));
			continue;
		}
		for (size_t i = 0; i < go_offsets_slots(set); i++)
			if (!seen[set][i]) {
				char name[96];
				go_offsets_field_name(set, i, name, sizeof(name), NULL);
				return fail(err, errlen, 0,
					    "'%s' is missing (a file from another glimpse version?)", name);
			}
	}
	return 0;
}

int go_offsets_file_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s", strerror(e));
		return -e;
	}
	char *text = malloc(MAX_FILE_BYTES + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	size_t len = fread(text, 1, MAX_FILE_BYTES + 1, f);
	int rc = ferror(f) ? -EIO : 0;
	fclose(f);
	struct go_offsets_row row;
	if (rc)
		snprintf(err, errlen, "cannot read it");
	else
		rc = go_offsets_file_parse(text, len, &row, err, errlen);
	free(text);
	if (!rc && (rc = go_offsets_add_row(&row)))
		snprintf(err, errlen, "more offsets files than glimpse keeps (16)");
	return rc;
}
