/* SPDX-License-Identifier: Apache-2.0 */
/* Writes to stdout/stderr into lines: a line may come in one write (a logger's usual way),
 * several writes of one line (printf pieces), or one write of several lines (a buffered
 * writer). Per (process, fd), what came after the last newline waits for the rest; it keeps the
 * context of the write that began it. Bounded: a line is kept up to LOG_LINE_MAX bytes (the rest
 * up to its newline is dropped and the line flagged truncated), as is a write the kernel saw
 * only part of; at most LOG_PENDING_MAX unfinished lines wait (the oldest goes out as it is). */
#ifndef GLIMPSE_LOGS_LOG_LINES_H
#define GLIMPSE_LOGS_LOG_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logs/log_record.h"

#define LOG_PENDING_MAX 64

/* Who wrote and when: copied into the records of the lines a write begins. */
struct log_origin {
	int target; /* the caller's target id */
	uint32_t pid, tid;
	int fd;
	uint64_t mono_ns; /* CLOCK_MONOTONIC: when the write returned */
	bool has_trace;
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t trace_flags;
};

/* A finished line, without its newline (text[0..len), not NUL-terminated, valid until return). */
typedef void (*log_line_fn)(void *ctx, const struct log_origin *o, const char *text, size_t len,
			    bool truncated);

struct log_lines;

struct log_lines *log_lines_new(log_line_fn fn, void *ctx);
/* One write: data[0..len) of the total bytes it wrote (len < total: the rest was not seen). */
void log_lines_write(struct log_lines *l, const struct log_origin *o, const char *data, size_t len,
		     size_t total);
/* Unfinished lines of pid (every process: pid 0) go out as they are (the process exited, or
 * glimpse stops). */
void log_lines_flush(struct log_lines *l, uint32_t pid);
/* Lines cut short so far, and unfinished lines pushed out by newer ones. */
uint64_t log_lines_truncated(const struct log_lines *l);
/* Writes the kernel saw only the first part of, that part ending a line: what followed (a line
 * at least) was never seen. */
uint64_t log_lines_unseen(const struct log_lines *l);
void log_lines_free(struct log_lines *l);

#endif
