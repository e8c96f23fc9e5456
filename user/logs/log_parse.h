/* SPDX-License-Identifier: Apache-2.0 */
/* A log line's text into a log record: untrusted bytes (whatever the target writes).
 *
 * The line is first repaired to UTF-8 (each byte that is not part of a well-formed sequence,
 * and NUL, becomes U+FFFD). A line that is one JSON object is a structured record: the
 * timestamp from "time" (log/slog, zerolog, logrus), "ts" (zap: seconds as a number, or an
 * ISO 8601 string), "timestamp" or "@timestamp" (RFC 3339, or a Unix time in s/ms/µs/ns by its
 * size); the level from "level", "lvl" or "severity" (slog's "INFO+2" too); the body from "msg"
 * (slog, zap, logrus) or "message" (zerolog); every other field an attribute (nested objects
 * as dotted keys, arrays as their JSON text). Anything else is a plain line: the body is the
 * line, the level guessed from its first words ("ERROR", "[warn]", "level=info", glog's
 * "E1129"), else unspecified. */
#ifndef GLIMPSE_LOGS_LOG_PARSE_H
#define GLIMPSE_LOGS_LOG_PARSE_H

#include <stddef.h>

#include "logs/log_record.h"

/* Room for one parsed line: the strings a record points at. */
struct log_parser {
	char text[3 * LOG_LINE_MAX + 1]; /* the repaired line */
	char out[4 * LOG_LINE_MAX + LOG_MAX_ATTRS * (LOG_KEY_MAX + 1)];
	size_t used; /* of out */
};

/* Parses line[0..len) (without its newline) into rec's format, time, severity, body and
 * attributes, which point into p until its next use; the rest of rec is left alone. When the
 * caller has set rec->truncated (the line was cut short), a JSON object cut with it keeps the
 * fields before the cut (slog writes time, level and msg first), a value cut inside as far as
 * it goes. */
void log_parse_line(struct log_parser *p, const char *line, size_t len, struct log_record *rec);

/* OpenTelemetry SeverityNumber of a level name: trace, debug, info, warn(ing), error, fatal,
 * panic, critical, … in any case, with slog's "+N"/"-N" offsets; 0 when it is none of those. */
int log_severity_from_text(const char *s, size_t len);

/* RFC 3339 (ISO 8601 with a date, 'T' or a space, optional fraction, Z or ±hh:mm) to Unix
 * nanoseconds; 0 when s is not one. */
uint64_t log_parse_rfc3339(const char *s, size_t len);

#endif
