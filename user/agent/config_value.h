/* SPDX-License-Identifier: Apache-2.0 */
/* Typed scalars of the agent configuration, both ways: reading a node as a string, boolean,
 * bounded integer, ratio, duration or one of a list of names (errors name the key path and
 * what was expected), and writing a value so that reading it back gives it unchanged. */
#ifndef GLIMPSE_CONFIG_VALUE_H
#define GLIMPSE_CONFIG_VALUE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/config_yaml.h"

/* One line of printable UTF-8 shorter than size; a null gives "". */
int config_value_str(struct config_yaml *x, struct yaml_node *v, const char *path, char *out, size_t size);
int config_value_bool(struct config_yaml *x, struct yaml_node *v, const char *path, bool *out);
/* A decimal integer in [lo, hi]; what describes it ("a port number 1..65535"). */
int config_value_int(struct config_yaml *x, struct yaml_node *v, const char *path, long lo, long hi,
		     const char *what, long *out);
/* A number from 0 to 1. */
int config_value_ratio(struct config_yaml *x, struct yaml_node *v, const char *path, double *out);
/* 500ms, 10s, 1m, 1h, or a bare number of seconds, into milliseconds. */
int config_value_duration(struct config_yaml *x, struct yaml_node *v, const char *path, bool nonzero,
			  uint32_t *out);
/* The index of one of names[] (NULL-terminated); what names the kind ("sampler"). */
int config_value_enum(struct config_yaml *x, struct yaml_node *v, const char *path, const char *what,
		      const char *const *names, int *out);

/* A double-quoted YAML string; in values (not keys) $ is written $$ so ${VAR} substitution
 * gives it back. */
void config_value_print_quoted(FILE *out, const char *s, bool value);
/* In the largest unit that is exact. */
void config_value_print_duration(FILE *out, uint32_t ms);
/* The shortest digits that read back as the same double. */
void config_value_print_double(FILE *out, double d);

#endif
