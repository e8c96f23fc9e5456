// SPDX-License-Identifier: Apache-2.0
/* The option tables of every command against what is made from them: each option has exactly
 * one line in --help, the help ends with a newline, no two options share a name or key, and
 * getopt_long (through cli_parser) returns each option's key and value. Ground truth: the
 * tables each command declares (cli_*_command). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command *const commands[] = {
	&cli_profile_command, &cli_attach_command,  &cli_watch_command,
	&cli_agent_command,   &cli_inspect_command, &cli_slo_command,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

#define FOR_EACH_OPTION(c, o)                                                  \
	for (int g_ = 0; g_ < CLI_MAX_GROUPS && (c)->groups[g_].options; g_++) \
		for (const struct cli_option *o = (c)->groups[g_].options; o->name; o++)

static char *render_help(const struct cli_command *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_help_print(c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Lines of text that start like the option's line: "  -p, --pid PID" or "      --top N". */
static int option_lines(const char *text, const struct cli_option *o)
{
	char head[128];
	if (o->key > 0 && o->key < 128)
		snprintf(head, sizeof(head), "  -%c, --%s%s%s", o->key, o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	else
		snprintf(head, sizeof(head), "      --%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	int n = 0;
	size_t hl = strlen(head);
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, head, hl) && (line[hl] == ' ' || line[hl] == '\n'))
			n++;
	return n;
}

static void test_every_option_has_one_help_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char *help = render_help(commands[i]);
		size_t len = strlen(help);
		assert_true(len > 0 && help[len - 1] == '\n');
		assert_non_null(strstr(help, "Usage: glimpse "));
		int nopts = 0;
		FOR_EACH_OPTION(commands[i], o)
		{
			nopts++;
			if (option_lines(help, o) != 1)
				fail_msg("glimpse %s --help: --%s has %d lines", commands[i]->name, o->name,
					 option_lines(help, o));
		}
		assert_true(nopts <= CLI_MAX_OPTIONS);
		free(help);
	}
}

static void test_names_and_keys_are_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCOMMANDS; i++)
		FOR_EACH_OPTION(commands[i], a)
		{
			int same = 0;
			FOR_EACH_OPTION(commands[i], b)
			same += !strcmp(a->name, b->name) || a->key == b->key;
			if (same != 1)
				fail_msg("glimpse %s: --%s shares its name or key", commands[i]->name,
					 a->name);
		}
}

/* Parses one option as a user would type it and returns the key cli_next gives back. */
static int parse_one(const struct cli_command *c, const char *flag, const char *value, const char **arg)
{
	char *argv[] = { (char *)c->name, (char *)flag, (char *)value, NULL };
	struct cli_parser p;
	cli_parser_init(&p, c, value ? 3 : 2, argv);
	int key = cli_next(&p, arg);
	const char *rest;
	assert_int_equal(cli_next(&p, &rest), -1);
	return key;
}

static void test_parser_returns_each_key_and_value(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCOMMANDS; i++)
		FOR_EACH_OPTION(commands[i], o)
		{
			/* -v and --log-format are applied by cli_next, --help exits. */
			if (o->key == 'v' || o->key == 'h' || o->key == CLI_OPT_LOG_FORMAT)
				continue;
			char flag[64];
			const char *arg = NULL;
			snprintf(flag, sizeof(flag), "--%s", o->name);
			assert_int_equal(parse_one(commands[i], flag, o->arg ? "7" : NULL, &arg), o->key);
			if (o->arg)
				assert_string_equal(arg, "7");
			if (o->key > 0 && o->key < 128) {
				snprintf(flag, sizeof(flag), "-%c", o->key);
				assert_int_equal(parse_one(commands[i], flag, o->arg ? "8" : NULL, &arg),
						 o->key);
				if (o->arg)
					assert_string_equal(arg, "8");
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_option_has_one_help_line),
		cmocka_unit_test(test_names_and_keys_are_unique),
		cmocka_unit_test(test_parser_returns_each_key_and_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
