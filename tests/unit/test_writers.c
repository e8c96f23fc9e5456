// SPDX-License-Identifier: Apache-2.0
/* Profile writers on a hand-built profile: pprof, folded, top table, SVG flame graph. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/outfile.h"
#include "profile.pb-c.h"
#include "profile/writers/profile_util.h"
#include "profile/writers/profile_writers.h"

#define WEIRD  "ns::Weird<A&B>;x\"q\""
#define PERIOD 10000000ULL

static struct prof_mapping mappings[] = {
	{ .start = 0x400000,
	  .limit = 0x500000,
	  .file = "/usr/bin/app",
	  .build_id = "abcd01",
	  .has_functions = true,
	  .has_filenames = true,
	  .has_line_numbers = true },
	{ .start = 0x7f0000000000,
	  .limit = 0x7f0000200000,
	  .file_offset = 0x28000,
	  .file = "/usr/lib/x86_64-linux-gnu/libc.so.6" },
	{ .start = 0xffffffff81000000,
	  .limit = 0xffffffff82000000,
	  .file = "[kernel.kallsyms]",
	  .has_functions = true },
};

#define MAIN                                                     \
	{                                                        \
		"main", "app.c", 10, 0x401000, 0, false, 0, NULL \
	}
#define FOO                                                     \
	{                                                       \
		"foo", "app.c", 20, 0x401100, 0, false, 0, NULL \
	}
/* fib recursing: the leaf is executing, the callers share one return address */
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
	{ "do_syscall_64", NULL, 0, 0xffffffff81001000, -1, true, 0, NULL }, /* kernel without mapping */
	{ "entry_SYSCALL_64", NULL, 0, 0xffffffff81002000, 2, true, 0, NULL },
	{ NULL, NULL, 0, 0x7f0000001234, 1, false, 0, NULL }, /* unsymbolized libc frame */
	{ WEIRD, "app.c", 40, 0x401300, 0, false, 0, NULL },
	MAIN,
};
static struct prof_frame unknown_stack[] = { { NULL, NULL, 0, 0xdead, -1, false, 0, NULL }, MAIN };
static struct prof_frame foo_stack[] = { FOO, MAIN };

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SAMPLE(pid_, tid_, proc, thr, stack, n)                                                \
	{                                                                                      \
		.pid = pid_, .tid = tid_, .process = proc, .thread = thr, .nframes = N(stack), \
		.frames = stack, .count = n, .value_ns = (n)*PERIOD                            \
	}

static struct prof_sample samples[] = {
	SAMPLE(100, 100, "app", "app", fib_stack, 3),
	SAMPLE(100, 101, "app", "worker", fib_stack, 2), /* same stack, other thread */
	SAMPLE(100, 100, "app", "app", kernel_stack, 4),
	SAMPLE(200, 200, "other", "other", unknown_stack, 1),
	SAMPLE(100, 100, "app", "app", foo_stack, 1),
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

static char tmpdir[] = "/tmp/test_writers.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static char *path_in_tmp(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

/* Only the named file, no leftover temporaries. */
static int files_in_tmp(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static Perftools__Profiles__Profile *decode(const struct prof *p)
{
	Perftools__Profiles__Profile *pp;
	uint8_t *buf;
	size_t len;

	assert_int_equal(pprof_encode(p, &buf, &len), 0);
	pp = perftools__profiles__profile__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(pp);
	return pp;
}

static const char *s(const Perftools__Profiles__Profile *pp, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < pp->n_string_table);
	return pp->string_table[i];
}

static const Perftools__Profiles__Location *loc(const Perftools__Profiles__Profile *pp, uint64_t id)
{
	for (size_t i = 0; i < pp->n_location; i++)
		if (pp->location[i]->id == id)
			return pp->location[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const char *loc_func(const Perftools__Profiles__Profile *pp, uint64_t id)
{
	const Perftools__Profiles__Location *l = loc(pp, id);

	assert_int_equal(l->n_line, 1);
	for (size_t i = 0; i < pp->n_function; i++)
		if (pp->function[i]->id == l->line[0]->function_id)
			return s(pp, pp->function[i]->name);
	fail_msg("no function %llu", (unsigned long long)l->line[0]->function_id);
	return NULL;
}

static const Perftools__Profiles__Label *label(const Perftools__Profiles__Profile *pp,
					       const Perftools__Profiles__Sample *sm, const char *key)
{
	for (size_t i = 0; i < sm->n_label; i++)
		if (!strcmp(s(pp, sm->label[i]->key), key))
			return sm->label[i];
	fail_msg("no label %s", key);
	return NULL;
}

static void test_pprof_encode(void **state)
{
	Perftools__Profiles__Profile *pp = decode(&prof);

	(void)state;
	/* header */
	assert_int_equal(pp->n_sample_type, 2);
	assert_string_equal(s(pp, pp->sample_type[0]->type), "samples");
	assert_string_equal(s(pp, pp->sample_type[0]->unit), "count");
	assert_string_equal(s(pp, pp->sample_type[1]->type), "cpu");
	assert_string_equal(s(pp, pp->sample_type[1]->unit), "nanoseconds");
	assert_string_equal(s(pp, pp->default_sample_type), "cpu");
	assert_non_null(pp->period_type);
	assert_string_equal(s(pp, pp->period_type->type), "cpu");
	assert_string_equal(s(pp, pp->period_type->unit), "nanoseconds");
	assert_int_equal(pp->period, PERIOD);
	assert_int_equal(pp->time_nanos, prof.time_ns);
	assert_int_equal(pp->duration_nanos, prof.duration_ns);

	/* string table: "" first, no duplicates */
	assert_true(pp->n_string_table > 1);
	assert_string_equal(pp->string_table[0], "");
	for (size_t i = 0; i < pp->n_string_table; i++)
		for (size_t j = i + 1; j < pp->n_string_table; j++)
			assert_string_not_equal(pp->string_table[i], pp->string_table[j]);

	/* mappings: the given three, the kernel one reused for the frame that had none */
	assert_int_equal(pp->n_mapping, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(pp->mapping[i]->id, i + 1);
		assert_string_equal(s(pp, pp->mapping[i]->filename), mappings[i].file);
		assert_int_equal(pp->mapping[i]->memory_start, mappings[i].start);
		assert_int_equal(pp->mapping[i]->memory_limit, mappings[i].limit);
		assert_int_equal(pp->mapping[i]->file_offset, mappings[i].file_offset);
		assert_true(pp->mapping[i]->has_functions);
	}
	assert_string_equal(s(pp, pp->mapping[0]->build_id), "abcd01");
	assert_string_equal(s(pp, pp->mapping[1]->build_id), "");
	assert_true(pp->mapping[0]->has_line_numbers);
	assert_false(pp->mapping[1]->has_line_numbers);

	/* main foo fib weird do_syscall_64 entry_SYSCALL_64 [libc.so.6+0x29234] [unknown] */
	assert_int_equal(pp->n_function, 8);
	/* as above, but fib twice (leaf and return address) */
	assert_int_equal(pp->n_location, 9);

	assert_int_equal(pp->n_sample, 5);
	for (size_t i = 0; i < 5; i++) {
		const Perftools__Profiles__Sample *sm = pp->sample[i];

		assert_int_equal(sm->n_value, 2);
		assert_int_equal(sm->value[0], samples[i].count);
		assert_int_equal(sm->value[1], samples[i].count * PERIOD);
		assert_int_equal(sm->n_location_id, samples[i].nframes);
		assert_int_equal(sm->n_label, 4);
		assert_int_equal(label(pp, sm, "pid")->num, samples[i].pid);
		assert_int_equal(label(pp, sm, "tid")->num, samples[i].tid);
		assert_string_equal(s(pp, label(pp, sm, "process")->str), samples[i].process);
		assert_string_equal(s(pp, label(pp, sm, "thread")->str), samples[i].thread);
		for (size_t j = 0; j < sm->n_location_id; j++) {
			const struct prof_frame *f = &samples[i].frames[j];
			const char *want = f->func	     ? f->func
					   : f->mapping == 1 ? "[libc.so.6+0x29234]"
							     : "[unknown]";

			assert_string_equal(loc_func(pp, sm->location_id[j]), want);
		}
	}
	/* leaf first; recursion reuses a location; threads keep their own samples */
	assert_int_equal(pp->sample[0]->location_id[1], pp->sample[0]->location_id[2]);
	assert_int_not_equal(pp->sample[0]->location_id[0], pp->sample[0]->location_id[1]);
	assert_memory_equal(pp->sample[0]->location_id, pp->sample[1]->location_id, 5 * sizeof(uint64_t));
	assert_string_equal(s(pp, label(pp, pp->sample[1], "thread")->str), "worker");

	/* kernel frames: plain names, in the kernel mapping */
	assert_int_equal(loc(pp, pp->sample[2]->location_id[0])->mapping_id, 3);
	assert_int_equal(loc(pp, pp->sample[2]->location_id[0])->address, 0xffffffff81001000);
	assert_int_equal(loc(pp, pp->sample[2]->location_id[1])->mapping_id, 3);
	assert_string_equal(loc_func(pp, pp->sample[2]->location_id[2]), "[libc.so.6+0x29234]");
	assert_int_equal(loc(pp, pp->sample[2]->location_id[2])->mapping_id, 2);
	assert_int_equal(loc(pp, pp->sample[3]->location_id[0])->mapping_id, 0);
	assert_int_equal(loc(pp, pp->sample[0]->location_id[0])->line[0]->line, 30);
	perftools__profiles__profile__free_unpacked(pp, NULL);
}

static void test_pprof_offcpu_and_synthesized_kernel_mapping(void **state)
{
	struct prof_frame frames[] = {
		{ "schedule", NULL, 0, 0xffffffff81000100, -1, true, 0, NULL },
		{ "read", NULL, 0, 0x1000, -1, false, 0, NULL },
	};
	struct prof_sample sm = { 7, 8, NULL, NULL, 2, frames, 1, 123456, { .span_id = 0 }, NULL };
	struct prof p = { .kind = PROF_OFFCPU, .nsamples = 1, .samples = &sm };
	Perftools__Profiles__Profile *pp = decode(&p);

	(void)state;
	assert_string_equal(s(pp, pp->sample_type[1]->type), "offcpu");
	assert_string_equal(s(pp, pp->default_sample_type), "offcpu");
	assert_int_equal(pp->sample[0]->value[1], 123456);
	assert_int_equal(pp->n_mapping, 1);
	assert_string_equal(s(pp, pp->mapping[0]->filename), "[kernel.kallsyms]");
	assert_int_equal(pp->mapping[0]->memory_start, 0xffffffff81000100);
	assert_int_equal(loc(pp, pp->sample[0]->location_id[0])->mapping_id, 1);
	assert_int_equal(loc(pp, pp->sample[0]->location_id[1])->mapping_id, 0);
	/* no thread name: no thread label; no process name: "[unknown]" */
	assert_int_equal(pp->sample[0]->n_label, 3);
	assert_string_equal(s(pp, label(pp, pp->sample[0], "process")->str), "[unknown]");
	perftools__profiles__profile__free_unpacked(pp, NULL);
}

/* The mapping of a frame, as both mapping writers (pprof, OTLP) assign it: kernel frames that
 * come without one go to the profile's kernel mapping, else to the writer's own, which spans
 * exactly their addresses; other frames without one have none. */
static void test_frame_mapping_kernel_fallback(void **state)
{
	struct prof with = { .nmappings = N(mappings), .mappings = mappings }, without = { 0 };
	struct prof_frame kfar = { "x", NULL, 0, 0xffffffff81009000, -1, true, 0, NULL };
	struct prof_frame user = { NULL, NULL, 0, 0xdead, -1, false, 0, NULL };
	struct prof_kernel_span k = { 0 };
	uint64_t start = 0, limit = 0;

	(void)state;
	assert_int_equal(prof_frame_mapping(&with, &k, &kernel_stack[1]), 2); /* its own */
	assert_int_equal(prof_frame_mapping(&with, &k, &kernel_stack[0]), 2); /* the profile's */
	assert_int_equal(prof_frame_mapping(&with, &k, &user), PROF_NO_MAPPING);
	assert_false(prof_kernel_span_range(&k, &start, &limit));

	k = (struct prof_kernel_span){ 0 };
	assert_int_equal(prof_frame_mapping(&without, &k, &user), PROF_NO_MAPPING);
	assert_false(prof_kernel_span_range(&k, &start, &limit)); /* no kernel frame yet */
	assert_int_equal(prof_frame_mapping(&without, &k, &kfar), PROF_WRITER_KERNEL_MAPPING);
	assert_int_equal(prof_frame_mapping(&without, &k, &kernel_stack[0]), PROF_WRITER_KERNEL_MAPPING);
	assert_true(prof_kernel_span_range(&k, &start, &limit));
	assert_int_equal(start, 0xffffffff81001000);
	assert_int_equal(limit, 0xffffffff81009001);
}

/* A sample of a request: its route, method and ids as string labels, ids in W3C's hex; one of
 * a request still running at the cut: its ids only. */
static void test_pprof_request_labels(void **state)
{
	(void)state;
	struct prof_sample smp[] = { samples[0], samples[1] };
	smp[0].request = (struct prof_request){ .trace_id = { 0x4b, 0xf9, [15] = 0x36 },
						.span_id = 0x00f067aa0ba902b7ULL,
						.route = "/users/{id}",
						.method = "GET" };
	smp[1].request = (struct prof_request){ .trace_id = { 1 }, .span_id = 2 };
	struct prof p = prof;
	p.samples = smp;
	p.nsamples = 2;
	Perftools__Profiles__Profile *pp = decode(&p);
	const Perftools__Profiles__Sample *sm = pp->sample[0];
	assert_int_equal(sm->n_label, 8);
	assert_string_equal(s(pp, label(pp, sm, "http.route")->str), "/users/{id}");
	assert_string_equal(s(pp, label(pp, sm, "http.request.method")->str), "GET");
	assert_string_equal(s(pp, label(pp, sm, "trace_id")->str), "4bf90000000000000000000000000036");
	assert_string_equal(s(pp, label(pp, sm, "span_id")->str), "00f067aa0ba902b7");
	sm = pp->sample[1];
	assert_int_equal(sm->n_label, 6);
	assert_string_equal(s(pp, label(pp, sm, "span_id")->str), "0000000000000002");
	for (size_t i = 0; i < sm->n_label; i++)
		assert_string_not_equal(s(pp, sm->label[i]->key), "http.route");
	perftools__profiles__profile__free_unpacked(pp, NULL);
}

static void test_pprof_write(void **state)
{
	char *path = path_in_tmp("cpu.pb.gz");
	uint8_t *want, got[1 << 16];
	size_t len;
	gzFile gz;
	int n;

	(void)state;
	assert_int_equal(pprof_write(&prof, path), 0);
	assert_int_equal(files_in_tmp(), 1);
	assert_int_equal(pprof_encode(&prof, &want, &len), 0);
	assert_non_null(gz = gzopen(path, "rb"));
	assert_int_equal(gzdirect(gz), 0); /* really compressed */
	n = gzread(gz, got, sizeof(got));
	gzclose(gz);
	assert_int_equal(n, len);
	assert_memory_equal(got, want, len);
	free(want);
	assert_int_equal(pprof_write(&prof, "/nonexistent/dir/x.pb.gz"), -ENOENT);
	unlink(path);
}

static char *capture(int (*fn)(const struct prof *, FILE *), const struct prof *p)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fn(p, f), 0);
	fclose(f);
	return buf;
}

static void test_folded(void **state)
{
	char *out = capture(folded_fprint, &prof);
	FILE *f;
	char file[512];
	size_t n;

	(void)state;
	assert_string_equal(out, "app;main;foo 1\n"
				 "app;main;foo;fib;fib;fib 5\n"
				 "app;main;ns::Weird<A&B>:x\"q\";[libc.so.6+0x29234];entry_SYSCALL_64_[k];do_"
				 "syscall_64_[k] 4\n"
				 "other;main;[unknown] 1\n");
	assert_int_equal(folded_write(&prof, path_in_tmp("out.folded")), 0);
	assert_int_equal(files_in_tmp(), 1);
	assert_non_null(f = fopen(path_in_tmp("out.folded"), "r"));
	n = fread(file, 1, sizeof(file) - 1, f);
	file[n] = 0;
	fclose(f);
	assert_string_equal(file, out);
	unlink(path_in_tmp("out.folded"));
	free(out);
}

static int top_all(const struct prof *p, FILE *f)
{
	top_print(p, f, 0);
	return 0;
}

static int top_3(const struct prof *p, FILE *f)
{
	top_print(p, f, 3);
	return 0;
}

static void test_top(void **state)
{
	char *all = capture(top_all, &prof), *three = capture(top_3, &prof);
	struct prof empty = { 0 };
	char *none = capture(top_all, &empty);

	(void)state;
	/* recursion counts once (fib cum 5, not 15); main appears in every sample */
	assert_string_equal(all, "Total: 11 samples in 8 functions, showing 8\n"
				 "      flat   flat%        cum    cum%  function\n"
				 "         5  45.45%          5  45.45%  fib\n"
				 "         4  36.36%          4  36.36%  do_syscall_64 [k]\n"
				 "         1   9.09%          1   9.09%  [unknown]\n"
				 "         1   9.09%          6  54.55%  foo\n"
				 "         0   0.00%          4  36.36%  [libc.so.6+0x29234]\n"
				 "         0   0.00%          4  36.36%  entry_SYSCALL_64 [k]\n"
				 "         0   0.00%         11 100.00%  main\n"
				 "         0   0.00%          4  36.36%  " WEIRD "\n");
	assert_string_equal(three, "Total: 11 samples in 8 functions, showing 3\n"
				   "      flat   flat%        cum    cum%  function\n"
				   "         5  45.45%          5  45.45%  fib\n"
				   "         4  36.36%          4  36.36%  do_syscall_64 [k]\n"
				   "         1   9.09%          1   9.09%  [unknown]\n");
	assert_string_equal(none, "Total: 0 samples in 0 functions, showing 0\n"
				  "      flat   flat%        cum    cum%  function\n");
	free(all);
	free(three);
	free(none);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = malloc(n + 1));
	assert_int_equal(fread(buf, 1, n, f), n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void check_xml(const char *path)
{
	char cmd[512];

	if (system("command -v xmllint >/dev/null 2>&1"))
		skip();
	snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* Off-CPU profiles weigh samples by time blocked, in microseconds (rounded), not by count. */
static struct prof_sample offcpu_samples[] = {
	{ 100,
	  100,
	  "app",
	  "app",
	  N(foo_stack),
	  foo_stack,
	  3,
	  30000000,
	  { .span_id = 0 },
	  NULL }, /* 3 blocks, 30 ms */
	{ 100,
	  101,
	  "app",
	  "worker",
	  N(foo_stack),
	  foo_stack,
	  1,
	  20000499,
	  { .span_id = 0 },
	  NULL }, /* rounds down */
	{ 100,
	  100,
	  "app",
	  "app",
	  N(fib_stack),
	  fib_stack,
	  100,
	  1500,
	  { .span_id = 0 },
	  NULL }, /* rounds up */
	{ 100,
	  100,
	  "app",
	  "app",
	  N(unknown_stack),
	  unknown_stack,
	  1,
	  400,
	  { .span_id = 0 },
	  NULL }, /* 0 us: no folded line */
};

static struct prof offcpu_prof = {
	.kind = PROF_OFFCPU,
	.nsamples = N(offcpu_samples),
	.samples = offcpu_samples,
	.nmappings = N(mappings),
	.mappings = mappings,
};

static void test_offcpu_weights(void **state)
{
	char *folded = capture(folded_fprint, &offcpu_prof), *top = capture(top_3, &offcpu_prof);
	char *path = path_in_tmp("offcpu.svg"), *svg;
	Perftools__Profiles__Profile *pp = decode(&offcpu_prof);

	(void)state;
	assert_string_equal(folded, "app;main;foo 50000\n"
				    "app;main;foo;fib;fib;fib 2\n");
	assert_string_equal(top, "Total: 50002 us in 4 functions, showing 3\n"
				 "      flat   flat%        cum    cum%  function\n"
				 "     50000 100.00%      50002 100.00%  foo\n"
				 "         2   0.00%          2   0.00%  fib\n"
				 "         0   0.00%          0   0.00%  [unknown]\n");
	assert_int_equal(flamegraph_write_svg(&offcpu_prof, path, "off-CPU"), 0);
	check_xml(path);
	svg = slurp(path);
	assert_non_null(strstr(svg, "<title>foo (50002 us, 100.00 %)</title>"));
	assert_non_null(strstr(svg, "<title>all (50002 us, 100.00 %)</title>"));
	/* pprof keeps both exact values: blocks and nanoseconds */
	assert_int_equal(pp->n_sample, 4);
	assert_int_equal(pp->sample[1]->value[0], 1);
	assert_int_equal(pp->sample[1]->value[1], 20000499);
	assert_int_equal(pp->sample[2]->value[0], 100);
	assert_int_equal(pp->sample[2]->value[1], 1500);
	perftools__profiles__profile__free_unpacked(pp, NULL);
	free(svg);
	unlink(path);
	free(folded);
	free(top);
}

static void test_flamegraph(void **state)
{
	char *path = path_in_tmp("fg.svg"), *svg;

	(void)state;
	assert_int_equal(flamegraph_write_svg(&prof, path, "CPU <t&t> \"q\""), 0);
	assert_int_equal(files_in_tmp(), 1);
	check_xml(path);
	svg = slurp(path);
	assert_non_null(strstr(svg, ">CPU &lt;t&amp;t&gt; &quot;q&quot;</text>"));
	assert_non_null(
		strstr(svg, "<title>ns::Weird&lt;A&amp;B&gt;;x&quot;q&quot; (4 samples, 36.36 %)</title>"));
	assert_non_null(strstr(svg, "<title>all (11 samples, 100.00 %)</title>"));
	assert_non_null(strstr(svg, "<title>app (10 samples, 90.91 %)</title>"));
	/* the recursion is three frames deep, not merged */
	assert_non_null(strstr(svg, "<title>fib (5 samples, 45.45 %)</title>"));
	assert_non_null(strstr(svg, "<title>do_syscall_64 (4 samples, 36.36 %)</title>"));
	assert_non_null(strstr(svg, "<title>[unknown] (1 samples, 9.09 %)</title>"));
	assert_non_null(strstr(svg, "<![CDATA["));
	free(svg);
	unlink(path);
}

/* Symbol names are whatever the binary says: the SVG must stay well-formed. */
static void test_flamegraph_hostile_names(void **state)
{
	struct prof_frame frames[] = {
		{ "bad\xff\xfe utf8 \xe2\x82 cut", NULL, 0, 1, -1, false, 0, NULL },
		{ "ctl\x01\x1f\ttab", NULL, 0, 2, -1, false, 0, NULL },
		{ "cdata]]>end", NULL, 0, 3, -1, false, 0, NULL },
		{ "\xc3\xbcml\xc3\xa4ut\xe2\x86\x92\xf0\x9f\x94\xa5 surrogate \xed\xa0\x80", NULL, 0, 4, -1,
		  true, 0, NULL },
	};
	struct prof_frame tiny[] = { { "tiny", NULL, 0, 5, -1, false, 0, NULL } };
	struct prof_sample sm[] = {
		{ 1, 1, NULL, NULL, N(frames), frames, 10000, 0, { .span_id = 0 }, NULL },
		{ 1, 1, "all", NULL, N(tiny), tiny, 1, 0, { .span_id = 0 }, NULL }, /* 0.01 %: left out */
	};
	struct prof p = { .nsamples = N(sm), .samples = sm };
	struct prof none = { 0 };
	char *path = path_in_tmp("hostile.svg"), *svg;

	(void)state;
	assert_int_equal(flamegraph_write_svg(&p, path, NULL), 0);
	check_xml(path);
	svg = slurp(path);
	assert_non_null(strstr(svg, "\xc3\xbcml\xc3\xa4ut\xe2\x86\x92\xf0\x9f\x94\xa5"));
	assert_non_null(strstr(svg, "cdata]]&gt;end"));
	assert_null(strstr(svg, "tiny"));
	free(svg);
	/* An existing file is never replaced without --force (base/outfile.h). */
	assert_int_equal(flamegraph_write_svg(&none, path, "empty"), -EEXIST);
	outfile_set_force(true);
	assert_int_equal(flamegraph_write_svg(&none, path, "empty"), 0);
	outfile_set_force(false);
	check_xml(path);
	assert_int_equal(flamegraph_write_svg(&p, "/nonexistent/x.svg", NULL), -ENOENT);
	unlink(path);
}

/* Go inlined inlC into inlB and inlB into worker: one address, three source frames. pprof gets
 * one Location with three Lines (innermost first, as Go writes them); folded, the flame graph
 * and top show each as a frame, flat time on the innermost. */
static const struct prof_inline worker_inlined[] = {
	{ "main.inlC", "main.go", 79 },
	{ "main.inlB", "main.go", 74 },
};

static void test_inlined_frames(void **state)
{
	struct prof_frame frames[] = {
		{ "main.worker", "main.go", 103, 0x401500, 0, false, N(worker_inlined), worker_inlined },
		{ "runtime.goexit", "asm.s", 1700, 0x401010, 0, false, 0, NULL },
	};
	struct prof_sample sm = { 7, 7, "app", "app", 2, frames, 3, 3 * PERIOD, { .span_id = 0 }, NULL };
	struct prof p = prof;
	Perftools__Profiles__Profile *pp;
	const Perftools__Profiles__Location *l;
	static const char *const want_fn[] = { "main.inlC", "main.inlB", "main.worker" };
	static const uint32_t want_line[] = { 79, 74, 103 };
	char *out;

	(void)state;
	p.nsamples = 1;
	p.samples = &sm;
	pp = decode(&p);
	assert_int_equal(pp->n_sample, 1);
	assert_int_equal(pp->sample[0]->n_location_id, 2);
	l = loc(pp, pp->sample[0]->location_id[0]);
	assert_int_equal(l->address, 0x401500);
	assert_int_equal(l->n_line, 3);
	for (size_t i = 0; i < 3; i++) {
		const char *name = NULL;

		for (size_t k = 0; k < pp->n_function; k++)
			if (pp->function[k]->id == l->line[i]->function_id)
				name = s(pp, pp->function[k]->name);
		assert_non_null(name);
		assert_string_equal(name, want_fn[i]);
		assert_int_equal(l->line[i]->line, want_line[i]);
	}
	assert_string_equal(loc_func(pp, pp->sample[0]->location_id[1]), "runtime.goexit");
	perftools__profiles__profile__free_unpacked(pp, NULL);

	/* The same address seen elsewhere with another innermost line (a return address is looked
	 * up at addr - 1): a location of its own, though the physical frame's line is the same. */
	static const struct prof_inline other_line[] = { { "main.inlC", "main.go", 78 },
							 { "main.inlB", "main.go", 74 } };
	struct prof_frame frames2[] = {
		{ "main.worker", "main.go", 103, 0x401500, 0, false, N(other_line), other_line },
		frames[1],
	};
	struct prof_sample two[] = { sm,
				     { 7, 7, "app", "app", 2, frames2, 1, PERIOD, { .span_id = 0 }, NULL } };
	p.nsamples = 2;
	p.samples = two;
	pp = decode(&p);
	assert_int_equal(pp->n_location, 3);
	assert_int_not_equal(pp->sample[0]->location_id[0], pp->sample[1]->location_id[0]);
	assert_int_equal(loc(pp, pp->sample[1]->location_id[0])->line[0]->line, 78);
	assert_int_equal(pp->sample[0]->location_id[1], pp->sample[1]->location_id[1]);
	perftools__profiles__profile__free_unpacked(pp, NULL);
	p.nsamples = 1;
	p.samples = &sm;

	out = capture(folded_fprint, &p);
	assert_string_equal(out, "app;runtime.goexit;main.worker;main.inlB;main.inlC 3\n");
	free(out);
	out = capture(top_all, &p);
	assert_non_null(strstr(out, "Total: 3 samples in 4 functions"));
	assert_non_null(strstr(out, "         3 100.00%          3 100.00%  main.inlC\n"));
	assert_non_null(strstr(out, "         0   0.00%          3 100.00%  main.inlB\n"));
	assert_non_null(strstr(out, "         0   0.00%          3 100.00%  main.worker\n"));
	free(out);
	assert_int_equal(flamegraph_write_svg(&p, path_in_tmp("inl.svg"), "CPU"), 0);
	out = slurp(path_in_tmp("inl.svg"));
	assert_non_null(strstr(out, "main.inlC"));
	assert_non_null(strstr(out, "main.inlB"));
	free(out);
	unlink(path_in_tmp("inl.svg"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pprof_encode),
		cmocka_unit_test(test_pprof_offcpu_and_synthesized_kernel_mapping),
		cmocka_unit_test(test_frame_mapping_kernel_fallback),
		cmocka_unit_test(test_pprof_request_labels),
		cmocka_unit_test(test_pprof_write),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_offcpu_weights),
		cmocka_unit_test(test_flamegraph),
		cmocka_unit_test(test_flamegraph_hostile_names),
		cmocka_unit_test(test_inlined_frames),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
