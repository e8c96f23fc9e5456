// SPDX-License-Identifier: Apache-2.0
/* OTLP exporter configuration: OTel SDK environment variables and command-line flags. */
#include "export/otlp.h"

#include "base/kv_pairs.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where an endpoint came from; a higher rank wins. */
enum {
	RANK_DEFAULT,
	RANK_ENV_BASE,
	RANK_ENV_SIGNAL,
	RANK_FLAG_BASE,
	RANK_FLAG_SIGNAL
};

static const char *const env_names[OTLP_SETTINGS] = {
	[OTLP_ENDPOINT] = "OTEL_EXPORTER_OTLP_ENDPOINT",
	[OTLP_TRACES_ENDPOINT] = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	[OTLP_METRICS_ENDPOINT] = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	[OTLP_PROFILES_ENDPOINT] = "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT",
	[OTLP_HEADERS] = "OTEL_EXPORTER_OTLP_HEADERS",
	[OTLP_TIMEOUT] = "OTEL_EXPORTER_OTLP_TIMEOUT",
	[OTLP_COMPRESSION] = "OTEL_EXPORTER_OTLP_COMPRESSION",
	[OTLP_SERVICE_NAME] = "OTEL_SERVICE_NAME",
	[OTLP_RESOURCE_ATTRIBUTES] = "OTEL_RESOURCE_ATTRIBUTES",
	[OTLP_QUEUE_SIZE] = "OTEL_BSP_MAX_QUEUE_SIZE",
	[OTLP_BATCH_SIZE] = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
	[OTLP_BATCH_DELAY] = "OTEL_BSP_SCHEDULE_DELAY",
	[OTLP_EXPORT_TIMEOUT] = "OTEL_BSP_EXPORT_TIMEOUT",
	[OTLP_METRICS_INTERVAL] = "OTEL_METRIC_EXPORT_INTERVAL",
	[OTLP_LOGS_ENDPOINT] = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
};

const char *otlp_setting_env(enum otlp_setting which)
{
	return (unsigned)which < OTLP_SETTINGS ? env_names[which] : "?";
}

void otlp_config_defaults(struct otlp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->traces_url, sizeof(cfg->traces_url), "%s/v1/traces", OTLP_DEFAULT_ENDPOINT);
	snprintf(cfg->metrics_url, sizeof(cfg->metrics_url), "%s/v1/metrics", OTLP_DEFAULT_ENDPOINT);
	snprintf(cfg->logs_url, sizeof(cfg->logs_url), "%s/v1/logs", OTLP_DEFAULT_ENDPOINT);
	snprintf(cfg->profiles_url, sizeof(cfg->profiles_url), "%s/v1development/profiles",
		 OTLP_DEFAULT_ENDPOINT);
	cfg->timeout_ms = 10000;
	cfg->queue_size = 2048;
	cfg->batch_size = 512;
	cfg->batch_delay_ms = 1000; /* the SDKs' 5 s is long for a live tool */
	cfg->export_timeout_ms = 30000;
	cfg->metrics_interval_ms = 60000;
}

/* "NAME=value" for the environment, "--flag value" for a flag: how errors quote the input. */
struct source {
	const char *name;
	bool flag;
};

static int bad(char *err, size_t errlen, struct source src, const char *value, const char *expected)
{
	snprintf(err, errlen, "%s%s\"%s\": expected %s", src.name, src.flag ? " " : "=", value, expected);
	return -EINVAL;
}

/* An HTTP header name: RFC 9110 token characters. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

typedef int (*pair_fn)(struct otlp_config *cfg, const char *key, const char *value, struct source src,
		       char *err, size_t errlen);

/* W3C Baggage-style "k=v,k=v": whitespace around keys and values is dropped, values are
 * percent-decoded, empty items are skipped. Calls fn per pair. Errors name items by position,
 * not by content: header values are often secrets. */
static int parse_pairs(struct otlp_config *cfg, struct source src, const char *value, size_t keymax,
		       size_t valmax, pair_fn fn, char *err, size_t errlen)
{
	char key[OTLP_HEADER_VALUE_MAX], val[OTLP_HEADER_VALUE_MAX];
	struct kv_pair kv = { 0 };
	size_t pos = 0, len = strlen(value);
	while (kv_pairs_next(value, len, &pos, &kv)) {
		if (!kv.key_len) {
			snprintf(err, errlen,
				 "%s: item %d is not key=value: expected comma-separated key=value pairs "
				 "(values percent-encoded)",
				 src.name, kv.item);
			return -EINVAL;
		}
		if (kv.key_len >= keymax) {
			snprintf(err, errlen, "%s: item %d: expected a key of 1 to %zu characters", src.name,
				 kv.item, keymax - 1);
			return -EINVAL;
		}
		memcpy(key, kv.key, kv.key_len);
		key[kv.key_len] = '\0';
		long n = kv_percent_decode(kv.value, kv.value_len, val, valmax);
		if (n < 0 || (size_t)n >= valmax) {
			snprintf(err, errlen,
				 "%s: value of \"%s\": expected at most %zu bytes, with %% "
				 "only in %%XX escapes",
				 src.name, key, valmax - 1);
			return -EINVAL;
		}
		int rc = fn(cfg, key, val, src, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_header(struct otlp_config *cfg, const char *key, const char *value, struct source src,
		      char *err, size_t errlen)
{
	if (!is_token(key)) {
		snprintf(err, errlen,
			 "%s: bad header name \"%s\": expected letters, digits and "
			 "!#$%%&'*+-.^_`|~",
			 src.name, key);
		return -EINVAL;
	}
	if (has_ctl(value)) {
		snprintf(err, errlen, "%s: value of \"%s\": expected no control characters", src.name, key);
		return -EINVAL;
	}
	size_t i = 0;
	while (i < cfg->nheaders && strcasecmp(cfg->headers[i].name, key))
		i++;
	if (i == OTLP_MAX_HEADERS) {
		snprintf(err, errlen, "%s: expected at most %d headers", src.name, OTLP_MAX_HEADERS);
		return -EINVAL;
	}
	if (i == cfg->nheaders)
		cfg->nheaders++;
	snprintf(cfg->headers[i].name, sizeof(cfg->headers[i].name), "%s", key);
	snprintf(cfg->headers[i].value, sizeof(cfg->headers[i].value), "%s", value);
	return 0;
}

static int add_resource_attr(struct otlp_config *cfg, const char *key, const char *value, struct source src,
			     char *err, size_t errlen)
{
	size_t i = 0;
	while (i < cfg->nresource_attrs && strcmp(cfg->resource_attrs[i].key, key))
		i++;
	if (i == OTLP_MAX_RESOURCE_ATTRS) {
		snprintf(err, errlen, "%s: expected at most %d attributes", src.name,
			 OTLP_MAX_RESOURCE_ATTRS);
		return -EINVAL;
	}
	if (i == cfg->nresource_attrs)
		cfg->nresource_attrs++;
	snprintf(cfg->resource_attrs[i].key, sizeof(cfg->resource_attrs[i].key), "%s", key);
	snprintf(cfg->resource_attrs[i].value, sizeof(cfg->resource_attrs[i].value), "%s", value);
	return 0;
}

/* http(s)://host[...]: the scheme and a host are all that can be checked before a request. */
static bool url_ok(const char *url)
{
	const char *rest;
	if (!strncasecmp(url, "http://", 7))
		rest = url + 7;
	else if (!strncasecmp(url, "https://", 8))
		rest = url + 8;
	else
		return false;
	if (!*rest || *rest == '/' || *rest == ':' || *rest == '?' || *rest == '#')
		return false;
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

static int set_url(char *dst, uint8_t *rank, uint8_t new_rank, const char *base, const char *path)
{
	if (new_rank < *rank)
		return 0;
	size_t n = strlen(base);
	int len;
	if (path) /* the signal path is appended, with a '/' if needed */
		len = snprintf(dst, OTLP_URL_MAX, "%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", path);
	else
		len = snprintf(dst, OTLP_URL_MAX, "%s", base);
	*rank = new_rank;
	return len >= OTLP_URL_MAX ? -ENAMETOOLONG : 0;
}

static int parse_int(struct source src, const char *value, long min, long max, int *out, char *err,
		     size_t errlen, const char *what)
{
	char *end;
	char expected[160];
	errno = 0;
	long v = strtol(value, &end, 10);
	snprintf(expected, sizeof(expected), "%s (an integer from %ld to %ld)", what, min, max);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (errno || end == value || *end || v < min || v > max || !isdigit((unsigned char)value[0]))
		return bad(err, errlen, src, value, expected);
	*out = (int)v;
	return 0;
}

static int apply(struct otlp_config *cfg, enum otlp_setting which, struct source src, const char *value,
		 char *err, size_t errlen)
{
	int rc;
	switch (which) {
	case OTLP_ENDPOINT:
	case OTLP_TRACES_ENDPOINT:
	case OTLP_METRICS_ENDPOINT:
	case OTLP_PROFILES_ENDPOINT:
	case OTLP_LOGS_ENDPOINT: {
		if (!url_ok(value))
			return bad(err, errlen, src, value,
				   "a URL such as http://localhost:4318 (http:// or https://, then a host)");
		bool base = which == OTLP_ENDPOINT;
		uint8_t rank = src.flag ? (base ? RANK_FLAG_BASE : RANK_FLAG_SIGNAL)
					: (base ? RANK_ENV_BASE : RANK_ENV_SIGNAL);
		rc = 0;
		if (base || which == OTLP_TRACES_ENDPOINT)
			rc |= set_url(cfg->traces_url, &cfg->traces_rank, rank, value,
				      base ? "v1/traces" : NULL);
		if (base || which == OTLP_METRICS_ENDPOINT)
			rc |= set_url(cfg->metrics_url, &cfg->metrics_rank, rank, value,
				      base ? "v1/metrics" : NULL);
		if (base || which == OTLP_LOGS_ENDPOINT)
			rc |= set_url(cfg->logs_url, &cfg->logs_rank, rank, value, base ? "v1/logs" : NULL);
		if (base || which == OTLP_PROFILES_ENDPOINT)
			rc |= set_url(cfg->profiles_url, &cfg->profiles_rank, rank, value,
				      base ? "v1development/profiles" : NULL);
		if (rc)
			return bad(err, errlen, src, value, "a URL shorter than 1000 characters");
		cfg->configured = true;
		break;
	}
	case OTLP_HEADERS:
		rc = parse_pairs(cfg, src, value, OTLP_HEADER_NAME_MAX, OTLP_HEADER_VALUE_MAX, add_header,
				 err, errlen);
		if (rc)
			return rc;
		break;
	case OTLP_RESOURCE_ATTRIBUTES:
		rc = parse_pairs(cfg, src, value, OTLP_ATTR_KEY_MAX, OTLP_ATTR_VALUE_MAX, add_resource_attr,
				 err, errlen);
		if (rc)
			return rc;
		break;
	case OTLP_TIMEOUT:
		if ((rc = parse_int(src, value, 1, 3600000, &cfg->timeout_ms, err, errlen,
				    "a timeout in milliseconds")))
			return rc;
		break;
	case OTLP_COMPRESSION:
		if (!strcasecmp(value, "gzip"))
			cfg->gzip = true;
		else if (!strcasecmp(value, "none"))
			cfg->gzip = false;
		else
			return bad(err, errlen, src, value, "gzip or none");
		break;
	case OTLP_SERVICE_NAME:
		if (!*value || strlen(value) >= sizeof(cfg->service_name) || has_ctl(value))
			return bad(err, errlen, src, value,
				   "a service name of 1 to 255 printable characters");
		snprintf(cfg->service_name, sizeof(cfg->service_name), "%s", value);
		break;
	case OTLP_QUEUE_SIZE:
		if ((rc = parse_int(src, value, 1, 1000000, &cfg->queue_size, err, errlen,
				    "a number of spans")))
			return rc;
		break;
	case OTLP_BATCH_SIZE:
		if ((rc = parse_int(src, value, 1, 1000000, &cfg->batch_size, err, errlen,
				    "a number of spans")))
			return rc;
		break;
	case OTLP_BATCH_DELAY:
		if ((rc = parse_int(src, value, 1, 3600000, &cfg->batch_delay_ms, err, errlen,
				    "a delay in milliseconds")))
			return rc;
		break;
	case OTLP_EXPORT_TIMEOUT:
		if ((rc = parse_int(src, value, 1, 3600000, &cfg->export_timeout_ms, err, errlen,
				    "a timeout in milliseconds")))
			return rc;
		break;
	case OTLP_METRICS_INTERVAL:
		if ((rc = parse_int(src, value, 1, 86400000, &cfg->metrics_interval_ms, err, errlen,
				    "an interval in milliseconds")))
			return rc;
		break;
	default:
		snprintf(err, errlen, "%s: unknown OTLP setting", src.name);
		return -EINVAL;
	}
	return 0;
}

int otlp_config_from_env(struct otlp_config *cfg, char *err, size_t errlen)
{
	otlp_config_defaults(cfg);
	for (int i = 0; i < OTLP_SETTINGS; i++) {
		const char *v = getenv(env_names[i]);
		if (!v || !*v) /* the spec: empty is unset */
			continue;
		int rc = apply(cfg, (enum otlp_setting)i, (struct source){ env_names[i], false }, v, err,
			       errlen);
		if (rc)
			return rc;
	}
	return 0;
}

int otlp_config_set_flag(struct otlp_config *cfg, enum otlp_setting which, const char *flag,
			 const char *value, char *err, size_t errlen)
{
	if (!value)
		value = "";
	return apply(cfg, which, (struct source){ flag ? flag : otlp_setting_env(which), true }, value, err,
		     errlen);
}
