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
