// SPDX-License-Identifier: Apache-2.0
#include "logs/log_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/utf8.h"
#include "logs/log_parse_internal.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

/* The line as valid UTF-8 without NULs, into p->text; its length. */
static size_t repair(struct log_parser *p, const char *line, size_t len)
{
	const unsigned char *u = (const unsigned char *)line;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t n = u[i] ? utf8_decode(u + i, len - i, NULL) : 0;
		if (n) {
			memcpy(p->text + o, u + i, n);
			o += n;
			i += n;
		} else {
			memcpy(p->text + o, REPLACEMENT, 3);
			o += 3;
			i++;
		}
	}
	p->text[o] = '\0';
	return o;
}

char *log_parse_alloc(struct log_parser *p, size_t n)
{
	if (n > sizeof(p->out) - p->used)
		return NULL;
	char *s = p->out + p->used;
	p->used += n;
	return s;
}

char *log_parse_copy(struct log_parser *p, const char *s, size_t n)
{
	char *d = log_parse_alloc(p, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int log_severity_from_text(const char *s, size_t len)
{
	static const struct {
		const char *name;
		int sev;
	} names[] = {
		{ "trace", LOG_SEV_TRACE },	{ "debug", LOG_SEV_DEBUG },
		{ "info", LOG_SEV_INFO },	{ "information", LOG_SEV_INFO },
		{ "notice", LOG_SEV_INFO + 1 }, { "warn", LOG_SEV_WARN },
		{ "warning", LOG_SEV_WARN },	{ "error", LOG_SEV_ERROR },
		{ "err", LOG_SEV_ERROR },	{ "critical", LOG_SEV_FATAL },
		{ "crit", LOG_SEV_FATAL },	{ "fatal", LOG_SEV_FATAL },
		{ "panic", LOG_SEV_FATAL + 1 }, { "dpanic", LOG_SEV_FATAL },
		{ "emerg", LOG_SEV_FATAL + 3 }, { "alert", LOG_SEV_FATAL + 2 },
	};
	size_t word = 0;
	while (word < len && isalpha((unsigned char)s[word]))
		word++;
	int sev = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == word && !strncasecmp(s, names[i].name, word))
			sev = names[i].sev;
	if (!sev)
		return 0;
	if (word == len)
		return sev;
	/* slog: "INFO+2", "DEBUG-4" (levels between and below the named ones). */
	if ((s[word] != '+' && s[word] != '-') || word + 1 == len || len - word > 4)
		return 0;
	int off = 0;
	for (size_t i = word + 1; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		off = off * 10 + (s[i] - '0');
	}
	sev += s[word] == '+' ? off : -off;
	return sev < 1 ? 1 : sev > 24 ? 24 : sev;
}

static bool digits(const char *s, size_t len, size_t at, size_t n, int *out)
{
	if (at + n > len)
		return false;
	int v = 0;
	for (size_t i = at; i < at + n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

uint64_t log_parse_rfc3339(const char *s, size_t len)
{
	int y, mo, d, h, mi, sec;
	if (!digits(s, len, 0, 4, &y) || len < 19 || s[4] != '-' || !digits(s, len, 5, 2, &mo) ||
	    s[7] != '-' || !digits(s, len, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s, len, 11, 2, &h) || s[13] != ':' || !digits(s, len, 14, 2, &mi) || s[16] != ':' ||
	    !digits(s, len, 17, 2, &sec))
		return 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	size_t i = 19;
	uint64_t frac = 0;
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		uint64_t scale = 100000000;
		size_t start = ++i;
		for (; i < len && isdigit((unsigned char)s[i]); i++) {
			frac += (uint64_t)(s[i] - '0') * scale;
			scale /= 10;
		}
		if (i == start)
			return 0;
	}
	int64_t offset = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int oh, om;
		if (!digits(s, len, i + 1, 2, &oh) || i + 3 >= len || s[i + 3] != ':' ||
		    !digits(s, len, i + 4, 2, &om))
			return 0;
		offset = (s[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
		i += 6;
	} else {
		return 0; /* no zone: local time of a machine glimpse does not know */
	}
	if (i != len)
		return 0;
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec
	};
	int64_t t = (int64_t)timegm(&tm) - offset;
	return t < 0 ? 0 : (uint64_t)t * 1000000000u + frac;
}

/* A Unix time given as a number (zap's seconds with a fraction, or an integer in s, ms, µs or
 * ns told apart by size); 0 when it is not a plausible one. */
uint64_t log_parse_unix_number(const char *s, size_t len)
{
	uint64_t whole = 0, frac = 0, scale = 100000000;
	size_t i = 0;
	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		if (whole > UINT64_MAX / 10 - 10)
			return 0;
		whole = whole * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < len && s[i] == '.') {
		for (i++; i < len && isdigit((unsigned char)s[i]); i++) {
			frac += (uint64_t)(s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i != len || !whole)
		return 0;
	if (whole < 100000000000ull) /* seconds (until year 5138) */
		return whole * 1000000000u + frac;
	if (frac)
		return 0;
	if (whole < 100000000000000ull)
		return whole * 1000000u;
	if (whole < 100000000000000000ull)
		return whole * 1000u;
	return whole;
}

/* ---- plain lines ---- */

static bool has_prefix(const char *w, size_t n, const char *prefix, size_t *plen)
{
	*plen = strlen(prefix);
	return n > *plen && !strncasecmp(w, prefix, *plen);
}

/* The level named by one of the line's first words: "ERROR", "[warn]", "info:", "level=debug",
 * glog's "E1129"; a bare lowercase word ("error connecting") is prose, not a level. */
static void guess_level(struct log_parser *p, const char *s, size_t len, struct log_record *rec)
{
	size_t i = 0;
	for (int word = 0; word < 4 && i < len; word++) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		size_t start = i;
		while (i < len && !isspace((unsigned char)s[i]))
			i++;
		const char *w = s + start;
		size_t n = i - start, plen;
		bool marked = false;
		if (has_prefix(w, n, "level=", &plen) || has_prefix(w, n, "lvl=", &plen) ||
		    has_prefix(w, n, "severity=", &plen)) {
			w += plen;
			n -= plen;
			marked = true;
		}
		while (n && strchr("[(<\"'", *w)) {
			w++;
			n--;
			marked = true;
		}
		while (n && strchr("])>\"':,", w[n - 1])) {
			n--;
			marked = true;
		}
		if (!n)
			continue;
		if (n == 5 && strchr("IWEF", w[0]) && isdigit((unsigned char)w[1]) &&
		    isdigit((unsigned char)w[2]) && isdigit((unsigned char)w[3]) &&
		    isdigit((unsigned char)w[4]) && word == 0) {
			static const int glog[] = { ['I' - 'E'] = LOG_SEV_INFO,
						    ['W' - 'E'] = LOG_SEV_WARN,
						    ['E' - 'E'] = LOG_SEV_ERROR,
						    ['F' - 'E'] = LOG_SEV_FATAL };
			rec->severity_number = glog[w[0] - 'E'];
			rec->severity_text = log_parse_copy(p, w, 1);
			return;
		}
		bool upper = true;
		for (size_t k = 0; k < n; k++)
			upper &= !islower((unsigned char)w[k]);
		int sev = (marked || upper) ? log_severity_from_text(w, n) : 0;
		if (sev) {
			const char *text = log_parse_copy(p, w, n);
			if (text) {
				rec->severity_number = sev;
				rec->severity_text = text;
			}
			return;
		}
	}
}

void log_parse_line(struct log_parser *p, const char *line, size_t len, struct log_record *rec)
{
	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	while (len && line[len - 1] == '\r')
		len--;
	size_t n = repair(p, line, len);
	p->used = 0;
	rec->format = LOG_FORMAT_JSON;
	rec->time_unix_ns = 0;
	rec->severity_number = 0;
	rec->severity_text = "";
	rec->body = "";
	rec->nattrs = rec->dropped_attrs = 0;
	size_t lead = 0;
	while (lead < n && (p->text[lead] == ' ' || p->text[lead] == '\t'))
		lead++;
	if (lead < n && p->text[lead] == '{' && log_parse_json(p, p->text + lead, n - lead, rec))
		return;
	/* Not (entirely) JSON: a plain line, nothing of a failed attempt kept. */
	p->used = 0;
	rec->format = LOG_FORMAT_PLAIN;
	rec->time_unix_ns = 0;
	rec->severity_number = 0;
	rec->severity_text = "";
	rec->nattrs = rec->dropped_attrs = 0;
	rec->body = p->text;
	guess_level(p, p->text, n, rec);
}
