// SPDX-License-Identifier: Apache-2.0
#include "binfmt/disasm.h"

#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>

#if defined(__x86_64__)
/* Capstone is opened only while disassembling: loading it dirties ~5 MB of its relocated
 * tables, which a long-running agent should not carry for a few lookups at attach time. */
struct capstone {
	void *lib;
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc)(csh);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	void (*free)(cs_insn *, size_t);
	cs_err (*close)(csh *);
};

static int capstone_load(struct capstone *cs)
{
	cs->lib = dlopen("libcapstone.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!cs->lib)
		cs->lib = dlopen("libcapstone.so", RTLD_NOW | RTLD_LOCAL);
	if (!cs->lib)
		return -ENOENT;
	*(void **)&cs->open = dlsym(cs->lib, "cs_open");
	*(void **)&cs->option = dlsym(cs->lib, "cs_option");
	*(void **)&cs->malloc = dlsym(cs->lib, "cs_malloc");
	*(void **)&cs->disasm_iter = dlsym(cs->lib, "cs_disasm_iter");
	*(void **)&cs->free = dlsym(cs->lib, "cs_free");
	*(void **)&cs->close = dlsym(cs->lib, "cs_close");
	if (!cs->open || !cs->option || !cs->malloc || !cs->disasm_iter || !cs->free || !cs->close) {
		dlclose(cs->lib);
		return -ENOENT;
	}
	return 0;
}

/* Calls visit on every instruction of code. Returns 0, or -errno when the code cannot be
 * decoded to its end (a decode failure inside a function means the bytes are not what we
 * think they are: stop rather than guess). */
static int each_instruction(const uint8_t *code, size_t len, uint64_t addr, bool detail,
			    void (*visit)(const cs_insn *insn, void *ctx), void *ctx)
{
	struct capstone cs;
	if (capstone_load(&cs))
		return -ENOSYS;
	csh handle;
	int rc = -ENOSYS;
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
		goto out;
	if (detail)
		cs.option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *insn = cs.malloc(handle);
	rc = -ENOMEM;
	if (insn) {
		const uint8_t *p = code;
		size_t left = len;
		uint64_t pc = addr;
		while (left > 0 && cs.disasm_iter(handle, &p, &left, &pc, insn))
			visit(insn, ctx);
		cs.free(insn, 1);
		rc = left == 0 ? 0 : -EILSEQ;
	}
	cs.close(&handle);
out:
	dlclose(cs.lib);
	return rc;
}

struct collect {
	uint64_t addr;
	void *out;
	size_t max, found;
};

static void visit_ret(const cs_insn *insn, void *ctx)
{
	struct collect *c = ctx;
	if (insn->id != X86_INS_RET)
		return;
	if (c->found < c->max)
		((uint32_t *)c->out)[c->found] = (uint32_t)(insn->address - c->addr);
	c->found++;
}

static void visit_rip(const cs_insn *insn, void *ctx)
{
	struct collect *c = ctx;
	const cs_x86 *x = &insn->detail->x86;
	for (uint8_t i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP || op->mem.index != X86_REG_INVALID)
			continue;
		if (c->found < c->max)
			((struct rip_ref *)c->out)[c->found] = (struct rip_ref){
				.target = insn->address + insn->size + (uint64_t)op->mem.disp,
				.insn_addr = insn->address,
				.size = op->size,
				.lea = insn->id == X86_INS_LEA,
			};
		c->found++;
	}
}

struct call_collect {
	struct collect c;
	uint64_t target;
};

static void visit_call(const cs_insn *insn, void *ctx)
{
	struct call_collect *cc = ctx;
	const cs_x86 *x = &insn->detail->x86;
	if (insn->id != X86_INS_CALL || x->op_count != 1 || x->operands[0].type != X86_OP_IMM ||
	    (uint64_t)x->operands[0].imm != cc->target)
		return;
	if (cc->c.found < cc->c.max)
		((uint32_t *)cc->c.out)[cc->c.found] = (uint32_t)(insn->address - cc->c.addr);
	cc->c.found++;
}

struct reg_call_collect {
	struct collect c;
	uint32_t *sizes;
};

static void visit_reg_call(const cs_insn *insn, void *ctx)
{
	struct reg_call_collect *rc = ctx;
	const cs_x86 *x = &insn->detail->x86;
	if (insn->id != X86_INS_CALL || x->op_count != 1 || x->operands[0].type != X86_OP_REG ||
	    x->operands[0].reg != X86_REG_RDX)
		return;
	if (rc->c.found < rc->c.max) {
		((uint32_t *)rc->c.out)[rc->c.found] = (uint32_t)(insn->address - rc->c.addr);
		rc->sizes[rc->c.found] = insn->size;
	}
	rc->c.found++;
}
#endif

int find_dx_call_offsets(const uint8_t *code, size_t len, uint64_t addr, uint32_t *offsets, uint32_t *sizes,
			 size_t max)
{
#if defined(__x86_64__)
	struct reg_call_collect rc = { { addr, offsets, max, 0 }, sizes };
	int err = each_instruction(code, len, addr, true, visit_reg_call, &rc);
	return err ? err : (int)rc.c.found;
#else
	(void)code, (void)len, (void)addr, (void)offsets, (void)sizes, (void)max;
	return -ENOSYS;
#endif
}

int find_call_offsets(const uint8_t *code, size_t len, uint64_t addr, uint64_t target, uint32_t *offsets,
		      size_t max)
{
#if defined(__x86_64__)
	struct call_collect cc = { { addr, offsets, max, 0 }, target };
	int err = each_instruction(code, len, addr, true, visit_call, &cc);
	return err ? err : (int)cc.c.found;
#else
	(void)code, (void)len, (void)addr, (void)target, (void)offsets, (void)max;
	return -ENOSYS;
#endif
}

#if defined(__x86_64__)
/* The Go prologue's stack bound check: CMP of SP (or R12, SP less the frame) with g.stackguard0
 * at 16(R14), then JBE to the morestack call, which re-runs the function from its entry. */
struct stack_check {
	uint64_t addr;
	int seen;
	bool cmp_guard;
	uint32_t body; /* offset of the instruction after the JBE, 0 until found */
};

static void visit_prologue(const cs_insn *insn, void *ctx)
{
	struct stack_check *c = ctx;
	if (c->body || ++c->seen > 6)
		return;
	const cs_x86 *x = &insn->detail->x86;
	if (insn->id == X86_INS_CMP)
		for (uint8_t i = 0; i < x->op_count; i++)
			if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_R14 &&
			    x->operands[i].mem.disp == 16)
				c->cmp_guard = true;
	if (insn->id == X86_INS_JBE && c->cmp_guard)
		c->body = (uint32_t)(insn->address + insn->size - c->addr);
}
#endif

int find_stack_check_end(const uint8_t *code, size_t len, uint64_t addr)
{
#if defined(__x86_64__)
	struct stack_check c = { .addr = addr };
	/* The first bytes only: a decode error past the prologue does not matter. */
	int err = each_instruction(code, len, addr, true, visit_prologue, &c);
	return c.body ? (int)c.body : err == -ENOSYS || err == -ENOMEM ? err : 0;
#else
	(void)code, (void)len, (void)addr;
	return -ENOSYS;
#endif
}

int find_return_offsets(const uint8_t *code, size_t len, uint64_t addr, uint32_t *offsets, size_t max)
{
#if defined(__x86_64__)
	struct collect c = { addr, offsets, max, 0 };
	int err = each_instruction(code, len, addr, false, visit_ret, &c);
	return err ? err : (int)c.found;
#else
	(void)code, (void)len, (void)addr, (void)offsets, (void)max;
	return -ENOSYS;
#endif
}

int find_rip_refs(const uint8_t *code, size_t len, uint64_t addr, struct rip_ref *refs, size_t max)
{
#if defined(__x86_64__)
	struct collect c = { addr, refs, max, 0 };
	int err = each_instruction(code, len, addr, true, visit_rip, &c);
	return err ? err : (int)c.found;
#else
	(void)code, (void)len, (void)addr, (void)refs, (void)max;
	return -ENOSYS;
#endif
}
