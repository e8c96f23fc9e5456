// SPDX-License-Identifier: Apache-2.0
#include "base/log.h"

#include "base/json.h"

#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool json_output;
static int verbose;

void log_setup(bool json, int verbosity)
{
	json_output = json;
	verbose = verbosity;
}

void log_set_json(bool json)
{
	json_output = json;
}

int log_verbosity(void)
{
	return verbose;
}

bool log_json(void)
{
	return json_output;
}

int log_parse_format(const char *s)
{
	if (!strcmp(s, "human") || !strcmp(s, "text"))
		return 0;
	if (!strcmp(s, "json"))
		return 1;
	return -1;
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_DEBUG:
		return "debug";
	case LOG_INFO:
		return "info";
	case LOG_WARN:
		return "warning";
	default:
		return "error";
	}
}

/* logfmt "k=v k2=\"v v\"" → ,"k":"v","k2":"v v" */
static void json_fields(FILE *out, const char *f)
{
	while (*f) {
		while (*f == ' ')
			f++;
		const char *eq = strchr(f, '=');
		if (!eq)
			break;
		fputc(',', out);
		json_string(out, f, eq - f);
		fputc(':', out);
		const char *v = eq + 1, *end;
		if (*v == '"') {
			v++;
			end = strchr(v, '"');
			if (!end)
				end = v + strlen(v);
			json_string(out, v, end - v);
			f = *end ? end + 1 : end;
		} else {
			end = strchr(v, ' ');
			if (!end)
				end = v + strlen(v);
			json_string(out, v, end - v);
			f = end;
		}
	}
}

static void emit(enum log_level level, const char *msg, const char *fields)
{
	if (level == LOG_DEBUG && !verbose)
		return;
	if (json_output) {
		struct timespec ts;
		struct tm tm;
		char when[40];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", when,
			ts.tv_nsec / 1000000, level_name(level));
		size_t len = strlen(msg);
		while (len && msg[len - 1] == '\n')
			len--;
		json_string(stderr, msg, len);
		if (fields)
			json_fields(stderr, fields);
		fputs("}\n", stderr);
	} else {
		if (level == LOG_INFO)
			fprintf(stderr, "glimpse: %s", msg);
		else
			fprintf(stderr, "glimpse: %s: %s", level_name(level), msg);
		if (fields && *fields)
			fprintf(stderr, " %s", fields);
		if (!*msg || msg[strlen(msg) - 1] != '\n')
			fputc('\n', stderr);
	}
	fflush(stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(level, buf, NULL);
}

void log_event(enum log_level level, const char *msg, const char *fields_fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fields_fmt);
	vsnprintf(buf, sizeof(buf), fields_fmt, ap);
	va_end(ap);
	emit(level, msg, buf);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	/* libbpf's INFO lines are noise to users unless they asked for -v. */
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	char buf[2048];
	vsnprintf(buf, sizeof(buf), fmt, args);
	emit(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, buf, NULL);
	return 0;
}

void log_install_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
