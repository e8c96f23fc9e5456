/* SPDX-License-Identifier: Apache-2.0 */
/* Separate debug files: distributions ship a library's full symbol table and DWARF apart from
 * it (Debian's libc6-dbg and -dbgsym packages; `objcopy --only-keep-debug`). Found where GDB
 * and perf look: by build id, /usr/lib/debug/.build-id/xx/yyyy.debug, then by the name in
 * .gnu_debuglink (its CRC32 checked) next to the object, in its .debug/ directory, and under
 * /usr/lib/debug/ + the object's directory. Every path is taken inside a root directory
 * (a process's /proc/PID/root), so targets in containers get their own debug files.
 * .gnu_debugdata (xz-compressed MiniDebugInfo, a Fedora practice) is not read: it needs
 * liblzma. */
#ifndef GLIMPSE_DEBUG_FILE_H
#define GLIMPSE_DEBUG_FILE_H

#include <libelf.h>
#include <stddef.h>

/* The GNU build id of elf as lowercase hex into hex (at least 2 * 64 + 1 bytes, truncated at 64
 * bytes of id); 0 or -ENOENT. */
int elf_build_id_hex(Elf *elf, char *hex, size_t len);

/* Finds the debug file of elf (build_id its hex build id or NULL; path the object's path as
 * the target sees it, for .gnu_debuglink; root the target's root directory, "" for ours) and
 * writes its path (including root) into out. A file found by build id must carry the same
 * build id; one found by debuglink must have the recorded CRC32. 0, or -ENOENT. */
int debug_file_find(Elf *elf, const char *build_id, const char *root, const char *path, char *out,
		    size_t len);

#endif
