// SPDX-License-Identifier: Apache-2.0
/* The agent configuration file. libyaml's event parser feeds a small node tree (aliases, tags
 * and second documents are refused while it is built); the tree is then walked against the
 * schema, which is fixed and shallow, so the walk never recurses deeper than five levels
 * whatever the input. ${VAR} references are resolved per scalar value when the value is read,
 * so every position reported is one in the file as written. The file is parsed into a
 * scratch copy: the caller's struct changes only when the whole file is valid. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "agent/agent_config.h"
#include "base/utf8.h"

#define MAX_FILE_SIZE (1u << 20)
#define PID_LIMIT     4194304 /* the kernel's PID_MAX_LIMIT */
#define VAR_NAME_MAX  255
#define QUOTE_MAX     64 /* bytes of a value shown in an error message */
#define QUOTE_BUF     (QUOTE_MAX * 4 + 8)
#define PATH_LEN      128

/* ---- the node tree ------------------------------------------------------------------ */

enum kind {
	K_SCALAR,
	K_MAP,
	K_SEQ
};

struct node {
	enum kind kind;
	bool plain;	   /* a plain (unquoted) scalar: may be a null */
	size_t line, col;  /* 0-based start */
	size_t sidx, eidx; /* libyaml's character index of the start and end */
	struct node *parent;
	struct node *first, *last, *next; /* children: a mapping holds key, value, key, value... */
	struct node *all;		  /* every node, for freeing */
	char *val;			  /* the value after ${VAR} substitution (NULL: not resolved yet) */
	size_t vlen;
	size_t len;
	char raw[]; /* the scalar as libyaml gives it, NUL-terminated */
};

struct ctx {
	const char *name;
	const char *text; /* the input, without a leading byte order mark */
	size_t len;
	const char *(*getenv_fn)(const char *);
	char *err;
	size_t errlen;
	struct node *all;
};

/* ---- errors ----------------------------------------------------------------------- */

/* s for an error message: control characters and invalid bytes as \xNN, cut after QUOTE_MAX
 * bytes with "...". out holds QUOTE_BUF bytes. */
static const char *quote(char *out, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (i >= QUOTE_MAX) {
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

static int failv(struct ctx *x, size_t line, size_t col, const char *fmt, va_list ap)
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

__attribute__((format(printf, 4, 5))) static int fail_pos(struct ctx *x, size_t line, size_t col,
							  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = failv(x, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((format(printf, 3, 4))) static int fail_at(struct ctx *x, const struct node *n, const char *fmt,
							 ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = failv(x, n->line, n->col, fmt, ap);
	va_end(ap);
	return rc;
}

static int fail_oom(struct ctx *x)
{
	fail_pos(x, 0, 0, "out of memory; expected a smaller configuration");
	return -ENOMEM;
}

/* libyaml's line breaks: \n, \r\n, \r, NEL, LS, PS. */
static bool is_break(uint32_t cp)
{
	return cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* Moves line/col (0-based, in characters like libyaml's marks) over text[from, to). */
static void advance(const struct ctx *x, size_t from, size_t to, size_t *line, size_t *col)
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
static size_t byte_at(const struct ctx *x, size_t chars)
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

static int syntax_error(struct ctx *x, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail_oom(x);
	case YAML_READER_ERROR: {
		size_t line = 0, col = 0;
		advance(x, 0, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			return fail_pos(x, line, col, "%s (byte 0x%02x); expected UTF-8 text", problem,
					(unsigned)p->problem_value & 0xff);
		return fail_pos(x, line, col, "%s; expected UTF-8 text", problem);
	}
	default:
		if (p->context)
			return fail_pos(x, p->problem_mark.line, p->problem_mark.column,
					"%s (%s at %zu:%zu); expected valid YAML", problem, p->context,
					p->context_mark.line + 1, p->context_mark.column + 1);
		return fail_pos(x, p->problem_mark.line, p->problem_mark.column, "%s; expected valid YAML",
				problem);
	}
}

/* ---- building the tree from libyaml events ---------------------------------------- */

static struct node *new_node(struct ctx *x, struct node *parent, enum kind kind, const yaml_event_t *e,
			     const char *raw, size_t len)
{
	struct node *n = calloc(1, sizeof(*n) + len + 1);
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

static void free_nodes(struct ctx *x)
{
	while (x->all) {
		struct node *n = x->all;
		x->all = n->all;
		if (n->val && n->val != n->raw)
			free(n->val);
		free(n);
	}
}

static int refuse_tag(struct ctx *x, const yaml_event_t *e, const yaml_char_t *tag)
{
	char qb[QUOTE_BUF];
	const char *t = (const char *)tag;
	return fail_pos(x, e->start_mark.line, e->start_mark.column,
			"YAML tag '%s' is not supported; expected an untagged value",
			quote(qb, t, strlen(t)));
}

/* The document's top node in *root (NULL for an empty stream). */
static int build(struct ctx *x, yaml_parser_t *p, struct node **root)
{
	struct node *cur = NULL;
	int docs = 0;
	*root = NULL;
	for (;;) {
		yaml_event_t e;
		if (!yaml_parser_parse(p, &e))
			return syntax_error(x, p);
		int rc = 0;
		bool done = false;
		struct node *n = NULL;
		char qb[QUOTE_BUF];
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = fail_pos(x, e.start_mark.line, e.start_mark.column,
					      "a second YAML document; expected a single document");
			break;
		case YAML_ALIAS_EVENT: {
			const char *a = (const char *)e.data.alias.anchor;
			rc = fail_pos(x, e.start_mark.line, e.start_mark.column,
				      "alias '*%s' is not supported; expected a value written out "
				      "(anchors and aliases are not supported)",
				      quote(qb, a, strlen(a)));
			break;
		}
		case YAML_SCALAR_EVENT:
			if (e.data.scalar.tag) {
				rc = refuse_tag(x, &e, e.data.scalar.tag);
				break;
			}
			n = new_node(x, cur, K_SCALAR, &e, (const char *)e.data.scalar.value,
				     e.data.scalar.length);
			if (!n) {
				rc = fail_oom(x);
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
			n = new_node(x, cur, e.type == YAML_MAPPING_START_EVENT ? K_MAP : K_SEQ, &e, NULL, 0);
			if (!n) {
				rc = fail_oom(x);
				break;
			}
			if (!cur)
				*root = n;
			cur = n;
			break;
		}
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
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

static bool is_null(const struct node *n)
{
	if (n->kind != K_SCALAR || !n->plain)
		return false;
	return n->len == 0 || !strcmp(n->raw, "~") || !strcmp(n->raw, "null") || !strcmp(n->raw, "Null") ||
	       !strcmp(n->raw, "NULL");
}

static const char *kind_word(const struct node *n)
{
	return n->kind == K_MAP ? "a mapping" : n->kind == K_SEQ ? "a list" : "a single value";
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
static void ref_pos(const struct ctx *x, const struct node *n, size_t k, size_t *line, size_t *col)
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
static int resolve(struct ctx *x, struct node *n)
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
	char qb[QUOTE_BUF];
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
			rc = fail_pos(x, line, col,
				      "'${' without a closing '}'; expected ${NAME} or ${NAME:-default}");
			break;
		}
		size_t name = i + 2, j = name;
		while (j < len && var_char(r[j], j == name))
			j++;
		size_t nlen = j - name, end = (size_t)(close - r);
		bool has_default = j + 1 < len && r[j] == ':' && r[j + 1] == '-';
		if (nlen == 0 || nlen > VAR_NAME_MAX || (!has_default && j != end)) {
			rc = fail_pos(x, line, col,
				      "'%s' is not a variable reference; expected ${NAME} or "
				      "${NAME:-default}, NAME of letters, digits and _",
				      quote(qb, r + i, end + 1 - i));
			break;
		}
		char var[VAR_NAME_MAX + 1];
		memcpy(var, r + name, nlen);
		var[nlen] = '\0';
		const char *def = r + j + 2;
		size_t dlen = has_default ? end - (j + 2) : 0;
		for (size_t d = 0; d + 1 < dlen; d++) {
			if (def[d] == '$' && def[d + 1] == '{') {
				rc = fail_pos(x, line, col,
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
			rc = fail_pos(x, line, col,
				      "environment variable '%s' is not set; expected it set, or a "
				      "default as in ${%s:-default}",
				      var, var);
		i = end + 1;
	}
	if (!rc && b.oom)
		rc = fail_oom(x);
	if (!rc && !b.p)
		sbuf_put(&b, "", 0);
	if (!rc && b.oom)
		rc = fail_oom(x);
	if (rc) {
		free(b.p);
		return rc;
	}
	n->val = b.p;
	n->vlen = b.len;
	return 0;
}

/* A scalar value, resolved; anything else is an error naming path and expected. */
static int scalar(struct ctx *x, struct node *v, const char *path, const char *expected)
{
	if (v->kind != K_SCALAR)
		return fail_at(x, v, "'%s' is %s; expected %s", path, kind_word(v), expected);
	return resolve(x, v);
}

static int get_str(struct ctx *x, struct node *v, const char *path, char *out, size_t size)
{
	if (is_null(v)) {
		memset(out, 0, size);
		return 0;
	}
	int rc = scalar(x, v, path, "a string");
	if (rc)
		return rc;
	if (v->vlen >= size)
		return fail_at(x, v, "value of '%s' is too long (%zu bytes); expected at most %zu bytes",
			       path, v->vlen, size - 1);
	for (size_t i = 0; i < v->vlen;) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)v->val + i, v->vlen - i, &cp);
		if (k == 0)
			return fail_at(x, v, "value of '%s' is not valid UTF-8; expected UTF-8 text", path);
		if (cp == '\n' || cp == '\r')
			return fail_at(x, v,
				       "value of '%s' contains a line break; expected one line (a "
				       "block scalar needs |- or >-)",
				       path);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return fail_at(x, v,
				       "value of '%s' contains a control character; expected printable "
				       "text",
				       path);
		i += k;
	}
	memset(out, 0, size);
	memcpy(out, v->val, v->vlen);
	return 0;
}

static bool is(const struct node *v, const char *s)
{
	return v->vlen == strlen(s) && !memcmp(v->val, s, v->vlen);
}

static int get_bool(struct ctx *x, struct node *v, const char *path, bool *out)
{
	int rc = scalar(x, v, path, "true or false");
	if (rc)
		return rc;
	if (is(v, "true") || is(v, "True") || is(v, "TRUE"))
		*out = true;
	else if (is(v, "false") || is(v, "False") || is(v, "FALSE"))
		*out = false;
	else {
		char qb[QUOTE_BUF];
		return fail_at(x, v, "'%s' is not a boolean; expected true or false",
			       quote(qb, v->val, v->vlen));
	}
	return 0;
}

/* A decimal integer in [lo, hi]; what describes it ("a port number 1..65535"). */
static int get_int(struct ctx *x, struct node *v, const char *path, long lo, long hi, const char *what,
		   long *out)
{
	int rc = scalar(x, v, path, what);
	if (rc)
		return rc;
	const char *s = v->val;
	size_t n = v->vlen, i = 0;
	bool neg = n > 0 && s[0] == '-';
	if (neg)
		i++;
	long val = 0;
	bool big = false;
	size_t digits = i;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (val > (LONG_MAX - 9) / 10)
			big = true;
		else
			val = val * 10 + (s[i] - '0');
	}
	char qb[QUOTE_BUF];
	if (i == digits || i != n)
		return fail_at(x, v, "'%s' is not a number; expected %s", quote(qb, s, n), what);
	if (neg)
		val = -val;
	if (big || val < lo || val > hi)
		return fail_at(x, v, "%s is out of range; expected %s", quote(qb, s, n), what);
	*out = val;
	return 0;
}

static int get_ratio(struct ctx *x, struct node *v, const char *path, double *out)
{
	const char *what = "a number from 0 to 1";
	int rc = scalar(x, v, path, what);
	if (rc)
		return rc;
	const char *s = v->val;
	size_t n = v->vlen;
	bool digit = false, ok = n > 0;
	for (size_t i = 0; i < n && ok; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if (!strchr(".eE+-", s[i]) || s[i] == '\0')
			ok = false;
	}
	char *end = NULL;
	double d = ok && digit ? strtod(s, &end) : 0;
	char qb[QUOTE_BUF];
	if (!ok || !digit || end != s + n)
		return fail_at(x, v, "'%s' is not a number; expected %s", quote(qb, s, n), what);
	if (!(d >= 0 && d <= 1))
		return fail_at(x, v, "%s is out of range; expected %s", quote(qb, s, n), what);
	*out = d;
	return 0;
}

/* 500ms, 10s, 1m, 1h, or a bare number of seconds, into milliseconds (a uint32). */
static int get_duration(struct ctx *x, struct node *v, const char *path, bool nonzero, uint32_t *out)
{
	const char *what = "a duration like 500ms, 10s, 1m or 1h";
	int rc = scalar(x, v, path, what);
	if (rc)
		return rc;
	const char *s = v->val;
	size_t n = v->vlen, i = 0;
	uint64_t val = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (val <= UINT32_MAX)
			val = val * 10 + (uint64_t)(s[i] - '0');
	const char *unit = s + i;
	size_t ulen = n - i;
	uint64_t mult = 0;
	if (ulen == 0 || (ulen == 1 && *unit == 's'))
		mult = 1000;
	else if (ulen == 2 && !memcmp(unit, "ms", 2))
		mult = 1;
	else if (ulen == 1 && *unit == 'm')
		mult = 60000;
	else if (ulen == 1 && *unit == 'h')
		mult = 3600000;
	char qb[QUOTE_BUF];
	if (i == 0 || mult == 0)
		return fail_at(x, v,
			       "'%s' is not a duration; expected a number with ms, s, m or h, "
			       "like 500ms, 10s, 1m or 1h",
			       quote(qb, s, n));
	if (val > UINT32_MAX || val * mult > UINT32_MAX)
		return fail_at(x, v, "duration '%s' is too long; expected at most 1193h", quote(qb, s, n));
	if (nonzero && val == 0)
		return fail_at(x, v, "'%s' is zero; expected a duration greater than 0", quote(qb, s, n));
	*out = (uint32_t)(val * mult);
	return 0;
}

/* One of names[] (NULL-terminated); what names the kind ("sampler"). */
static int get_enum(struct ctx *x, struct node *v, const char *path, const char *what,
		    const char *const *names, int *out)
{
	char list[512];
	size_t o = 0;
	int count = 0;
	while (names[count])
		count++;
	for (int i = 0; i < count; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				      i == 0	       ? ""
				      : i == count - 1 ? (count == 2 ? " or " : ", or ")
						       : ", ",
				      names[i]);
	char expected[600];
	snprintf(expected, sizeof(expected), "%s%s", count > 2 ? "one of " : "", list);
	int rc = scalar(x, v, path, expected);
	if (rc)
		return rc;
	for (int i = 0; i < count; i++) {
		if (is(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	char qb[QUOTE_BUF];
	return fail_at(x, v, "'%s' is not a %s; expected %s", quote(qb, v->val, v->vlen), what, expected);
}

/* ---- the schema ------------------------------------------------------------------- */

typedef int (*field_fn)(struct ctx *x, void *obj, int idx, struct node *key, struct node *val,
			const char *path);

static int join_path(char *out, const char *path, const char *key)
{
	int n = snprintf(out, PATH_LEN, "%s%s%s", path, *path ? "." : "", key);
	return n < 0 || n >= PATH_LEN ? -1 : 0;
}

/* Walks a mapping whose keys must be among keys[] (NULL-terminated, at most 32), each once. A
 * null (empty) value counts as an empty mapping. */
static int walk_map(struct ctx *x, struct node *m, const char *path, const char *const *keys, field_fn fn,
		    void *obj)
{
	if (is_null(m))
		return 0;
	if (m->kind != K_MAP)
		return fail_at(x, m, "'%s' is %s; expected a mapping", path, kind_word(m));
	char qb[QUOTE_BUF];
	uint32_t seen = 0;
	for (struct node *k = m->first; k && k->next; k = k->next->next) {
		struct node *v = k->next;
		if (k->kind != K_SCALAR && !*path)
			return fail_at(x, k, "a top-level key is %s; expected a key name", kind_word(k));
		if (k->kind != K_SCALAR)
			return fail_at(x, k, "a key in '%s' is %s; expected a key name", path, kind_word(k));
		int idx = -1;
		for (int i = 0; keys[i]; i++)
			if (strlen(keys[i]) == k->len && !memcmp(keys[i], k->raw, k->len))
				idx = i;
		if (idx < 0) {
			char list[256];
			size_t o = 0;
			for (int i = 0; keys[i]; i++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
						      keys[i]);
			return fail_at(x, k, "unknown key '%s%s%s'; expected one of %s", path,
				       *path ? "." : "", quote(qb, k->raw, k->len), list);
		}
		char child[PATH_LEN];
		if (join_path(child, path, keys[idx]))
			return fail_at(x, k, "key path too long; expected a shorter one");
		if (seen & 1u << idx)
			return fail_at(x, k, "duplicate key '%s'; expected each key once", child);
		seen |= 1u << idx;
		int rc = fn(x, obj, idx, k, v, child);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *const root_keys[] = { "log_format", "prometheus", "otlp", "traces",
					 "profiles",   "selectors",  NULL };
static const char *const prometheus_keys[] = { "address", NULL };
static const char *const otlp_keys[] = { "endpoint", "headers", "compression", "metrics_interval", NULL };
static const char *const traces_keys[] = { "sampler", "sampler_arg", "keep_errors", "keep_slower_than",
					   NULL };
static const char *const profiles_keys[] = { "directory", "interval", "otlp", NULL };
static const char *const selector_keys[] = { "name", "match", "signals", NULL };
static const char *const match_keys[] = { "exe",	   "process_name", "port", "container_id",
					  "k8s_namespace", "k8s_pod",	   "pids", NULL };
static const char *const signals_keys[] = { "http_metrics",   "traces",		"runtime", "cpu_profile",
					    "cpu_profile_hz", "offcpu_profile", NULL };
static const char *const log_formats[] = { "human", "json", NULL };
static const char *const compressions[] = { "gzip", "none", NULL };
static const char *const samplers[] = { "always_on",
					"always_off",
					"traceidratio",
					"parentbased_always_on",
					"parentbased_always_off",
					"parentbased_traceidratio",
					NULL };

static int prometheus_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val,
			    const char *path)
{
	struct agent_config *c = obj;
	(void)idx, (void)key;
	return get_str(x, val, path, c->prometheus_address, sizeof(c->prometheus_address));
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

static int parse_headers(struct ctx *x, struct agent_config *c, struct node *m, const char *path)
{
	if (is_null(m))
		return 0;
	if (m->kind != K_MAP)
		return fail_at(x, m, "'%s' is %s; expected a mapping of header: value", path, kind_word(m));
	char qb[QUOTE_BUF];
	for (struct node *k = m->first; k && k->next; k = k->next->next) {
		if (k->kind != K_SCALAR)
			return fail_at(x, k, "a key in '%s' is %s; expected a header name", path,
				       kind_word(k));
		if (!header_name_ok(k->raw, k->len))
			return fail_at(x, k,
				       "'%s' is not a header name; expected letters, digits "
				       "and -_.!#$%%&'*+^`|~",
				       quote(qb, k->raw, k->len));
		if (k->len >= AGENT_STR)
			return fail_at(x, k,
				       "header name '%s' is too long (%zu bytes); expected at "
				       "most %d bytes",
				       quote(qb, k->raw, k->len), k->len, AGENT_STR - 1);
		for (int i = 0; i < c->otlp.nheaders; i++)
			if (!strcasecmp(c->otlp.headers[i][0], k->raw))
				return fail_at(x, k, "duplicate header '%s'; expected each header once",
					       k->raw);
		if (c->otlp.nheaders == AGENT_MAX_HEADERS)
			return fail_at(x, k, "too many headers; expected at most %d", AGENT_MAX_HEADERS);
		char child[PATH_LEN];
		if (join_path(child, path, k->raw))
			snprintf(child, sizeof(child), "%s", path);
		char(*h)[AGENT_STR] = c->otlp.headers[c->otlp.nheaders];
		memset(h[0], 0, AGENT_STR);
		memcpy(h[0], k->raw, k->len);
		int rc = get_str(x, k->next, child, h[1], AGENT_STR);
		if (rc)
			return rc;
		c->otlp.nheaders++;
	}
	return 0;
}

static int otlp_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val, const char *path)
{
	struct agent_config *c = obj;
	int which = 0, rc;
	(void)key;
	switch (idx) {
	case 0:
		return get_str(x, val, path, c->otlp.endpoint, sizeof(c->otlp.endpoint));
	case 1:
		c->otlp.nheaders = 0;
		return parse_headers(x, c, val, path);
	case 2:
		rc = get_enum(x, val, path, "compression", compressions, &which);
		c->otlp.gzip = which == 0;
		return rc;
	default:
		return get_duration(x, val, path, true, &c->otlp.metrics_interval_ms);
	}
}

static int traces_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val,
			const char *path)
{
	struct agent_config *c = obj;
	int which = 0, rc;
	(void)key;
	switch (idx) {
	case 0:
		rc = get_enum(x, val, path, "sampler", samplers, &which);
		if (!rc)
			snprintf(c->traces.sampler, sizeof(c->traces.sampler), "%s", samplers[which]);
		return rc;
	case 1:
		return get_ratio(x, val, path, &c->traces.sampler_arg);
	case 2:
		return get_bool(x, val, path, &c->traces.keep_errors);
	default:
		return get_duration(x, val, path, false, &c->traces.keep_slower_than_ms);
	}
}

static int profiles_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val,
			  const char *path)
{
	struct agent_config *c = obj;
	(void)key;
	switch (idx) {
	case 0:
		return get_str(x, val, path, c->profiles.directory, sizeof(c->profiles.directory));
	case 1:
		return get_duration(x, val, path, true, &c->profiles.interval_ms);
	default:
		return get_bool(x, val, path, &c->profiles.otlp);
	}
}

static int parse_pids(struct ctx *x, struct agent_match *m, struct node *seq, const char *path)
{
	m->npids = 0;
	if (is_null(seq))
		return 0;
	if (seq->kind != K_SEQ)
		return fail_at(x, seq, "'%s' is %s; expected a list of process ids like [123, 456]", path,
			       kind_word(seq));
	for (struct node *it = seq->first; it; it = it->next) {
		if (m->npids == AGENT_MAX_PIDS)
			return fail_at(x, it, "too many pids; expected at most %d", AGENT_MAX_PIDS);
		long pid;
		int rc = get_int(x, it, path, 1, PID_LIMIT, "a process id 1..4194304", &pid);
		if (rc)
			return rc;
		m->pids[m->npids++] = (pid_t)pid;
	}
	return 0;
}

static int match_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val,
		       const char *path)
{
	struct agent_match *m = obj;
	long port;
	int rc;
	(void)key;
	switch (idx) {
	case 0:
		return get_str(x, val, path, m->exe, sizeof(m->exe));
	case 1:
		return get_str(x, val, path, m->process_name, sizeof(m->process_name));
	case 2:
		rc = get_int(x, val, path, 1, 65535, "a port number 1..65535", &port);
		if (!rc)
			m->port = (uint16_t)port;
		return rc;
	case 3:
		return get_str(x, val, path, m->container_id, sizeof(m->container_id));
	case 4:
		return get_str(x, val, path, m->k8s_namespace, sizeof(m->k8s_namespace));
	case 5:
		return get_str(x, val, path, m->k8s_pod, sizeof(m->k8s_pod));
	default:
		return parse_pids(x, m, val, path);
	}
}

static int signals_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val,
			 const char *path)
{
	struct agent_signals *s = obj;
	long hz;
	int rc;
	(void)key;
	switch (idx) {
	case 0:
		return get_bool(x, val, path, &s->http_metrics);
	case 1:
		return get_bool(x, val, path, &s->traces);
	case 2:
		return get_bool(x, val, path, &s->runtime);
	case 3:
		return get_bool(x, val, path, &s->cpu_profile);
	case 4:
		rc = get_int(x, val, path, 1, 1000, "a frequency 1..1000", &hz);
		if (!rc)
			s->cpu_profile_hz = (int)hz;
		return rc;
	default:
		return get_bool(x, val, path, &s->offcpu_profile);
	}
}

struct selector_walk {
	struct agent_config *c;
	struct agent_selector *s;
	int index;
	bool named;
	struct node *match_key;
};

static int selector_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val,
			  const char *path)
{
	struct selector_walk *w = obj;
	struct agent_selector *s = w->s;
	char qb[QUOTE_BUF];
	int rc;
	switch (idx) {
	case 0:
		rc = get_str(x, val, path, s->name, sizeof(s->name));
		if (rc)
			return rc;
		if (!s->name[0])
			return fail_at(x, val, "selector name is empty; expected a non-empty name");
		for (int i = 0; i < w->index; i++)
			if (!strcmp(w->c->selectors[i].name, s->name))
				return fail_at(x, val,
					       "duplicate selector name '%s'; expected unique "
					       "names",
					       quote(qb, s->name, strlen(s->name)));
		w->named = true;
		return 0;
	case 1:
		w->match_key = key;
		return walk_map(x, val, path, match_keys, match_field, &s->match);
	default:
		return walk_map(x, val, path, signals_keys, signals_field, &s->signals);
	}
}

static bool match_empty(const struct agent_match *m)
{
	return !m->exe[0] && !m->process_name[0] && !m->port && !m->container_id[0] && !m->k8s_namespace[0] &&
	       !m->k8s_pod[0] && !m->npids;
}

static int parse_selectors(struct ctx *x, struct agent_config *c, struct node *seq, const char *path)
{
	c->nselectors = 0;
	if (is_null(seq))
		return 0;
	if (seq->kind != K_SEQ)
		return fail_at(x, seq, "'%s' is %s; expected a list of selectors", path, kind_word(seq));
	for (struct node *it = seq->first; it; it = it->next) {
		if (c->nselectors == AGENT_MAX_SELECTORS)
			return fail_at(x, it, "too many selectors; expected at most %d", AGENT_MAX_SELECTORS);
		struct selector_walk w = { .c = c,
					   .s = &c->selectors[c->nselectors],
					   .index = c->nselectors };
		agent_selector_defaults(w.s);
		char item[PATH_LEN];
		snprintf(item, sizeof(item), "%s[%d]", path, w.index);
		int rc = walk_map(x, it, item, selector_keys, selector_field, &w);
		if (rc)
			return rc;
		if (!w.named)
			return fail_at(x, it, "selector has no name; expected a 'name' key");
		if (match_empty(&w.s->match)) {
			char qb[QUOTE_BUF];
			return fail_at(x, w.match_key ? w.match_key : it,
				       "selector '%s' matches nothing specific: give exe, "
				       "process_name, port, container_id, k8s_namespace, k8s_pod "
				       "or pids",
				       quote(qb, w.s->name, strlen(w.s->name)));
		}
		c->nselectors++;
	}
	return 0;
}

static int root_field(struct ctx *x, void *obj, int idx, struct node *key, struct node *val, const char *path)
{
	struct agent_config *c = obj;
	int which = 0, rc;
	(void)key;
	switch (idx) {
	case 0:
		rc = get_enum(x, val, path, "log format", log_formats, &which);
		c->log_json = which == 1;
		return rc;
	case 1:
		return walk_map(x, val, path, prometheus_keys, prometheus_field, c);
	case 2:
		return walk_map(x, val, path, otlp_keys, otlp_field, c);
	case 3:
		return walk_map(x, val, path, traces_keys, traces_field, c);
	case 4:
		return walk_map(x, val, path, profiles_keys, profiles_field, c);
	default:
		return parse_selectors(x, c, val, path);
	}
}

/* ---- the API ---------------------------------------------------------------------- */

void agent_selector_defaults(struct agent_selector *s)
{
	memset(s, 0, sizeof(*s));
	s->signals.http_metrics = true;
	s->signals.traces = true;
	s->signals.runtime = true;
	s->signals.cpu_profile = true;
	s->signals.cpu_profile_hz = 19;
	s->signals.offcpu_profile = false;
}

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_json = false;
	snprintf(c->prometheus_address, sizeof(c->prometheus_address), "127.0.0.1:9464");
	c->otlp.gzip = true;
	c->otlp.metrics_interval_ms = 60000;
	snprintf(c->traces.sampler, sizeof(c->traces.sampler), "parentbased_always_on");
	c->traces.sampler_arg = 1.0;
	c->traces.keep_errors = true;
	c->traces.keep_slower_than_ms = 0;
	c->profiles.interval_ms = 60000;
	c->profiles.otlp = false;
}

static const char *env_getenv(const char *name)
{
	return getenv(name);
}

int agent_config_parse(struct agent_config *c, const char *name, const char *text, size_t len,
		       const char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
	struct ctx x = {
		.name = name ? name : "<config>",
		.text = text ? text : "",
		.len = text ? len : 0,
		.getenv_fn = getenv_fn ? getenv_fn : env_getenv,
		.err = err,
		.errlen = errlen,
	};
	if (err && errlen)
		err[0] = '\0';
	if (x.len >= 3 && !memcmp(x.text, "\xef\xbb\xbf", 3)) /* libyaml would count it a column */
		x.text += 3, x.len -= 3;
	struct agent_config *tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return fail_oom(&x);
	agent_config_defaults(tmp);

	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		free(tmp);
		return fail_oom(&x);
	}
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&p, (const unsigned char *)x.text, x.len);
	struct node *root;
	int rc = build(&x, &p, &root);
	yaml_parser_delete(&p);
	if (!rc && root && !is_null(root)) {
		if (root->kind != K_MAP)
			rc = fail_at(&x, root, "the top level is %s; expected a mapping of settings",
				     kind_word(root));
		else
			rc = walk_map(&x, root, "", root_keys, root_field, tmp);
	}
	free_nodes(&x);
	if (!rc)
		memcpy(c, tmp, sizeof(*c));
	free(tmp);
	return rc;
}

int agent_config_load(struct agent_config *c, const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
		return -e;
	}
	char *buf = malloc(MAX_FILE_SIZE + 1);
	size_t n = buf ? fread(buf, 1, MAX_FILE_SIZE + 1, f) : 0;
	int rc = 0;
	if (!buf) {
		rc = -ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: out of memory", path);
	} else if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	} else if (n > MAX_FILE_SIZE) {
		rc = -EFBIG;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: larger than %u bytes", path, MAX_FILE_SIZE);
	}
	fclose(f);
	if (!rc)
		rc = agent_config_parse(c, path, buf, n, NULL, err, errlen);
	free(buf);
	return rc;
}

/* ---- printing --------------------------------------------------------------------- */

/* A double-quoted YAML string. Characters YAML would not read back as written are escaped;
 * in values, $ is doubled so that ${VAR} substitution gives it back. */
static void print_quoted(FILE *out, const char *s, bool value)
{
	size_t n = strlen(s);
	fputc('"', out);
	for (size_t i = 0; i < n;) {
		const unsigned char *u = (const unsigned char *)s + i;
		uint32_t cp;
		size_t k = utf8_decode(u, n - i, &cp);
		if (k == 0) { /* not from the parser: keep the byte's value as a code point */
			fprintf(out, "\\x%02x", u[0]);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(out, "\\%c", (char)cp);
		else if (cp == '$' && value)
			fputs("$$", out);
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			fprintf(out, "\\x%02x", (unsigned)cp);
		else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
			fprintf(out, "\\u%04x", (unsigned)cp);
		else
			fwrite(u, 1, k, out);
		i += k;
	}
	fputc('"', out);
}

static void print_duration(FILE *out, uint32_t ms)
{
	if (ms % 1000)
		fprintf(out, "%ums", ms);
	else if (ms && ms % 3600000 == 0)
		fprintf(out, "%uh", ms / 3600000);
	else if (ms > 60000 && ms % 60000 == 0)
		fprintf(out, "%um", ms / 60000);
	else
		fprintf(out, "%us", ms / 1000);
}

static void print_double(FILE *out, double d)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	fputs(buf, out);
}

static const char *tf(bool b)
{
	return b ? "true" : "false";
}

static void print_match_str(FILE *out, const char *key, const char *v)
{
	if (!v[0])
		return;
	fprintf(out, "      %s: ", key);
	print_quoted(out, v, true);
	fputc('\n', out);
}

void agent_config_print(const struct agent_config *c, FILE *out)
{
	fprintf(out, "log_format: %s\n", c->log_json ? "json" : "human");
	fputs("prometheus:\n  address: ", out);
	print_quoted(out, c->prometheus_address, true);
	fputs("\notlp:\n  endpoint: ", out);
	print_quoted(out, c->otlp.endpoint, true);
	fputs("\n  headers:", out);
	if (c->otlp.nheaders <= 0)
		fputs(" {}", out);
	for (int i = 0; i < c->otlp.nheaders && i < AGENT_MAX_HEADERS; i++) {
		fputs("\n    ", out);
		print_quoted(out, c->otlp.headers[i][0], false);
		fputs(": ", out);
		print_quoted(out, c->otlp.headers[i][1], true);
	}
	fprintf(out, "\n  compression: %s\n  metrics_interval: ", c->otlp.gzip ? "gzip" : "none");
	print_duration(out, c->otlp.metrics_interval_ms);
	fputs("\ntraces:\n  sampler: ", out);
	bool known = false;
	for (int i = 0; samplers[i]; i++)
		known = known || !strcmp(c->traces.sampler, samplers[i]);
	if (known)
		fputs(c->traces.sampler, out);
	else
		print_quoted(out, c->traces.sampler, true);
	fputs("\n  sampler_arg: ", out);
	print_double(out, c->traces.sampler_arg);
	fprintf(out, "\n  keep_errors: %s\n  keep_slower_than: ", tf(c->traces.keep_errors));
	print_duration(out, c->traces.keep_slower_than_ms);
	fputs("\nprofiles:\n  directory: ", out);
	print_quoted(out, c->profiles.directory, true);
	fputs("\n  interval: ", out);
	print_duration(out, c->profiles.interval_ms);
	fprintf(out, "\n  otlp: %s\n", tf(c->profiles.otlp));
	fputs("selectors:", out);
	if (c->nselectors <= 0)
		fputs(" []", out);
	fputc('\n', out);
	for (int i = 0; i < c->nselectors && i < AGENT_MAX_SELECTORS; i++) {
		const struct agent_selector *s = &c->selectors[i];
		const struct agent_match *m = &s->match;
		fputs("  - name: ", out);
		print_quoted(out, s->name, true);
		fputs("\n    match:\n", out);
		print_match_str(out, "exe", m->exe);
		print_match_str(out, "process_name", m->process_name);
		if (m->port)
			fprintf(out, "      port: %u\n", (unsigned)m->port);
		print_match_str(out, "container_id", m->container_id);
		print_match_str(out, "k8s_namespace", m->k8s_namespace);
		print_match_str(out, "k8s_pod", m->k8s_pod);
		if (m->npids > 0) {
			fputs("      pids: [", out);
			for (int k = 0; k < m->npids && k < AGENT_MAX_PIDS; k++)
				fprintf(out, "%s%d", k ? ", " : "", (int)m->pids[k]);
			fputs("]\n", out);
		}
		fprintf(out,
			"    signals:\n"
			"      http_metrics: %s\n"
			"      traces: %s\n"
			"      runtime: %s\n"
			"      cpu_profile: %s\n"
			"      cpu_profile_hz: %d\n"
			"      offcpu_profile: %s\n",
			tf(s->signals.http_metrics), tf(s->signals.traces), tf(s->signals.runtime),
			tf(s->signals.cpu_profile), s->signals.cpu_profile_hz, tf(s->signals.offcpu_profile));
	}
}

static bool selector_equal(const struct agent_selector *a, const struct agent_selector *b)
{
	const struct agent_match *m = &a->match, *n = &b->match;
	const struct agent_signals *s = &a->signals, *t = &b->signals;
	if (strcmp(a->name, b->name) || strcmp(m->exe, n->exe) || strcmp(m->process_name, n->process_name) ||
	    m->port != n->port || strcmp(m->container_id, n->container_id) ||
	    strcmp(m->k8s_namespace, n->k8s_namespace) || strcmp(m->k8s_pod, n->k8s_pod) ||
	    m->npids != n->npids)
		return false;
	for (int i = 0; i < m->npids && i < AGENT_MAX_PIDS; i++)
		if (m->pids[i] != n->pids[i])
			return false;
	return s->http_metrics == t->http_metrics && s->traces == t->traces && s->runtime == t->runtime &&
	       s->cpu_profile == t->cpu_profile && s->cpu_profile_hz == t->cpu_profile_hz &&
	       s->offcpu_profile == t->offcpu_profile;
}

bool agent_config_equal(const struct agent_config *a, const struct agent_config *b)
{
	if (a->log_json != b->log_json || strcmp(a->prometheus_address, b->prometheus_address) ||
	    strcmp(a->otlp.endpoint, b->otlp.endpoint) || a->otlp.nheaders != b->otlp.nheaders ||
	    a->otlp.gzip != b->otlp.gzip || a->otlp.metrics_interval_ms != b->otlp.metrics_interval_ms ||
	    strcmp(a->traces.sampler, b->traces.sampler) || a->traces.sampler_arg != b->traces.sampler_arg ||
	    a->traces.keep_errors != b->traces.keep_errors ||
	    a->traces.keep_slower_than_ms != b->traces.keep_slower_than_ms ||
	    strcmp(a->profiles.directory, b->profiles.directory) ||
	    a->profiles.interval_ms != b->profiles.interval_ms || a->profiles.otlp != b->profiles.otlp ||
	    a->nselectors != b->nselectors)
		return false;
	for (int i = 0; i < a->otlp.nheaders && i < AGENT_MAX_HEADERS; i++)
		if (strcmp(a->otlp.headers[i][0], b->otlp.headers[i][0]) ||
		    strcmp(a->otlp.headers[i][1], b->otlp.headers[i][1]))
			return false;
	for (int i = 0; i < a->nselectors && i < AGENT_MAX_SELECTORS; i++)
		if (!selector_equal(&a->selectors[i], &b->selectors[i]))
			return false;
	return true;
}
