// SPDX-License-Identifier: Apache-2.0
/* Memory target: commands on stdin, one a line.
 *   alloc N  allocates N MiB and writes to every page (so it is resident)
 *   free     frees everything allocated so far
 * Prints "ready PID" at start and "ok" after each command. Exits at end of input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_BLOCKS 1024
#define MIB	   (1024UL * 1024UL)

static void *blocks[MAX_BLOCKS];
static size_t sizes[MAX_BLOCKS];
static int nblocks;

int main(void)
{
	char line[128];
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		long n;
		if (sscanf(line, "alloc %ld", &n) == 1 && n > 0 && nblocks < MAX_BLOCKS) {
			/* mmap, not malloc: free gives the memory back to the kernel at once. */
			size_t len = (size_t)n * MIB;
			void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				printf("error mmap\n");
				fflush(stdout);
				continue;
			}
			memset(p, 0x5a, len);
			blocks[nblocks] = p;
			sizes[nblocks++] = len;
		} else if (!strncmp(line, "free", 4)) {
			for (int i = 0; i < nblocks; i++)
				munmap(blocks[i], sizes[i]);
			nblocks = 0;
		} else {
			printf("error unknown command\n");
			fflush(stdout);
			continue;
		}
		printf("ok\n");
		fflush(stdout);
	}
	return 0;
}
