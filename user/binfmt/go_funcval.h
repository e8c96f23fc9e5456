/* SPDX-License-Identifier: Apache-2.0 */
/* Package variables that hold a function literal, found without symbols. `var V = func(...)
 * {...}` whose literal captures nothing compiles to a read-only funcval (go:func.*: one word,
 * the code's address) and V's initial word, in writable data, points to it. Given the
 * function's entry (pclntab still names it in stripped binaries), the variable is where that
 * chain leads, when it leads to exactly one place. */
#ifndef GLIMPSE_GO_FUNCVAL_H
#define GLIMPSE_GO_FUNCVAL_H

#include <stdint.h>

struct elf_module;

/* The link-time address of the one variable whose initial value is the static funcval of the
 * function at entry: 0 with *var; -ENOENT when there is none, -EEXIST when the funcval or the
 * variable is not unique (nothing is guessed). PIE builds' relative relocations count as
 * initial values. */
int go_funcval_variable(const struct elf_module *m, uint64_t entry, uint64_t *var);

#endif
