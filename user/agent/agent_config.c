// SPDX-License-Identifier: Apache-2.0
/* The configuration's entry points: the file into a scratch copy through the YAML layer and
 * the schema (the caller's struct changes only when the whole file is valid), the embedded
 * default, and the schema's print and equality. */
#include "agent/agent_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config_schema.h"
#include "agent/config_yaml.h"

#define MAX_FILE_SIZE (1u << 20)

/* What `glimpse agent` runs without --config: every Go program that listens on TCP, with
 * HTTP/SQL metrics, traces and runtime metrics; CPU profiles ready at 19 Hz but off. */
static const char default_yaml[] =
	"# glimpse agent: the built-in configuration (glimpse agent without --config)\n"
	"selectors:\n"
	"  - name: listening-go\n"
	"    match:\n"
	"      listening: true\n"
	"      go: true\n"
	"    signals:\n"
	"      http_metrics: true\n"
	"      traces: true\n"
	"      runtime: true\n"
	"      cpu_profile: false\n"
	"      cpu_profile_hz: 19\n"
	"      offcpu_profile: false\n";

void agent_selector_defaults(struct agent_selector *s)
{
	memset(s, 0, sizeof(*s));
	config_schema_defaults(config_schema_selector, s);
}

void agent_config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	config_schema_defaults(config_schema_root, c);
}

static const char *env_getenv(const char *name)
{
	return getenv(name);
}

int agent_config_parse(struct agent_config *c, const char *name, const char *text, size_t len,
		       const char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
	struct config_yaml x = {
		.name = name ? name : "<config>",
		.text = text ? text : "",
		.len = text ? len : 0,
		.getenv_fn = getenv_fn ? getenv_fn : env_getenv,
		.err = err,
		.errlen = errlen,
	};
	if (err && errlen)
		err[0] = '\0';
	if (x.len >= 3 && !memcmp(x.text, "\xef\xbb\xbf", 3)) /* libyaml would count it a column */
		x.text += 3, x.len -= 3;
	struct agent_config *tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return config_yaml_fail_oom(&x);
	agent_config_defaults(tmp);
	struct yaml_node *root;
	int rc = config_yaml_build(&x, &root);
	if (!rc)
		rc = config_schema_parse(&x, root, tmp);
	config_yaml_free(&x);
	if (!rc)
		memcpy(c, tmp, sizeof(*c));
	free(tmp);
	return rc;
}

int agent_config_load(struct agent_config *c, const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
		return -e;
	}
	char *buf = malloc(MAX_FILE_SIZE + 1);
	size_t n = buf ? fread(buf, 1, MAX_FILE_SIZE + 1, f) : 0;
	int rc = 0;
	if (!buf) {
		rc = -ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: out of memory", path);
	} else if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	} else if (n > MAX_FILE_SIZE) {
		rc = -EFBIG;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: larger than %u bytes", path, MAX_FILE_SIZE);
	}
	fclose(f);
	if (!rc)
		rc = agent_config_parse(c, path, buf, n, NULL, err, errlen);
	free(buf);
	return rc;
}

int agent_config_default(struct agent_config *c, char *err, size_t errlen)
{
	return agent_config_parse(c, "<built-in configuration>", default_yaml, sizeof(default_yaml) - 1, NULL,
				  err, errlen);
}

void agent_config_print(const struct agent_config *c, FILE *out)
{
	config_schema_print(config_schema_root, c, out);
}

bool agent_config_equal(const struct agent_config *a, const struct agent_config *b)
{
	return config_schema_equal(config_schema_root, a, b);
}
