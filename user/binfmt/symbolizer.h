/* SPDX-License-Identifier: Apache-2.0 */
/* Turns addresses seen in a process into function, file and line. Reads a process's
 * mappings and opens its binaries while it lives (through /proc/PID/map_files, so files in
 * other mount namespaces and deleted files resolve), and keeps them after it exits. */
#ifndef GLIMPSE_SYMBOLIZER_H
#define GLIMPSE_SYMBOLIZER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "binfmt/gobinary.h"

struct symbolizer;

struct sym_mapping {
	uint64_t start, end, offset;
	const char *path;     /* as the target sees it */
	const char *build_id; /* hex or NULL */
	bool has_functions, has_lines, is_go;
	bool go_inline;		/* Go, with its inline trees read (gopclntab_frames expands calls) */
	const char *go_version; /* "go1.23.5" or NULL */
	bool is_executable;	/* the process's own executable (/proc/PID/exe), not a library */
	int index;		/* stable index among all mappings the symbolizer has seen, from 0 */
};

#define SYM_MAX_INLINED 15

struct sym_frame {
	const char *func; /* NULL when unknown */
	const char *file;
	uint32_t line;
	const struct sym_mapping *mapping; /* NULL when the address is in no known mapping */
	/* Go: the functions inlined at the address, innermost first (func, file and line above
	 * are then the physical function, at the line of its outermost inlined call). */
	uint32_t ninlined;
	struct go_frame inlined[SYM_MAX_INLINED];
};

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s);

/* Reads pid's executable mappings and opens their files now. Calling it again picks up
 * new mappings (dlopen). Returns 0 or -errno (-ESRCH when the process is gone). */
int symbolizer_track(struct symbolizer *s, pid_t pid);
bool symbolizer_tracks(const struct symbolizer *s, pid_t pid);
/* Process name (comm) captured when first tracked, or NULL. */
const char *symbolizer_process_name(const struct symbolizer *s, pid_t pid);

/* return_address: the address is a return address (every frame but the leaf), so the
 * call instruction before it is what is looked up. */
void symbolizer_user(struct symbolizer *s, pid_t pid, uint64_t addr, bool return_address,
		     struct sym_frame *out);

/* Announces a later symbolizer_user of the same address: the lines of every announced address
 * of a binary are then read in one pass (elf_module_want_line). */
void symbolizer_want_user(struct symbolizer *s, pid_t pid, uint64_t addr, bool return_address);

/* For addr in a Go function of pid: how far SP is below the function's entry SP there
 * (gopclntab_sp_delta). 0 or -ENOENT (not Go, unknown). */
int symbolizer_go_sp_delta(const struct symbolizer *s, pid_t pid, uint64_t addr, int32_t *delta);

/* Frame pointer share of the mapping's binary (elf_module_frame_pointer_share), -1 if unknown. */
double symbolizer_frame_pointer_share(struct symbolizer *s, const struct sym_mapping *m);

struct elf_module;
/* Calls fn for each executable mapping pid has now, in address order, with its opened binary
 * (NULL when it has none: anonymous code, or a file that could not be read). */
void symbolizer_for_each_mapping(const struct symbolizer *s, pid_t pid,
				 void (*fn)(void *ctx, const struct sym_mapping *m, struct elf_module *elf),
				 void *ctx);

/* How many mappings have been seen so far (the size of pprof's mapping table). */
int symbolizer_nmappings(const struct symbolizer *s);

#endif
