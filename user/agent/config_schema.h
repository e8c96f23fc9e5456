/* SPDX-License-Identifier: Apache-2.0 */
/* The agent configuration's schema: one table of descriptors (key, type, offsetof, bounds,
 * names, default) that parsing, defaults, printing and equality all walk, so that a key is
 * declared once and adding one cannot shift another's field. */
#ifndef GLIMPSE_CONFIG_SCHEMA_H
#define GLIMPSE_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agent/agent_config.h"
#include "agent/config_yaml.h"

enum config_type {
	CONFIG_STR,	  /* char[size] */
	CONFIG_BOOL,	  /* bool */
	CONFIG_INT,	  /* uint16_t or int (size says which), in [lo, hi] */
	CONFIG_DURATION,  /* uint32_t milliseconds; lo == 1: zero is refused */
	CONFIG_RATIO,	  /* double in [0, 1] */
	CONFIG_ENUM_BOOL, /* bool, written as one of two names: true is names[true_index] */
	CONFIG_ENUM_STR,  /* char[size] holding one of names */
	CONFIG_HEADERS,	  /* char[max][2][AGENT_STR] name → value, count (int) at count_offset */
	CONFIG_PIDS,	  /* pid_t[max], count (int) at count_offset */
	CONFIG_MAP,	  /* a struct described by fields */
	CONFIG_LIST,	  /* struct[max] of size bytes each, described by fields; count at count_offset */
};

struct config_field {
	const char *key; /* NULL ends a table */
	enum config_type type;
	size_t offset, size;
	long lo, hi;
	const char *what;	  /* what a value is, for errors ("a port number 1..65535") */
	const char *const *names; /* ENUM_*: the accepted words, NULL-terminated */
	int true_index;
	const char *def_str;		   /* default of STR and ENUM_STR */
	double def_num;			   /* default of the others (bools 0/1, durations in ms) */
	bool omit_unset;		   /* a match criterion: printed only when set */
	const struct config_field *fields; /* MAP, LIST */
	size_t count_offset;		   /* HEADERS, PIDS, LIST */
	int max;
	const char *items; /* HEADERS, PIDS, LIST: their plural, for "too many ..." */
	/* LIST: checks a whole item once its keys are read (item: its mapping node). */
	int (*check)(struct config_yaml *x, struct yaml_node *item, void *array, int index);
};

/* The top level of the file; a selector (one entry of "selectors"). */
extern const struct config_field config_schema_root[];
extern const struct config_field config_schema_selector[];

/* Every field of the table at its default (lists and header/pid arrays empty). */
void config_schema_defaults(const struct config_field *fields, void *obj);
/* Reads the tree into c over what it holds. 0 or -EINVAL/-ENOMEM (error in x->err). */
int config_schema_parse(struct config_yaml *x, struct yaml_node *root, struct agent_config *c);
/* The fields as YAML that config_schema_parse reads back to an equal object. */
void config_schema_print(const struct config_field *fields, const void *obj, FILE *out);
/* An INT field's value (uint16_t or int, by size). */
long config_schema_int(const void *p, size_t size);
/* Whether a field holds a value (a non-empty string, true, non-zero, pids listed); fields of
 * other types always do. */
bool config_schema_is_set(const struct config_field *f, const void *obj);
/* Field by field, as the table says (only the used entries of arrays). */
bool config_schema_equal(const struct config_field *fields, const void *a, const void *b);

#endif
