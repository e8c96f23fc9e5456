// SPDX-License-Identifier: Apache-2.0
/* A JSON log line's object: its fields into a log record (log_parse.h says which are which). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "logs/log_parse.h"
#include "logs/log_parse_internal.h"

struct cursor {
	const char *s;
	size_t i, len;
	bool cut; /* the line was cut short: its end ends the object, with what came before it */
};

static bool at_cut(const struct cursor *c)
{
	return c->cut && c->i >= c->len;
}

static void ws(struct cursor *c)
{
	while (c->i < c->len &&
	       (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
		c->i++;
}

static int hex4(const char *s)
{
	int v = 0;
	for (int k = 0; k < 4; k++) {
		int c = s[k], d = c >= '0' && c <= '9'	 ? c - '0'
				  : c >= 'a' && c <= 'f' ? c - 'a' + 10
				  : c >= 'A' && c <= 'F' ? c - 'A' + 10
							 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t put_utf8(char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | (cp >> 6));
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | (cp >> 12));
		d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | (cp >> 18));
	d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A JSON string at the cursor (its opening quote), decoded into p's out (NULL: only skipped).
 * Escapes of NUL and lone surrogates become U+FFFD. False if malformed or out of room. */
static bool string(struct log_parser *p, struct cursor *c, const char **out, size_t *outlen)
{
	if (c->i >= c->len || c->s[c->i] != '"')
		return false;
	size_t start = ++c->i, end = start;
	bool escaped = false;
	while (end < c->len && c->s[end] != '"') {
		if ((unsigned char)c->s[end] < 0x20)
			return false;
		if (c->s[end] == '\\') {
			escaped = true;
			end++;
		}
		end++;
	}
	if (end >= c->len) {
		if (!c->cut)
			return false;
		end = c->len; /* a value cut short: what there is of it */
		c->i = end;
	} else {
		c->i = end + 1;
	}
	if (!out)
		return true;
	size_t raw = end - start;
	char *d = log_parse_alloc(p, raw + 1); /* decoding never lengthens: \uXXXX is 6 bytes for ≤ 4 */
	if (!d)
		return false;
	size_t o = 0;
	for (size_t i = start; i < end; i++) {
		char ch = c->s[i];
		if (!escaped || ch != '\\') {
			d[o++] = ch;
			continue;
		}
		if (i + 1 >= end)
			break; /* an escape cut short */
		ch = c->s[++i];
		switch (ch) {
		case '"':
		case '\\':
		case '/':
			d[o++] = ch;
			break;
		case 'b':
			d[o++] = '\b';
			break;
		case 'f':
			d[o++] = '\f';
			break;
		case 'n':
			d[o++] = '\n';
			break;
		case 'r':
			d[o++] = '\r';
			break;
		case 't':
			d[o++] = '\t';
			break;
		case 'u': {
			int cp = i + 4 < end ? hex4(c->s + i + 1) : -1;
			if (cp < 0 && c->cut && i + 4 >= end)
				goto done;
			if (cp < 0)
				return false;
			i += 4;
			uint32_t code = (uint32_t)cp;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < end && c->s[i + 1] == '\\' &&
			    c->s[i + 2] == 'u') {
				int lo = hex4(c->s + i + 3);
				if (lo >= 0xdc00 && lo < 0xe000) {
					code = 0x10000 + (((uint32_t)cp - 0xd800) << 10) +
					       ((uint32_t)lo - 0xdc00);
					i += 6;
				}
			}
			if (code == 0 || (code >= 0xd800 && code < 0xe000))
				code = 0xfffd;
			o += put_utf8(d + o, code);
			break;
		}
		default:
			return false;
		}
	}
done:
	d[o] = '\0';
	p->used -= raw + 1 - (o + 1); /* give back what decoding saved */
	*out = d;
	*outlen = o;
	return true;
}

/* A JSON number's extent at the cursor; false if there is none. */
static bool number(struct cursor *c, size_t *start, size_t *n, bool *integer)
{
	size_t i = c->i;
	*start = i;
	*integer = true;
	if (i < c->len && c->s[i] == '-')
		i++;
	size_t d = i;
	while (i < c->len && isdigit((unsigned char)c->s[i]))
		i++;
	if (i == d)
		return false;
	if (i < c->len && c->s[i] == '.') {
		*integer = false;
		d = ++i;
		while (i < c->len && isdigit((unsigned char)c->s[i]))
			i++;
		if (i == d)
			return false;
	}
	if (i < c->len && (c->s[i] == 'e' || c->s[i] == 'E')) {
		*integer = false;
		i++;
		if (i < c->len && (c->s[i] == '+' || c->s[i] == '-'))
			i++;
		d = i;
		while (i < c->len && isdigit((unsigned char)c->s[i]))
			i++;
		if (i == d)
			return false;
	}
	*n = i - *start;
	c->i = i;
	return true;
}

static bool literal(struct cursor *c, const char *word)
{
	size_t n = strlen(word);
	if (c->len - c->i < n || memcmp(c->s + c->i, word, n))
		return false;
	c->i += n;
	return true;
}

/* Skips any JSON value (nesting followed with a counter, not recursion). */
static bool skip_value(struct log_parser *p, struct cursor *c)
{
	size_t depth = 0;
	do {
		ws(c);
		if (c->i >= c->len)
			return c->cut;
		char ch = c->s[c->i];
		if (ch == '{' || ch == '[') {
			depth++;
			c->i++;
			continue;
		}
		if ((ch == '}' || ch == ']') && depth) {
			depth--;
			c->i++;
		} else if (ch == '"') {
			if (!string(p, c, NULL, NULL))
				return false;
		} else if (ch == 't' || ch == 'f' || ch == 'n') {
			if (!literal(c, "true") && !literal(c, "false") && !literal(c, "null"))
				return false;
		} else if (ch == ',' || ch == ':') {
			if (!depth)
				return false;
			c->i++;
			continue;
		} else {
			size_t s, n;
			bool integer;
			if (!number(c, &s, &n, &integer))
				return false;
		}
	} while (depth);
	return true;
}

struct json_state {
	struct log_parser *p;
	struct log_record *rec;
	bool have_time, have_level, have_msg;
};

static struct log_attr *new_attr(struct json_state *st, const char *key)
{
	if (st->rec->nattrs == LOG_MAX_ATTRS) {
		st->rec->dropped_attrs++;
		return NULL;
	}
	struct log_attr *a = &st->rec->attrs[st->rec->nattrs++];
	memset(a, 0, sizeof(*a));
	a->key = key;
	return a;
}

/* A top-level field with a meaning of its own: true when taken. */
static bool special(struct json_state *st, const char *key, const char *s, size_t n, bool is_string)
{
	if (!st->have_time && (!strcmp(key, "time") || !strcmp(key, "ts") || !strcmp(key, "timestamp") ||
			       !strcmp(key, "@timestamp"))) {
		uint64_t t = is_string ? log_parse_rfc3339(s, n) : log_parse_unix_number(s, n);
		if (t) {
			st->rec->time_unix_ns = t;
			st->have_time = true;
			return true;
		}
	} else if (is_string && !st->have_level &&
		   (!strcmp(key, "level") || !strcmp(key, "lvl") || !strcmp(key, "severity"))) {
		st->rec->severity_number = log_severity_from_text(s, n);
		st->rec->severity_text = s;
		st->have_level = true;
		return true;
	} else if (is_string && !st->have_msg && (!strcmp(key, "msg") || !strcmp(key, "message"))) {
		st->rec->body = s;
		st->have_msg = true;
		return true;
	}
	return false;
}

static bool object(struct json_state *st, struct cursor *c, const char *prefix, int depth);

/* One field's value; key is its full (dotted) name. */
static bool field(struct json_state *st, struct cursor *c, const char *key, int depth)
{
	struct log_parser *p = st->p;
	ws(c);
	if (c->i >= c->len)
		return false;
	char ch = c->s[c->i];
	if (ch == '{') {
		if (depth + 1 >= LOG_MAX_DEPTH) {
			st->rec->dropped_attrs++;
			return skip_value(p, c);
		}
		return object(st, c, key, depth + 1);
	}
	if (ch == '[') {
		size_t start = c->i;
		if (!skip_value(p, c))
			return false;
		char *text = log_parse_copy(p, c->s + start, c->i - start);
		struct log_attr *a = text ? new_attr(st, key) : NULL;
		if (a) {
			a->type = LOG_VALUE_JSON;
			a->s = text;
		}
		return true;
	}
	if (ch == '"') {
		const char *s;
		size_t n;
		if (!string(p, c, &s, &n))
			return false;
		if (depth == 0 && special(st, key, s, n, true))
			return true;
		struct log_attr *a = new_attr(st, key);
		if (a) {
			a->type = LOG_VALUE_STRING;
			a->s = s;
		}
		return true;
	}
	if (literal(c, "true") || literal(c, "false")) {
		struct log_attr *a = new_attr(st, key);
		if (a) {
			a->type = LOG_VALUE_BOOL;
			a->b = c->s[c->i - 1] == 'e' && c->s[c->i - 2] == 'u';
		}
		return true;
	}
	if (literal(c, "null"))
		return true; /* a field without a value says nothing */
	size_t start, n;
	bool integer;
	if (!number(c, &start, &n, &integer)) {
		if (c->cut) /* cut inside a number or literal: the field is lost with the rest */
			c->i = c->len;
		return false;
	}
	if (at_cut(c))
		return false; /* a number up to the cut may have had more digits */
	if (depth == 0 && special(st, key, c->s + start, n, false))
		return true;
	char *text = log_parse_copy(p, c->s + start, n);
	if (!text)
		return false;
	struct log_attr *a = new_attr(st, key);
	if (!a)
		return true;
	char *end;
	if (integer) {
		errno = 0;
		long long v = strtoll(text, &end, 10);
		if (!errno && *end == '\0') {
			a->type = LOG_VALUE_INT;
			a->i = v;
			return true;
		}
	}
	a->type = LOG_VALUE_DOUBLE;
	a->d = strtod(text, &end);
	if (!isfinite(a->d)) { /* 1e999: kept as written */
		a->type = LOG_VALUE_STRING;
		a->s = text;
	}
	return true;
}

static bool object(struct json_state *st, struct cursor *c, const char *prefix, int depth)
{
	struct log_parser *p = st->p;
	ws(c);
	if (c->i >= c->len || c->s[c->i] != '{')
		return false;
	c->i++;
	ws(c);
	if (c->i < c->len && c->s[c->i] == '}') {
		c->i++;
		return true;
	}
	for (;;) {
		ws(c);
		if (at_cut(c))
			return true;
		const char *name;
		size_t n;
		if (!string(p, c, &name, &n))
			return false;
		ws(c);
		if (at_cut(c))
			return true; /* a key without its value */
		if (c->i >= c->len || c->s[c->i] != ':')
			return false;
		c->i++;
		const char *key = name;
		if (prefix) {
			size_t pl = strlen(prefix);
			if (pl + 1 + n > LOG_KEY_MAX) {
				st->rec->dropped_attrs++;
				if (!skip_value(p, c))
					return false;
				goto next;
			}
			char *k = log_parse_alloc(p, pl + 1 + n + 1);
			if (!k)
				return false;
			memcpy(k, prefix, pl);
			k[pl] = '.';
			memcpy(k + pl + 1, name, n + 1);
			key = k;
		}
		if (!field(st, c, key, depth))
			return at_cut(c);
	next:
		ws(c);
		if (at_cut(c))
			return true;
		if (c->i < c->len && c->s[c->i] == ',') {
			c->i++;
			continue;
		}
		if (c->i < c->len && c->s[c->i] == '}') {
			c->i++;
			return true;
		}
		return false;
	}
}

bool log_parse_json(struct log_parser *p, const char *text, size_t len, struct log_record *rec)
{
	struct json_state st = { .p = p, .rec = rec };
	struct cursor c = { .s = text, .len = len, .cut = rec->truncated };
	if (!object(&st, &c, NULL, 0))
		return false;
	ws(&c);
	return c.i == c.len;
}
