/* SPDX-License-Identifier: Apache-2.0 */
/* The one UTF-8 decoder: label values, protobuf strings, SVG text and config error messages
 * must all be valid UTF-8, and target data (URL paths, SQL) is arbitrary bytes. */
#ifndef GLIMPSE_UTF8_H
#define GLIMPSE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (at most n bytes available; a NUL-terminated
 * string may pass SIZE_MAX: a NUL never continues a sequence), or 0 when there is none
 * (overlong forms, surrogates and code points past U+10FFFF included). *cp receives the code
 * point when cp is not NULL. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* The one UTF-8 repair: copies the NUL-terminated src (NULL: "") as valid UTF-8, each bad byte
 * becoming U+FFFD, at most max bytes and never half a character. dst NULL only measures; else it
 * needs max + 1 bytes. Returns the length written. */
size_t utf8_repair(char *dst, const char *src, size_t max);

#endif
