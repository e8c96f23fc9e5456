// SPDX-License-Identifier: Apache-2.0
/* The schema table's other walkers: printing (the file's layout, match criteria only when
 * set, every other key always, so a printed file documents the effective value) and
 * field-by-field equality. */
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "agent/config_schema.h"
#include "agent/config_value.h"

static void print_value(const struct config_field *f, const void *obj, int indent, FILE *out)
{
	const char *p = (const char *)obj + f->offset;
	switch (f->type) {
	case CONFIG_STR:
		fputc(' ', out);
		config_value_print_quoted(out, p, true);
		break;
	case CONFIG_BOOL:
		fputs(*(const bool *)p ? " true" : " false", out);
		break;
	case CONFIG_INT:
		fprintf(out, " %ld", config_schema_int(p, f->size));
		break;
	case CONFIG_DURATION:
		fputc(' ', out);
		config_value_print_duration(out, *(const uint32_t *)p);
		break;
	case CONFIG_RATIO:
		fputc(' ', out);
		config_value_print_double(out, *(const double *)p);
		break;
	case CONFIG_ENUM_BOOL:
		fprintf(out, " %s", f->names[*(const bool *)p ? f->true_index : !f->true_index]);
		break;
	case CONFIG_ENUM_STR: {
		bool known = false;
		for (int i = 0; f->names[i]; i++)
			known = known || !strcmp(p, f->names[i]);
		fputc(' ', out);
		if (known)
			fputs(p, out);
		else
			config_value_print_quoted(out, p, true);
		break;
	}
	case CONFIG_HEADERS: {
		const char(*h)[2][AGENT_STR] = (const void *)p;
		int n = *(const int *)((const char *)obj + f->count_offset);
		if (n <= 0)
			fputs(" {}", out);
		for (int i = 0; i < n && i < f->max; i++) {
			fprintf(out, "\n%*s", indent + 2, "");
			config_value_print_quoted(out, h[i][0], false);
			fputs(": ", out);
			config_value_print_quoted(out, h[i][1], true);
		}
		break;
	}
	case CONFIG_PIDS: {
		const pid_t *pids = (const pid_t *)p;
		int n = *(const int *)((const char *)obj + f->count_offset);
		fputs(" [", out);
		for (int i = 0; i < n && i < f->max; i++)
			fprintf(out, "%s%d", i ? ", " : "", (int)pids[i]);
		fputc(']', out);
		break;
	}
	case CONFIG_MAP:
	case CONFIG_LIST:
		break;
	}
}

/* Members at indent; an item of a list starts with "- " two columns before. */
static void print_fields(const struct config_field *fields, const void *obj, int indent, bool item, FILE *out)
{
	for (const struct config_field *f = fields; f->key; f++) {
		if (f->omit_unset && !config_schema_is_set(f, obj))
			continue;
		if (item)
			fprintf(out, "%*s- %s:", indent - 2, "", f->key);
		else
			fprintf(out, "%*s%s:", indent, "", f->key);
		item = false;
		if (f->type == CONFIG_MAP) {
			fputc('\n', out);
			print_fields(f->fields, (const char *)obj + f->offset, indent + 2, false, out);
			continue;
		}
		if (f->type == CONFIG_LIST) {
			int n = *(const int *)((const char *)obj + f->count_offset);
			fputs(n > 0 ? "\n" : " []\n", out);
			for (int i = 0; i < n && i < f->max; i++)
				print_fields(f->fields, (const char *)obj + f->offset + (size_t)i * f->size,
					     indent + 4, true, out);
			continue;
		}
		print_value(f, obj, indent, out);
		fputc('\n', out);
	}
}

void config_schema_print(const struct config_field *fields, const void *obj, FILE *out)
{
	print_fields(fields, obj, 0, false, out);
}

/* ---- equality --------------------------------------------------------------------- */

bool config_schema_equal(const struct config_field *fields, const void *a, const void *b)
{
	for (const struct config_field *f = fields; f->key; f++) {
		const char *p = (const char *)a + f->offset, *q = (const char *)b + f->offset;
		int n = 0;
		if (f->type == CONFIG_HEADERS || f->type == CONFIG_PIDS || f->type == CONFIG_LIST) {
			n = *(const int *)((const char *)a + f->count_offset);
			if (n != *(const int *)((const char *)b + f->count_offset))
				return false;
			n = n < 0 ? 0 : n > f->max ? f->max : n;
		}
		bool same = true;
		switch (f->type) {
		case CONFIG_STR:
		case CONFIG_ENUM_STR:
			same = !strncmp(p, q, f->size);
			break;
		case CONFIG_BOOL:
		case CONFIG_ENUM_BOOL:
			same = *(const bool *)p == *(const bool *)q;
			break;
		case CONFIG_INT:
			same = config_schema_int(p, f->size) == config_schema_int(q, f->size);
			break;
		case CONFIG_DURATION:
			same = *(const uint32_t *)p == *(const uint32_t *)q;
			break;
		case CONFIG_RATIO:
			same = *(const double *)p == *(const double *)q;
			break;
		case CONFIG_HEADERS:
			for (int i = 0; i < n && same; i++)
				same = !strncmp(p + (size_t)i * 2 * AGENT_STR, q + (size_t)i * 2 * AGENT_STR,
						AGENT_STR) &&
				       !strncmp(p + (size_t)(i * 2 + 1) * AGENT_STR,
						q + (size_t)(i * 2 + 1) * AGENT_STR, AGENT_STR);
			break;
		case CONFIG_PIDS:
			same = !memcmp(p, q, (size_t)n * sizeof(pid_t));
			break;
		case CONFIG_MAP:
			same = config_schema_equal(f->fields, p, q);
			break;
		case CONFIG_LIST:
			for (int i = 0; i < n && same; i++)
				same = config_schema_equal(f->fields, p + (size_t)i * f->size,
							   q + (size_t)i * f->size);
			break;
		}
		if (!same)
			return false;
	}
	return true;
}
