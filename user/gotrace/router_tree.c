// SPDX-License-Identifier: Apache-2.0
#include "gotrace/router_tree.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/procfs.h"
#include "gotrace/go_map_read.h"

#define MAX_ROUTERS   16   /* routers cached, over all processes */
#define MAX_TEMPLATES 1024 /* per router */
#define MAX_NODES     8192 /* nodes walked per router */
#define TEMPLATE_MAX  256
#define METHOD_MAX    16
#define MAX_METHODS   64 /* Router.trees: one tree per method, HTTP's nine and any custom */
#define RELOAD_NS     1000000000ull

struct tpl {
	char method[METHOD_MAX];
	char path[TEMPLATE_MAX];
};

struct router_cache {
	pid_t pid;
	uint64_t router;
	uint64_t loaded_ns, used_ns;
	int err; /* of the last load: 0 or -errno */
	size_t n;
	struct tpl *tpls;
};

static struct router_cache cache[MAX_ROUTERS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

bool httprouter_match(const char *tpl, const char *path)
{
	while (*tpl) {
		if (*tpl == '*')
			return true;
		if (*tpl == ':') {
			while (*tpl && *tpl != '/')
				tpl++;
			if (!*path || *path == '/')
				return false;
			while (*path && *path != '/')
				path++;
			continue;
		}
		if (*tpl++ != *path++)
			return false;
	}
	return !*path;
}

struct loader {
	pid_t pid;
	const struct gotrace_httprouter_ref *ref;
	struct router_cache *c;
	size_t nodes;
};

/* Every node under n: a node with a handle ends a template, the paths along the way joined. */
static int walk(struct loader *l, uint64_t n, const char *method, char *prefix, size_t used, int depth)
{
	const struct gotrace_httprouter_ref *ref = l->ref;
	struct go_str path;
	struct {
		uint64_t ptr, len, cap;
	} children;
	uint64_t handle;
	if (depth > 64 || ++l->nodes > MAX_NODES)
		return -E2BIG;
	int err = proc_mem_read(l->pid, n + ref->node_path, &path, sizeof(path));
	if (!err)
		err = proc_mem_read(l->pid, n + ref->node_children, &children, sizeof(children));
	if (!err)
		err = proc_mem_read(l->pid, n + ref->node_handle, &handle, sizeof(handle));
	if (err)
		return err;
	if (used + path.len >= TEMPLATE_MAX)
		return -E2BIG;
	if (path.len && (err = proc_mem_read(l->pid, path.ptr, prefix + used, path.len)))
		return err;
	used += path.len;
	prefix[used] = '\0';
	if (handle) {
		struct router_cache *c = l->c;
		if (c->n == MAX_TEMPLATES)
			return -E2BIG;
		snprintf(c->tpls[c->n].method, METHOD_MAX, "%s", method);
		memcpy(c->tpls[c->n].path, prefix, used + 1);
		c->n++;
	}
	if (children.len > MAX_NODES)
		return -E2BIG;
	for (uint64_t i = 0; i < children.len; i++) {
		uint64_t child;
		if ((err = proc_mem_read(l->pid, children.ptr + 8 * i, &child, sizeof(child))) ||
		    (err = walk(l, child, method, prefix, used, depth + 1)))
			return err;
	}
	return 0;
}

/* One (method, root) of Router.trees. */
static int visit_tree(void *ctx, struct go_str key, uint64_t root)
{
	struct loader *l = ctx;
	char method[METHOD_MAX] = "", prefix[TEMPLATE_MAX];
	int err;
	if (key.len >= METHOD_MAX)
		return -E2BIG;
	if ((err = proc_mem_read(l->pid, key.ptr, method, key.len)))
		return err;
	return walk(l, root, method, prefix, 0, 0);
}

static void load(struct router_cache *c, pid_t pid, const struct gotrace_httprouter_ref *ref)
{
	uint64_t map = 0;
	c->pid = pid;
	c->router = ref->router;
	c->n = 0;
	c->loaded_ns = clock_mono_ns();
	if (!c->tpls && !(c->tpls = calloc(MAX_TEMPLATES, sizeof(*c->tpls)))) {
		c->err = -ENOMEM;
		return;
	}
	struct loader l = { pid, ref, c, 0 };
	c->err = ref->trees < 0 || ref->node_path < 0 || ref->node_children < 0 || ref->node_handle < 0
			 ? -ENOENT
			 : proc_mem_read(pid, ref->router + ref->trees, &map, sizeof(map));
	if (!c->err && map)
		c->err = go_map_each(pid, map, ref->map_layout, MAX_METHODS, visit_tree, &l);
	if (c->err)
		c->n = 0;
}

static struct router_cache *find(pid_t pid, uint64_t router)
{
	struct router_cache *oldest = &cache[0];
	for (int i = 0; i < MAX_ROUTERS; i++) {
		if (cache[i].pid == pid && cache[i].router == router)
			return &cache[i];
		if (cache[i].used_ns < oldest->used_ns)
			oldest = &cache[i];
	}
	oldest->pid = 0; /* evicted: loaded anew */
	return oldest;
}

/* The one template of c matching method+path: 1, or 0 for none (or, impossibly, two). */
static int match(const struct router_cache *c, const char *method, const char *path, char *out, size_t outlen)
{
	const struct tpl *hit = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->tpls[i].method, method) && httprouter_match(c->tpls[i].path, path)) {
			if (hit)
				return 0;
			hit = &c->tpls[i];
		}
	if (hit)
		snprintf(out, outlen, "%s", hit->path);
	return hit != NULL;
}

int httprouter_route(pid_t pid, const struct gotrace_httprouter_ref *ref, const char *method,
		     const char *path, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	pthread_mutex_lock(&cache_lock);
	struct router_cache *c = find(pid, ref->router);
	uint64_t now = clock_mono_ns();
	if (c->pid != pid || c->router != ref->router)
		load(c, pid, ref);
	int rc = c->err ? c->err : match(c, method, path, out, outlen);
	if (rc == 0 && now - c->loaded_ns > RELOAD_NS) {
		load(c, pid, ref);
		rc = c->err ? c->err : match(c, method, path, out, outlen);
	}
	c->used_ns = now;
	pthread_mutex_unlock(&cache_lock);
	return rc;
}
