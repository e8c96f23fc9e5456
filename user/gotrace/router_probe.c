// SPDX-License-Identifier: Apache-2.0
#include "gotrace/router_probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "binfmt/go_offsets.h"

#define MAX_FUNC_BYTES	 (1 << 20)
#define HTTPROUTER_SERVE "github.com/julienschmidt/httprouter.(*Router).ServeHTTP"
/* The type assertion follows the Get call at once (LEA type; CMP): not further than this. */
#define ASSERT_WINDOW 32

/* In struct gotrace_router_offsets order. */
static const struct wanted_field router_fields[] = {
	{ "github.com/gin-gonic/gin.Context", "fullPath", 0, false },
	{ "github.com/go-chi/chi/v5.Context", "RoutePatterns", 1, false },
	{ "github.com/go-chi/chi/v5.Context", "routePattern", 2, false },
	{ "github.com/gorilla/mux.Route", "routeConf", 6, false },
	{ "github.com/gorilla/mux.Route", "regexp", 7, false },
	{ "github.com/gorilla/mux.routeConf", "regexp", 8, false },
	{ "github.com/gorilla/mux.routeRegexpGroup", "path", 9, false },
	{ "github.com/gorilla/mux.routeRegexp", "template", 4, false },
	{ "github.com/labstack/echo/v4.context", "path", 5, false },
	{ "github.com/labstack/echo/v4.context", "handler", 10, false },
	{ "github.com/julienschmidt/httprouter.Router", "trees", 11, false },
	{ "github.com/julienschmidt/httprouter.node", "path", 12, false },
	{ "github.com/julienschmidt/httprouter.node", "children", 13, false },
	{ "github.com/julienschmidt/httprouter.node", "handle", 14, false },
};
#define NSLOTS 15 /* the struct's 7, gorilla's chain of embeddings, echo's handler, httprouter's */

static int fields(Elf *elf, void *out)
{
	return go_offsets_fields_from_dwarf(elf, router_fields,
					    sizeof(router_fields) / sizeof(router_fields[0]), out);
}

static const struct {
	const char *name, *serve, *ctx_type;
} pooled[GOTRACE_NR_POOLED] = {
	[GOTRACE_POOLED_GIN] = { "gin", "github.com/gin-gonic/gin.(*Engine).ServeHTTP",
				 "type:*github.com/gin-gonic/gin.Context" },
	[GOTRACE_POOLED_CHI] = { "chi", "github.com/go-chi/chi/v5.(*Mux).ServeHTTP",
				 "type:*github.com/go-chi/chi/v5.Context" },
	[GOTRACE_POOLED_ECHO] = { "echo", "github.com/labstack/echo/v4.(*Echo).ServeHTTP",
				  "type:*github.com/labstack/echo/v4.context" },
};

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

/* gin's and chi's ServeHTTP: `c := pool.Get().(*Context)` ... `pool.Put(c)`. The type is the
 * one LEA'd right after Get for the assertion; where the binary has symbols, it must be the
 * router context's type by name too. */
static const char *find_pooled(struct elf_module *m, int i, struct go_routers *r)
{
	uint64_t entry, end, get, put, type_sym, size;
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
	char older[128]; /* before Go 1.20: "type.*pkg.T" */
	snprintf(older, sizeof(older), "type.%s", pooled[i].ctx_type + strlen("type:"));
	if ((!elf_module_find_symbol(m, pooled[i].ctx_type, &type_sym, &size) ||
	     !elf_module_find_symbol(m, older, &type_sym, &size)) &&
	    type_sym != type)
		return "its ServeHTTP asserts another type than its context (an unknown version)";
	if (elf_module_vaddr_to_offset(m, put, &r->put_site[i]))
		return "its ServeHTTP is outside the binary's file";
	r->ctx_type[i] = type;
	return NULL;
}

/* echo's handlers for requests no route matched: the variables NotFoundHandler and
 * MethodNotAllowedHandler (set at run time: their values are read then), and the OPTIONS
 * answer's closure where the binary has it. */
static const char *echo_unmatched(struct elf_module *m, struct go_routers *r)
{
	static const char *const options[] = {
		"github.com/labstack/echo/v4.(*Router).Find.optionsMethodHandler.func2",
		"github.com/labstack/echo/v4.(*Router).Find.optionsMethodHandler.func1",
		"github.com/labstack/echo/v4.optionsMethodHandler.func1",
	};
	uint64_t entry, end, size;
	if (elf_module_find_symbol(m, "github.com/labstack/echo/v4.NotFoundHandler", &r->echo_unmatched[0],
				   &size) ||
	    elf_module_find_symbol(m, "github.com/labstack/echo/v4.MethodNotAllowedHandler",
				   &r->echo_unmatched[1], &size))
		return "its not-found handlers cannot be told from routes (no symbols)";
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
		.gin_fullpath = slots[0],
		.chi_patterns = slots[1],
		.chi_pattern = slots[2],
		.mux_route_path = -1,
		.mux_template = slots[4],
		.echo_path = slots[5],
		.echo_handler = slots[10],
		.hr_trees = slots[11],
		.hr_node_path = slots[12],
		.hr_node_children = slots[13],
		.hr_node_handle = slots[14],
	};
	/* gorilla: Route embeds routeConf (v1.7+), whose regexp group holds the path's regexp;
	 * before v1.7 Route held the group itself. */
	if (slots[6] >= 0 && slots[8] >= 0 && slots[9] >= 0)
		r->off.mux_route_path = slots[6] + slots[8] + slots[9];
	else if (slots[6] < 0 && slots[7] >= 0 && slots[9] >= 0)
		r->off.mux_route_path = slots[7] + slots[9];
	const bool have_off[GOTRACE_NR_POOLED] = {
		[GOTRACE_POOLED_GIN] = r->off.gin_fullpath >= 0,
		[GOTRACE_POOLED_CHI] = r->off.chi_patterns >= 0 && r->off.chi_pattern >= 0,
		[GOTRACE_POOLED_ECHO] = r->off.echo_path >= 0 && r->off.echo_handler >= 0,
	};
	char why[160];
	for (int i = 0; i < GOTRACE_NR_POOLED; i++) {
		if (!present[i])
			continue;
		const char *no =
			have_off[i] ? find_pooled(m, i, r) : "no DWARF to read its context's fields from";
		if (!no && i == GOTRACE_POOLED_ECHO)
			no = echo_unmatched(m, r);
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
			no = "no DWARF to read its Route's template from";
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
			no = "no DWARF to read its trees from";
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
