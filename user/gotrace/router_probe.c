// SPDX-License-Identifier: Apache-2.0
#include "gotrace/router_probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "binfmt/go_funcval.h"
#include "binfmt/go_offsets.h"
#include "binfmt/go_types.h"
#include "binfmt/gobinary.h"
#include "gotrace/router_offsets_table.h"

#define MAX_FUNC_BYTES	 (1 << 20)
#define MAX_REFS	 4096
#define HTTPROUTER_SERVE "github.com/julienschmidt/httprouter.(*Router).ServeHTTP"
#define ECHO_PKG	 "github.com/labstack/echo/v4"
/* The type assertion follows the Get call at once (LEA type; CMP): not further than this. */
#define ASSERT_WINDOW 32

/* The fields read from DWARF: the routers' own, then the embeddings gorilla's Route reaches
 * its path template through. */
enum slot {
	S_GIN_FULLPATH,
	S_CHI_PATTERNS,
	S_CHI_PATTERN,
	S_MUX_TEMPLATE,
	S_ECHO_PATH,
	S_ECHO_HANDLER,
	S_HR_TREES,
	S_HR_NODE_PATH,
	S_HR_NODE_CHILDREN,
	S_HR_NODE_HANDLE,
	S_MUX_ROUTE_CONF,   /* Route.routeConf (v1.7+) */
	S_MUX_ROUTE_REGEXP, /* Route.regexp (before v1.7) */
	S_MUX_CONF_REGEXP,  /* routeConf.regexp */
	S_MUX_GROUP_PATH,   /* routeRegexpGroup.path */
	NSLOTS,
};

static const struct wanted_field router_fields[] = {
	{ "github.com/gin-gonic/gin.Context", "fullPath", S_GIN_FULLPATH, false },
	{ "github.com/go-chi/chi/v5.Context", "RoutePatterns", S_CHI_PATTERNS, false },
	{ "github.com/go-chi/chi/v5.Context", "routePattern", S_CHI_PATTERN, false },
	{ "github.com/gorilla/mux.routeRegexp", "template", S_MUX_TEMPLATE, false },
	{ "github.com/labstack/echo/v4.context", "path", S_ECHO_PATH, false },
	{ "github.com/labstack/echo/v4.context", "handler", S_ECHO_HANDLER, false },
	{ "github.com/julienschmidt/httprouter.Router", "trees", S_HR_TREES, false },
	{ "github.com/julienschmidt/httprouter.node", "path", S_HR_NODE_PATH, false },
	{ "github.com/julienschmidt/httprouter.node", "children", S_HR_NODE_CHILDREN, false },
	{ "github.com/julienschmidt/httprouter.node", "handle", S_HR_NODE_HANDLE, false },
	{ "github.com/gorilla/mux.Route", "routeConf", S_MUX_ROUTE_CONF, false },
	{ "github.com/gorilla/mux.Route", "regexp", S_MUX_ROUTE_REGEXP, false },
	{ "github.com/gorilla/mux.routeConf", "regexp", S_MUX_CONF_REGEXP, false },
	{ "github.com/gorilla/mux.routeRegexpGroup", "path", S_MUX_GROUP_PATH, false },
};

static int fields(Elf *elf, void *out)
{
	return go_offsets_fields_from_dwarf(elf, router_fields,
					    sizeof(router_fields) / sizeof(router_fields[0]), out);
}

static const struct {
	const char *name, *module, *serve, *ctx_type; /* ctx_type: the type's Go name */
} pooled[GOTRACE_NR_POOLED] = {
	[GOTRACE_POOLED_GIN] = { "gin", "github.com/gin-gonic/gin",
				 "github.com/gin-gonic/gin.(*Engine).ServeHTTP", "*gin.Context" },
	[GOTRACE_POOLED_CHI] = { "chi", "github.com/go-chi/chi/v5",
				 "github.com/go-chi/chi/v5.(*Mux).ServeHTTP", "*chi.Context" },
	[GOTRACE_POOLED_ECHO] = { "echo", ECHO_PKG, ECHO_PKG ".(*Echo).ServeHTTP", "*echo.context" },
};

static void note(char *list, size_t len, const char *what);

/* Stripped binaries: the offsets of the module version they were built with, from the table
 * generated from reference builds (scripts/gen-router-offsets.sh). Each row sets only its own
 * router's fields; DWARF, where present, wins. */
static void from_table(struct elf_module *m, struct go_routers *r, const char *const **echo_funcs)
{
	int32_t *have = (int32_t *)&r->off;
	for (size_t i = 0; i < sizeof(router_offsets_table) / sizeof(router_offsets_table[0]); i++) {
		const struct router_offsets_row *row = &router_offsets_table[i];
		const int32_t *want = (const int32_t *)&row->off;
		char version[64];
		bool missing = false;
		for (size_t k = 0; k < sizeof(r->off) / sizeof(int32_t); k++)
			missing |= want[k] >= 0 && have[k] < 0;
		if (!missing ||
		    go_buildinfo_dep_version(elf_module_elf(m), row->module, version, sizeof(version)) ||
		    strcmp(version, row->version))
			continue;
		for (size_t k = 0; k < sizeof(r->off) / sizeof(int32_t); k++)
			if (want[k] >= 0 && have[k] < 0)
				have[k] = want[k];
		if (row->echo_funcs[0])
			*echo_funcs = row->echo_funcs;
		char what[128];
		snprintf(what, sizeof(what), "table: %s %s", row->module, row->version);
		note(r->offsets_source, sizeof(r->offsets_source), what);
	}
}

/* Why a router's offsets are unknown, in buf: no DWARF, and its version not in the table. */
static const char *no_offsets(struct elf_module *m, const char *module, char *buf)
{
	char version[64];
	if (go_buildinfo_dep_version(elf_module_elf(m), module, version, sizeof(version)))
		snprintf(buf, 160, "no DWARF, and the build info does not say which %s it is", module);
	else
		snprintf(buf, 160, "no DWARF, and %s %s is not in glimpse's table of offsets", module,
			 version);
	return buf;
}

static void note(char *list, size_t len, const char *what)
{
	size_t used = strlen(list);
	snprintf(list + used, len - used, "%s%s", used ? ", " : "", what);
}

/* The one direct call from code (at addr) to the named function: 0, its address in *site. */
static int one_call(struct elf_module *m, const uint8_t *code, size_t len, uint64_t addr, const char *callee,
		    uint64_t *site)
{
	uint64_t entry, end;
	uint32_t at[2];
	if (elf_module_find_function(m, callee, &entry, &end))
		return -ENOENT;
	int n = find_call_offsets(code, len, addr, entry, at, 2);
	if (n != 1)
		return n < 0 ? n : -ENOENT;
	*site = addr + at[0];
	return 0;
}

/* The name of the Go type descriptor at type (binfmt/go_types.h: from runtime.types, or the
 * moduledata of a stripped binary) must be want. True only when it is readable and differs. */
static bool type_name_differs(struct elf_module *m, uint64_t type, const char *want)
{
	uint64_t types, etypes;
	char name[128];
	return !go_types_range(m, &types, &etypes) &&
	       !go_type_name(m, types, etypes, type, name, sizeof(name)) && strcmp(name, want) != 0;
}

/* gin's and chi's ServeHTTP: `c := pool.Get().(*Context)` ... `pool.Put(c)`. The type is the
 * one LEA'd right after Get for the assertion; it must be the router context's type by name
 * too (stripped binaries included: the name is read through the runtime's moduledata). */
static const char *find_pooled(struct elf_module *m, int i, struct go_routers *r)
{
	uint64_t entry, end, get, put;
	if (elf_module_find_function(m, pooled[i].serve, &entry, &end) || end <= entry ||
	    end - entry > MAX_FUNC_BYTES)
		return "its ServeHTTP is not in the binary";
	uint8_t *code = malloc(end - entry);
	struct rip_ref refs[64];
	int nrefs = -ENOMEM;
	const char *why = NULL;
	if (!code || elf_module_read(m, entry, code, end - entry))
		why = "its ServeHTTP cannot be read";
	else if (one_call(m, code, end - entry, entry, "sync.(*Pool).Get", &get) ||
		 one_call(m, code, end - entry, entry, "sync.(*Pool).Put", &put))
		why = "its ServeHTTP does not take its context from one sync.Pool (an unknown version)";
	else if ((nrefs = find_rip_refs(code, end - entry, entry, refs, 64)) < 0)
		why = "its ServeHTTP cannot be decoded";
	free(code);
	if (why)
		return why;
	uint64_t type = 0;
	for (int k = 0; k < nrefs && k < 64 && !type; k++)
		if (refs[k].lea && refs[k].insn_addr > get && refs[k].insn_addr - get <= ASSERT_WINDOW)
			type = refs[k].target;
	if (!type)
		return "its ServeHTTP does not assert its context's type where expected (an unknown version)";
	if (type_name_differs(m, type, pooled[i].ctx_type))
		return "its ServeHTTP asserts another type than its context (an unknown version)";
	if (elf_module_vaddr_to_offset(m, put, &r->put_site[i]))
		return "its ServeHTTP is outside the binary's file";
	r->ctx_type[i] = type;
	return NULL;
}

/* echo's variables holding its handlers for requests no route matched (set at run time: their
 * values are read then). */
static const char *const echo_vars[GOTRACE_ECHO_UNMATCHED_VARS] = {
	ECHO_PKG ".NotFoundHandler",
	ECHO_PKG ".MethodNotAllowedHandler",
};

/* The name of the function a variable's initial value (a static funcval) runs, in buf: what
 * the generator records for stripped builds. False where the pointers are not in the file's
 * bytes (only in relocations). */
static bool initial_function(struct elf_module *m, uint64_t var, char *buf, size_t len)
{
	const struct gopclntab *t = elf_module_gopclntab(m);
	uint64_t funcval, code;
	struct go_func fn;
	if (!t || elf_module_read_data(m, var, &funcval, 8) || !funcval ||
	    elf_module_read_data(m, funcval, &code, 8) || gopclntab_lookup(t, code, &fn, NULL, NULL) ||
	    fn.entry != code)
		return false;
	snprintf(buf, len, "%s", fn.name);
	return true;
}

/* Whether the code of the named function loads the word at var (a RIP-relative MOV). */
static bool loads(struct elf_module *m, const char *function, uint64_t var)
{
	uint64_t entry, end;
	if (elf_module_find_function(m, function, &entry, &end) || end <= entry ||
	    end - entry > MAX_FUNC_BYTES)
		return false;
	uint8_t *code = malloc(end - entry);
	struct rip_ref *refs = calloc(MAX_REFS, sizeof(*refs));
	int n = !code || !refs || elf_module_read(m, entry, code, end - entry)
			? -1
			: find_rip_refs(code, end - entry, entry, refs, MAX_REFS);
	bool found = false;
	for (int i = 0; i < n && i < MAX_REFS && !found; i++)
		found = !refs[i].lea && refs[i].size == 8 && refs[i].target == var;
	free(code);
	free(refs);
	return found;
}

/* Stripped binaries: each variable is the one whose initial value is the static funcval of the
 * function its version's row names (pclntab still names functions), and (*Router).Find must
 * load it, as it does to answer a request no route matched. */
static const char *echo_vars_by_function(struct elf_module *m, const char *const *funcs, struct go_routers *r)
{
	uint64_t entry, end;
	for (int i = 0; i < GOTRACE_ECHO_UNMATCHED_VARS; i++) {
		if (!funcs || !funcs[i])
			return "no symbols, and glimpse's table does not name its not-found handlers";
		if (elf_module_find_function(m, funcs[i], &entry, &end))
			return "no symbols, and its not-found handlers are not the functions its version's "
			       "table row names";
		if (go_funcval_variable(m, entry, &r->echo_unmatched[i]) ||
		    !loads(m, ECHO_PKG ".(*Router).Find", r->echo_unmatched[i]))
			return "no symbols, and the variables holding its not-found handlers are not found "
			       "for sure";
		snprintf(r->echo_funcs[i], sizeof(r->echo_funcs[i]), "%s", funcs[i]);
	}
	return NULL;
}

/* echo's handlers for requests no route matched: the variables (from the symbols, else from
 * the functions they are initialised with), and the OPTIONS answer's closure where the binary
 * has it. */
static const char *echo_unmatched(struct elf_module *m, const char *const *funcs, struct go_routers *r)
{
	static const char *const options[] = {
		ECHO_PKG ".(*Router).Find.optionsMethodHandler.func2",
		ECHO_PKG ".(*Router).Find.optionsMethodHandler.func1",
		ECHO_PKG ".optionsMethodHandler.func1",
	};
	uint64_t entry, end, size;
	bool symbols = true;
	for (int i = 0; i < GOTRACE_ECHO_UNMATCHED_VARS; i++) {
		symbols &= !elf_module_find_symbol(m, echo_vars[i], &r->echo_unmatched[i], &size);
		if (symbols &&
		    !initial_function(m, r->echo_unmatched[i], r->echo_funcs[i], sizeof(r->echo_funcs[i])))
			r->echo_funcs[i][0] = '\0';
	}
	const char *no = symbols ? NULL : echo_vars_by_function(m, funcs, r);
	if (no) {
		memset(r->echo_unmatched, 0, sizeof(r->echo_unmatched));
		memset(r->echo_funcs, 0, sizeof(r->echo_funcs));
		return no;
	}
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]) && !r->echo_options; i++)
		if (!elf_module_find_function(m, options[i], &entry, &end) &&
		    elf_module_vaddr_to_offset(m, entry, &r->echo_options))
			r->echo_options = 0;
	return NULL;
}

void go_routers_find(struct elf_module *m, struct go_routers *r)
{
	memset(r, 0, sizeof(*r));
	int32_t slots[NSLOTS];
	for (int i = 0; i < NSLOTS; i++)
		slots[i] = -1;
	uint64_t entry, end;
	bool present[GOTRACE_NR_POOLED] = { false };
	bool mux = !elf_module_find_function(m, "github.com/gorilla/mux.(*Router).ServeHTTP", &entry, &end);
	bool hr = !elf_module_find_function(m, HTTPROUTER_SERVE, &entry, &end);
	bool any = mux || hr;
	for (int i = 0; i < GOTRACE_NR_POOLED; i++)
		any |= present[i] = !elf_module_find_function(m, pooled[i].serve, &entry, &end);
	if (any)
		go_offsets_run_isolated(elf_module_elf(m), fields, slots, sizeof(slots));
	r->off = (struct gotrace_router_offsets){
		.gin_fullpath = slots[S_GIN_FULLPATH],
		.chi_patterns = slots[S_CHI_PATTERNS],
		.chi_pattern = slots[S_CHI_PATTERN],
		.mux_route_path = -1,
		.mux_template = slots[S_MUX_TEMPLATE],
		.echo_path = slots[S_ECHO_PATH],
		.echo_handler = slots[S_ECHO_HANDLER],
		.hr_trees = slots[S_HR_TREES],
		.hr_node_path = slots[S_HR_NODE_PATH],
		.hr_node_children = slots[S_HR_NODE_CHILDREN],
		.hr_node_handle = slots[S_HR_NODE_HANDLE],
	};
	/* gorilla: Route embeds routeConf (v1.7+), whose regexp group holds the path's regexp;
	 * before v1.7 Route held the group itself. */
	if (slots[S_MUX_ROUTE_CONF] >= 0 && slots[S_MUX_CONF_REGEXP] >= 0 && slots[S_MUX_GROUP_PATH] >= 0)
		r->off.mux_route_path =
			slots[S_MUX_ROUTE_CONF] + slots[S_MUX_CONF_REGEXP] + slots[S_MUX_GROUP_PATH];
	else if (slots[S_MUX_ROUTE_CONF] < 0 && slots[S_MUX_ROUTE_REGEXP] >= 0 &&
		 slots[S_MUX_GROUP_PATH] >= 0)
		r->off.mux_route_path = slots[S_MUX_ROUTE_REGEXP] + slots[S_MUX_GROUP_PATH];
	bool dwarf = false;
	for (int i = 0; i < NSLOTS; i++)
		dwarf |= slots[i] >= 0;
	snprintf(r->offsets_source, sizeof(r->offsets_source), "%s", dwarf ? "DWARF" : "");
	const char *const *echo_funcs = NULL;
	from_table(m, r, &echo_funcs);
	const bool have_off[GOTRACE_NR_POOLED] = {
		[GOTRACE_POOLED_GIN] = r->off.gin_fullpath >= 0,
		[GOTRACE_POOLED_CHI] = r->off.chi_patterns >= 0 && r->off.chi_pattern >= 0,
		[GOTRACE_POOLED_ECHO] = r->off.echo_path >= 0 && r->off.echo_handler >= 0,
	};
	char why[256], reason[160];
	for (int i = 0; i < GOTRACE_NR_POOLED; i++) {
		if (!present[i])
			continue;
		const char *no = have_off[i] ? find_pooled(m, i, r) : no_offsets(m, pooled[i].module, reason);
		if (!no && i == GOTRACE_POOLED_ECHO)
			no = echo_unmatched(m, echo_funcs, r);
		if (no) {
			r->put_site[i] = r->ctx_type[i] = 0;
			snprintf(why, sizeof(why), "%s (%s)", pooled[i].name, no);
			note(r->unread, sizeof(r->unread), why);
		} else {
			note(r->read, sizeof(r->read), pooled[i].name);
		}
	}
	if (mux) {
		const char *no = NULL;
		if (r->off.mux_route_path < 0 || r->off.mux_template < 0)
			no = no_offsets(m, "github.com/gorilla/mux", reason);
		else if (elf_module_find_function(m, "github.com/gorilla/mux.requestWithRoute", &entry,
						  &end) ||
			 elf_module_vaddr_to_offset(m, entry, &r->mux_route))
			no = "requestWithRoute is not in the binary (an unknown version)";
		if (no) {
			r->mux_route = 0;
			snprintf(why, sizeof(why), "gorilla/mux (%s)", no);
			note(r->unread, sizeof(r->unread), why);
		} else {
			note(r->read, sizeof(r->read), "gorilla/mux");
		}
	}
	if (hr) {
		const char *no = NULL;
		if (r->off.hr_trees < 0 || r->off.hr_node_path < 0 || r->off.hr_node_children < 0 ||
		    r->off.hr_node_handle < 0)
			no = no_offsets(m, "github.com/julienschmidt/httprouter", reason);
		else if (elf_module_find_function(m, HTTPROUTER_SERVE, &entry, &end) ||
			 elf_module_vaddr_to_offset(m, entry, &r->httprouter))
			no = "its ServeHTTP is outside the binary's file";
		if (no) {
			r->httprouter = 0;
			snprintf(why, sizeof(why), "httprouter (%s)", no);
			note(r->unread, sizeof(r->unread), why);
		} else {
			note(r->read, sizeof(r->read), "httprouter");
		}
	}
}

void go_routers_report(const struct go_routers *r, int pid)
{
	if (r->unread[0])
		log_warn("process %d: the route templates of %s are not read: their requests' http.route "
			 "comes "
			 "from the path heuristic",
			 pid, r->unread);
}
