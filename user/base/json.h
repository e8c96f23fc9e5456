/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON string writer (logs, span lines, the dashboard's traces). */
#ifndef GLIMPSE_JSON_H
#define GLIMPSE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes s[0..len) as a quoted JSON string, escaping quotes, backslashes and controls; bytes
 * that are not well-formed UTF-8 become U+FFFD, so the output is always valid JSON. */
void json_string(FILE *out, const char *s, size_t len);
/* Same for a NUL-terminated string. */
void json_str(FILE *out, const char *s);
/* Bytes as a quoted string of lowercase hex (trace and span ids, as W3C traceparent has them). */
void json_hex(FILE *out, const uint8_t *b, size_t n);

#endif
