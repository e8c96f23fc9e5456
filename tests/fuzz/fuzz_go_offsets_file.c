// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for user/binfmt/go_offsets_file.c, the offsets files users hand to
 * attach/watch --offsets and the agent. Checked besides memory safety: an error always comes
 * with a one-line reason; a file that parses (gRPC and x/net sets included) writes back to one
 * that parses to the same row. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt/go_offsets_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_offsets_row row, again;
	char err[256] = "";
	if (go_offsets_file_parse((const char *)data, size, &row, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			abort();
		return 0;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return 0;
	if (go_offsets_file_write(f, &row, "fuzz")) {
		fclose(f);
		free(text);
		return 0;
	}
	fclose(f);
	if (go_offsets_file_parse(text, len, &again, err, sizeof(err)) || memcmp(&row, &again, sizeof(row)))
		abort();
	free(text);
	return 0;
}
