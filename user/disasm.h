/* Finds return instructions with capstone: Go functions are never probed with uretprobes
 * (they corrupt goroutine stacks when those move), so probes go on every RET instead. */
#ifndef GLIMPSE_DISASM_H
#define GLIMPSE_DISASM_H

#include <stddef.h>
#include <stdint.h>

/* Offsets from the start of code of each RET in code (loaded at addr), the first max of them
 * stored. Returns how many there are (more than max: the caller must not miss one), or -errno
 * if the code cannot be decoded. */
int find_return_offsets(const uint8_t *code, size_t len, uint64_t addr, uint32_t *offsets, size_t max);

#endif
