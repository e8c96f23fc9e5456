/* SPDX-License-Identifier: Apache-2.0 */
/* One line a target wrote to its stdout or stderr, as parsed: what the OpenTelemetry log data
 * model calls a LogRecord (timestamp, severity, body, attributes, trace context). */
#ifndef GLIMPSE_LOGS_LOG_RECORD_H
#define GLIMPSE_LOGS_LOG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bytes of one line kept (what the kernel copies of one write, SOCKCAP_DATA_MAX): a longer
 * line is cut there and flagged. */
#define LOG_LINE_MAX 4096
/* Fields of a JSON line kept as attributes; the rest are counted (log_record.dropped_attrs). */
#define LOG_MAX_ATTRS 32
/* A nested object's fields become dotted keys ("req.method") up to this many levels. */
#define LOG_MAX_DEPTH 4
#define LOG_KEY_MAX   128

enum log_value_type {
	LOG_VALUE_STRING,
	LOG_VALUE_INT,
	LOG_VALUE_DOUBLE,
	LOG_VALUE_BOOL,
	LOG_VALUE_JSON, /* an array, kept as its JSON text */
};

struct log_attr {
	const char *key; /* NUL-terminated, valid UTF-8 */
	enum log_value_type type;
	const char *s; /* STRING, JSON: NUL-terminated, valid UTF-8 */
	int64_t i;
	double d;
	bool b;
};

/* How a line was read. */
enum log_format {
	LOG_FORMAT_PLAIN, /* text: the body is the line; the level guessed from its first words */
	LOG_FORMAT_JSON,  /* a JSON object: log/slog, zap, zerolog, logrus and friends */
};

/* OpenTelemetry SeverityNumber ranges (the first of each). */
enum log_severity {
	LOG_SEV_UNSPECIFIED = 0,
	LOG_SEV_TRACE = 1,
	LOG_SEV_DEBUG = 5,
	LOG_SEV_INFO = 9,
	LOG_SEV_WARN = 13,
	LOG_SEV_ERROR = 17,
	LOG_SEV_FATAL = 21,
};

struct log_record {
	enum log_format format;
	uint64_t time_unix_ns;	   /* the line's own timestamp; 0: it has none glimpse reads */
	uint64_t observed_unix_ns; /* when the write returned */
	int severity_number;	   /* enum log_severity, plus an offset within its range */
	const char *severity_text; /* as written ("INFO", "warn"); "" when none */
	const char *body;	   /* the message; a plain line's whole text. Valid UTF-8 */
	struct log_attr attrs[LOG_MAX_ATTRS];
	unsigned nattrs;
	unsigned dropped_attrs; /* fields past LOG_MAX_ATTRS or LOG_MAX_DEPTH */
	bool truncated;		/* the line was longer than LOG_LINE_MAX or than glimpse saw */
	/* Who wrote it. */
	pid_t pid;
	uint32_t tid;
	int fd; /* 1 stdout, 2 stderr */
	bool has_trace;
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t trace_flags; /* W3C flags: 1 = sampled */
};

/* "stdout" or "stderr": the log.iostream attribute. */
static inline const char *log_iostream(int fd)
{
	return fd == 2 ? "stderr" : "stdout";
}

#endif
