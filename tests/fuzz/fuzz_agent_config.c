// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for user/agent/agent_config.c (and the config_yaml, config_value and
 * config_schema layers under it), which parses a YAML file the user (or whoever can
 * write it) controls. Each input is parsed with a fixed fake environment. Checked besides
 * memory safety (ASan/UBSan):
 *   - an error is -EINVAL or -ENOMEM, with one line "fuzz.yaml:LINE:COL: ..." in err, and
 *     leaves the configuration untouched;
 *   - a success prints back to YAML that parses (with no environment at all) to an equal
 *     configuration, and prints the same text again. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_config.h"

static const char *fake_env(const char *name)
{
	static char long_value[1100];
	if (!long_value[0])
		memset(long_value, 'v', sizeof(long_value) - 1);
	static const char *const vars[][2] = {
		{ "HOST", "collector" }, { "PORT", "4318" },	{ "EMPTY", "" },
		{ "DOLLAR", "$${X}$" },	 { "CTRL", "a\r\nb" },	{ "BADUTF8", "\xc3(" },
		{ "BRACE", "}" },	 { "TOKEN", "s3cr3t" }, { "KEEP", "true" },
	};
	if (!strcmp(name, "LONG"))
		return long_value;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (!strcmp(name, vars[i][0]))
			return vars[i][1];
	return NULL;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

static char *print(const struct agent_config *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		abort();
	agent_config_print(c, f);
	if (fclose(f))
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent_config c, back, defaults;
	char err[512];
	agent_config_defaults(&defaults);
	agent_config_defaults(&c);
	int rc = agent_config_parse(&c, "fuzz.yaml", (const char *)data, size, fake_env, err, sizeof(err));
	if (rc) {
		if (rc != -EINVAL && rc != -ENOMEM)
			abort();
		if (strncmp(err, "fuzz.yaml:", 10) || strchr(err, '\n') || !strstr(err, ": "))
			abort();
		if (!agent_config_equal(&c, &defaults))
			abort();
		return 0;
	}
	size_t len, len2;
	char *text = print(&c, &len);
	rc = agent_config_parse(&back, "printed.yaml", text, len, no_env, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "printed config does not parse: %s\n%s", err, text);
		abort();
	}
	if (!agent_config_equal(&c, &back)) {
		fprintf(stderr, "printed config parses to something else:\n%s", text);
		abort();
	}
	char *text2 = print(&back, &len2);
	if (len != len2 || memcmp(text, text2, len)) {
		fprintf(stderr, "printing is not stable:\n%s--\n%s", text, text2);
		abort();
	}
	free(text);
	free(text2);
	return 0;
}
