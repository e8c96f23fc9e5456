/* SPDX-License-Identifier: Apache-2.0 */
/* The agent configuration's YAML layer: libyaml's events into a small tree of nodes that keep
 * their line:col, nesting capped while it is read, ${VAR} substitution per scalar, and the
 * one-line "FILE:LINE:COL: what; expected what" errors every layer above reports through. */
#ifndef GLIMPSE_CONFIG_YAML_H
#define GLIMPSE_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>

/* Deeper than the schema can use (five levels) by far, shallow enough that libyaml's
 * per-token scans over open levels stay cheap. */
#define CONFIG_YAML_MAX_DEPTH 32
#define CONFIG_YAML_QUOTE_MAX 64 /* bytes of a value shown in an error message */
#define CONFIG_YAML_QUOTE_BUF (CONFIG_YAML_QUOTE_MAX * 4 + 8)

enum yaml_kind {
	YAML_NODE_SCALAR,
	YAML_NODE_MAP,
	YAML_NODE_SEQ
};

struct yaml_node {
	enum yaml_kind kind;
	bool plain;	   /* a plain (unquoted) scalar: may be a null */
	size_t line, col;  /* 0-based start */
	size_t sidx, eidx; /* libyaml's character index of the start and end */
	struct yaml_node *parent;
	struct yaml_node *first, *last, *next; /* children: a mapping holds key, value, key, value... */
	struct yaml_node *all;		       /* every node, for freeing */
	char *val; /* the value after ${VAR} substitution (NULL: not resolved yet) */
	size_t vlen;
	size_t len;
	char raw[]; /* the scalar as libyaml gives it, NUL-terminated */
};

/* One parse: the input, the environment, where the error goes, the nodes built. */
struct config_yaml {
	const char *name;
	const char *text; /* without a leading byte order mark */
	size_t len;
	const char *(*getenv_fn)(const char *);
	char *err;
	size_t errlen;
	struct yaml_node *all;
};

/* Builds the tree of x->text; *root is NULL for an empty stream. Aliases, tags, a second
 * document and nesting deeper than CONFIG_YAML_MAX_DEPTH are errors. 0, -EINVAL or -ENOMEM. */
int config_yaml_build(struct config_yaml *x, struct yaml_node **root);
/* Frees every node built (also after an error). */
void config_yaml_free(struct config_yaml *x);

/* Resolves n's ${VAR}, ${VAR:-default} and $$ into n->val; anything but a scalar is an error
 * "'PATH' is a mapping; expected EXPECTED". */
int config_yaml_scalar(struct config_yaml *x, struct yaml_node *n, const char *path, const char *expected);
bool config_yaml_is_null(const struct yaml_node *n);
/* "a mapping", "a list" or "a single value". */
const char *config_yaml_kind(const struct yaml_node *n);

/* Write the error into x->err; return -EINVAL (-ENOMEM for _oom). */
__attribute__((format(printf, 3, 4))) int config_yaml_fail_at(struct config_yaml *x,
							      const struct yaml_node *n, const char *fmt,
							      ...);
__attribute__((format(printf, 4, 5))) int config_yaml_fail_pos(struct config_yaml *x, size_t line, size_t col,
							       const char *fmt, ...);
int config_yaml_fail_oom(struct config_yaml *x);
/* s for an error message: control characters and invalid bytes as \xNN, cut after
 * CONFIG_YAML_QUOTE_MAX bytes with "...". out holds CONFIG_YAML_QUOTE_BUF bytes. */
const char *config_yaml_quote(char *out, const char *s, size_t len);

#endif
