// SPDX-License-Identifier: Apache-2.0
/* base/kv_pairs.c: the W3C-Baggage-style lists of OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_HEADERS. Ground truth: the OTel SDK environment specification (items
 * split at commas, whitespace around keys and values dropped, values percent-encoded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/kv_pairs.h"

struct want {
	int item;
	const char *key, *value;
};

static void check_list(const char *s, const struct want *w, size_t n)
{
	struct kv_pair kv = { 0 };
	size_t pos = 0, got = 0;
	while (kv_pairs_next(s, strlen(s), &pos, &kv)) {
		assert_true(got < n);
		assert_int_equal(kv.item, w[got].item);
		assert_int_equal(kv.key_len, strlen(w[got].key));
		assert_memory_equal(kv.key, w[got].key, kv.key_len);
		assert_int_equal(kv.value_len, strlen(w[got].value));
		assert_memory_equal(kv.value, w[got].value, kv.value_len);
		got++;
	}
	assert_int_equal(got, n);
}

static void test_items_trimmed_and_numbered(void **state)
{
	(void)state;
	/* Empty items are skipped but counted, so that an error can name an item by position. */
	static const struct want w[] = {
		{ 1, "a", "1" }, { 3, "service.name", "my%20svc" }, { 4, "k", "" }, { 5, "x", "y=z" }
	};
	check_list(" a = 1 ,, service.name=my%20svc\t,k=,x=y=z,", w, 4);
	check_list("", NULL, 0);
	check_list(" , ,", NULL, 0);
}

static void test_items_without_a_key(void **state)
{
	(void)state;
	/* Not key=value: key_len 0 (the strict caller says which item, the lenient one skips it). */
	static const struct want w[] = { { 1, "", "" }, { 2, "", "" }, { 3, "b", "2" } };
	struct kv_pair kv = { 0 };
	size_t pos = 0;
	const char *s = "novalue, =v,b=2";
	for (size_t i = 0; i < 3; i++) {
		assert_true(kv_pairs_next(s, strlen(s), &pos, &kv));
		assert_int_equal(kv.item, w[i].item);
		assert_int_equal(kv.key_len, strlen(w[i].key));
	}
	assert_false(kv_pairs_next(s, strlen(s), &pos, &kv));
}

static void test_percent_decoding(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(kv_percent_decode("a%20b%2C", 8, out, sizeof(out)), 4);
	assert_string_equal(out, "a b,");
	assert_int_equal(kv_percent_decode("%7e%7E", 6, out, sizeof(out)), 2);
	assert_string_equal(out, "~~");
	/* '%' outside an escape is malformed, as is a cut escape. */
	assert_int_equal(kv_percent_decode("100%", 4, out, sizeof(out)), -1);
	assert_int_equal(kv_percent_decode("%2", 2, out, sizeof(out)), -1);
	assert_int_equal(kv_percent_decode("%zz", 3, out, sizeof(out)), -1);
	/* Too long: truncated and terminated, the full length returned. */
	assert_int_equal(kv_percent_decode("abcdefghij", 10, out, sizeof(out)), 10);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(kv_percent_decode("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_items_trimmed_and_numbered),
		cmocka_unit_test(test_items_without_a_key),
		cmocka_unit_test(test_percent_decoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
