// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include "base/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool force_replace;

void outfile_set_force(bool force)
{
	force_replace = force;
}

/* The directory part of path ("." when it has none). */
static void dir_of(const char *path, char *dir, size_t len)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(dir, len, "%s", dirname(copy));
}

int outfile_check(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	struct stat st;
	if (!path[0]) {
		snprintf(err, errlen, "empty output file name");
		return -EINVAL;
	}
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "cannot write %s: directory %s does not exist; create it or choose another path",
			 path, dir);
		return -ENOENT;
	}
	if (access(dir, W_OK | X_OK)) {
		snprintf(err, errlen, "cannot write %s: directory %s is not writable", path, dir);
		return -EACCES;
	}
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "refusing to write %s: it is a symbolic link; give the real path",
			 path);
		return -ELOOP;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot write %s: it is a directory; give a file name", path);
		return -EISDIR;
	}
	if (!force_replace) {
		snprintf(err, errlen, "%s exists; use --force to replace it or choose another name", path);
		return -EEXIST;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "refusing to replace %s: not a regular file", path);
		return -EINVAL;
	}
	return 0;
}

/* With --force, an existing regular file's name is removed (never truncated through a link:
 * the name itself goes, a new file takes it). */
static int remove_old(const char *path)
{
	struct stat st;
	if (!force_replace || lstat(path, &st))
		return 0;
	if (!S_ISREG(st.st_mode))
		return -EEXIST; /* a link or special file planted meanwhile: not ours to remove */
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

FILE *outfile_open_stream(const char *path)
{
	int err = remove_old(path);
	if (err) {
		errno = -err;
		return NULL;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
	}
	return f;
}

void outfile_discard(FILE *f, const char *path)
{
	if (!f)
		return;
	fclose(f);
	unlink(path);
}

int outfile_write_whole(const char *path, int (*emit)(FILE *f, void *arg), void *arg)
{
	static unsigned counter;
	size_t tlen = strlen(path) + 48;
	char *tmp = malloc(tlen);
	FILE *f = NULL;
	int fd = -1, err;

	if (!tmp)
		return -ENOMEM;
	/* O_EXCL on our own name rather than mkstemp: mkstemp forces mode 0600, this keeps the umask. */
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(tmp, tlen, "%s.tmp.%d.%u", path, (int)getpid(),
			 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	if (!(f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		goto fail;
	}
	err = emit(f, arg);
	if (!err) {
		errno = 0;
		if (fflush(f) || ferror(f) || fsync(fileno(f)))
			err = errno ? -errno : -EIO;
	}
	if (fclose(f) && !err)
		err = -errno;
	/* rename never follows a link at path; without --force it replaces nothing at all. */
	if (!err && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, force_replace ? 0 : RENAME_NOREPLACE))
		err = -errno;
fail:
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
