// SPDX-License-Identifier: Apache-2.0
#include "profile/profile_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prof_put_executable_first(struct prof *prof)
{
	size_t exe = 0;
	while (exe < prof->nmappings && !prof->mappings[exe].is_executable)
		exe++;
	if (exe == 0 || exe == prof->nmappings)
		return;
	struct prof_mapping first = prof->mappings[0];
	prof->mappings[0] = prof->mappings[exe];
	prof->mappings[exe] = first;
	for (size_t i = 0; i < prof->nsamples; i++)
		for (uint32_t j = 0; j < prof->samples[i].nframes; j++) {
			int32_t *m = &prof->samples[i].frames[j].mapping;
			*m = *m == 0 ? (int32_t)exe : *m == (int32_t)exe ? 0 : *m;
		}
}

/* The root frame a sample gets in the by-route view. */
static const char *route_root(const struct prof_request *r, char *buf, size_t len)
{
	if (!r->span_id)
		return "[no request]";
	if (!r->method)
		return "[request still running at the cut]";
	snprintf(buf, len, "%s %s", r->method, r->route && r->route[0] ? r->route : "[no route]");
	return buf;
}

int prof_by_route(const struct prof *p, struct prof *out, char ***names, size_t *nnames)
{
	*out = *p;
	*names = NULL;
	*nnames = 0;
	out->samples = calloc(p->nsamples + 1, sizeof(*out->samples));
	if (!out->samples)
		return -ENOMEM;
	out->nsamples = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct prof_sample *s = &p->samples[i];
		char buf[PROF_ROUTE_ROOT_MAX];
		const char *root = route_root(&s->request, buf, sizeof(buf));
		size_t k = 0;
		while (k < *nnames && strcmp((*names)[k], root))
			k++;
		if (k == *nnames) {
			char **grown = realloc(*names, (k + 1) * sizeof(*grown));
			if (grown)
				*names = grown;
			if (!grown || !(grown[k] = strdup(root)))
				goto oom;
			(*nnames)++;
		}
		struct prof_sample *d = &out->samples[out->nsamples];
		*d = *s;
		d->frames = calloc(s->nframes + 1, sizeof(*d->frames));
		if (!d->frames)
			goto oom;
		memcpy(d->frames, s->frames, s->nframes * sizeof(*d->frames));
		d->frames[d->nframes++] = (struct prof_frame){ .func = (*names)[k], .mapping = -1 };
		out->nsamples++;
	}
	return 0;
oom:
	prof_by_route_free(out, *names, *nnames);
	return -ENOMEM;
}

void prof_by_route_free(struct prof *view, char **names, size_t nnames)
{
	for (size_t i = 0; i < view->nsamples; i++)
		free(view->samples[i].frames);
	free(view->samples);
	view->samples = NULL;
	view->nsamples = 0;
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
}
