/* SPDX-License-Identifier: Apache-2.0 */
/* The dictionary of an OTLP profiles request (profiles/v1development): the strings,
 * attributes, mappings, functions, locations, stacks and links every Profile of the request
 * shares by index, each table deduplicated and starting with its empty entry. Frames are
 * walked as the pprof writer walks them (profile/writers/profile_util.h: frame names,
 * interning). Every message lives in the dictionary's arena, which the request's other
 * messages share; a step that runs out of memory sets oom and returns index 0. */
#ifndef GLIMPSE_EXPORT_OTLP_PROFILES_DICT_H
#define GLIMPSE_EXPORT_OTLP_PROFILES_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/otlp_internal.h"
#include "otlp/profiles_service.pb-c.h"
#include "profile/writers/profile_util.h"

/* A growable table of messages; pointers to its entries are only taken once it is complete. */
struct profiles_dict_table {
	void *v;
	size_t n, cap, size;
};

struct profiles_dict {
	const struct prof *p;
	struct otlp_arena a; /* the request's messages, the dictionary's and the caller's */
	bool oom;
	struct strtab strs;
	struct keymap fn_ids, loc_ids, stack_ids, attr_ids, chain_ids, link_ids;
	struct profiles_dict_table maps, locs, fns, stacks, attrs, links;
	int32_t *map_index;		/* prof mapping -> dictionary index, 0 until first used */
	struct prof_kernel_span kernel; /* where kernel frames that come without a mapping go */
	int32_t kmap;			/* our own kernel mapping's index, 0 until needed */
};

/* Every table with its empty entry, for p's frames. 0 or -ENOMEM; profiles_dict_free after
 * either. */
int profiles_dict_init(struct profiles_dict *e, const struct prof *p);
/* Indices into the tables: a string (repaired to UTF-8), an attribute (a string value, or
 * num when s is NULL), a sample's stack (its frames leaf first), the link to the server span
 * of the request a sample served (0: the zero link, when it served none). */
int32_t profiles_dict_str(struct profiles_dict *e, const char *s);
int32_t profiles_dict_attr(struct profiles_dict *e, const char *key, const char *s, int64_t num);
int32_t profiles_dict_stack(struct profiles_dict *e, const struct prof_sample *s);
int32_t profiles_dict_link(struct profiles_dict *e, const struct prof_request *r);
/* The message, once every sample's indices are taken (the kernel mapping spans the kernel
 * addresses seen); NULL when out of memory. Valid until profiles_dict_free. */
Opentelemetry__Proto__Profiles__V1development__ProfilesDictionary *profiles_dict_finish(
	struct profiles_dict *e);
void profiles_dict_free(struct profiles_dict *e);

#endif
