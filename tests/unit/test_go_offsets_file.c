// SPDX-License-Identifier: Apache-2.0
/* user/binfmt/go_offsets_file.c and the user rows of go_offsets.c: what `inspect
 * --emit-offsets` writes parses back to the same offsets, a loaded file answers for its Go
 * minor version (and says so), and every malformed file is refused with a line that names
 * what is wrong. Ground truth: the rows written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt/go_offsets_file.h"

static struct go_offsets_row sample_row(const char *version)
{
	struct go_offsets_row row = { 0 };
	snprintf(row.go_version, sizeof(row.go_version), "%s", version);
	int32_t *h = (int32_t *)&row.http, *r = (int32_t *)&row.runtime;
	for (size_t i = 0; i < go_offsets_slots(GO_OFFSETS_HTTP); i++)
		h[i] = (int32_t)(8 * i);
	for (size_t i = 0; i < go_offsets_slots(GO_OFFSETS_RUNTIME); i++)
		r[i] = (int32_t)(100 + 8 * i);
	row.http.driverconn_ci = -1; /* a build without database/sql */
	return row;
}

static char *written(const struct go_offsets_row *row, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	assert_non_null(f);
	assert_int_equal(go_offsets_file_write(f, row, "ref"), 0);
	fclose(f);
	return text;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct go_offsets_row row = sample_row("go1.25.4"), back;
	size_t len;
	char *text = written(&row, &len);
	assert_non_null(strstr(text, "\nnet/http.Request.Method 0\n"));
	assert_non_null(strstr(text, "\ndatabase/sql.driverConn.ci -1\n"));
	char err[256] = "";
	assert_int_equal(go_offsets_file_parse(text, len, &back, err, sizeof(err)), 0);
	assert_memory_equal(&row, &back, sizeof(row));
	free(text);
}

static void test_loaded_row_answers_for_its_version(void **state)
{
	(void)state;
	struct go_offsets_row row = sample_row("go1.25.4");
	struct go_http_offsets http;
	struct go_runtime_offsets runtime;
	assert_int_equal(go_offsets_from_table("go1.25.1", &http), -ENOENT);
	assert_string_equal(go_offsets_table_source("go1.25.1", GO_OFFSETS_HTTP), "table");
	assert_int_equal(go_offsets_add_row(&row), 0);
	/* Any patch release of the minor version. */
	assert_int_equal(go_offsets_from_table("go1.25.1", &http), 0);
	assert_memory_equal(&http, &row.http, sizeof(http));
	assert_int_equal(go_runtime_offsets_from_table("go1.25.9", &runtime), 0);
	assert_memory_equal(&runtime, &row.runtime, sizeof(runtime));
	assert_string_equal(go_offsets_table_source("go1.25.1", GO_OFFSETS_HTTP), "offsets file");
	assert_non_null(strstr(go_offsets_table_versions(), "1.25 (offsets file)"));
	assert_int_equal(go_offsets_from_table("go1.24.1", &http), -ENOENT);
	/* A row without a required HTTP field gives runtime offsets only (1.24 is in no table). */
	struct go_offsets_row runtime_only = sample_row("go1.24.2");
	runtime_only.http.request_method = -1;
	assert_int_equal(go_offsets_add_row(&runtime_only), 0);
	assert_int_equal(go_offsets_from_table("go1.24.2", &http), -ENOENT);
	assert_int_equal(go_runtime_offsets_from_table("go1.24.2", &runtime), 0);
	assert_string_equal(go_offsets_table_source("go1.24.2", GO_OFFSETS_HTTP), "table");
	assert_string_equal(go_offsets_table_source("go1.24.2", GO_OFFSETS_RUNTIME), "offsets file");
	/* For a version the built-in table has, that table still answers for HTTP. */
	struct go_http_offsets builtin;
	assert_int_equal(go_offsets_from_table("go1.26.1", &builtin), 0);
	struct go_offsets_row no_http = sample_row("go1.26.3");
	no_http.http.request_method = -1;
	assert_int_equal(go_offsets_add_row(&no_http), 0);
	assert_int_equal(go_offsets_from_table("go1.26.1", &http), 0);
	assert_memory_equal(&http, &builtin, sizeof(http));
	assert_string_equal(go_offsets_table_source("go1.26.1", GO_OFFSETS_HTTP), "table");
}

static void test_malformed_files_are_refused(void **state)
{
	(void)state;
	struct go_offsets_row row = sample_row("go1.25.4");
	size_t len;
	char *good = written(&row, &len);
	char *first_field = strstr(good, "net/http.Request.Method");
	struct {
		const char *text, *why;
	} cases[] = {
		{ "", "no 'go goX.Y' line" },
		{ "go go1.25\ngo go1.25\n", "line 2: a second 'go' line" },
		{ "go 1.25\n", "line 1: '1.25' is not a Go version" },
		{ "go go2.1\n", "line 1: 'go2.1' is not a Go version" },
		{ "go go1.25.x\n", "is not a Go version" },
		{ "go go1.25\nnet/http.Request.Method\n", "line 2: expected a name and a value" },
		{ "go go1.25\nnet/http.Request.Method 1 2\n", "line 2: expected a name and a value" },
		{ "go go1.25\nnet/http.Request.Method -2\n", "line 2: '-2' is not an offset" },
		{ "go go1.25\nnet/http.Request.Method 9999999\n", "is not an offset" },
		{ "go go1.25\nnet/http.Request.Method 8\nnet/http.Request.Method 8\n",
		  "line 3: 'net/http.Request.Method' given twice" },
		{ "go go1.25\nruntime.g.sched 8\n", "line 2: unknown field 'runtime.g.sched'" },
		{ "go go1.25\nnet/http.Request.Method 0\n", "'net/http.Request.URL' is missing" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct go_offsets_row out;
		char err[256] = "";
		assert_int_equal(
			go_offsets_file_parse(cases[i].text, strlen(cases[i].text), &out, err, sizeof(err)),
			-EINVAL);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
		assert_null(strchr(err, '\n'));
	}
	/* The good file with one field's line removed. */
	char *cut = strdup(good);
	char *nl = strchr(cut + (first_field - good), '\n');
	memmove(cut + (first_field - good), nl + 1, strlen(nl + 1) + 1);
	struct go_offsets_row out;
	char err[256] = "";
	assert_int_equal(go_offsets_file_parse(cut, strlen(cut), &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "'net/http.Request.Method' is missing (a file from another glimpse version?)");
	/* Comments and blank lines are fine; a NUL byte is not. */
	char with_comment[4096];
	snprintf(with_comment, sizeof(with_comment), "# hand-edited\n\n%s", good);
	assert_int_equal(go_offsets_file_parse(with_comment, strlen(with_comment), &out, err, sizeof(err)),
			 0);
	with_comment[3] = '\0';
	assert_int_equal(go_offsets_file_parse(with_comment, strlen(good) + 15, &out, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "line 1: NUL byte"));
	free(cut);
	free(good);
}

/* A row with gRPC's and x/net's sets, as inspect --emit-offsets writes from a gRPC service. */
static struct go_offsets_row module_row(const char *version)
{
	struct go_offsets_row row = sample_row(version);
	snprintf(row.grpc.version, sizeof(row.grpc.version), "v1.85.0");
	for (size_t i = 0; i < GO_OFFSETS_GRPC_SLOTS; i++)
		row.grpc.slots[i] = (int32_t)(4 * i);
	row.grpc.slots[GO_OFFSETS_GRPC_SLOTS - 3] = 0; /* legacy_status */
	row.grpc.slots[GO_OFFSETS_GRPC_SLOTS - 2] = 1; /* server_ok */
	row.grpc.slots[GO_OFFSETS_GRPC_SLOTS - 1] = 1; /* client_ok */
	snprintf(row.xnet.version, sizeof(row.xnet.version), "v0.0.0-20240101000000-abcdef123456");
	for (size_t i = 0; i < GO_OFFSETS_XNET_SLOTS; i++)
		row.xnet.slots[i] = i == 2 ? -1 : (int32_t)(8 * i);
	return row;
}

static void test_module_sets_round_trip(void **state)
{
	(void)state;
	struct go_offsets_row row = module_row("go1.26.2"), back;
	size_t len;
	char *text = written(&row, &len);
	assert_non_null(strstr(text, "\ngrpc v1.85.0\ngrpc.stream_method 0\ngrpc.status_s 4\n"));
	assert_non_null(strstr(text, "\ngrpc.client_ok 1\n"));
	assert_non_null(strstr(text, "\nxnet v0.0.0-20240101000000-abcdef123456\nxnet.writer_rws 0\n"));
	assert_non_null(strstr(text, "\nxnet.state_conn -1\n"));
	char err[256] = "";
	assert_int_equal(go_offsets_file_parse(text, len, &back, err, sizeof(err)), 0);
	assert_memory_equal(&row, &back, sizeof(row));
	free(text);
	/* A file without them (an older glimpse's) reads as before: no module sets. */
	struct go_offsets_row old = sample_row("go1.26.2");
	text = written(&old, &len);
	assert_null(strstr(text, "grpc"));
	assert_int_equal(go_offsets_file_parse(text, len, &back, err, sizeof(err)), 0);
	assert_string_equal(back.grpc.version, "");
	assert_string_equal(back.xnet.version, "");
	free(text);
}

static void test_module_sets_malformed(void **state)
{
	(void)state;
	struct go_offsets_row row = sample_row("go1.25.4");
	size_t len;
	char *good = written(&row, &len);
	struct go_offsets_row full = module_row("go1.25.4");
	size_t full_len;
	char *with_modules = written(&full, &full_len);
	struct {
		const char *extra, *why;
	} cases[] = {
		{ "grpc.stream_method 16\n", "the 'grpc vX.Y.Z' line its fields need is missing" },
		{ "xnet.writer_rws 0\n", "the 'xnet vX.Y.Z' line its fields need is missing" },
		{ "grpc v1.85.0\n", "'grpc.stream_method' is missing" },
		{ "grpc 1.85.0\n", "'1.85.0' is not a module version like v1.85.0" },
		{ "grpc v1.85.0;rm\n", "is not a module version" },
		{ "xnet vX\n", "is not a module version" },
		{ "grpc v1.85.0\ngrpc v1.85.1\n", "a second 'grpc' line" },
		{ "grpc.nonexistent 4\n", "unknown field 'grpc.nonexistent'" },
		{ "grpc.stream_method -5\n", "'-5' is not an offset" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = len + strlen(cases[i].extra) + 1;
		char *text = malloc(n);
		snprintf(text, n, "%s%s", good, cases[i].extra);
		struct go_offsets_row out;
		char err[256] = "";
		assert_int_equal(go_offsets_file_parse(text, strlen(text), &out, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
		assert_null(strchr(err, '\n'));
		free(text);
	}
	/* The flags are 0 or 1; a module field given twice is refused. */
	const char *edits[][2] = {
		{ "grpc.server_ok 1\n", "grpc.server_ok 2\n" },
		{ "xnet.opts_upgrade 40\n", "xnet.opts_upgrade 40\nxnet.opts_upgrade 40\n" },
	};
	const char *whys[] = { "'2' is not a flag (0 or 1)", "'xnet.opts_upgrade' given twice" };
	for (size_t i = 0; i < 2; i++) {
		char *at = strstr(with_modules, edits[i][0]);
		assert_non_null(at);
		size_t n = full_len + strlen(edits[i][1]) + 1;
		char *text = malloc(n);
		snprintf(text, n, "%.*s%s%s", (int)(at - with_modules), with_modules, edits[i][1],
			 at + strlen(edits[i][0]));
		struct go_offsets_row out;
		char err[256] = "";
		assert_int_equal(go_offsets_file_parse(text, strlen(text), &out, err, sizeof(err)), -EINVAL);
		if (!strstr(err, whys[i]))
			fail_msg("edit %zu: '%s' does not say '%s'", i, err, whys[i]);
		free(text);
	}
	free(good);
	free(with_modules);
}

static void test_module_row_answers_for_its_versions(void **state)
{
	(void)state;
	struct go_offsets_row row = module_row("go1.20.3");
	assert_int_equal(go_offsets_add_row(&row), 0);
	const struct go_module_offsets *grpc = go_offsets_module_row("go1.20.11", GO_OFFSETS_GRPC, "v1.85.0");
	assert_non_null(grpc);
	assert_memory_equal(grpc->slots, row.grpc.slots, sizeof(row.grpc.slots));
	assert_non_null(
		go_offsets_module_row("go1.20.1", GO_OFFSETS_XNET, "v0.0.0-20240101000000-abcdef123456"));
	/* Another module version, another Go minor version, or none asked: no answer. */
	assert_null(go_offsets_module_row("go1.20.3", GO_OFFSETS_GRPC, "v1.85.1"));
	assert_null(go_offsets_module_row("go1.19.3", GO_OFFSETS_GRPC, "v1.85.0"));
	assert_null(go_offsets_module_row("go1.20.3", GO_OFFSETS_GRPC, NULL));
	assert_null(go_offsets_module_row("go1.20.3", GO_OFFSETS_HTTP, "v1.85.0"));
	/* A row without module sets answers for none. */
	struct go_offsets_row plain = sample_row("go1.18.1");
	assert_int_equal(go_offsets_add_row(&plain), 0);
	assert_null(go_offsets_module_row("go1.18.1", GO_OFFSETS_GRPC, ""));
}

static void test_load_names_the_file_problem(void **state)
{
	(void)state;
	char err[256] = "";
	assert_true(go_offsets_file_load("/nonexistent/offsets", err, sizeof(err)) < 0);
	assert_string_equal(err, "No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_loaded_row_answers_for_its_version),
		cmocka_unit_test(test_malformed_files_are_refused),
		cmocka_unit_test(test_module_sets_round_trip),
		cmocka_unit_test(test_module_sets_malformed),
		cmocka_unit_test(test_module_row_answers_for_its_versions),
		cmocka_unit_test(test_load_names_the_file_problem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
