// SPDX-License-Identifier: Apache-2.0
/* Separate debug files by build id and .gnu_debuglink; see debug_file.h. The object and the
 * candidate files are untrusted: names are checked before they become paths, sizes before
 * reads. */
#include "binfmt/debug_file.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define DEBUG_DIR "/usr/lib/debug"
/* A debug file is read whole once for its CRC: bigger ones are not worth the wait. */
#define MAX_CRC_BYTES (1ULL << 30)

int elf_build_id_hex(Elf *elf, char *hex, size_t len)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)data->d_buf + name_off, "GNU", 4) || nh.n_descsz == 0)
				continue;
			const unsigned char *id = (const unsigned char *)data->d_buf + desc_off;
			size_t n = nh.n_descsz < 64 ? nh.n_descsz : 64;
			if (len < 2 * n + 1)
				return -ENOENT;
			for (size_t i = 0; i < n; i++)
				snprintf(hex + 2 * i, 3, "%02x", id[i]);
			return 0;
		}
	}
	return -ENOENT;
}

/* A regular file (never a FIFO or device: opening must not block), or -1. */
static int open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool has_build_id(const char *path, const char *build_id)
{
	int fd = open_regular(path);
	if (fd < 0)
		return false;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	char hex[2 * 64 + 1];
	bool same = elf && elf_kind(elf) == ELF_K_ELF && elf_build_id_hex(elf, hex, sizeof(hex)) == 0 &&
		    !strcmp(hex, build_id);
	elf_end(elf);
	close(fd);
	return same;
}

static bool has_crc(const char *path, uint32_t want)
{
	int fd = open_regular(path);
	if (fd < 0)
		return false;
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	uint64_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && (total += (uint64_t)n) <= MAX_CRC_BYTES)
		crc = crc32(crc, buf, (uInt)n);
	close(fd);
	return n == 0 && (uint32_t)crc == want;
}

/* The .gnu_debuglink name (a plain file name) and CRC32; false if absent or malformed. */
static bool debuglink(Elf *elf, const char **name, uint32_t *crc)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		const char *sname;
		if (!gelf_getshdr(scn, &sh) || !(sname = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(sname, ".gnu_debuglink"))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return false;
		const char *s = d->d_buf;
		size_t len = strnlen(s, d->d_size), crc_off = (len + 4) & ~(size_t)3;
		if (len == 0 || len >= 256 || crc_off + 4 > d->d_size || strchr(s, '/') || !strcmp(s, ".") ||
		    !strcmp(s, ".."))
			return false;
		const unsigned char *c = (const unsigned char *)d->d_buf + crc_off;
		*crc = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
		if (elf_getident(elf, NULL)[EI_DATA] == ELFDATA2MSB)
			*crc = __builtin_bswap32(*crc);
		*name = s;
		return true;
	}
	return false;
}

int debug_file_find(Elf *elf, const char *build_id, const char *root, const char *path, char *out, size_t len)
{
	if (!elf || !root || !out)
		return -ENOENT;
	if (build_id && strlen(build_id) > 2) {
		/* The target's own, then ours: a build id names exactly one build. */
		const char *roots[] = { root, "" };
		for (size_t i = 0; i < 2; i++) {
			int n = snprintf(out, len, "%s" DEBUG_DIR "/.build-id/%.2s/%s.debug", roots[i],
					 build_id, build_id + 2);
			if (n > 0 && (size_t)n < len && has_build_id(out, build_id))
				return 0;
		}
	}
	const char *name;
	uint32_t crc;
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (!slash || !debuglink(elf, &name, &crc))
		return -ENOENT;
	int dirlen = (int)(slash - path);
	const char *const formats[] = { "%s%.*s/%s", "%s%.*s/.debug/%s", "%s" DEBUG_DIR "%.*s/%s" };
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		int n = snprintf(out, len, formats[i], root, dirlen, path, name);
		/* Never the object itself (a debuglink naming its own file). */
		if (n > 0 && (size_t)n < len && strcmp(out + strlen(root), path) && has_crc(out, crc))
			return 0;
	}
	return -ENOENT;
}
