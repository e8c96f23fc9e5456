// SPDX-License-Identifier: Apache-2.0
/* The walk over a mapping matches its keys against a table and hands each value to the
 * reader of the field's type, at the field's offset: the schema is fixed and shallow, so the
 * walk never recurses deeper than five levels whatever the input. Defaults are the same
 * walk's other half: every field not given keeps its table's default. */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "agent/config_schema.h"
#include "agent/config_value.h"

#define PATH_LEN 128

static int *count_at(void *obj, const struct config_field *f)
{
	return (int *)((char *)obj + f->count_offset);
}

static void set_int(void *p, size_t size, long v)
{
	if (size == sizeof(uint16_t))
		*(uint16_t *)p = (uint16_t)v;
	else
		*(int *)p = (int)v;
}

void config_schema_defaults(const struct config_field *fields, void *obj)
{
	for (const struct config_field *f = fields; f->key; f++) {
		void *p = (char *)obj + f->offset;
		switch (f->type) {
		case CONFIG_STR:
		case CONFIG_ENUM_STR:
			memset(p, 0, f->size);
			if (f->def_str)
				snprintf(p, f->size, "%s", f->def_str);
			break;
		case CONFIG_BOOL:
		case CONFIG_ENUM_BOOL:
			*(bool *)p = f->def_num != 0;
			break;
		case CONFIG_INT:
			set_int(p, f->size, (long)f->def_num);
			break;
		case CONFIG_DURATION:
			*(uint32_t *)p = (uint32_t)f->def_num;
			break;
		case CONFIG_RATIO:
			*(double *)p = f->def_num;
			break;
		case CONFIG_HEADERS:
		case CONFIG_PIDS:
		case CONFIG_LIST:
			*count_at(obj, f) = 0;
			break;
		case CONFIG_MAP:
			config_schema_defaults(f->fields, p);
			break;
		}
	}
}

static int walk_map(struct config_yaml *x, struct yaml_node *m, const char *path,
		    const struct config_field *fields, void *obj);

static int join_path(char *out, const char *path, const char *key)
{
	int n = snprintf(out, PATH_LEN, "%s%s%s", path, *path ? "." : "", key);
	return n < 0 || n >= PATH_LEN ? -1 : 0;
}

/* An HTTP header name: RFC 9110 token characters. */
static bool header_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && (ch == '\0' || !strchr("!#$%&'*+-.^_`|~", ch)))
			return false;
	}
	return true;
}

static int parse_headers(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *m,
			 const char *path)
{
	int *n = count_at(obj, f);
	char(*headers)[2][AGENT_STR] = (void *)((char *)obj + f->offset);
	*n = 0;
	if (config_yaml_is_null(m))
		return 0;
	if (m->kind != YAML_NODE_MAP)
		return config_yaml_fail_at(x, m, "'%s' is %s; expected %s", path, config_yaml_kind(m),
					   f->what);
	char qb[CONFIG_YAML_QUOTE_BUF];
	for (struct yaml_node *k = m->first; k && k->next; k = k->next->next) {
		if (k->kind != YAML_NODE_SCALAR)
			return config_yaml_fail_at(x, k, "a key in '%s' is %s; expected a header name", path,
						   config_yaml_kind(k));
		if (!header_name_ok(k->raw, k->len))
			return config_yaml_fail_at(x, k,
						   "'%s' is not a header name; expected letters, digits "
						   "and -_.!#$%%&'*+^`|~",
						   config_yaml_quote(qb, k->raw, k->len));
		if (k->len >= AGENT_STR)
			return config_yaml_fail_at(x, k,
						   "header name '%s' is too long (%zu bytes); expected at "
						   "most %d bytes",
						   config_yaml_quote(qb, k->raw, k->len), k->len,
						   AGENT_STR - 1);
		for (int i = 0; i < *n; i++)
			if (!strcasecmp(headers[i][0], k->raw))
				return config_yaml_fail_at(
					x, k, "duplicate header '%s'; expected each header once", k->raw);
		if (*n == f->max)
			return config_yaml_fail_at(x, k, "too many %s; expected at most %d", f->items,
						   f->max);
		char child[PATH_LEN];
		if (join_path(child, path, k->raw))
			snprintf(child, sizeof(child), "%s", path);
		char(*h)[AGENT_STR] = headers[*n];
		memset(h[0], 0, AGENT_STR);
		memcpy(h[0], k->raw, k->len);
		int rc = config_value_str(x, k->next, child, h[1], AGENT_STR);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

static int parse_pids(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *seq,
		      const char *path)
{
	int *n = count_at(obj, f);
	pid_t *pids = (pid_t *)((char *)obj + f->offset);
	*n = 0;
	if (config_yaml_is_null(seq))
		return 0;
	if (seq->kind != YAML_NODE_SEQ)
		return config_yaml_fail_at(x, seq,
					   "'%s' is %s; expected a list of process ids like [123, 456]", path,
					   config_yaml_kind(seq));
	for (struct yaml_node *it = seq->first; it; it = it->next) {
		if (*n == f->max)
			return config_yaml_fail_at(x, it, "too many %s; expected at most %d", f->items,
						   f->max);
		long pid;
		int rc = config_value_int(x, it, path, f->lo, f->hi, f->what, &pid);
		if (rc)
			return rc;
		pids[(*n)++] = (pid_t)pid;
	}
	return 0;
}

static int parse_list(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *seq,
		      const char *path)
{
	int *n = count_at(obj, f);
	char *array = (char *)obj + f->offset;
	*n = 0;
	if (config_yaml_is_null(seq))
		return 0;
	if (seq->kind != YAML_NODE_SEQ)
		return config_yaml_fail_at(x, seq, "'%s' is %s; expected %s", path, config_yaml_kind(seq),
					   f->what);
	for (struct yaml_node *it = seq->first; it; it = it->next) {
		if (*n == f->max)
			return config_yaml_fail_at(x, it, "too many %s; expected at most %d", f->items,
						   f->max);
		void *item = array + (size_t)*n * f->size;
		memset(item, 0, f->size);
		config_schema_defaults(f->fields, item);
		char child[PATH_LEN];
		int len = snprintf(child, sizeof(child), "%s[%d]", path, *n);
		if (len < 0 || len >= PATH_LEN)
			return config_yaml_fail_at(x, it, "key path too long; expected a shorter one");
		int rc = walk_map(x, it, child, f->fields, item);
		if (!rc && f->check)
			rc = f->check(x, it, array, *n);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

static int parse_field(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *v,
		       const char *path)
{
	void *p = (char *)obj + f->offset;
	long l;
	int which = 0, rc;
	switch (f->type) {
	case CONFIG_STR:
		return config_value_str(x, v, path, p, f->size);
	case CONFIG_BOOL:
		return config_value_bool(x, v, path, p);
	case CONFIG_INT:
		rc = config_value_int(x, v, path, f->lo, f->hi, f->what, &l);
		if (!rc)
			set_int(p, f->size, l);
		return rc;
	case CONFIG_DURATION:
		return config_value_duration(x, v, path, f->lo > 0, p);
	case CONFIG_RATIO:
		return config_value_ratio(x, v, path, p);
	case CONFIG_ENUM_BOOL:
		rc = config_value_enum(x, v, path, f->what, f->names, &which);
		if (!rc)
			*(bool *)p = which == f->true_index;
		return rc;
	case CONFIG_ENUM_STR:
		rc = config_value_enum(x, v, path, f->what, f->names, &which);
		if (!rc) {
			memset(p, 0, f->size);
			snprintf(p, f->size, "%s", f->names[which]);
		}
		return rc;
	case CONFIG_HEADERS:
		return parse_headers(x, f, obj, v, path);
	case CONFIG_PIDS:
		return parse_pids(x, f, obj, v, path);
	case CONFIG_MAP:
		return walk_map(x, v, path, f->fields, p);
	case CONFIG_LIST:
		return parse_list(x, f, obj, v, path);
	}
	return config_yaml_fail_at(x, v, "'%s' has no reader; expected a known type", path);
}

/* Keys must be among fields (at most 32), each once. A null value counts as an empty mapping. */
static int walk_map(struct config_yaml *x, struct yaml_node *m, const char *path,
		    const struct config_field *fields, void *obj)
{
	if (config_yaml_is_null(m))
		return 0;
	if (m->kind != YAML_NODE_MAP)
		return config_yaml_fail_at(x, m, "'%s' is %s; expected a mapping", path, config_yaml_kind(m));
	char qb[CONFIG_YAML_QUOTE_BUF];
	uint32_t seen = 0;
	for (struct yaml_node *k = m->first; k && k->next; k = k->next->next) {
		if (k->kind != YAML_NODE_SCALAR && !*path)
			return config_yaml_fail_at(x, k, "a top-level key is %s; expected a key name",
						   config_yaml_kind(k));
		if (k->kind != YAML_NODE_SCALAR)
			return config_yaml_fail_at(x, k, "a key in '%s' is %s; expected a key name", path,
						   config_yaml_kind(k));
		const struct config_field *f = NULL;
		for (const struct config_field *g = fields; g->key && !f; g++)
			if (strlen(g->key) == k->len && !memcmp(g->key, k->raw, k->len))
				f = g;
		if (!f) {
			char list[256];
			size_t o = 0;
			for (const struct config_field *g = fields; g->key && o < sizeof(list); g++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
						      g == fields ? "" : ", ", g->key);
			return config_yaml_fail_at(x, k, "unknown key '%s%s%s'; expected one of %s", path,
						   *path ? "." : "", config_yaml_quote(qb, k->raw, k->len),
						   list);
		}
		char child[PATH_LEN];
		if (join_path(child, path, f->key))
			return config_yaml_fail_at(x, k, "key path too long; expected a shorter one");
		uint32_t bit = 1u << (f - fields);
		if (seen & bit)
			return config_yaml_fail_at(x, k, "duplicate key '%s'; expected each key once", child);
		seen |= bit;
		int rc = parse_field(x, f, obj, k->next, child);
		if (rc)
			return rc;
	}
	return 0;
}

int config_schema_parse(struct config_yaml *x, struct yaml_node *root, struct agent_config *c)
{
	if (!root || config_yaml_is_null(root))
		return 0;
	if (root->kind != YAML_NODE_MAP)
		return config_yaml_fail_at(x, root, "the top level is %s; expected a mapping of settings",
					   config_yaml_kind(root));
	return walk_map(x, root, "", config_schema_root, c);
}
