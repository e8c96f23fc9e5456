// SPDX-License-Identifier: Apache-2.0
#include "export/dash_profile.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

#define MIN_SHARE 2000 /* nodes with fewer than total / MIN_SHARE samples are left out */

struct dash_profile {
	pthread_mutex_t lock;
	char *json; /* under lock; NULL until the first interval */
	size_t len;
};

/* A flame graph node; children are a sibling list (few per node). */
struct node {
	const char *name;
	uint64_t value;
	int32_t child, next; /* indices, -1: none */
};

struct tree {
	struct node *v;
	size_t n, cap;
};

static int32_t add_node(struct tree *t, const char *name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct node *grown = realloc(t->v, cap * sizeof(*grown));
		if (!grown)
			return -1;
		t->v = grown;
		t->cap = cap;
	}
	t->v[t->n] = (struct node){ name, 0, -1, -1 };
	return (int32_t)t->n++;
}

static int32_t child(struct tree *t, int32_t parent, const char *name)
{
	for (int32_t c = t->v[parent].child; c >= 0; c = t->v[c].next)
		if (!strcmp(t->v[c].name, name))
			return c;
	int32_t c = add_node(t, name); /* may move t->v: nothing of it is held across */
	if (c < 0)
		return -1;
	int32_t last = t->v[parent].child;
	if (last < 0) {
		t->v[parent].child = c;
	} else {
		while (t->v[last].next >= 0)
			last = t->v[last].next;
		t->v[last].next = c;
	}
	return c;
}

/* Adds one sample, root first; inlined calls as frames of their own (outermost first). */
static int add_sample(struct tree *t, const struct prof_sample *s)
{
	int32_t at = 0;
	t->v[0].value += s->count;
	for (uint32_t i = s->nframes; i-- > 0 && at >= 0;) {
		const struct prof_frame *f = &s->frames[i];
		at = child(t, at, f->func ? f->func : "[unknown]");
		if (at >= 0)
			t->v[at].value += s->count;
		for (uint32_t k = f->ninlined; k-- > 0 && at >= 0;) {
			at = child(t, at, f->inlined[k].func ? f->inlined[k].func : "[unknown]");
			if (at >= 0)
				t->v[at].value += s->count;
		}
	}
	return at < 0 ? -ENOMEM : 0;
}

static void write_node(FILE *f, const struct tree *t, int32_t i, uint64_t min, uint64_t *left_out)
{
	fputs("{\"n\":", f);
	json_str(f, t->v[i].name);
	fprintf(f, ",\"v\":%llu", (unsigned long long)t->v[i].value);
	bool first = true;
	for (int32_t c = t->v[i].child; c >= 0; c = t->v[c].next) {
		if (t->v[c].value < min) {
			*left_out += t->v[c].value;
			continue;
		}
		fputs(first ? ",\"c\":[" : ",", f);
		first = false;
		write_node(f, t, c, min, left_out);
	}
	fputs(first ? "}" : "]}", f);
}

static int render(const struct prof *p, char **out, size_t *len)
{
	struct prof view;
	char **names;
	size_t nnames;
	struct tree t = { 0 };
	int err = prof_by_route(p, &view, &names, &nnames);
	if (err)
		return err;
	if (add_node(&t, "all") < 0)
		err = -ENOMEM;
	for (size_t i = 0; i < view.nsamples && !err; i++)
		err = add_sample(&t, &view.samples[i]);
	FILE *f = err ? NULL : open_memstream(out, len);
	if (f) {
		uint64_t total = t.v[0].value, left_out = 0;
		fprintf(f,
			"{\"enabled\":true,\"time_unix_ns\":%lld,\"duration_ns\":%lld,\"samples\":%llu,"
			"\"tree\":",
			(long long)p->time_ns, (long long)p->duration_ns, (unsigned long long)total);
		write_node(f, &t, 0, total / MIN_SHARE, &left_out);
		fprintf(f, ",\"left_out\":%llu}", (unsigned long long)left_out);
		if (fclose(f))
			err = -ENOMEM;
	} else if (!err) {
		err = -ENOMEM;
	}
	free(t.v);
	prof_by_route_free(&view, names, nnames);
	return err;
}

struct dash_profile *dash_profile_new(void)
{
	struct dash_profile *dp = calloc(1, sizeof(*dp));
	if (dp)
		pthread_mutex_init(&dp->lock, NULL);
	return dp;
}

int dash_profile_update(struct dash_profile *dp, const struct prof *p)
{
	char *json = NULL;
	size_t len = 0;
	int err = render(p, &json, &len);
	if (err) {
		free(json);
		return err;
	}
	pthread_mutex_lock(&dp->lock);
	free(dp->json);
	dp->json = json;
	dp->len = len;
	pthread_mutex_unlock(&dp->lock);
	return 0;
}

static const char off_json[] = "{\"enabled\":false,\"why\":\"CPU profiling is off: attach with --profile\"}";
static const char waiting_json[] = "{\"enabled\":true,\"samples\":0,\"waiting\":true}";

int dash_profile_json(struct dash_profile *dp, char **out, size_t *len)
{
	if (!dp) {
		*out = strdup(off_json);
		*len = sizeof(off_json) - 1;
		return *out ? 0 : -ENOMEM;
	}
	pthread_mutex_lock(&dp->lock);
	const char *src = dp->json ? dp->json : waiting_json;
	*len = dp->json ? dp->len : sizeof(waiting_json) - 1;
	*out = malloc(*len + 1);
	if (*out)
		memcpy(*out, src, *len + 1);
	pthread_mutex_unlock(&dp->lock);
	return *out ? 0 : -ENOMEM;
}

void dash_profile_free(struct dash_profile *dp)
{
	if (!dp)
		return;
	pthread_mutex_destroy(&dp->lock);
	free(dp->json);
	free(dp);
}
