/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the Go binary reader (gobinary.c: the pclntab; gobinary_elf.c: finding it and the
 * runtime's moduledata in an ELF file, and the build info): little-endian readers and the
 * pclntab header check both need. */
#ifndef GLIMPSE_GOBINARY_BYTES_H
#define GLIMPSE_GOBINARY_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static inline uint64_t read_uint(const uint8_t *p, uint32_t size)
{
	return size == 4 ? le32(p) : le64(p);
}

/* pclntab formats, by the Go release that introduced each. */
enum {
	GOPCLNTAB_VER116 = 116,
	GOPCLNTAB_VER118 = 118,
	GOPCLNTAB_VER120 = 120
};

/* Format from the 8-byte header prefix, 0 if it is not a supported pclntab. */
int gopclntab_header_version(const uint8_t *d, size_t size);

#endif
