/* SPDX-License-Identifier: Apache-2.0 */
/* The one way glimpse creates an output file (profiles, folded stacks, SVG, spans, the agent's
 * profile files). glimpse often runs as root in directories other users can write to, so:
 * - a path is checked before any work (outfile_check): its directory must exist and be writable,
 *   the path must not be a symbolic link or a directory, and an existing file is refused unless
 *   --force (outfile_set_force) says to replace it;
 * - a symbolic link is never followed: whole files are written to a new temporary file in the
 *   same directory and renamed into place (rename replaces a link itself, never its target; without
 *   --force the rename refuses to replace anything); streaming files are created with
 *   O_CREAT|O_EXCL|O_NOFOLLOW, and --force removes the old name first rather than truncating it;
 * - nothing is left behind on failure: a temporary file is removed, and a streaming file the caller
 *   created is removed with outfile_discard. */
#ifndef GLIMPSE_BASE_OUTFILE_H
#define GLIMPSE_BASE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* --force: replace existing output files. Process-wide: set once from the command line. */
void outfile_set_force(bool force);

/* 0, or -errno with a one-line reason (what is wrong and what to do) in err. */
int outfile_check(const char *path, char *err, size_t errlen);

/* A streaming output (JSON lines), opened for writing. NULL with errno set (EEXIST: exists and no
 * --force; ELOOP: a symbolic link). */
FILE *outfile_open_stream(const char *path);
/* After a failure: closes f and removes the file it created. */
void outfile_discard(FILE *f, const char *path);

/* Writes a whole file through emit (0 or -errno) and renames it into place. 0 or -errno. */
int outfile_write_whole(const char *path, int (*emit)(FILE *f, void *arg), void *arg);

#endif
