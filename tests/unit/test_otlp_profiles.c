// SPDX-License-Identifier: Apache-2.0
/* OTLP profiles: the encoder's request decoded with the generated code — the dictionary's
 * empty entries and deduplication, every index in range, stacks resolving to the frames they
 * came from, values per Profile, resources per process — and the profiles endpoint's
 * configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "metrics/registry.h"
#include "export/otlp_internal.h"
#include "otlp/profiles_service.pb-c.h"
#include "profile/profile_data.h"

typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceRequest Request;
typedef Opentelemetry__Proto__Profiles__V1development__ProfilesDictionary Dictionary;
typedef Opentelemetry__Proto__Profiles__V1development__Profile Profile;
typedef Opentelemetry__Proto__Profiles__V1development__Sample Sample;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

#define PERIOD 10000000ULL
#define N(a)   (sizeof(a) / sizeof((a)[0]))

static struct prof_mapping mappings[] = {
	{ .start = 0x400000, .limit = 0x500000, .file = "/usr/bin/app", .build_id = "abcd01" },
	{ .start = 0x7f0000000000,
	  .limit = 0x7f0000200000,
	  .file = "/usr/lib/libc.so.6",
	  .build_id = "ef02" },
	{ .start = 0x500000, .limit = 0x600000, .file = "/usr/bin/other" }, /* no build id */
};

#define MAIN                                                     \
	{                                                        \
		"main", "app.c", 10, 0x401000, 0, false, 0, NULL \
	}
#define FOO                                                     \
	{                                                       \
		"foo", "app.c", 20, 0x401100, 0, false, 0, NULL \
	}
#define FIB_LEAF                                                \
	{                                                       \
		"fib", "app.c", 30, 0x401200, 0, false, 0, NULL \
	}
#define FIB_CALL                                                \
	{                                                       \
		"fib", "app.c", 31, 0x401210, 0, false, 0, NULL \
	}

static struct prof_frame fib_stack[] = { FIB_LEAF, FIB_CALL, FIB_CALL, FOO, MAIN };
static struct prof_frame kernel_stack[] = {
	{ "do_syscall_64", NULL, 0, 0xffffffff81001000, -1, true, 0, NULL }, /* kernel, no mapping */
	{ "entry_SYSCALL_64", NULL, 0, 0xffffffff81002000, -1, true, 0, NULL },
	{ NULL, NULL, 0, 0x7f0000001234, 1, false, 0, NULL },	      /* unsymbolized libc frame */
	{ "bad\xff name", "app.c", 40, 0x401300, 0, false, 0, NULL }, /* not UTF-8 */
	MAIN,
};
static struct prof_frame other_stack[] = { { "run", "o.c", 5, 0x500100, 2, false, 0, NULL } };

#define SAMPLE(pid_, tid_, proc, thr, stack, n)                                                \
	{                                                                                      \
		.pid = pid_, .tid = tid_, .process = proc, .thread = thr, .nframes = N(stack), \
		.frames = stack, .count = n, .value_ns = (n)*PERIOD                            \
	}

static struct prof_sample samples[] = {
	SAMPLE(100, 100, "app", "app", fib_stack, 3),
	SAMPLE(100, 101, "app", "worker", fib_stack, 2), /* same stack, other thread */
	SAMPLE(100, 100, "app", "app", kernel_stack, 4),
	SAMPLE(200, 200, "other", NULL, other_stack, 1), /* a process without a resource */
};

static struct prof prof = {
	.kind = PROF_CPU,
	.period_ns = PERIOD,
	.time_ns = 1700000000000000000LL,
	.duration_ns = 5000000000LL,
	.nsamples = N(samples),
	.samples = samples,
	.nmappings = N(mappings),
	.mappings = mappings,
};

static Request *encode(const struct prof *p)
{
	struct otlp_config cfg;
	otlp_config_defaults(&cfg);
	struct resource res = {
		.service_name = "shop", .executable_name = "app", .host_name = "h", .pid = 100
	};
	uint8_t *buf;
	size_t len;
	assert_int_equal(otlp_encode_profiles(&cfg, p, &res, 1, &buf, &len), 0);
	Request *r =
		opentelemetry__proto__collector__profiles__v1development__export_profiles_service_request__unpack(
			NULL, len, buf);
	free(buf);
	assert_non_null(r);
	assert_non_null(r->dictionary);
	return r;
}

static void free_request(Request *r)
{
	opentelemetry__proto__collector__profiles__v1development__export_profiles_service_request__free_unpacked(
		r, NULL);
}

static const char *s(const Dictionary *d, int32_t i)
{
	assert_true(i >= 0 && (size_t)i < d->n_string_table);
	return d->string_table[i];
}

/* The attribute of key among indices, or NULL. */
static const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *attr(const Dictionary *d,
										  const int32_t *idx,
										  size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		assert_true(idx[i] > 0 && (size_t)idx[i] < d->n_attribute_table);
		if (!strcmp(s(d, d->attribute_table[idx[i]]->key_strindex), key))
			return d->attribute_table[idx[i]];
	}
	return NULL;
}

static const char *resource_str(const Opentelemetry__Proto__Resource__V1__Resource *r, const char *key)
{
	for (size_t i = 0; i < r->n_attributes; i++)
		if (!strcmp(r->attributes[i]->key, key))
			return r->attributes[i]->value->string_value;
	return NULL;
}

static void test_dictionary_rules(void **state)
{
	(void)state;
	Request *r = encode(&prof);
	const Dictionary *d = r->dictionary;
	/* Entry 0 of every table is present and empty. */
	assert_true(d->n_string_table > 1);
	assert_string_equal(d->string_table[0], "");
	assert_int_equal(d->mapping_table[0]->filename_strindex, 0);
	assert_int_equal(d->mapping_table[0]->n_attribute_indices, 0);
	assert_int_equal(d->location_table[0]->n_lines, 0);
	assert_int_equal(d->function_table[0]->name_strindex, 0);
	assert_int_equal(d->stack_table[0]->n_location_indices, 0);
	assert_int_equal(d->attribute_table[0]->key_strindex, 0);
	assert_int_equal(d->n_link_table, 1);
	assert_int_equal(d->link_table[0]->trace_id.len, 16);
	assert_int_equal(d->link_table[0]->span_id.len, 8);
	/* No duplicates: strings, functions by (name, file), stacks by locations. */
	for (size_t i = 0; i < d->n_string_table; i++)
		for (size_t j = i + 1; j < d->n_string_table; j++)
			assert_string_not_equal(d->string_table[i], d->string_table[j]);
	for (size_t i = 1; i < d->n_function_table; i++)
		for (size_t j = i + 1; j < d->n_function_table; j++)
			assert_false(d->function_table[i]->name_strindex ==
					     d->function_table[j]->name_strindex &&
				     d->function_table[i]->filename_strindex ==
					     d->function_table[j]->filename_strindex);
	/* fib, foo, main, do_syscall_64, entry_SYSCALL_64, [libc.so.6+0x1234], "bad\ufffd name", run */
	assert_int_equal(d->n_function_table, 1 + 8);
	/* locations: fib leaf, fib call, foo, main, 2 kernel, libc, bad, run */
	assert_int_equal(d->n_location_table, 1 + 9);
	/* stacks: fib (shared by two threads), kernel, other */
	assert_int_equal(d->n_stack_table, 1 + 3);
	/* Every index in range, every string valid UTF-8 (the unpack above checked it). */
	for (size_t i = 1; i < d->n_location_table; i++) {
		const Opentelemetry__Proto__Profiles__V1development__Location *l = d->location_table[i];
		assert_true(l->mapping_index >= 0 && (size_t)l->mapping_index < d->n_mapping_table);
		assert_int_equal(l->n_lines, 1);
		assert_true(l->lines[0]->function_index > 0 &&
			    (size_t)l->lines[0]->function_index < d->n_function_table);
	}
	for (size_t i = 1; i < d->n_stack_table; i++)
		for (size_t j = 0; j < d->stack_table[i]->n_location_indices; j++)
			assert_true(d->stack_table[i]->location_indices[j] > 0 &&
				    (size_t)d->stack_table[i]->location_indices[j] < d->n_location_table);
	free_request(r);
}

static void test_profiles_and_samples(void **state)
{
	(void)state;
	Request *r = encode(&prof);
	const Dictionary *d = r->dictionary;
	assert_int_equal(r->n_resource_profiles, 2); /* pid 100, pid 200 */
	const Opentelemetry__Proto__Profiles__V1development__ResourceProfiles *app = r->resource_profiles[0],
									      *other =
										      r->resource_profiles[1];
	assert_string_equal(resource_str(app->resource, "service.name"), "shop");
	assert_string_equal(resource_str(app->resource, "process.executable.name"), "app");
	/* Gone before its resource was read: its pid and name. */
	assert_string_equal(resource_str(other->resource, "service.name"), "other");
	assert_int_equal(app->n_scope_profiles, 1);
	assert_string_equal(app->scope_profiles[0]->scope->name, "glimpse");
	assert_int_equal(app->scope_profiles[0]->n_profiles, 2);
	const Profile *count = app->scope_profiles[0]->profiles[0],
		      *cpu = app->scope_profiles[0]->profiles[1];
	assert_string_equal(s(d, count->sample_type->type_strindex), "samples");
	assert_string_equal(s(d, count->sample_type->unit_strindex), "count");
	assert_string_equal(s(d, cpu->sample_type->type_strindex), "cpu");
	assert_string_equal(s(d, cpu->sample_type->unit_strindex), "nanoseconds");
	assert_string_equal(s(d, cpu->period_type->type_strindex), "cpu");
	assert_int_equal(cpu->period, PERIOD);
	assert_int_equal(cpu->time_unix_nano, prof.time_ns);
	assert_int_equal(cpu->duration_nano, prof.duration_ns);
	assert_int_equal(count->n_samples, 3);
	uint64_t total = 0, total_ns = 0;
	for (size_t i = 0; i < count->n_samples; i++) {
		assert_int_equal(count->samples[i]->n_values, 1);
		assert_int_equal(cpu->samples[i]->stack_index, count->samples[i]->stack_index);
		total += count->samples[i]->values[0];
		total_ns += cpu->samples[i]->values[0];
	}
	assert_int_equal(total, 3 + 2 + 4);
	assert_int_equal(total_ns, (3 + 2 + 4) * PERIOD);
	/* The same stack on two threads: one stack entry, two samples told apart by thread. */
	const Sample *a = count->samples[0], *b = count->samples[1];
	assert_int_equal(a->stack_index, b->stack_index);
	assert_string_equal(
		attr(d, a->attribute_indices, a->n_attribute_indices, "thread.name")->value->string_value,
		"app");
	assert_string_equal(
		attr(d, b->attribute_indices, b->n_attribute_indices, "thread.name")->value->string_value,
		"worker");
	assert_int_equal(attr(d, b->attribute_indices, b->n_attribute_indices, "thread.id")->value->int_value,
			 101);
	assert_int_equal(
		attr(d, b->attribute_indices, b->n_attribute_indices, "process.pid")->value->int_value, 100);
	/* The stack resolves to the frames, leaf first, with their lines. */
	const Opentelemetry__Proto__Profiles__V1development__Stack *st = d->stack_table[a->stack_index];
	const char *want[] = { "fib", "fib", "fib", "foo", "main" };
	const int64_t lines[] = { 30, 31, 31, 20, 10 };
	assert_int_equal(st->n_location_indices, 5);
	for (size_t i = 0; i < 5; i++) {
		const Opentelemetry__Proto__Profiles__V1development__Location *l =
			d->location_table[st->location_indices[i]];
		assert_string_equal(s(d, d->function_table[l->lines[0]->function_index]->name_strindex),
				    want[i]);
		assert_int_equal(l->lines[0]->line, lines[i]);
		assert_string_equal(s(d, d->mapping_table[l->mapping_index]->filename_strindex),
				    "/usr/bin/app");
	}
	/* The recursive callers share one location. */
	assert_int_equal(st->location_indices[1], st->location_indices[2]);
	/* Kernel frames without a mapping get one spanning them; libc keeps its build id. */
	const Opentelemetry__Proto__Profiles__V1development__Stack *ks =
		d->stack_table[count->samples[2]->stack_index];
	const Opentelemetry__Proto__Profiles__V1development__Mapping *km =
		d->mapping_table[d->location_table[ks->location_indices[0]]->mapping_index];
	assert_string_equal(s(d, km->filename_strindex), "[kernel.kallsyms]");
	assert_int_equal(km->memory_start, 0xffffffff81001000);
	assert_int_equal(km->memory_limit, 0xffffffff81002001);
	const Opentelemetry__Proto__Profiles__V1development__Mapping *libc =
		d->mapping_table[d->location_table[ks->location_indices[2]]->mapping_index];
	assert_string_equal(s(d, libc->filename_strindex), "/usr/lib/libc.so.6");
	assert_string_equal(
		attr(d, libc->attribute_indices, libc->n_attribute_indices, "process.executable.build_id.gnu")
			->value->string_value,
		"ef02");
	assert_string_equal(
		s(d, d->function_table[d->location_table[ks->location_indices[3]]->lines[0]->function_index]
			     ->name_strindex),
		"bad\xef\xbf\xbd name");
	/* A mapping without a build id has no attribute; a thread without a name no thread.name. */
	const Sample *o = other->scope_profiles[0]->profiles[0]->samples[0];
	const Opentelemetry__Proto__Profiles__V1development__Mapping *om =
		d->mapping_table[d->location_table[d->stack_table[o->stack_index]->location_indices[0]]
					 ->mapping_index];
	assert_int_equal(om->n_attribute_indices, 0);
	assert_null(attr(d, o->attribute_indices, o->n_attribute_indices, "thread.name"));
	free_request(r);
}

/* Calls inlined at an address: one Location whose Lines are the inlined functions, innermost
 * first, then the physical one (as Go's pprof writes them); the same address standing for
 * another chain (a return address, looked up at its call's line) is another Location. */
static void test_inlined_lines(void **state)
{
	(void)state;
	static const struct prof_inline leaf_chain[] = { { "spin", "m.go", 7 }, { "burnA", "m.go", 12 } };
	static const struct prof_inline call_chain[] = { { "burnA", "m.go", 13 } };
	struct prof_frame leaf[] = {
		{ "worker", "m.go", 30, 0x401500, 0, false, 2, leaf_chain },
		{ "worker", "m.go", 30, 0x401500, 0, false, 1, call_chain },
		{ "main", "m.go", 40, 0x401600, 0, false, 0, NULL },
	};
	struct prof_sample smp[] = { SAMPLE(100, 100, "app", "app", leaf, 1) };
	struct prof p = prof;
	p.samples = smp;
	p.nsamples = 1;
	Request *r = encode(&p);
	const Dictionary *d = r->dictionary;
	const struct {
		size_t nlines;
		const char *func[3];
		int64_t line[3];
	} want[] = { { 3, { "spin", "burnA", "worker" }, { 7, 12, 30 } },
		     { 2, { "burnA", "worker" }, { 13, 30 } },
		     { 1, { "main" }, { 40 } } };
	const Opentelemetry__Proto__Profiles__V1development__Sample *sm =
		r->resource_profiles[0]->scope_profiles[0]->profiles[0]->samples[0];
	const Opentelemetry__Proto__Profiles__V1development__Stack *st = d->stack_table[sm->stack_index];
	assert_int_equal(st->n_location_indices, 3);
	for (size_t i = 0; i < 3; i++) {
		const Opentelemetry__Proto__Profiles__V1development__Location *loc =
			d->location_table[st->location_indices[i]];
		assert_int_equal(loc->n_lines, want[i].nlines);
		for (size_t k = 0; k < want[i].nlines; k++) {
			assert_string_equal(
				s(d, d->function_table[loc->lines[k]->function_index]->name_strindex),
				want[i].func[k]);
			assert_int_equal(loc->lines[k]->line, want[i].line[k]);
		}
	}
	assert_int_not_equal(st->location_indices[0], st->location_indices[1]); /* same address */
	free_request(r);
}

/* Samples of requests: the route and method as attributes, the server span as a link (one per
 * span, shared), big-endian span ids as the spans' own; a sample of no request has link 0. */
static void test_request_labels(void **state)
{
	(void)state;
	struct prof_sample smp[] = { SAMPLE(100, 100, "app", "app", fib_stack, 2),
				     SAMPLE(100, 101, "app", "app", kernel_stack, 1),
				     SAMPLE(100, 100, "app", "app", other_stack, 4),
				     SAMPLE(100, 102, "app", "app", fib_stack, 3) };
	const struct prof_request hash = { .trace_id = { 0xaa, [15] = 0x01 },
					   .span_id = 0x0102030405060708ULL,
					   .route = "/burn/hash",
					   .method = "GET" };
	smp[0].request = hash;
	smp[1].request = hash;
	smp[2].request = (struct prof_request){ .trace_id = { 0xbb }, .span_id = 9 }; /* still running */
	struct prof p = prof;
	p.samples = smp;
	p.nsamples = N(smp);
	Request *r = encode(&p);
	const Dictionary *d = r->dictionary;
	assert_int_equal(d->n_link_table, 3); /* the zero link, hash's span, the running one's */
	const Opentelemetry__Proto__Profiles__V1development__Profile *pr =
		r->resource_profiles[0]->scope_profiles[0]->profiles[0];
	assert_int_equal(pr->n_samples, 4);
	for (size_t i = 0; i < 2; i++) {
		const Opentelemetry__Proto__Profiles__V1development__Sample *sm = pr->samples[i];
		const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *route =
			attr(d, sm->attribute_indices, sm->n_attribute_indices, "http.route");
		const Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit *method =
			attr(d, sm->attribute_indices, sm->n_attribute_indices, "http.request.method");
		assert_non_null(route);
		assert_non_null(method);
		assert_string_equal(route->value->string_value, "/burn/hash");
		assert_string_equal(method->value->string_value, "GET");
		assert_int_equal(sm->link_index, pr->samples[0]->link_index);
	}
	const Opentelemetry__Proto__Profiles__V1development__Link *l =
		d->link_table[pr->samples[0]->link_index];
	const uint8_t span[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(l->trace_id.len, 16);
	assert_int_equal(l->trace_id.data[0], 0xaa);
	assert_int_equal(l->trace_id.data[15], 0x01);
	assert_int_equal(l->span_id.len, 8);
	assert_memory_equal(l->span_id.data, span, 8);
	/* Running at the cut: its link, no route or method. */
	const Opentelemetry__Proto__Profiles__V1development__Sample *running = pr->samples[2];
	assert_int_not_equal(running->link_index, 0);
	assert_null(attr(d, running->attribute_indices, running->n_attribute_indices, "http.route"));
	assert_null(attr(d, running->attribute_indices, running->n_attribute_indices, "http.request.method"));
	assert_int_equal(d->link_table[running->link_index]->span_id.data[7], 9);
	assert_int_equal(pr->samples[3]->link_index, 0);
	assert_null(attr(d, pr->samples[3]->attribute_indices, pr->samples[3]->n_attribute_indices,
			 "http.route"));
	free_request(r);
}

static void test_offcpu_values(void **state)
{
	(void)state;
	struct prof off = prof;
	off.kind = PROF_OFFCPU;
	off.period_ns = 0;
	Request *r = encode(&off);
	const Dictionary *d = r->dictionary;
	const Profile *ns = r->resource_profiles[0]->scope_profiles[0]->profiles[1];
	assert_string_equal(s(d, ns->sample_type->type_strindex), "offcpu");
	assert_string_equal(s(d, ns->sample_type->unit_strindex), "nanoseconds");
	assert_null(ns->period_type);
	free_request(r);
}

/* A sample's times go out as timestamps, each with its own value (a sample of one period);
 * samples without recorded times keep their one aggregated value. */
static void test_sample_timestamps(void **state)
{
	(void)state;
	static const uint64_t times[3] = { 1700000000100000000ULL, 1700000000200000000ULL,
					   1700000000300000000ULL };
	struct prof_sample timed[N(samples)];
	memcpy(timed, samples, sizeof(samples));
	timed[0].times = times; /* count 3 */
	struct prof p = prof;
	p.samples = timed;
	Request *r = encode(&p);
	const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sc =
		r->resource_profiles[0]->scope_profiles[0];
	for (int v = 0; v < 2; v++) {
		const Profile *pr = sc->profiles[v];
		const Sample *first = pr->samples[0], *second = pr->samples[1];
		assert_int_equal(first->n_timestamps_unix_nano, 3);
		assert_int_equal(first->n_values, 3);
		for (int k = 0; k < 3; k++) {
			assert_int_equal(first->timestamps_unix_nano[k], times[k]);
			assert_int_equal(first->values[k], v ? PERIOD : 1);
		}
		assert_int_equal(second->n_timestamps_unix_nano, 0);
		assert_int_equal(second->n_values, 1);
		assert_int_equal(second->values[0], v ? 2 * PERIOD : 2);
	}
	free_request(r);
}

static void test_empty_profile(void **state)
{
	(void)state;
	struct prof empty = { .kind = PROF_CPU, .period_ns = PERIOD };
	Request *r = encode(&empty);
	assert_int_equal(r->n_resource_profiles, 0);
	assert_string_equal(r->dictionary->string_table[0], "");
	free_request(r);
}

static void test_profiles_endpoint(void **state)
{
	(void)state;
	struct otlp_config c;
	char err[256];
	otlp_config_defaults(&c);
	assert_string_equal(c.profiles_url, "http://localhost:4318/v1development/profiles");
	assert_int_equal(otlp_config_set_flag(&c, OTLP_ENDPOINT, "--otlp-endpoint", "http://c:4318/", err,
					      sizeof(err)),
			 0);
	assert_string_equal(c.profiles_url, "http://c:4318/v1development/profiles");
	assert_string_equal(c.traces_url, "http://c:4318/v1/traces");
	/* A per-signal value is used as is, and only for its signal. */
	assert_int_equal(otlp_config_set_flag(&c, OTLP_PROFILES_ENDPOINT, "--otlp-profiles-endpoint",
					      "http://p/x", err, sizeof(err)),
			 0);
	assert_string_equal(c.profiles_url, "http://p/x");
	assert_string_equal(c.metrics_url, "http://c:4318/v1/metrics");
	assert_string_equal(otlp_setting_env(OTLP_PROFILES_ENDPOINT), "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT");
}

/* A receiver that refuses: the queue holds OTLP_PROFILES_QUEUE, the oldest go first, and every
 * profile is accounted for once stopped. */
static void test_queue_accounting(void **state)
{
	(void)state;
	struct otlp_config cfg;
	char err[256];
	otlp_config_defaults(&cfg);
	assert_int_equal(
		otlp_config_set_flag(&cfg, OTLP_ENDPOINT, NULL, "http://127.0.0.1:1", err, sizeof(err)), 0);
	struct otlp_exporter *e = otlp_exporter_start(&cfg, err, sizeof(err));
	assert_non_null(e);
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_int_equal(otlp_exporter_register_metrics(e, reg), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(otlp_enqueue_profile(e, &prof, NULL, 0), 0);
	struct otlp_stats st;
	otlp_exporter_stats(e, &st);
	/* At most one in flight and OTLP_PROFILES_QUEUE waiting: the others were dropped. */
	assert_true(st.profiles_dropped >= 10 - OTLP_PROFILES_QUEUE - 1);
	otlp_exporter_stop(e, 0);
	assert_int_equal(otlp_enqueue_profile(e, &prof, NULL, 0), -ESHUTDOWN);
	otlp_exporter_stats(e, &st);
	assert_int_equal(st.profiles_enqueued, 11);
	assert_int_equal(st.profiles_exported, 0);
	assert_int_equal(st.profiles_enqueued,
			 st.profiles_exported + st.profiles_dropped + st.profiles_failed);
	char *text, line[96];
	size_t len;
	assert_int_equal(metrics_registry_render_prometheus(reg, &text, &len), 0);
	snprintf(line, sizeof(line), "glimpse_otlp_profiles_dropped_total %llu\n",
		 (unsigned long long)st.profiles_dropped);
	assert_non_null(strstr(text, line));
	free(text);
	otlp_exporter_free(e);
	metrics_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dictionary_rules),  cmocka_unit_test(test_profiles_and_samples),
		cmocka_unit_test(test_inlined_lines),	  cmocka_unit_test(test_offcpu_values),
		cmocka_unit_test(test_empty_profile),	  cmocka_unit_test(test_profiles_endpoint),
		cmocka_unit_test(test_queue_accounting),  cmocka_unit_test(test_request_labels),
		cmocka_unit_test(test_sample_timestamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
