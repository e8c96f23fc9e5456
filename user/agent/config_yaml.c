// SPDX-License-Identifier: Apache-2.0
/* libyaml's event parser feeds the node tree; aliases, tags, second documents and deep
 * nesting are refused while it is built, so nothing above ever sees them. ${VAR} references
 * are resolved per scalar when the value is read, so every position reported is one in the
 * file as written. */
#include "agent/config_yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/utf8.h"

#define VAR_NAME_MAX 255

/* ---- errors ----------------------------------------------------------------------- */

/* s for an error message: control characters and invalid bytes as \xNN, cut after CONFIG_YAML_QUOTE_MAX
 * bytes with "...". out holds CONFIG_YAML_QUOTE_BUF bytes. */
const char *config_yaml_quote(char *out, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (i >= CONFIG_YAML_QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		const unsigned char *u = (const unsigned char *)s + i;
		uint32_t cp;
		size_t k = utf8_decode(u, len - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", u[0]);
			i++;
			continue;
		}
		memcpy(out + o, u, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

static int failv(struct config_yaml *x, size_t line, size_t col, const char *fmt, va_list ap)
{
	if (!x->err || !x->errlen)
		return -EINVAL;
	char msg[768];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(x->err, x->errlen, "%s:%zu:%zu: %s", x->name, line + 1, col + 1, msg);
	for (char *p = x->err; *p; p++) /* one line, whatever the file name holds */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

int config_yaml_fail_pos(struct config_yaml *x, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = failv(x, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int config_yaml_fail_at(struct config_yaml *x, const struct yaml_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = failv(x, n->line, n->col, fmt, ap);
	va_end(ap);
	return rc;
}

int config_yaml_fail_oom(struct config_yaml *x)
{
	config_yaml_fail_pos(x, 0, 0, "out of memory; expected a smaller configuration");
	return -ENOMEM;
}

/* libyaml's line breaks: \n, \r\n, \r, NEL, LS, PS. */
static bool is_break(uint32_t cp)
{
	return cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* Moves line/col (0-based, in characters like libyaml's marks) over text[from, to). */
static void advance(const struct config_yaml *x, size_t from, size_t to, size_t *line, size_t *col)
{
	for (size_t i = from; i < to && i < x->len;) {
		const unsigned char *s = (const unsigned char *)x->text + i;
		uint32_t cp;
		size_t k = utf8_decode(s, x->len - i, &cp);
		if (k == 0)
			k = 1, cp = s[0];
		if (cp == '\r' && x->len - i > 1 && s[1] == '\n')
			k = 2;
		if (is_break(cp))
			(*line)++, *col = 0;
		else
			(*col)++;
		i += k;
	}
}

/* The byte offset of libyaml's character index (which counts \r\n as two). */
static size_t byte_at(const struct config_yaml *x, size_t chars)
{
	size_t i = 0;
	while (chars > 0 && i < x->len) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)x->text + i, x->len - i, &cp);
		i += k ? k : 1;
		chars--;
	}
	return i;
}

static int syntax_error(struct config_yaml *x, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return config_yaml_fail_oom(x);
	case YAML_READER_ERROR: {
		size_t line = 0, col = 0;
		advance(x, 0, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			return config_yaml_fail_pos(x, line, col, "%s (byte 0x%02x); expected UTF-8 text",
						    problem, (unsigned)p->problem_value & 0xff);
		return config_yaml_fail_pos(x, line, col, "%s; expected UTF-8 text", problem);
	}
	default:
		if (p->context)
			return config_yaml_fail_pos(x, p->problem_mark.line, p->problem_mark.column,
						    "%s (%s at %zu:%zu); expected valid YAML", problem,
						    p->context, p->context_mark.line + 1,
						    p->context_mark.column + 1);
		return config_yaml_fail_pos(x, p->problem_mark.line, p->problem_mark.column,
					    "%s; expected valid YAML", problem);
	}
}

/* ---- building the tree from libyaml events ---------------------------------------- */

static struct yaml_node *new_node(struct config_yaml *x, struct yaml_node *parent, enum yaml_kind kind,
				  const yaml_event_t *e, const char *raw, size_t len)
{
	struct yaml_node *n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	n->kind = kind;
	n->line = e->start_mark.line;
	n->col = e->start_mark.column;
	n->sidx = e->start_mark.index;
	n->eidx = e->end_mark.index;
	n->len = len;
	if (len)
		memcpy(n->raw, raw, len);
	n->all = x->all;
	x->all = n;
	n->parent = parent;
	if (parent) {
		if (parent->last)
			parent->last->next = n;
		else
			parent->first = n;
		parent->last = n;
	}
	return n;
}

void config_yaml_free(struct config_yaml *x)
{
	while (x->all) {
		struct yaml_node *n = x->all;
		x->all = n->all;
		if (n->val && n->val != n->raw)
			free(n->val);
		free(n);
	}
}

static int refuse_tag(struct config_yaml *x, const yaml_event_t *e, const yaml_char_t *tag)
{
	char qb[CONFIG_YAML_QUOTE_BUF];
	const char *t = (const char *)tag;
	return config_yaml_fail_pos(x, e->start_mark.line, e->start_mark.column,
				    "YAML tag '%s' is not supported; expected an untagged value",
				    config_yaml_quote(qb, t, strlen(t)));
}

static int build(struct config_yaml *x, yaml_parser_t *p, struct yaml_node **root)
{
	struct yaml_node *cur = NULL;
	int docs = 0, depth = 0;
	*root = NULL;
	for (;;) {
		yaml_event_t e;
		if (!yaml_parser_parse(p, &e))
			return syntax_error(x, p);
		int rc = 0;
		bool done = false;
		struct yaml_node *n = NULL;
		char qb[CONFIG_YAML_QUOTE_BUF];
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = config_yaml_fail_pos(
					x, e.start_mark.line, e.start_mark.column,
					"a second YAML document; expected a single document");
			break;
		case YAML_ALIAS_EVENT: {
			const char *a = (const char *)e.data.alias.anchor;
			rc = config_yaml_fail_pos(
				x, e.start_mark.line, e.start_mark.column,
				"alias '*%s' is not supported; expected a value written out "
				"(anchors and aliases are not supported)",
				config_yaml_quote(qb, a, strlen(a)));
			break;
		}
		case YAML_SCALAR_EVENT:
			if (e.data.scalar.tag) {
				rc = refuse_tag(x, &e, e.data.scalar.tag);
				break;
			}
			n = new_node(x, cur, YAML_NODE_SCALAR, &e, (const char *)e.data.scalar.value,
				     e.data.scalar.length);
			if (!n) {
				rc = config_yaml_fail_oom(x);
				break;
			}
			n->plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			if (!cur)
				*root = n;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT: {
			yaml_char_t *tag = e.type == YAML_MAPPING_START_EVENT ? e.data.mapping_start.tag
									      : e.data.sequence_start.tag;
			if (tag) {
				rc = refuse_tag(x, &e, tag);
				break;
			}
			/* Refused at the first level too deep: libyaml rescans every open level on
			 * each token, so reading on would cost the square of the depth. */
			if (++depth > CONFIG_YAML_MAX_DEPTH) {
				rc = config_yaml_fail_pos(
					x, e.start_mark.line, e.start_mark.column,
					"nesting deeper than %d levels; expected at most %d "
					"nested mappings and lists",
					CONFIG_YAML_MAX_DEPTH, CONFIG_YAML_MAX_DEPTH);
				break;
			}
			n = new_node(x, cur,
				     e.type == YAML_MAPPING_START_EVENT ? YAML_NODE_MAP : YAML_NODE_SEQ, &e,
				     NULL, 0);
			if (!n) {
				rc = config_yaml_fail_oom(x);
				break;
			}
			if (!cur)
				*root = n;
			cur = n;
			break;
		}
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			if (cur)
				cur = cur->parent;
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
		if (rc || done)
			return rc;
	}
}

/* ---- scalar values ---------------------------------------------------------------- */

bool config_yaml_is_null(const struct yaml_node *n)
{
	if (n->kind != YAML_NODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || !strcmp(n->raw, "~") || !strcmp(n->raw, "null") || !strcmp(n->raw, "Null") ||
	       !strcmp(n->raw, "NULL");
}

const char *config_yaml_kind(const struct yaml_node *n)
{
	return n->kind == YAML_NODE_MAP	  ? "a mapping"
	       : n->kind == YAML_NODE_SEQ ? "a list"
					  : "a single value";
}

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Where the k-th (0-based) ${ of scalar n is in the file: found in the scalar's source text,
 * else (an escape sequence made it) the scalar's start. */
static void ref_pos(const struct config_yaml *x, const struct yaml_node *n, size_t k, size_t *line,
		    size_t *col)
{
	*line = n->line;
	*col = n->col;
	size_t b = byte_at(x, n->sidx), e = byte_at(x, n->eidx);
	for (size_t i = b; i + 1 < e; i++) {
		if (x->text[i] != '$')
			continue;
		if (x->text[i + 1] == '$') {
			i++;
		} else if (x->text[i + 1] == '{' && k-- == 0) {
			advance(x, b, i, line, col);
			return;
		}
	}
}

static bool var_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* Resolves ${VAR}, ${VAR:-default} and $$ in a scalar value into n->val. */
static int resolve(struct config_yaml *x, struct yaml_node *n)
{
	if (n->val)
		return 0;
	if (!memchr(n->raw, '$', n->len)) {
		n->val = n->raw;
		n->vlen = n->len;
		return 0;
	}
	struct sbuf b = { 0 };
	const char *r = n->raw;
	size_t len = n->len, refs = 0, line, col;
	char qb[CONFIG_YAML_QUOTE_BUF];
	int rc = 0;
	for (size_t i = 0; i < len && !rc;) {
		if (r[i] != '$' || i + 1 == len || (r[i + 1] != '$' && r[i + 1] != '{')) {
			sbuf_put(&b, r + i, 1);
			i++;
			continue;
		}
		if (r[i + 1] == '$') {
			sbuf_put(&b, "$", 1);
			i += 2;
			continue;
		}
		ref_pos(x, n, refs++, &line, &col);
		const char *close = memchr(r + i, '}', len - i);
		if (!close) {
			rc = config_yaml_fail_pos(
				x, line, col,
				"'${' without a closing '}'; expected ${NAME} or ${NAME:-default}");
			break;
		}
		size_t name = i + 2, j = name;
		while (j < len && var_char(r[j], j == name))
			j++;
		size_t nlen = j - name, end = (size_t)(close - r);
		bool has_default = j + 1 < len && r[j] == ':' && r[j + 1] == '-';
		if (nlen == 0 || nlen > VAR_NAME_MAX || (!has_default && j != end)) {
			rc = config_yaml_fail_pos(x, line, col,
						  "'%s' is not a variable reference; expected ${NAME} or "
						  "${NAME:-default}, NAME of letters, digits and _",
						  config_yaml_quote(qb, r + i, end + 1 - i));
			break;
		}
		char var[VAR_NAME_MAX + 1];
		memcpy(var, r + name, nlen);
		var[nlen] = '\0';
		const char *def = r + j + 2;
		size_t dlen = has_default ? end - (j + 2) : 0;
		for (size_t d = 0; d + 1 < dlen; d++) {
			if (def[d] == '$' && def[d + 1] == '{') {
				rc = config_yaml_fail_pos(
					x, line, col,
					"'${' inside the default of ${%s}; expected a default "
					"without variable references",
					var);
				break;
			}
		}
		if (rc)
			break;
		const char *v = x->getenv_fn(var);
		if (has_default && (!v || !*v))
			sbuf_put(&b, def, dlen);
		else if (v)
			sbuf_put(&b, v, strlen(v));
		else
			rc = config_yaml_fail_pos(
				x, line, col,
				"environment variable '%s' is not set; expected it set, or a "
				"default as in ${%s:-default}",
				var, var);
		i = end + 1;
	}
	if (!rc && b.oom)
		rc = config_yaml_fail_oom(x);
	if (!rc && !b.p)
		sbuf_put(&b, "", 0);
	if (!rc && b.oom)
		rc = config_yaml_fail_oom(x);
	if (rc) {
		free(b.p);
		return rc;
	}
	n->val = b.p;
	n->vlen = b.len;
	return 0;
}

/* A scalar value, resolved; anything else is an error naming path and expected. */
int config_yaml_scalar(struct config_yaml *x, struct yaml_node *v, const char *path, const char *expected)
{
	if (v->kind != YAML_NODE_SCALAR)
		return config_yaml_fail_at(x, v, "'%s' is %s; expected %s", path, config_yaml_kind(v),
					   expected);
	return resolve(x, v);
}

int config_yaml_build(struct config_yaml *x, struct yaml_node **root)
{
	*root = NULL;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return config_yaml_fail_oom(x);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&p, (const unsigned char *)x->text, x->len);
	int rc = build(x, &p, root);
	yaml_parser_delete(&p);
	return rc;
}
