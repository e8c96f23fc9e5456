// SPDX-License-Identifier: Apache-2.0
/* Target of the separate-debug-file tests (tests/unit/test_debug_file.c): built, then split
 * with objcopy into a stripped binary and its debug file (tests/apps/Makefile). hidden_work is
 * static, so only the debug file's .symtab names it. */
#include <stdio.h>

static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long hidden_work(unsigned long n)
{
	unsigned long x = sink;
	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + i; /* debuglink: the line of the loop body */
	return x;
}

int main(void)
{
	sink = hidden_work(1000);
	printf("%lu\n", sink);
	return 0;
}
