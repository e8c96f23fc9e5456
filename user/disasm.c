#include "disasm.h"

#include <capstone/capstone.h>
#include <errno.h>

#if defined(__x86_64__)
/* Calls visit on every instruction of code. Returns 0, or -errno when the code cannot be
 * decoded to its end (a decode failure inside a function means the bytes are not what we
 * think they are: stop rather than guess). */
static int each_instruction(const uint8_t *code, size_t len, uint64_t addr, bool detail,
			    void (*visit)(const cs_insn *insn, void *ctx), void *ctx)
{
	csh handle;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
		return -ENOSYS;
	if (detail)
		cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *insn = cs_malloc(handle);
	if (!insn) {
		cs_close(&handle);
		return -ENOMEM;
	}
	const uint8_t *p = code;
	size_t left = len;
	uint64_t pc = addr;
	while (left > 0 && cs_disasm_iter(handle, &p, &left, &pc, insn))
		visit(insn, ctx);
	cs_free(insn, 1);
	cs_close(&handle);
	return left == 0 ? 0 : -EILSEQ;
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
#endif

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
