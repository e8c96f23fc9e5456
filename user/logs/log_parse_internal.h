/* SPDX-License-Identifier: Apache-2.0 */
/* Between the log line parser (log_parse.c) and its JSON half (log_parse_json.c). */
#ifndef GLIMPSE_LOGS_LOG_PARSE_INTERNAL_H
#define GLIMPSE_LOGS_LOG_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logs/log_parse.h"

/* n bytes of p's out; NULL when the line's strings do not fit. */
char *log_parse_alloc(struct log_parser *p, size_t n);
/* A NUL-terminated copy of s[0..n) in p's out; NULL when it does not fit. */
char *log_parse_copy(struct log_parser *p, const char *s, size_t n);
/* A Unix time written as a number (zap's seconds with a fraction, or an integer in s, ms, µs or
 * ns told apart by size); 0 when it is not a plausible one. */
uint64_t log_parse_unix_number(const char *s, size_t len);
/* text[0..len) (valid UTF-8) as one JSON object and nothing after it; false if it is not. */
bool log_parse_json(struct log_parser *p, const char *text, size_t len, struct log_record *rec);

#endif
