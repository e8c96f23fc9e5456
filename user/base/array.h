/* SPDX-License-Identifier: Apache-2.0 */
/* Growable arrays: the one doubling rule. */
#ifndef GLIMPSE_ARRAY_H
#define GLIMPSE_ARRAY_H

#include <stddef.h>

/* Makes room in *arr (n elements of size bytes used, *cap allocated) for one more: when full,
 * doubles the capacity (16 the first time). 0, or -ENOMEM with *arr and *cap unchanged.
 * Called as array_grow((void **)&v, &cap, n, sizeof(*v)). */
int array_grow(void **arr, size_t *cap, size_t n, size_t size);

#endif
