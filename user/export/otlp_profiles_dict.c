// SPDX-License-Identifier: Apache-2.0
#include "export/otlp_profiles_dict.h"

#include "base/utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef Opentelemetry__Proto__Profiles__V1development__ProfilesDictionary Dictionary;
typedef Opentelemetry__Proto__Profiles__V1development__Mapping Mapping;
typedef Opentelemetry__Proto__Profiles__V1development__Location Location;
typedef Opentelemetry__Proto__Profiles__V1development__Line Line;
typedef Opentelemetry__Proto__Profiles__V1development__Function Function;
typedef Opentelemetry__Proto__Profiles__V1development__Link Link;
typedef Opentelemetry__Proto__Profiles__V1development__Stack Stack;
typedef Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit KeyValueAndUnit;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

/* The semantic conventions' name for the GNU build ID (.note.gnu.build-id, hex). */
#define ATTR_BUILD_ID_GNU "process.executable.build_id.gnu"

/* A new zeroed entry at the end of t; its index. 0 (the empty entry) when out of memory. */
static int32_t table_add(struct profiles_dict *e, struct profiles_dict_table *t, void **entry)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		void *v = t->n < INT32_MAX ? realloc(t->v, cap * t->size) : NULL;
		if (!v) {
			e->oom = true;
			*entry = NULL;
			return 0;
		}
		t->v = v;
		t->cap = cap;
	}
	*entry = memset((char *)t->v + t->n * t->size, 0, t->size);
	return (int32_t)t->n++;
}

/* Pointers to each entry, for the message; NULL when out of memory. */
static void *table_ptrs(struct profiles_dict *e, const struct profiles_dict_table *t)
{
	void **ptrs = otlp_arena_alloc(&e->a, (t->n + 1) * sizeof(*ptrs));
	if (!ptrs) {
		e->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++)
		ptrs[i] = (char *)t->v + i * t->size;
	return ptrs;
}

/* Strings are interned repaired: the table's strings must be valid UTF-8. */
int32_t profiles_dict_str(struct profiles_dict *e, const char *s)
{
	char buf[OTLP_STR_MAX + 1];
	utf8_repair(buf, s, OTLP_STR_MAX);
	int64_t i = strtab_intern(&e->strs, buf);
	if (i < 0 || i > INT32_MAX) {
		e->oom = true;
		return 0;
	}
	return (int32_t)i;
}

/* An attribute (key and a string or an integer value) as a dictionary index. */
int32_t profiles_dict_attr(struct profiles_dict *e, const char *key, const char *s, int64_t num)
{
	int32_t k = profiles_dict_str(e, key), v = s ? profiles_dict_str(e, s) : 0;
	bool isnew;
	uint64_t *idx = keymap_get(&e->attr_ids, (uint64_t)k, s ? 1 : 2, s ? (uint64_t)v : (uint64_t)num,
				   e->attrs.n, &isnew);
	if (!idx) {
		e->oom = true;
		return 0;
	}
	if (isnew) {
		KeyValueAndUnit *kv;
		AnyValue *val = otlp_arena_alloc(&e->a, sizeof(*val));
		if (!table_add(e, &e->attrs, (void **)&kv) || !val) {
			e->oom = true;
			return 0;
		}
		opentelemetry__proto__profiles__v1development__key_value_and_unit__init(kv);
		opentelemetry__proto__common__v1__any_value__init(val);
		kv->key_strindex = k;
		kv->value = val;
		if (s) {
			val->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
			val->string_value = e->strs.strs[v];
		} else {
			val->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
			val->int_value = num;
		}
	}
	return (int32_t)*idx;
}

static int32_t add_mapping(struct profiles_dict *e, const struct prof_mapping *m)
{
	Mapping *dm;
	int32_t i = table_add(e, &e->maps, (void **)&dm);
	if (!i)
		return 0;
	opentelemetry__proto__profiles__v1development__mapping__init(dm);
	dm->memory_start = m->start;
	dm->memory_limit = m->limit;
	dm->file_offset = m->file_offset;
	dm->filename_strindex = profiles_dict_str(e, m->file);
	if (m->build_id && m->build_id[0]) {
		int32_t *ai = otlp_arena_alloc(&e->a, sizeof(*ai));
		if (!ai) {
			e->oom = true;
			return 0;
		}
		*ai = profiles_dict_attr(e, ATTR_BUILD_ID_GNU, m->build_id, 0);
		dm->attribute_indices = ai;
		dm->n_attribute_indices = 1;
	}
	return i;
}

/* The frame's mapping in the dictionary (0: none), as the pprof writer assigns them. */
static int32_t frame_mapping(struct profiles_dict *e, const struct prof_frame *f)
{
	int32_t m = prof_frame_mapping(e->p, &e->kernel, f);
	if (m >= 0) {
		int32_t *i = &e->map_index[m];
		if (!*i)
			*i = add_mapping(e, &e->p->mappings[m]);
		return *i;
	}
	if (m == PROF_NO_MAPPING)
		return 0;
	if (!e->kmap)
		e->kmap = add_mapping(e, &(struct prof_mapping){ .file = PROF_KERNEL_FILE });
	return e->kmap;
}

static int32_t function(struct profiles_dict *e, const char *name, const char *file)
{
	int32_t n = profiles_dict_str(e, name), fl = profiles_dict_str(e, file);
	bool isnew;
	uint64_t *idx = keymap_get(&e->fn_ids, (uint64_t)n, (uint64_t)fl, 0, e->fns.n, &isnew);
	if (!idx) {
		e->oom = true;
		return 0;
	}
	if (isnew) {
		Function *fn;
		if (!table_add(e, &e->fns, (void **)&fn))
			return 0;
		opentelemetry__proto__profiles__v1development__function__init(fn);
		fn->name_strindex = fn->system_name_strindex = n;
		fn->filename_strindex = fl;
	}
	return (int32_t)*idx;
}

/* The source lines of a frame, innermost first: Location.lines. An address where calls were
 * inlined stands for one line per inlined function (profile_data.h), the physical function last. */
#define MAX_LINES 16 /* the symbolizer's at most 15 inlined calls, and the function */
static size_t frame_lines(struct profiles_dict *e, const struct prof_frame *f, Line *out)
{
	char buf[PROF_NAME_MAX];
	size_t n = 0;
	for (uint32_t k = 0; k < f->ninlined && n + 1 < MAX_LINES; k++, n++) {
		opentelemetry__proto__profiles__v1development__line__init(&out[n]);
		out[n].function_index = function(e, f->inlined[k].func, f->inlined[k].file);
		out[n].line = f->inlined[k].line;
	}
	opentelemetry__proto__profiles__v1development__line__init(&out[n]);
	out[n].function_index = function(e, prof_frame_name(e->p, f, buf, sizeof(buf)), f->file);
	out[n].line = f->line;
	return n + 1;
}

/* The lines as one number, each (chain so far, function, line) given a dense id: locations at
 * one address are told apart by everything they stand for, not by their first line alone. */
static uint64_t lines_key(struct profiles_dict *e, const Line *lines, size_t n)
{
	uint64_t key = 0, *id;
	for (size_t i = n; i-- > 0;) {
		if (!(id = keymap_get(&e->chain_ids, key, (uint64_t)lines[i].function_index,
				      (uint64_t)lines[i].line, e->chain_ids.n + 1, NULL))) {
			e->oom = true;
			return 0;
		}
		key = *id;
	}
	return key;
}

static int32_t location(struct profiles_dict *e, const struct prof_frame *f)
{
	Line lines[MAX_LINES];
	int32_t map = frame_mapping(e, f);
	size_t n = frame_lines(e, f, lines);
	bool isnew;
	/* Keyed like the pprof writer's locations: by mapping, address, and what the address
	 * stands for (the same address is a leaf with its own line in one sample and a return
	 * address with the call's line in another). */
	uint64_t *idx =
		keymap_get(&e->loc_ids, (uint64_t)map, f->addr, lines_key(e, lines, n), e->locs.n, &isnew);
	if (!idx) {
		e->oom = true;
		return 0;
	}
	if (isnew) {
		Location *loc;
		Line *ls = otlp_arena_alloc(&e->a, n * sizeof(*ls));
		Line **lp = otlp_arena_alloc(&e->a, n * sizeof(*lp));
		if (!table_add(e, &e->locs, (void **)&loc) || !ls || !lp) {
			e->oom = true;
			return 0;
		}
		opentelemetry__proto__profiles__v1development__location__init(loc);
		loc->mapping_index = map;
		loc->address = f->addr;
		for (size_t i = 0; i < n; i++) {
			ls[i] = lines[i];
			lp[i] = &ls[i];
		}
		loc->lines = lp;
		loc->n_lines = n;
	}
	return (int32_t)*idx;
}

/* A sample's frames (leaf first, as the stack wants them) as a stack index. */
int32_t profiles_dict_stack(struct profiles_dict *e, const struct prof_sample *s)
{
	int32_t *li = otlp_arena_alloc(&e->a, (s->nframes + 1) * sizeof(*li));
	if (!li) {
		e->oom = true;
		return 0;
	}
	for (uint32_t j = 0; j < s->nframes; j++)
		li[j] = location(e, &s->frames[j]);
	size_t len = s->nframes * sizeof(*li);
	bool isnew;
	uint64_t *idx = keymap_get(&e->stack_ids, prof_hash(li, len, 1), prof_hash(li, len, 2), s->nframes,
				   e->stacks.n, &isnew);
	if (!idx) {
		e->oom = true;
		return 0;
	}
	if (isnew) {
		Stack *st;
		if (!table_add(e, &e->stacks, (void **)&st))
			return 0;
		opentelemetry__proto__profiles__v1development__stack__init(st);
		st->location_indices = li;
		st->n_location_indices = s->nframes;
	}
	return (int32_t)*idx;
}

static int table_init(struct profiles_dict *e, struct profiles_dict_table *t, size_t size)
{
	void *first;
	t->size = size;
	return table_add(e, t, &first) == 0 && first ? 0 : -ENOMEM; /* entry 0: the empty one */
}

void profiles_dict_free(struct profiles_dict *e)
{
	otlp_arena_free(&e->a);
	strtab_free(&e->strs);
	keymap_free(&e->fn_ids);
	keymap_free(&e->loc_ids);
	keymap_free(&e->stack_ids);
	keymap_free(&e->attr_ids);
	keymap_free(&e->chain_ids);
	keymap_free(&e->link_ids);
	free(e->links.v);
	free(e->maps.v);
	free(e->locs.v);
	free(e->fns.v);
	free(e->stacks.v);
	free(e->attrs.v);
	free(e->map_index);
}

/* The link to the server span of the request a sample served, as a dictionary index (0: the
 * zero link, for a sample that served none). */
int32_t profiles_dict_link(struct profiles_dict *e, const struct prof_request *r)
{
	if (!r->span_id)
		return 0;
	uint64_t hi, lo;
	memcpy(&hi, r->trace_id, 8);
	memcpy(&lo, r->trace_id + 8, 8);
	bool isnew;
	uint64_t *index = keymap_get(&e->link_ids, r->span_id, hi, lo, 0, &isnew);
	if (!index) {
		e->oom = true;
		return 0;
	}
	if (!isnew)
		return (int32_t)*index;
	Link *l;
	int32_t i = table_add(e, &e->links, (void **)&l);
	uint8_t *ids = otlp_arena_alloc(&e->a, 16 + 8);
	if (!l || !ids) {
		e->oom = true;
		return 0;
	}
	opentelemetry__proto__profiles__v1development__link__init(l);
	memcpy(ids, r->trace_id, 16);
	for (int b = 0; b < 8; b++) /* big-endian, as the spans' own ids */
		ids[16 + b] = (uint8_t)(r->span_id >> (56 - 8 * b));
	l->trace_id = (ProtobufCBinaryData){ 16, ids };
	l->span_id = (ProtobufCBinaryData){ 8, ids + 16 };
	*index = (uint64_t)i;
	return i;
}

int profiles_dict_init(struct profiles_dict *e, const struct prof *p)
{
	memset(e, 0, sizeof(*e));
	e->p = p;
	strtab_init(&e->strs);
	profiles_dict_str(e, ""); /* string_table[0] */
	if (table_init(e, &e->maps, sizeof(Mapping)) || table_init(e, &e->locs, sizeof(Location)) ||
	    table_init(e, &e->fns, sizeof(Function)) || table_init(e, &e->stacks, sizeof(Stack)) ||
	    table_init(e, &e->attrs, sizeof(KeyValueAndUnit)) || table_init(e, &e->links, sizeof(Link)))
		return -ENOMEM;
	opentelemetry__proto__profiles__v1development__mapping__init(e->maps.v);
	opentelemetry__proto__profiles__v1development__location__init(e->locs.v);
	opentelemetry__proto__profiles__v1development__function__init(e->fns.v);
	opentelemetry__proto__profiles__v1development__stack__init(e->stacks.v);
	opentelemetry__proto__profiles__v1development__key_value_and_unit__init(e->attrs.v);
	e->map_index = calloc(p->nmappings + 1, sizeof(*e->map_index));
	Link *link = e->links.v;
	/* link_table[0]: the zero link, with ids of their full lengths for strict decoders. */
	uint8_t *zero_ids = otlp_arena_alloc(&e->a, 16 + 8);
	if (!e->map_index || !zero_ids)
		return -ENOMEM;
	opentelemetry__proto__profiles__v1development__link__init(link);
	link->trace_id = (ProtobufCBinaryData){ 16, zero_ids };
	link->span_id = (ProtobufCBinaryData){ 8, zero_ids + 16 };
	return 0;
}

Dictionary *profiles_dict_finish(struct profiles_dict *e)
{
	if (e->kmap) {
		Mapping *km = (Mapping *)e->maps.v + e->kmap;
		prof_kernel_span_range(&e->kernel, &km->memory_start, &km->memory_limit);
	}
	Dictionary *d = otlp_arena_alloc(&e->a, sizeof(*d));
	if (!d)
		return NULL;
	opentelemetry__proto__profiles__v1development__profiles_dictionary__init(d);
	d->mapping_table = table_ptrs(e, &e->maps);
	d->n_mapping_table = e->maps.n;
	d->location_table = table_ptrs(e, &e->locs);
	d->n_location_table = e->locs.n;
	d->function_table = table_ptrs(e, &e->fns);
	d->n_function_table = e->fns.n;
	d->stack_table = table_ptrs(e, &e->stacks);
	d->n_stack_table = e->stacks.n;
	d->attribute_table = table_ptrs(e, &e->attrs);
	d->n_attribute_table = e->attrs.n;
	d->link_table = table_ptrs(e, &e->links);
	d->n_link_table = e->links.n;
	if (e->oom)
		return NULL;
	d->string_table = e->strs.strs;
	d->n_string_table = e->strs.n;
	return d;
}
