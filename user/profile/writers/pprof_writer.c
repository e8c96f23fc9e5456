// SPDX-License-Identifier: Apache-2.0
#include "profile/writers/profile_writers.h"
#include "base/outfile.h"
#include "profile/writers/profile_util.h"
#include "profile.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum {
	NLABELS = 8 /* pid, tid, process, thread; the request's route, method, trace and span ids */
};

struct enc {
	const struct prof *p;
	struct strtab strs;
	bool oom;
	struct keymap fn_ids, loc_ids, chain_ids;
	Perftools__Profiles__Function *fns, **fnp;
	Perftools__Profiles__Location *locs, **locp;
	Perftools__Profiles__Line *lines, **linep;
	size_t nfns, nlocs, nlines;
	Perftools__Profiles__Mapping *maps, **mapp;
	size_t nmaps;
	struct prof_kernel_span kernel; /* where kernel frames that come without a mapping go */
	uint64_t kmap_id;		/* our own kernel mapping's id, 0 until needed */
};

/* Interning failures are remembered and reported once at the end. */
static int64_t str(struct enc *e, const char *s)
{
	int64_t i = strtab_intern(&e->strs, s ? s : "");

	if (i < 0) {
		e->oom = true;
		return 0;
	}
	return i;
}

static void add_mapping(struct enc *e, const struct prof_mapping *m)
{
	Perftools__Profiles__Mapping *pm = &e->maps[e->nmaps];

	perftools__profiles__mapping__init(pm);
	pm->id = e->nmaps + 1;
	pm->memory_start = m->start;
	pm->memory_limit = m->limit;
	pm->file_offset = m->file_offset;
	pm->filename = str(e, m->file);
	pm->build_id = str(e, m->build_id);
	/* Every location we emit carries a function (synthesized if need be); without this flag
	 * pprof would try to re-symbolize from the binaries and overwrite our names. */
	pm->has_functions = true;
	pm->has_filenames = m->has_filenames;
	pm->has_line_numbers = m->has_line_numbers;
	e->mapp[e->nmaps++] = pm;
}

static uint64_t frame_mapping_id(struct enc *e, const struct prof_frame *f)
{
	int32_t m = prof_frame_mapping(e->p, &e->kernel, f);

	if (m >= 0)
		return (uint64_t)m + 1; /* p's mappings come first, in order */
	if (m == PROF_NO_MAPPING)
		return 0;
	if (!e->kmap_id) {
		add_mapping(e, &(struct prof_mapping){ .file = PROF_KERNEL_FILE });
		e->kmap_id = e->nmaps;
	}
	return e->kmap_id;
}

static uint64_t function_id(struct enc *e, const char *fname, const char *fpath)
{
	int64_t name = str(e, fname), file = str(e, fpath);
	bool isnew;
	uint64_t *id = keymap_get(&e->fn_ids, (uint64_t)name, (uint64_t)file, 0, e->nfns + 1, &isnew);

	if (!id) {
		e->oom = true;
		return 0;
	}
	if (isnew) {
		Perftools__Profiles__Function *fn = &e->fns[e->nfns];

		perftools__profiles__function__init(fn);
		fn->id = *id;
		fn->name = fn->system_name = name;
		fn->filename = file;
		e->fnp[e->nfns++] = fn;
	}
	return *id;
}

static void add_line(struct enc *e, uint64_t fn, uint32_t line)
{
	Perftools__Profiles__Line *l = &e->lines[e->nlines];

	perftools__profiles__line__init(l);
	l->function_id = fn;
	l->line = line;
	e->linep[e->nlines++] = l;
}

/* The source frames a location stands for, as one number: a chain of (frame so far, inlined
 * function, line) triples, each given a dense id. It keys the location beside address and
 * mapping: an address is a leaf (its own line) in one sample and a return address (the
 * call's, looked up at addr - 1) in another, and the two may differ at any inlining level.
 * Functions are keyed too: an address outside any mapping (JIT code, another process) may
 * stand for different functions. Even ids: inlined chains; odd: a function alone. */
static uint64_t frames_key(struct enc *e, const struct prof_frame *f, uint64_t fn)
{
	uint64_t key = fn << 1 | 1, *id;

	for (uint32_t k = f->ninlined; k-- > 0;) {
		uint64_t inl = function_id(e, f->inlined[k].func, f->inlined[k].file);

		if (!(id = keymap_get(&e->chain_ids, key, inl, f->inlined[k].line, e->chain_ids.n + 1,
				      NULL))) {
			e->oom = true;
			return 0;
		}
		key = *id << 1;
	}
	return key;
}

/* One Location per address and source frames, as Go writes it: with calls inlined there, one
 * Line per source frame, innermost first, the physical function last. */
static uint64_t location_id(struct enc *e, const struct prof_frame *f)
{
	char buf[PROF_NAME_MAX];
	uint64_t map = frame_mapping_id(e, f), *id;
	uint64_t fn = function_id(e, prof_frame_name(e->p, f, buf, sizeof(buf)), f->file);
	bool isnew;

	if (!(id = keymap_get(&e->loc_ids, map << 32 | f->line, f->addr, frames_key(e, f, fn), e->nlocs + 1,
			      &isnew))) {
		e->oom = true;
		return 0;
	}
	if (isnew) {
		size_t i = e->nlocs++;

		perftools__profiles__location__init(&e->locs[i]);
		e->locs[i].line = &e->linep[e->nlines];
		for (uint32_t k = 0; k < f->ninlined; k++)
			add_line(e, function_id(e, f->inlined[k].func, f->inlined[k].file),
				 f->inlined[k].line);
		add_line(e, fn, f->line);
		e->locs[i].n_line = f->ninlined + 1;
		e->locs[i].id = *id;
		e->locs[i].mapping_id = map;
		e->locs[i].address = f->addr;
		e->locp[i] = &e->locs[i];
	}
	return *id;
}

static void set_label(struct enc *e, Perftools__Profiles__Label *l, const char *key, const char *s,
		      int64_t num)
{
	perftools__profiles__label__init(l);
	l->key = str(e, key);
	if (s)
		l->str = str(e, s);
	else
		l->num = num;
}

int pprof_encode(const struct prof *p, uint8_t **out, size_t *len)
{
	struct enc e = { .p = p };
	Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt[3], *vtp[2];
	Perftools__Profiles__Sample *samples = NULL, **samplep = NULL;
	Perftools__Profiles__Label *labels = NULL, **labelp = NULL;
	uint64_t *locids = NULL;
	int64_t *values = NULL;
	size_t nframes = 0, nsrc = 0, fi = 0;
	int err = -ENOMEM;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		nframes += p->samples[i].nframes;
		for (uint32_t j = 0; j < p->samples[i].nframes; j++)
			nsrc += 1 + p->samples[i].frames[j].ninlined; /* functions and lines */
	}

	strtab_init(&e.strs);
	str(&e, ""); /* index 0 must be the empty string */
	e.fns = calloc(nsrc + 1, sizeof(*e.fns));
	e.fnp = calloc(nsrc + 1, sizeof(*e.fnp));
	e.locs = calloc(nframes + 1, sizeof(*e.locs));
	e.locp = calloc(nframes + 1, sizeof(*e.locp));
	e.lines = calloc(nsrc + 1, sizeof(*e.lines));
	e.linep = calloc(nsrc + 1, sizeof(*e.linep));
	e.maps = calloc(p->nmappings + 1, sizeof(*e.maps));
	e.mapp = calloc(p->nmappings + 1, sizeof(*e.mapp));
	samples = calloc(p->nsamples + 1, sizeof(*samples));
	samplep = calloc(p->nsamples + 1, sizeof(*samplep));
	labels = calloc(NLABELS * p->nsamples + 1, sizeof(*labels));
	labelp = calloc(NLABELS * p->nsamples + 1, sizeof(*labelp));
	locids = calloc(nframes + 1, sizeof(*locids));
	values = calloc(2 * p->nsamples + 1, sizeof(*values));
	if (!e.fns || !e.fnp || !e.locs || !e.locp || !e.lines || !e.linep || !e.maps || !e.mapp ||
	    !samples || !samplep || !labels || !labelp || !locids || !values)
		goto out;

	for (int i = 0; i < 3; i++)
		perftools__profiles__value_type__init(&vt[i]);
	vt[0].type = str(&e, "samples");
	vt[0].unit = str(&e, "count");
	vt[1].type = str(&e, p->kind == PROF_OFFCPU ? "offcpu" : "cpu");
	vt[1].unit = str(&e, "nanoseconds");
	vt[2].type = str(&e, "cpu");
	vt[2].unit = vt[1].unit;
	vtp[0] = &vt[0];
	vtp[1] = &vt[1];
	prof.n_sample_type = 2;
	prof.sample_type = vtp;
	prof.default_sample_type = vt[1].type;
	prof.period_type = &vt[2];
	prof.period = (int64_t)p->period_ns;
	prof.time_nanos = p->time_ns;
	prof.duration_nanos = p->duration_ns;

	for (size_t i = 0; i < p->nmappings; i++)
		add_mapping(&e, &p->mappings[i]);

	for (size_t i = 0; i < p->nsamples; i++) {
		const struct prof_sample *s = &p->samples[i];
		Perftools__Profiles__Sample *ps = &samples[i];
		Perftools__Profiles__Label *l = &labels[NLABELS * i];

		perftools__profiles__sample__init(ps);
		ps->location_id = &locids[fi];
		for (uint32_t j = 0; j < s->nframes; j++) /* both leaf first */
			locids[fi++] = location_id(&e, &s->frames[j]);
		ps->n_location_id = s->nframes;
		ps->value = &values[2 * i];
		ps->n_value = 2;
		values[2 * i] = (int64_t)s->count;
		values[2 * i + 1] = (int64_t)s->value_ns;
		set_label(&e, &l[0], "pid", NULL, s->pid);
		set_label(&e, &l[1], "tid", NULL, s->tid);
		set_label(&e, &l[2], "process", prof_process_name(s), 0);
		ps->n_label = 3;
		if (s->thread)
			set_label(&e, &l[ps->n_label++], "thread", s->thread, 0);
		if (s->request.span_id) {
			char trace[33], span[17];
			prof_request_ids_hex(&s->request, trace, span);
			if (s->request.route && s->request.route[0])
				set_label(&e, &l[ps->n_label++], "http.route", s->request.route, 0);
			if (s->request.method)
				set_label(&e, &l[ps->n_label++], "http.request.method", s->request.method, 0);
			set_label(&e, &l[ps->n_label++], "trace_id", trace, 0);
			set_label(&e, &l[ps->n_label++], "span_id", span, 0);
		}
		ps->label = &labelp[NLABELS * i];
		for (size_t j = 0; j < ps->n_label; j++)
			ps->label[j] = &l[j];
		samplep[i] = ps;
	}
	if (e.kmap_id)
		prof_kernel_span_range(&e.kernel, &e.maps[e.kmap_id - 1].memory_start,
				       &e.maps[e.kmap_id - 1].memory_limit);
	if (e.oom)
		goto out;

	prof.n_sample = p->nsamples;
	prof.sample = samplep;
	prof.n_mapping = e.nmaps;
	prof.mapping = e.mapp;
	prof.n_location = e.nlocs;
	prof.location = e.locp;
	prof.n_function = e.nfns;
	prof.function = e.fnp;
	prof.n_string_table = e.strs.n;
	prof.string_table = e.strs.strs;

	*len = perftools__profiles__profile__get_packed_size(&prof);
	if (!(*out = malloc(*len ? *len : 1)))
		goto out;
	perftools__profiles__profile__pack(&prof, *out);
	err = 0;
out:
	if (err)
		*len = 0;
	strtab_free(&e.strs);
	keymap_free(&e.fn_ids);
	keymap_free(&e.loc_ids);
	keymap_free(&e.chain_ids);
	free(e.fns);
	free(e.fnp);
	free(e.locs);
	free(e.locp);
	free(e.lines);
	free(e.linep);
	free(e.maps);
	free(e.mapp);
	free(samples);
	free(samplep);
	free(labels);
	free(labelp);
	free(locids);
	free(values);
	return err;
}

struct blob {
	const uint8_t *data;
	size_t len;
};

static int write_blob(FILE *f, void *arg)
{
	const struct blob *b = arg;

	return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -EIO;
}

static int gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream z = { 0 };
	int ret;

	/* 15 + 16: zlib's switch for a gzip header and trailer instead of zlib ones. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	*outlen = deflateBound(&z, len);
	if (!(*out = malloc(*outlen))) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	z.next_out = *out;
	z.avail_out = *outlen;
	ret = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -EIO;
	}
	return 0;
}

int pprof_write(const struct prof *p, const char *path)
{
	uint8_t *raw, *gz;
	size_t rawlen, gzlen;
	int err = pprof_encode(p, &raw, &rawlen);

	if (err)
		return err;
	err = gzip(raw, rawlen, &gz, &gzlen);
	free(raw);
	if (err)
		return err;
	err = outfile_write_whole(path, write_blob, &(struct blob){ gz, gzlen });
	free(gz);
	return err;
}
