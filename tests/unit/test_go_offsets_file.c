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
	assert_string_equal(go_offsets_table_source("go1.25.1"), "table");
	assert_int_equal(go_offsets_add_row(&row), 0);
	/* Any patch release of the minor version. */
	assert_int_equal(go_offsets_from_table("go1.25.1", &http), 0);
	assert_memory_equal(&http, &row.http, sizeof(http));
	assert_int_equal(go_runtime_offsets_from_table("go1.25.9", &runtime), 0);
	assert_memory_equal(&runtime, &row.runtime, sizeof(runtime));
	assert_string_equal(go_offsets_table_source("go1.25.1"), "offsets file");
	assert_non_null(strstr(go_offsets_table_versions(), "1.25 (offsets file)"));
	assert_int_equal(go_offsets_from_table("go1.24.1", &http), -ENOENT);
	/* A row without a required HTTP field gives runtime offsets only. */
	struct go_offsets_row runtime_only = sample_row("go1.24.2");
	runtime_only.http.request_method = -1;
	assert_int_equal(go_offsets_add_row(&runtime_only), 0);
	assert_int_equal(go_offsets_from_table("go1.24.2", &http), -ENOENT);
	assert_int_equal(go_runtime_offsets_from_table("go1.24.2", &runtime), 0);
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
		cmocka_unit_test(test_load_names_the_file_problem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
