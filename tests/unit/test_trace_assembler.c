// SPDX-License-Identifier: Apache-2.0
/* user/trace/trace_assembler.c: whole traces kept or dropped together. Ground truth: each
 * scenario's spans are written here (ids, parents, errors, durations, which trace ids the
 * ratio keeps), with the spans the header's rules say must come out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "trace/trace_assembler.h"

#define MS	    1000000ULL
#define KEEP_LOW    0ULL       /* trace id low half traceidratio 0.5 keeps */
#define DROP_LOW    UINT64_MAX /* ... and drops */
#define MAX_EMITTED (TRACE_ASSEMBLER_MAX_PENDING + 16)

struct sink {
	uint64_t ids[MAX_EMITTED];
	size_t n;
};

static void record(void *ctx, const struct span_record *s)
{
	struct sink *k = ctx;
	assert_true(k->n < MAX_EMITTED);
	k->ids[k->n++] = s->span_id;
}

enum op {
	OP_END,
	OP_ADD,
	OP_EXPIRE,
	OP_FLUSH
};

struct step {
	enum op op;
	uint64_t now_ns;
	uint64_t id, parent; /* parent != 0: a local child of that server span */
	bool server, error, remote, parent_sampled;
	uint64_t dur_ns, trace_low;
};

#define ADD(...)                          \
	{                                 \
		.op = OP_ADD, __VA_ARGS__ \
	}
#define EXPIRE(t)                              \
	{                                      \
		.op = OP_EXPIRE, .now_ns = (t) \
	}
#define FLUSH                  \
	{                      \
		.op = OP_FLUSH \
	}

struct scenario {
	const char *what;
	struct sampler_config cfg;
	struct step steps[12];
	uint64_t want[8]; /* span ids emitted, any order, 0-terminated */
	uint64_t sampled, dropped;
};

static const struct sampler_config ON = { .kind = SAMPLER_ALWAYS_ON, .keep_errors = true };
static const struct sampler_config OFF = { .kind = SAMPLER_ALWAYS_OFF, .keep_errors = true };

static const struct scenario scenarios[] = {
	{ "kept whole",
	  ON,
	  { ADD(.id = 11, .parent = 1), ADD(.id = 12, .parent = 1), ADD(.id = 1, .server = true) },
	  { 1, 11, 12 },
	  3,
	  0 },
	{ "dropped whole",
	  OFF,
	  { ADD(.id = 11, .parent = 1), ADD(.id = 12, .parent = 1), ADD(.id = 1, .server = true) },
	  { 0 },
	  0,
	  3 },
	{ "an erring child keeps its trace",
	  OFF,
	  { ADD(.id = 11, .parent = 1, .error = true), ADD(.id = 12, .parent = 1),
	    ADD(.id = 1, .server = true) },
	  { 1, 11, 12 },
	  3,
	  0 },
	{ "an erring root keeps its trace",
	  OFF,
	  { ADD(.id = 11, .parent = 1), ADD(.id = 1, .server = true, .error = true) },
	  { 1, 11 },
	  2,
	  0 },
	{ "errors dropped when keep_errors is off",
	  { .kind = SAMPLER_ALWAYS_OFF },
	  { ADD(.id = 11, .parent = 1, .error = true), ADD(.id = 1, .server = true, .error = true) },
	  { 0 },
	  0,
	  2 },
	{ "slow roots kept, fast ones not",
	  { .kind = SAMPLER_ALWAYS_OFF, .keep_slower_than_ns = 100 * MS },
	  { ADD(.id = 11, .parent = 1), ADD(.id = 1, .server = true, .dur_ns = 150 * MS),
	    ADD(.id = 21, .parent = 2), ADD(.id = 2, .server = true, .dur_ns = 50 * MS) },
	  { 1, 11 },
	  2,
	  2 },
	{ "ratio decides per trace, children follow",
	  { .kind = SAMPLER_TRACEIDRATIO, .ratio = 0.5 },
	  { ADD(.id = 11, .parent = 1, .trace_low = KEEP_LOW),
	    ADD(.id = 1, .server = true, .trace_low = KEEP_LOW),
	    ADD(.id = 21, .parent = 2, .trace_low = DROP_LOW),
	    ADD(.id = 2, .server = true, .trace_low = DROP_LOW) },
	  { 1, 11 },
	  2,
	  2 },
	{ "a remote parent's sampled flag rules",
	  { .kind = SAMPLER_PARENTBASED_ALWAYS_ON },
	  { ADD(.id = 11, .parent = 1, .remote = true), ADD(.id = 1, .server = true, .remote = true),
	    ADD(.id = 21, .parent = 2, .remote = true, .parent_sampled = true),
	    ADD(.id = 2, .server = true, .remote = true, .parent_sampled = true) },
	  { 2, 21 },
	  2,
	  2 },
	{ "late children follow their root's decision",
	  OFF,
	  { ADD(.id = 1, .server = true, .error = true), ADD(.id = 11, .parent = 1),
	    ADD(.id = 2, .server = true), ADD(.id = 21, .parent = 2) },
	  { 1, 11 },
	  2,
	  2 },
	{ "a late erring child of a dropped trace still comes out",
	  OFF,
	  { ADD(.id = 2, .server = true), ADD(.id = 22, .parent = 2, .error = true) },
	  { 22 },
	  1,
	  1 },
	{ "children wait the timeout, not a nanosecond less",
	  OFF,
	  { ADD(.now_ns = 5, .id = 11, .parent = 1), ADD(.now_ns = 5, .id = 12, .parent = 1, .error = true),
	    EXPIRE(5 + TRACE_ASSEMBLER_TIMEOUT_NS) },
	  { 0 },
	  0,
	  0 },
	{ "expired children are decided alone",
	  OFF,
	  { ADD(.now_ns = 5, .id = 11, .parent = 1), ADD(.now_ns = 5, .id = 12, .parent = 1, .error = true),
	    EXPIRE(5 + TRACE_ASSEMBLER_TIMEOUT_NS + 1), ADD(.id = 1, .server = true) },
	  { 12 },
	  1,
	  2 },
	{ "expired children of always_on come out",
	  ON,
	  { ADD(.id = 11, .parent = 1), EXPIRE(TRACE_ASSEMBLER_TIMEOUT_NS + 1) },
	  { 11 },
	  1,
	  0 },
	{ "flush decides what is held",
	  ON,
	  { ADD(.id = 11, .parent = 1), ADD(.id = 21, .parent = 2), FLUSH },
	  { 11, 21 },
	  2,
	  0 },
	{ "spans outside a request are decided at once",
	  OFF,
	  { ADD(.id = 31), ADD(.id = 32, .error = true) },
	  { 32 },
	  1,
	  1 },
};

static void add(struct trace_assembler *ta, const struct step *st)
{
	struct span_record s;
	memset(&s, 0, sizeof(s));
	memset(s.trace_id, 0x11, 8);
	for (int i = 15; i >= 8; i--)
		s.trace_id[i] = (uint8_t)(st->trace_low >> (8 * (15 - i)));
	s.span_id = st->id;
	s.parent_span_id = st->parent;
	s.local_child = st->parent != 0;
	s.kind = st->server ? SPAN_SERVER : SPAN_CLIENT;
	s.error = st->error;
	s.remote_parent = st->remote;
	s.parent_sampled = st->parent_sampled;
	s.start_unix_ns = 1700000000ULL * 1000000000ULL;
	s.end_unix_ns = s.start_unix_ns + (st->dur_ns ? st->dur_ns : MS);
	trace_assembler_add(ta, &s, st->now_ns);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *sc = &scenarios[i];
		struct sink *k = calloc(1, sizeof(*k));
		assert_non_null(k);
		struct trace_assembler *ta = trace_assembler_new(&sc->cfg, record, k);
		assert_non_null(ta);
		for (const struct step *st = sc->steps; st->op != OP_END; st++) {
			if (st->op == OP_ADD)
				add(ta, st);
			else if (st->op == OP_EXPIRE)
				trace_assembler_expire(ta, st->now_ns);
			else
				trace_assembler_flush(ta);
		}
		size_t nwant = 0;
		while (nwant < 8 && sc->want[nwant])
			nwant++;
		uint64_t want[8];
		memcpy(want, sc->want, sizeof(want));
		qsort(want, nwant, sizeof(want[0]), cmp_u64);
		qsort(k->ids, k->n, sizeof(k->ids[0]), cmp_u64);
		struct trace_stats st = trace_assembler_stats(ta);
		if (k->n != nwant || memcmp(k->ids, want, nwant * sizeof(want[0])) ||
		    st.sampled != sc->sampled || st.dropped != sc->dropped) {
			print_error(
				"scenario %zu (%s): %zu emitted (first %llu), sampled %llu dropped %llu\n", i,
				sc->what, k->n, k->n ? (unsigned long long)k->ids[0] : 0ULL,
				(unsigned long long)st.sampled, (unsigned long long)st.dropped);
			fail();
		}
		trace_assembler_free(ta);
		free(k);
	}
}

/* Full: the oldest held child is decided on its own, and only it. */
static void test_eviction(void **state)
{
	(void)state;
	struct sink *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	struct trace_assembler *ta = trace_assembler_new(&ON, record, k);
	assert_non_null(ta);
	/* Child n (id 100000 + n) of server span 1000 + n, held since n. */
	for (uint64_t n = 0; n < TRACE_ASSEMBLER_MAX_PENDING; n++)
		add(ta, &(struct step){ .now_ns = n + 1, .id = 100000 + n, .parent = 1000 + n });
	assert_int_equal(k->n, 0);
	add(ta, &(struct step){ .now_ns = TRACE_ASSEMBLER_MAX_PENDING + 1, .id = 99, .parent = 9 });
	assert_int_equal(k->n, 1);
	assert_int_equal(k->ids[0], 100000);
	/* The evicted child's root comes alone; the next root still finds its child held. */
	add(ta, &(struct step){ .id = 1000, .server = true });
	assert_int_equal(k->n, 2);
	assert_int_equal(k->ids[1], 1000);
	add(ta, &(struct step){ .id = 1001, .server = true });
	assert_int_equal(k->n, 4);
	assert_int_equal(k->ids[2], 1001);
	assert_int_equal(k->ids[3], 100001);
	trace_assembler_flush(ta);
	assert_int_equal(k->n, TRACE_ASSEMBLER_MAX_PENDING + 3);
	struct trace_stats st = trace_assembler_stats(ta);
	assert_int_equal(st.sampled, TRACE_ASSEMBLER_MAX_PENDING + 3);
	assert_int_equal(st.dropped, 0);
	trace_assembler_free(ta);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_eviction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
