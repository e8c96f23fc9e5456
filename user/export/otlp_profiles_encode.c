// SPDX-License-Identifier: Apache-2.0
/* ExportProfilesServiceRequest (profiles/v1development) from a collected struct prof: one
 * ResourceProfiles per process, one Profile per value type (the signal allows one
 * sample_type per Profile), and one dictionary the whole request shares
 * (export/otlp_profiles_dict.h). */
#include "export/otlp.h"
#include "export/otlp_internal.h"
#include "export/otlp_profiles_dict.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceRequest Request;
typedef Opentelemetry__Proto__Profiles__V1development__ProfilesDictionary Dictionary;
typedef Opentelemetry__Proto__Profiles__V1development__ResourceProfiles ResourceProfiles;
typedef Opentelemetry__Proto__Profiles__V1development__ScopeProfiles ScopeProfiles;
typedef Opentelemetry__Proto__Profiles__V1development__Profile Profile;
typedef Opentelemetry__Proto__Profiles__V1development__ValueType ValueType;
typedef Opentelemetry__Proto__Profiles__V1development__Sample Sample;

/* The samples of one process, in their dictionary form (the Profiles of each value type share
 * them but for their values). */
struct proc_samples {
	uint32_t pid;
	size_t n;
	Sample *s;
	const struct prof_sample **src;
};

enum {
	NVALUES = 2 /* samples/count, then cpu or offcpu in nanoseconds */
};

static Profile *profile_new(struct profiles_dict *e, const struct proc_samples *ps, int value)
{
	const struct prof *p = e->p;
	Profile *pr = otlp_arena_alloc(&e->a, sizeof(*pr));
	ValueType *vt = otlp_arena_alloc(&e->a, 2 * sizeof(*vt));
	Sample *ss = otlp_arena_alloc(&e->a, ps->n * sizeof(*ss) + 1);
	Sample **sp = otlp_arena_alloc(&e->a, ps->n * sizeof(*sp) + 1);
	int64_t *vals = otlp_arena_alloc(&e->a, ps->n * sizeof(*vals) + 1);
	if (!pr || !vt || !ss || !sp || !vals) {
		e->oom = true;
		return NULL;
	}
	opentelemetry__proto__profiles__v1development__profile__init(pr);
	opentelemetry__proto__profiles__v1development__value_type__init(&vt[0]);
	opentelemetry__proto__profiles__v1development__value_type__init(&vt[1]);
	vt[0].type_strindex =
		profiles_dict_str(e, value ? (p->kind == PROF_OFFCPU ? "offcpu" : "cpu") : "samples");
	vt[0].unit_strindex = profiles_dict_str(e, value ? "nanoseconds" : "count");
	pr->sample_type = &vt[0];
	if (p->kind == PROF_CPU && p->period_ns) {
		vt[1].type_strindex = profiles_dict_str(e, "cpu");
		vt[1].unit_strindex = profiles_dict_str(e, "nanoseconds");
		pr->period_type = &vt[1];
		pr->period = (int64_t)p->period_ns;
	}
	pr->time_unix_nano = (uint64_t)p->time_ns;
	pr->duration_nano = (uint64_t)p->duration_ns;
	for (size_t i = 0; i < ps->n; i++) {
		const struct prof_sample *src = ps->src[i];
		ss[i] = ps->s[i];
		sp[i] = &ss[i];
		vals[i] = (int64_t)(value ? src->value_ns : src->count);
		ss[i].values = &vals[i];
		ss[i].n_values = 1;
		if (!src->times || !src->count)
			continue;
		/* With timestamps, one value per timestamp (the same event at the same index): a
		 * sample each, of one period. */
		int64_t *each = otlp_arena_alloc(&e->a, src->count * sizeof(*each));
		if (!each) {
			e->oom = true;
			return NULL;
		}
		for (uint64_t k = 0; k < src->count; k++)
			each[k] = value ? (int64_t)p->period_ns : 1;
		ss[i].values = each;
		ss[i].n_values = src->count;
		ss[i].timestamps_unix_nano = (uint64_t *)src->times;
		ss[i].n_timestamps_unix_nano = src->count;
	}
	pr->samples = sp;
	pr->n_samples = ps->n;
	return pr;
}

static ResourceProfiles *process_profiles(struct profiles_dict *e, const struct otlp_config *cfg,
					  const struct resource *res, const struct proc_samples *ps)
{
	ResourceProfiles *rp = otlp_arena_alloc(&e->a, sizeof(*rp));
	ScopeProfiles *sc = otlp_arena_alloc(&e->a, sizeof(*sc)),
		      **scp = otlp_arena_alloc(&e->a, sizeof(*scp));
	Profile **prs = otlp_arena_alloc(&e->a, NVALUES * sizeof(*prs));
	if (!rp || !sc || !scp || !prs) {
		e->oom = true;
		return NULL;
	}
	opentelemetry__proto__profiles__v1development__resource_profiles__init(rp);
	opentelemetry__proto__profiles__v1development__scope_profiles__init(sc);
	if (!(rp->resource = otlp_resource_new(&e->a, cfg, res)) || !(sc->scope = otlp_scope_new(&e->a))) {
		e->oom = true;
		return NULL;
	}
	for (int v = 0; v < NVALUES; v++)
		if (!(prs[v] = profile_new(e, ps, v)))
			return NULL;
	sc->profiles = prs;
	sc->n_profiles = NVALUES;
	*scp = sc;
	rp->scope_profiles = scp;
	rp->n_scope_profiles = 1;
	return rp;
}

/* Each sample in dictionary form (stack, pid/tid/thread attributes), grouped by process in
 * order of first appearance. */
static size_t group_samples(struct profiles_dict *e, struct proc_samples *groups)
{
	const struct prof *p = e->p;
	uint64_t *keys = otlp_arena_alloc(&e->a, (p->nsamples + 1) * sizeof(*keys));
	struct otlp_groups gr;
	if (!keys) {
		e->oom = true;
		return 0;
	}
	for (size_t i = 0; i < p->nsamples; i++)
		keys[i] = p->samples[i].pid;
	if (otlp_group_by_key(&e->a, keys, p->nsamples, &gr)) {
		e->oom = true;
		return 0;
	}
	for (size_t g = 0; g < gr.n; g++) {
		groups[g] = (struct proc_samples){ .pid = p->samples[gr.first[g]].pid };
		groups[g].s = otlp_arena_alloc(&e->a, gr.count[g] * sizeof(*groups[g].s));
		groups[g].src = otlp_arena_alloc(&e->a, gr.count[g] * sizeof(*groups[g].src));
		if (!groups[g].s || !groups[g].src) {
			e->oom = true;
			return 0;
		}
	}
	for (size_t i = 0; i < p->nsamples && !e->oom; i++) {
		const struct prof_sample *s = &p->samples[i];
		size_t g = gr.group[i];
		int32_t *ai = otlp_arena_alloc(&e->a, 5 * sizeof(*ai));
		if (!ai) {
			e->oom = true;
			break;
		}
		Sample *ds = &groups[g].s[groups[g].n];
		opentelemetry__proto__profiles__v1development__sample__init(ds);
		ds->stack_index = profiles_dict_stack(e, s);
		ai[0] = profiles_dict_attr(e, "process.pid", NULL, s->pid);
		ai[1] = profiles_dict_attr(e, "thread.id", NULL, s->tid);
		ds->n_attribute_indices = 2;
		if (s->thread && s->thread[0])
			ai[ds->n_attribute_indices++] = profiles_dict_attr(e, "thread.name", s->thread, 0);
		if (s->request.route && s->request.route[0])
			ai[ds->n_attribute_indices++] =
				profiles_dict_attr(e, "http.route", s->request.route, 0);
		if (s->request.method)
			ai[ds->n_attribute_indices++] =
				profiles_dict_attr(e, "http.request.method", s->request.method, 0);
		ds->attribute_indices = ai;
		ds->link_index = profiles_dict_link(e, &s->request);
		groups[g].src[groups[g].n++] = s;
	}
	return gr.n;
}

static const struct resource *resource_of(const struct resource *res, size_t nres, uint32_t pid,
					  struct resource *fallback, const char *process)
{
	for (size_t i = 0; i < nres; i++)
		if ((uint32_t)res[i].pid == pid)
			return &res[i];
	/* A process gone before its resource was read: what the profile knows of it. */
	memset(fallback, 0, sizeof(*fallback));
	fallback->pid = (pid_t)pid;
	snprintf(fallback->executable_name, sizeof(fallback->executable_name), "%s", process);
	snprintf(fallback->service_name, sizeof(fallback->service_name), "%s", process);
	return fallback;
}

int otlp_encode_profiles(const struct otlp_config *cfg, const struct prof *p, const struct resource *res,
			 size_t nres, uint8_t **out, size_t *len)
{
	struct profiles_dict e;
	Request req =
		OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_REQUEST__INIT;
	Dictionary *d;
	struct proc_samples *groups = NULL;
	ResourceProfiles **rps = NULL;
	int err = -ENOMEM;

	*out = NULL;
	*len = 0;
	if (profiles_dict_init(&e, p))
		goto out;
	groups = calloc(p->nsamples + 1, sizeof(*groups));
	if (!groups)
		goto out;

	size_t ngroups = group_samples(&e, groups);
	if (e.oom || !(rps = otlp_arena_alloc(&e.a, (ngroups + 1) * sizeof(*rps))))
		goto out;
	for (size_t g = 0; g < ngroups; g++) {
		struct resource fallback;
		const struct resource *r =
			resource_of(res, nres, groups[g].pid, &fallback, prof_process_name(groups[g].src[0]));
		if (!(rps[g] = process_profiles(&e, cfg, r, &groups[g])))
			goto out;
	}
	if (!(d = profiles_dict_finish(&e)))
		goto out;
	req.dictionary = d;
	req.resource_profiles = rps;
	req.n_resource_profiles = ngroups;

	*len = opentelemetry__proto__collector__profiles__v1development__export_profiles_service_request__get_packed_size(
		&req);
	if (!(*out = malloc(*len ? *len : 1)))
		goto out;
	opentelemetry__proto__collector__profiles__v1development__export_profiles_service_request__pack(&req,
													*out);
	err = 0;
out:
	if (err)
		*len = 0;
	free(groups);
	profiles_dict_free(&e);
	return err;
}
