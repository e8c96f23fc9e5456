// SPDX-License-Identifier: Apache-2.0
#include "profile/writers/profile_writers.h"
#include "base/outfile.h"
#include "base/utf8.h"
#include "profile/writers/profile_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum {
	IMG_W = 1200,
	PAD = 10,
	FRAME_W = IMG_W - 2 * PAD,
	FRAME_H = 16,
	TOP = 50,
	BOTTOM = 34,
	FONT = 12,
};
#define CHAR_W	  7.2  /* average advance of a 12px monospace glyph */
#define MIN_SHARE 1000 /* frames below total/MIN_SHARE (0.1 %) are left out */

struct node {
	const char *name;	    /* owned by the string table */
	size_t parent, kids, nkids; /* kids: first index into order[] */
	uint64_t value;
	uint32_t depth;
	bool kernel;
};

struct graph {
	struct strtab names;
	struct keymap ids; /* (parent, name index, kernel) -> node */
	struct node *nodes;
	size_t n, cap;
	const struct node **order; /* non-root nodes grouped by parent, siblings by name */
	uint64_t total;
	const char *unit; /* of node values: prof_weight_unit() */
};

static int64_t child(struct graph *g, size_t parent, const char *name, bool kernel)
{
	int64_t ni = strtab_intern(&g->names, name);
	bool isnew;
	uint64_t *id = ni < 0 ? NULL : keymap_get(&g->ids, parent, (uint64_t)ni, kernel, g->n, &isnew);

	if (!id)
		return -1;
	if (isnew) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 256;
			struct node *nodes = realloc(g->nodes, cap * sizeof(*nodes));

			if (!nodes)
				return -1;
			g->nodes = nodes;
			g->cap = cap;
		}
		g->nodes[g->n] = (struct node){
			.name = g->names.strs[ni],
			.parent = parent,
			.depth = g->nodes[parent].depth + 1,
			.kernel = kernel,
		};
		g->n++;
	}
	return (int64_t)*id;
}

static int build(struct graph *g, const struct prof *p)
{
	char buf[PROF_NAME_MAX];

	/* The root is not in the id map: a process called "all" must not become the root. */
	if (strtab_intern(&g->names, "all") < 0 || !(g->nodes = calloc(1, sizeof(*g->nodes))))
		return -ENOMEM;
	g->nodes[0].name = g->names.strs[0];
	g->n = g->cap = 1;
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct prof_sample *s = &p->samples[i];
		uint64_t w = prof_sample_weight(p, s);
		int64_t cur = child(g, 0, prof_process_name(s), false);

		g->nodes[0].value += w;
		if (cur >= 0)
			g->nodes[cur].value += w;
		for (uint32_t j = s->nframes; j-- > 0 && cur >= 0;) {
			const struct prof_frame *f = &s->frames[j];

			/* The frame, then the calls inlined into it, outermost first. */
			for (uint32_t k = f->ninlined + 1; k-- > 0 && cur >= 0;) {
				cur = child(g, (size_t)cur,
					    k == f->ninlined ? prof_frame_name(p, f, buf, sizeof(buf))
							     : f->inlined[k].func,
					    f->kernel);
				if (cur >= 0)
					g->nodes[cur].value += w;
			}
		}
		if (cur < 0)
			return -ENOMEM;
	}
	g->total = g->nodes[0].value;
	g->unit = prof_weight_unit(p);
	return 0;
}

static int cmp_sibling(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
	int c;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if ((c = strcmp(x->name, y->name)))
		return c;
	return (int)x->kernel - (int)y->kernel;
}

/* Children in name order, like flamegraph.pl, so the picture does not depend on sample order. */
static int index_children(struct graph *g)
{
	if (!(g->order = malloc(g->n * sizeof(*g->order))))
		return -ENOMEM;
	for (size_t i = 1; i < g->n; i++)
		g->order[i - 1] = &g->nodes[i];
	qsort(g->order, g->n - 1, sizeof(*g->order), cmp_sibling);
	for (size_t i = g->n - 1; i-- > 0;) {
		struct node *par = &g->nodes[g->order[i]->parent];

		par->kids = i;
		par->nkids++;
	}
	return 0;
}

/* A well-formed UTF-8 sequence that is also an XML character (not U+FFFE, U+FFFF). */
static size_t utf8_seq(const unsigned char *s)
{
	uint32_t cp;
	size_t n = utf8_decode(s, SIZE_MAX, &cp);
	return n && cp != 0xfffe && cp != 0xffff ? n : 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (const unsigned char *u = (const unsigned char *)s; *u; n++) {
		size_t k = utf8_seq(u);

		u += k ? k : 1;
	}
	return n;
}

/* Writes at most max characters of s as XML text. Symbol names are arbitrary bytes: invalid UTF-8
 * and control characters become '?' so that the document stays well-formed. */
static void xml_text(FILE *out, const char *s, size_t max)
{
	for (const unsigned char *u = (const unsigned char *)s; *u && max; max--) {
		size_t k = utf8_seq(u);

		if (k > 1)
			fwrite(u, 1, k, out);
		else if (*u == '&')
			fputs("&amp;", out);
		else if (*u == '<')
			fputs("&lt;", out);
		else if (*u == '>')
			fputs("&gt;", out);
		else if (*u == '"')
			fputs("&quot;", out);
		else if (*u == '\'')
			fputs("&apos;", out);
		else
			fputc(k && *u >= 0x20 ? *u : '?', out);
		u += k ? k : 1;
	}
}

static void label(FILE *out, const char *name, double width)
{
	long fit = (long)((width - 6) / CHAR_W);
	size_t len;

	if (fit < 3)
		return;
	len = utf8_chars(name);
	if (len <= (size_t)fit) {
		xml_text(out, name, len);
	} else {
		xml_text(out, name, (size_t)fit - 2);
		fputs("..", out);
	}
}

static void color(const struct node *n, size_t idx, char *buf, size_t len)
{
	uint64_t h = prof_hash(n->name, strlen(n->name), 0);
	unsigned a = h & 0xff, b = (h >> 8) & 0xff, c = (h >> 16) & 0xff;

	if (idx == 0)
		snprintf(buf, len, "rgb(200,200,200)");
	else if (n->kernel)
		snprintf(buf, len, "rgb(%u,%u,%u)", 60 + a * 60 / 255, 140 + b * 60 / 255,
			 200 + c * 55 / 255);
	else
		snprintf(buf, len, "rgb(%u,%u,%u)", 215 + a * 40 / 255, 70 + b * 150 / 255,
			 20 + c * 50 / 255);
}

static void emit_frames(FILE *out, const struct graph *g, size_t idx, uint64_t x, int height)
{
	const struct node *n = &g->nodes[idx];
	double px = PAD + (double)x * FRAME_W / (double)g->total;
	double w = (double)n->value * FRAME_W / (double)g->total;
	int y = height - BOTTOM - (int)(n->depth + 1) * FRAME_H;
	char fill[32];

	if (n->value * MIN_SHARE < g->total)
		return;
	color(n, idx, fill, sizeof(fill));
	fputs("<g><title>", out);
	xml_text(out, n->name, SIZE_MAX);
	fprintf(out, " (%" PRIu64 " %s, %.2f %%)</title>", n->value, g->unit,
		100.0 * (double)n->value / (double)g->total);
	fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\" ry=\"2\"/>",
		px, y, w, FRAME_H - 1, fill);
	fprintf(out, "<text x=\"%.2f\" y=\"%d\">", px + 3, y + FRAME_H - 4);
	label(out, n->name, w);
	fputs("</text></g>\n", out);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *k = g->order[n->kids + i];

		emit_frames(out, g, (size_t)(k - g->nodes), x, height);
		x += k->value;
	}
}

/* Frames carry only their original geometry; the script derives everything else from it. */
static const char script[] =
	"var frames = [], details = document.getElementById('details'), matched = "
	"document.getElementById('matched');\n"
	"var unzoom = document.getElementById('unzoom'), clear = document.getElementById('clear');\n"
	"var defaultDetails = details.textContent;\n"
	"function fit(name, w) {\n"
	"	var n = Math.floor((w - 6) / CHAR_W);\n"
	"	return n < 3 ? '' : name.length <= n ? name : name.substring(0, n - 2) + '..';\n"
	"}\n"
	"function place(f, x, w) {\n"
	"	f.style.display = '';\n"
	"	f.r.setAttribute('x', x.toFixed(2));\n"
	"	f.r.setAttribute('width', w.toFixed(2));\n"
	"	f.t.setAttribute('x', (x + 3).toFixed(2));\n"
	"	f.t.textContent = fit(f.fname, w);\n"
	"}\n"
	"function zoom(z) {\n"
	"	var s = W / z.ow;\n"
	"	frames.forEach(function (f) {\n"
	"		var inside = f.ox >= z.ox - EPS && f.ox + f.ow <= z.ox + z.ow + EPS;\n"
	"		var around = f.ox <= z.ox + EPS && f.ox + f.ow >= z.ox + z.ow - EPS;\n"
	"		f.style.opacity = '';\n"
	"		if (f.oy <= z.oy && inside) {\n"
	"			place(f, PAD + (f.ox - z.ox) * s, f.ow * s);\n"
	"		} else if (f.oy > z.oy && around) {\n"
	"			place(f, PAD, W);\n"
	"			f.style.opacity = '0.5';\n"
	"		} else {\n"
	"			f.style.display = 'none';\n"
	"		}\n"
	"	});\n"
	"	unzoom.style.display = '';\n"
	"}\n"
	"function resetZoom() {\n"
	"	frames.forEach(function (f) { f.style.opacity = ''; place(f, f.ox, f.ow); });\n"
	"	unzoom.style.display = 'none';\n"
	"}\n"
	"function clearSearch() {\n"
	"	frames.forEach(function (f) { f.r.setAttribute('fill', f.ofill); });\n"
	"	matched.textContent = '';\n"
	"	clear.style.display = 'none';\n"
	"}\n"
	"function search() {\n"
	"	var term = prompt('Search (regular expression):', ''), re, spans = [], sum = 0, end = -1;\n"
	"	if (term === null) return;\n"
	"	clearSearch();\n"
	"	if (term === '') return;\n"
	"	try { re = new RegExp(term); } catch (e) { alert(e); return; }\n"
	"	frames.forEach(function (f) {\n"
	"		if (!re.test(f.fname)) return;\n"
	"		f.r.setAttribute('fill', 'rgb(230,0,230)');\n"
	"		spans.push([f.ox, f.ox + f.ow]);\n"
	"	});\n"
	"	/* nested matches (recursion, caller and callee) must not count twice */\n"
	"	spans.sort(function (a, b) { return a[0] - b[0]; });\n"
	"	spans.forEach(function (sp) {\n"
	"		if (sp[1] <= end) return;\n"
	"		sum += sp[1] - Math.max(sp[0], end);\n"
	"		end = sp[1];\n"
	"	});\n"
	"	matched.textContent = 'Matched: ' + (100 * sum / W).toFixed(2) + ' %';\n"
	"	clear.style.display = '';\n"
	"}\n"
	"Array.prototype.forEach.call(document.getElementById('frames').getElementsByTagName('g'), function "
	"(f) {\n"
	"	var title = f.getElementsByTagName('title')[0].textContent;\n"
	"	f.r = f.getElementsByTagName('rect')[0];\n"
	"	f.t = f.getElementsByTagName('text')[0];\n"
	"	f.ox = parseFloat(f.r.getAttribute('x'));\n"
	"	f.ow = parseFloat(f.r.getAttribute('width'));\n"
	"	f.oy = parseFloat(f.r.getAttribute('y'));\n"
	"	f.ofill = f.r.getAttribute('fill');\n"
	"	f.fname = title.substring(0, title.lastIndexOf(' ('));\n"
	"	f.addEventListener('click', function () { zoom(f); });\n"
	"	f.addEventListener('mouseover', function () { details.textContent = title; });\n"
	"	f.addEventListener('mouseout', function () { details.textContent = defaultDetails; });\n"
	"	frames.push(f);\n"
	"});\n"
	"unzoom.addEventListener('click', resetZoom);\n"
	"document.getElementById('search').addEventListener('click', search);\n"
	"clear.addEventListener('click', clearSearch);\n"
	"document.addEventListener('keydown', function (e) {\n"
	"	if ((e.ctrlKey && e.key === 'f') || e.key === '/') { e.preventDefault(); search(); }\n"
	"	else if (e.key === 'Escape') { resetZoom(); clearSearch(); }\n"
	"});\n";

struct svg_args {
	const struct graph *g;
	const char *title;
};

static int write_svg(FILE *out, void *arg)
{
	const struct graph *g = ((const struct svg_args *)arg)->g;
	const char *title = ((const struct svg_args *)arg)->title;
	uint32_t maxdepth = 0;
	int height;

	for (size_t i = 0; i < g->n; i++)
		if (g->nodes[i].value * MIN_SHARE >= g->total && g->nodes[i].depth > maxdepth)
			maxdepth = g->nodes[i].depth;
	height = TOP + (int)(maxdepth + 1) * FRAME_H + BOTTOM;

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\">\n",
		IMG_W, height, IMG_W, height);
	fprintf(out,
		"<style>\n"
		"text { font-family: monospace; font-size: %dpx; fill: #000; }\n"
		"#frames g { cursor: pointer; }\n"
		"#frames g:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		".button { fill: #226; cursor: pointer; }\n"
		"</style>\n",
		FONT);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n");
	fprintf(out, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" style=\"font-size: 17px\">", IMG_W / 2);
	xml_text(out, title ? title : "Flame Graph", SIZE_MAX);
	fputs("</text>\n", out);
	fprintf(out,
		"<text id=\"unzoom\" class=\"button\" x=\"%d\" y=\"24\" style=\"display: none\">Reset "
		"Zoom</text>\n",
		PAD);
	fprintf(out,
		"<text id=\"search\" class=\"button\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>\n",
		IMG_W - PAD);
	fprintf(out,
		"<text id=\"clear\" class=\"button\" x=\"%d\" y=\"24\" text-anchor=\"end\" "
		"style=\"display: none\">Clear</text>\n",
		IMG_W - PAD - 60);
	fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\">%s</text>\n", PAD, height - 12,
		g->total ? "" : "No samples");
	fprintf(out, "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"></text>\n", IMG_W - PAD,
		height - 12);
	fputs("<g id=\"frames\">\n", out);
	if (g->total)
		emit_frames(out, g, 0, 0, height);
	fputs("</g>\n<script type=\"text/ecmascript\"><![CDATA[\n", out);
	/* In a function: names like "frames" would clash with window globals. */
	fprintf(out, "(function () {\nvar W = %d, PAD = %d, CHAR_W = %.1f, EPS = 0.01;\n", FRAME_W, PAD,
		CHAR_W);
	fputs(script, out);
	fputs("})();\n", out);
	fputs("]]></script>\n</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}

int flamegraph_write_svg(const struct prof *p, const char *path, const char *title)
{
	struct graph g = { 0 };
	int err;

	strtab_init(&g.names);
	err = build(&g, p);
	if (!err)
		err = index_children(&g);
	if (!err)
		err = outfile_write_whole(path, write_svg, &(struct svg_args){ &g, title });
	free(g.order);
	free(g.nodes);
	keymap_free(&g.ids);
	strtab_free(&g.names);
	return err;
}
