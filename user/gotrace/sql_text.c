// SPDX-License-Identifier: Apache-2.0
#include "gotrace/sql_text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct writer {
	char *out;
	size_t len, cap;
};

static void put(struct writer *w, char c)
{
	if (w->len + 1 < w->cap)
		w->out[w->len++] = c;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Skips a quoted run starting at q[i] == quote (doubled quotes escape); returns the index
 * after the closing quote (or len, *closed false: the run never ends). */
static size_t skip_quoted(const char *q, size_t len, size_t i, char quote, bool *closed)
{
	*closed = true;
	for (i++; i < len; i++) {
		if (q[i] == '\\' && quote == '\'' && i + 1 < len) {
			i++;
			continue;
		}
		if (q[i] == quote) {
			if (i + 1 < len && q[i + 1] == quote) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	*closed = false;
	return len;
}

/* A PostgreSQL dollar quote opening at q[i] == '$' ("$$" or "$tag$", the tag an identifier
 * without '$'): the delimiter's length, or 0 ("$1" is a placeholder). */
static size_t dollar_quote_len(const char *q, size_t len, size_t i)
{
	size_t j = i + 1;
	if (j < len && (isalpha((unsigned char)q[j]) || q[j] == '_'))
		while (j < len && (isalnum((unsigned char)q[j]) || q[j] == '_'))
			j++;
	return j < len && q[j] == '$' ? j + 1 - i : 0;
}

/* The index after the dollar-quoted body opening at q[i] (its delimiter dlen long), or len. */
static size_t skip_dollar_quoted(const char *q, size_t len, size_t i, size_t dlen)
{
	for (size_t j = i + dlen; j + dlen <= len; j++)
		if (!memcmp(q + j, q + i, dlen))
			return j + dlen;
	return len;
}

size_t sql_sanitize(const char *q, size_t len, char *out, size_t outlen)
{
	struct writer w = { out, 0, outlen };
	bool space = false;
	for (size_t i = 0; i < len;) {
		char c = q[i];
		if (c == '-' && i + 1 < len && q[i + 1] == '-') {
			while (i < len && q[i] != '\n')
				i++;
			space = true;
			continue;
		}
		if (c == '/' && i + 1 < len && q[i + 1] == '*') {
			for (i += 2; i + 1 < len && !(q[i] == '*' && q[i + 1] == '/'); i++)
				;
			i = i + 2 < len ? i + 2 : len;
			space = true;
			continue;
		}
		if (isspace((unsigned char)c) || iscntrl((unsigned char)c)) {
			/* Control characters too: a NUL would cut the text short for every reader. */
			space = true;
			i++;
			continue;
		}
		if (space && w.len) {
			put(&w, ' ');
		}
		space = false;
		size_t dlen;
		bool closed;
		if (c == '\'') {
			i = skip_quoted(q, len, i, '\'', &closed);
			put(&w, '?');
		} else if (c == '$' && (dlen = dollar_quote_len(q, len, i))) {
			/* The body is a string literal: before this, "$$secret$$" read as a name. */
			i = skip_dollar_quoted(q, len, i, dlen);
			put(&w, '?');
		} else if (c == '"' || c == '`') {
			/* Quoted identifiers are names, not data: keep them. One never closed may
			 * be anything (literals after a stray quote): it goes like a literal. */
			size_t end = skip_quoted(q, len, i, c, &closed);
			if (!closed)
				put(&w, '?');
			for (; closed && i < end; i++)
				put(&w, iscntrl((unsigned char)q[i]) ? ' ' : q[i]);
			i = end;
		} else if (isdigit((unsigned char)c) ||
			   (c == '.' && i + 1 < len && isdigit((unsigned char)q[i + 1]))) {
			/* ":1" is a placeholder ("$1" is read as a name); "$.1" and ":.1" are not. */
			bool placeholder = w.len && w.out[w.len - 1] == ':' && c != '.';
			size_t start = i;
			while (i < len && (isalnum((unsigned char)q[i]) || q[i] == '.'))
				i++;
			if (placeholder)
				for (; start < i; start++)
					put(&w, q[start]);
			else
				put(&w, '?');
		} else if (ident_char(c)) {
			while (i < len && ident_char(q[i]))
				put(&w, q[i++]);
		} else {
			put(&w, c);
			i++;
		}
	}
	if (w.cap)
		w.out[w.len] = '\0';
	return w.len;
}

/* Next word (identifier or keyword) at or after *i, skipping white space, comments and '('. */
static bool next_word(const char *q, size_t len, size_t *i, char *word, size_t wlen)
{
	size_t p = *i;
	for (;;) {
		while (p < len && (isspace((unsigned char)q[p]) || q[p] == '('))
			p++;
		if (p + 1 < len && q[p] == '-' && q[p + 1] == '-') {
			while (p < len && q[p] != '\n')
				p++;
			continue;
		}
		if (p + 1 < len && q[p] == '/' && q[p + 1] == '*') {
			for (p += 2; p + 1 < len && !(q[p] == '*' && q[p + 1] == '/'); p++)
				;
			p = p + 2 < len ? p + 2 : len;
			continue;
		}
		break;
	}
	size_t n = 0;
	if (p < len && (q[p] == '"' || q[p] == '`')) {
		char quote = q[p++];
		while (p < len && q[p] != quote) {
			if (n + 1 < wlen)
				word[n++] = q[p];
			p++;
		}
		p = p < len ? p + 1 : p;
	} else {
		while (p < len && (ident_char(q[p]) || q[p] == '.')) {
			if (n + 1 < wlen)
				word[n++] = q[p];
			p++;
		}
	}
	word[n] = '\0';
	*i = p;
	return n > 0;
}

void sql_operation(const char *q, size_t len, char *out, size_t outlen)
{
	size_t i = 0;
	char word[32];
	out[0] = '\0';
	if (!next_word(q, len, &i, word, sizeof(word)))
		return;
	size_t n = 0;
	for (; word[n] && n + 1 < outlen; n++)
		out[n] = (char)toupper((unsigned char)word[n]);
	out[n] = '\0';
}

static bool word_is(const char *w, const char *kw)
{
	return strcasecmp(w, kw) == 0;
}

/* After the table name: anything but the end, WHERE-like clauses or a column list means the
 * statement may name more tables. */
static bool single_table_follows(const char *q, size_t len, size_t i)
{
	while (i < len && isspace((unsigned char)q[i]))
		i++;
	if (i >= len || q[i] == ';' || q[i] == '(')
		return true;
	if (q[i] == ',')
		return false;
	char word[32];
	size_t j = i;
	if (!next_word(q, len, &j, word, sizeof(word)))
		return true;
	static const char *const ends[] = { "WHERE", "SET",	  "VALUES", "ORDER",  "GROUP",
					    "LIMIT", "RETURNING", "HAVING", "OFFSET", "FOR",
					    "ON",    "DEFAULT",	  "SELECT", NULL };
	for (int k = 0; ends[k]; k++)
		if (word_is(word, ends[k]))
			return true;
	/* An alias ("users u") is fine if nothing joins after it. */
	static const char *const joins[] = { "JOIN", "INNER", "LEFT",	 "RIGHT",
					     "FULL", "CROSS", "NATURAL", NULL };
	char next[32];
	if (!next_word(q, len, &j, next, sizeof(next)))
		return true;
	for (int k = 0; joins[k]; k++)
		if (word_is(word, joins[k]) || word_is(next, joins[k]))
			return false;
	/* memchr: q is not NUL-terminated (before this, strchr read past len). */
	return !memchr(q + i, ',', len - i) || word_is(next, "WHERE");
}

void sql_collection(const char *q, size_t len, char *out, size_t outlen)
{
	char op[16], word[128];
	size_t i = 0;
	out[0] = '\0';
	if (!next_word(q, len, &i, op, sizeof(op)))
		return;
	const char *before = NULL;
	if (word_is(op, "SELECT") || word_is(op, "DELETE"))
		before = "FROM";
	else if (word_is(op, "INSERT") || word_is(op, "REPLACE"))
		before = "INTO";
	else if (!word_is(op, "UPDATE"))
		return;
	if (before) {
		/* Find the keyword at nesting depth 0, outside quotes. */
		int depth = 0;
		bool found = false;
		while (i < len && !found) {
			char c = q[i];
			bool closed;
			if (c == '\'' || c == '"' || c == '`') {
				i = skip_quoted(q, len, i, c, &closed);
			} else if (c == '(') {
				depth++;
				i++;
			} else if (c == ')') {
				depth--;
				i++;
			} else if (ident_char(c)) {
				size_t start = i;
				while (i < len && ident_char(q[i]))
					i++;
				if (depth == 0 && i - start == strlen(before) &&
				    !strncasecmp(q + start, before, i - start))
					found = true;
			} else {
				i++;
			}
		}
		if (!found)
			return;
	}
	while (i < len && isspace((unsigned char)q[i]))
		i++;
	if (i < len && q[i] == '(')
		return; /* a sub-query */
	if (!next_word(q, len, &i, word, sizeof(word)) || !single_table_follows(q, len, i))
		return;
	snprintf(out, outlen, "%s", word);
}
