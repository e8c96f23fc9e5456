// SPDX-License-Identifier: Apache-2.0
#include "profile/profile_data.h"

void prof_put_executable_first(struct prof *prof)
{
	size_t exe = 0;
	while (exe < prof->nmappings && !prof->mappings[exe].is_executable)
		exe++;
	if (exe == 0 || exe == prof->nmappings)
		return;
	struct prof_mapping first = prof->mappings[0];
	prof->mappings[0] = prof->mappings[exe];
	prof->mappings[exe] = first;
	for (size_t i = 0; i < prof->nsamples; i++)
		for (uint32_t j = 0; j < prof->samples[i].nframes; j++) {
			int32_t *m = &prof->samples[i].frames[j].mapping;
			*m = *m == 0 ? (int32_t)exe : *m == (int32_t)exe ? 0 : *m;
		}
}
