/* SPDX-License-Identifier: Apache-2.0 */
/* What a span may say about a SQL statement: its text with every literal replaced by '?'
 * (literals carry user data and never leave the host unless asked), the operation and the
 * one table it names. Parses untrusted text: bounded, never reads past len. */
#ifndef GLIMPSE_SQL_TEXT_H
#define GLIMPSE_SQL_TEXT_H

#include <stddef.h>

/* Copies query to out with string, numeric, hex and boolean-free literals replaced by '?',
 * comments dropped and runs of white space (control characters included) folded. Returns the
 * output length. */
size_t sql_sanitize(const char *query, size_t len, char *out, size_t outlen);
/* First keyword, upper-cased ("SELECT"); "" if none. */
void sql_operation(const char *query, size_t len, char *out, size_t outlen);
/* The table a single-table SELECT/INSERT/UPDATE/DELETE names ("users"); "" when it names
 * none or several (joins, comma lists, sub-queries). */
void sql_collection(const char *query, size_t len, char *out, size_t outlen);

#endif
