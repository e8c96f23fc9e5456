#include "disasm.h"

#include <capstone/capstone.h>
#include <errno.h>

int find_return_offsets(const uint8_t *code, size_t len, uint64_t addr, uint32_t *offsets, size_t max)
{
#if defined(__x86_64__)
	csh handle;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
		return -ENOSYS;
	cs_insn *insn = cs_malloc(handle);
	if (!insn) {
		cs_close(&handle);
		return -ENOMEM;
	}
	const uint8_t *p = code;
	size_t left = len, found = 0;
	uint64_t pc = addr;
	/* Go pads between functions with INT3; a decode failure inside a function means the
	 * bytes are not what we think they are, so stop rather than guess. */
	while (left > 0 && cs_disasm_iter(handle, &p, &left, &pc, insn)) {
		if (insn->id != X86_INS_RET)
			continue;
		if (found < max)
			offsets[found] = (uint32_t)(insn->address - addr);
		found++;
	}
	int rc = left == 0 ? (int)found : -EILSEQ;
	cs_free(insn, 1);
	cs_close(&handle);
	return rc;
#else
	(void)code, (void)len, (void)addr, (void)offsets, (void)max;
	return -ENOSYS;
#endif
}

int find_rip_refs(const uint8_t *code, size_t len, uint64_t addr, struct rip_ref *refs, size_t max)
{
#if defined(__x86_64__)
	csh handle;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
		return -ENOSYS;
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *insn = cs_malloc(handle);
	if (!insn) {
		cs_close(&handle);
		return -ENOMEM;
	}
	const uint8_t *p = code;
	size_t left = len, found = 0;
	uint64_t pc = addr;
	while (left > 0 && cs_disasm_iter(handle, &p, &left, &pc, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		for (uint8_t i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP || op->mem.index != X86_REG_INVALID)
				continue;
			if (found < max)
				refs[found] = (struct rip_ref){
					.target = insn->address + insn->size + (uint64_t)op->mem.disp,
					.insn_addr = insn->address,
					.size = op->size,
					.lea = insn->id == X86_INS_LEA,
				};
			found++;
		}
	}
	int rc = left == 0 ? (int)found : -EILSEQ;
	cs_free(insn, 1);
	cs_close(&handle);
	return rc;
#else
	(void)code, (void)len, (void)addr, (void)refs, (void)max;
	return -ENOSYS;
#endif
}
