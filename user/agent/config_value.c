// SPDX-License-Identifier: Apache-2.0
#include "agent/config_value.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

int config_value_str(struct config_yaml *x, struct yaml_node *v, const char *path, char *out, size_t size)
{
	if (config_yaml_is_null(v)) {
		memset(out, 0, size);
		return 0;
	}
	int rc = config_yaml_scalar(x, v, path, "a string");
	if (rc)
		return rc;
	if (v->vlen >= size)
		return config_yaml_fail_at(
			x, v, "value of '%s' is too long (%zu bytes); expected at most %zu bytes", path,
			v->vlen, size - 1);
	for (size_t i = 0; i < v->vlen;) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)v->val + i, v->vlen - i, &cp);
		if (k == 0)
			return config_yaml_fail_at(
				x, v, "value of '%s' is not valid UTF-8; expected UTF-8 text", path);
		if (cp == '\n' || cp == '\r')
			return config_yaml_fail_at(
				x, v,
				"value of '%s' contains a line break; expected one line (a "
				"block scalar needs |- or >-)",
				path);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return config_yaml_fail_at(
				x, v,
				"value of '%s' contains a control character; expected printable "
				"text",
				path);
		i += k;
	}
	memset(out, 0, size);
	memcpy(out, v->val, v->vlen);
	return 0;
}

static bool is(const struct yaml_node *v, const char *s)
{
	return v->vlen == strlen(s) && !memcmp(v->val, s, v->vlen);
}

int config_value_bool(struct config_yaml *x, struct yaml_node *v, const char *path, bool *out)
{
	int rc = config_yaml_scalar(x, v, path, "true or false");
	if (rc)
		return rc;
	if (is(v, "true") || is(v, "True") || is(v, "TRUE"))
		*out = true;
	else if (is(v, "false") || is(v, "False") || is(v, "FALSE"))
		*out = false;
	else {
		char qb[CONFIG_YAML_QUOTE_BUF];
		return config_yaml_fail_at(x, v, "'%s' is not a boolean; expected true or false",
					   config_yaml_quote(qb, v->val, v->vlen));
	}
	return 0;
}

int config_value_int(struct config_yaml *x, struct yaml_node *v, const char *path, long lo, long hi,
		     const char *what, long *out)
{
	int rc = config_yaml_scalar(x, v, path, what);
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
	char qb[CONFIG_YAML_QUOTE_BUF];
	if (i == digits || i != n)
		return config_yaml_fail_at(x, v, "'%s' is not a number; expected %s",
					   config_yaml_quote(qb, s, n), what);
	if (neg)
		val = -val;
	if (big || val < lo || val > hi)
		return config_yaml_fail_at(x, v, "%s is out of range; expected %s",
					   config_yaml_quote(qb, s, n), what);
	*out = val;
	return 0;
}

int config_value_ratio(struct config_yaml *x, struct yaml_node *v, const char *path, double *out)
{
	const char *what = "a number from 0 to 1";
	int rc = config_yaml_scalar(x, v, path, what);
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
	char qb[CONFIG_YAML_QUOTE_BUF];
	if (!ok || !digit || end != s + n)
		return config_yaml_fail_at(x, v, "'%s' is not a number; expected %s",
					   config_yaml_quote(qb, s, n), what);
	if (!(d >= 0 && d <= 1))
		return config_yaml_fail_at(x, v, "%s is out of range; expected %s",
					   config_yaml_quote(qb, s, n), what);
	*out = d;
	return 0;
}

int config_value_duration(struct config_yaml *x, struct yaml_node *v, const char *path, bool nonzero,
			  uint32_t *out)
{
	const char *what = "a duration like 500ms, 10s, 1m, 1h or 1d";
	int rc = config_yaml_scalar(x, v, path, what);
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
	else if (ulen == 1 && *unit == 'd')
		mult = 86400000;
	char qb[CONFIG_YAML_QUOTE_BUF];
	if (i == 0 || mult == 0)
		return config_yaml_fail_at(x, v,
					   "'%s' is not a duration; expected a number with ms, s, m, h or d, "
					   "like 500ms, 10s, 1m, 1h or 1d",
					   config_yaml_quote(qb, s, n));
	if (val > UINT32_MAX || val * mult > UINT32_MAX)
		return config_yaml_fail_at(x, v, "duration '%s' is too long; expected at most 1193h",
					   config_yaml_quote(qb, s, n));
	if (nonzero && val == 0)
		return config_yaml_fail_at(x, v, "'%s' is zero; expected a duration greater than 0",
					   config_yaml_quote(qb, s, n));
	*out = (uint32_t)(val * mult);
	return 0;
}

int config_value_enum(struct config_yaml *x, struct yaml_node *v, const char *path, const char *what,
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
	int rc = config_yaml_scalar(x, v, path, expected);
	if (rc)
		return rc;
	for (int i = 0; i < count; i++) {
		if (is(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	char qb[CONFIG_YAML_QUOTE_BUF];
	return config_yaml_fail_at(x, v, "'%s' is not a %s; expected %s",
				   config_yaml_quote(qb, v->val, v->vlen), what, expected);
}

/* A double-quoted YAML string. Characters YAML would not read back as written are escaped;
 * in values, $ is doubled so that ${VAR} substitution gives it back. */
void config_value_print_quoted(FILE *out, const char *s, bool value)
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

void config_value_print_duration(FILE *out, uint32_t ms)
{
	if (ms % 1000)
		fprintf(out, "%ums", ms);
	else if (ms && ms % 86400000 == 0)
		fprintf(out, "%ud", ms / 86400000);
	else if (ms && ms % 3600000 == 0)
		fprintf(out, "%uh", ms / 3600000);
	else if (ms > 60000 && ms % 60000 == 0)
		fprintf(out, "%um", ms / 60000);
	else
		fprintf(out, "%us", ms / 1000);
}

void config_value_print_double(FILE *out, double d)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	fputs(buf, out);
}
