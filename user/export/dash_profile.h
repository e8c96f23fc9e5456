/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's CPU flame graph (attach --profile): the newest interval of the continuous
 * profile as one JSON tree — root "all", then one child per request kind (the by-route view:
 * "GET /burn/{kind}", "[no request]", ...), then the stacks root first — rendered once per
 * interval and served as GET /api/profile. Nodes under 1/2000 of the samples are left out
 * (said in the JSON), so the page stays small whatever the profile. */
#ifndef GLIMPSE_DASH_PROFILE_H
#define GLIMPSE_DASH_PROFILE_H

#include <stddef.h>

#include "profile/profile_data.h"

struct dash_profile;

struct dash_profile *dash_profile_new(void);
/* Renders p (an interval just cut, its requests labelled) as the newest. 0 or -ENOMEM. */
int dash_profile_update(struct dash_profile *dp, const struct prof *p);
/* The newest JSON, malloc'd, in *out; dp NULL: profiling is off, which the JSON says. 0 or
 * -ENOMEM. Any thread. */
int dash_profile_json(struct dash_profile *dp, char **out, size_t *len);
void dash_profile_free(struct dash_profile *dp);

#endif
