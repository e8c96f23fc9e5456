/* SPDX-License-Identifier: Apache-2.0 */
/* Finds return instructions with capstone: Go functions are never probed with uretprobes
 * (they corrupt goroutine stacks when those move), so probes go on every RET instead. */
#ifndef GLIMPSE_DISASM_H
#define GLIMPSE_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offsets from the start of code of each RET in code (loaded at addr), the first max of them
 * stored. Returns how many there are (more than max: the caller must not miss one), or -errno
 * if the code cannot be decoded. */
int find_return_offsets(const uint8_t *code, size_t len, uint64_t addr, uint32_t *offsets, size_t max);

/* Offsets from the start of code of each direct CALL to target (an address in the same space
 * as addr), the first max stored. Returns how many there are, or -errno if the code cannot be
 * decoded. */
int find_call_offsets(const uint8_t *code, size_t len, uint64_t addr, uint64_t target, uint32_t *offsets,
		      size_t max);
/* Offsets from the start of code of each `CALL RDX` (Go's call of a function value or an
 * interface method whose code it loaded into DX), with each one's size (the next
 * instruction, where the call returns to, is offset + size), the first max stored. Returns how
 * many there are, or -errno if the code cannot be decoded. */
int find_dx_call_offsets(const uint8_t *code, size_t len, uint64_t addr, uint32_t *offsets, uint32_t *sizes,
			 size_t max);

/* Offset of the first instruction after a Go function's stack bound check (the JBE to
 * morestack, which re-runs the function from its entry once the stack has grown: a probe
 * there fires once per call, one on the entry twice when the stack grows). 0 when code (the
 * function's first bytes, loaded at addr) does not start with that check; -errno if capstone
 * is missing. The argument registers are untouched up to there. */
int find_stack_check_end(const uint8_t *code, size_t len, uint64_t addr);

/* A RIP-relative memory operand: how x86-64 code names a global variable. */
struct rip_ref {
	uint64_t target;    /* the address referred to (in the same address space as addr) */
	uint64_t insn_addr; /* the instruction */
	uint8_t size;	    /* bytes accessed (for LEA: the size capstone reports, not an access) */
	bool lea;	    /* address taken (LEA), not a load or store */
};

/* The RIP-relative memory operands of code (loaded at addr), in instruction order, the first
 * max stored. Returns how many there are, or -errno if the code cannot be decoded. */
int find_rip_refs(const uint8_t *code, size_t len, uint64_t addr, struct rip_ref *refs, size_t max);

#endif
