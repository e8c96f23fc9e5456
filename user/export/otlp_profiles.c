// SPDX-License-Identifier: Apache-2.0
/* Profiles through the OTLP exporter: encoded (and compressed) in the caller's thread, queued
 * (a few at most: each is a whole interval's profile), sent by the export thread to
 * <endpoint>/v1development/profiles with the same retries, backoff, Retry-After and stop
 * deadline as spans and metrics. */
#include "export/otlp.h"
#include "export/otlp_internal.h"

#include "otlp/profiles_service.pb-c.h"
#include "profile/profile_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse
	ProfilesResponse;

int otlp_enqueue_profile(struct otlp_exporter *e, const struct prof *p, const struct resource *res,
			 size_t nres)
{
	if (!e || !p || (nres && !res))
		return -EINVAL;
	otlp_stat_add(&e->prof_enqueued, 1);
	struct otlp_body *qp = calloc(1, sizeof(*qp));
	uint8_t *raw;
	size_t len;
	if (!qp || otlp_encode_profiles(&e->cfg, p, res, nres, &raw, &len) ||
	    otlp_maybe_gzip(e, raw, len, &qp->body, &qp->len)) {
		free(qp);
		otlp_stat_add(&e->prof_dropped, 1);
		return -ENOMEM;
	}
	qp->items = 1;
	qp->detail = p->nsamples;
	return otlp_fifo_push(e, &e->profiles, qp, &e->prof_dropped);
}

void otlp_export_profile(struct otlp_exporter *e, struct otlp_body *qp)
{
	struct http_result resp;
	char what[64];
	snprintf(what, sizeof(what), "a profile (%zu stacks)", qp->detail);
	switch (otlp_send_with_retry(e, e->cfg.profiles_url, qp->body, qp->len, e->cfg.export_timeout_ms,
				     what, &resp)) {
	case SENT: {
		ProfilesResponse *r =
			resp.len
				? opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__unpack(
					  NULL, resp.len, resp.body)
				: NULL;
		bool rejected = r && r->partial_success &&
				otlp_partial_rejected(e, W_PROFILES, r->partial_success->rejected_profiles, 1,
						      "profiles", r->partial_success->error_message);
		if (r)
			opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__free_unpacked(
				r, NULL);
		free(resp.body);
		otlp_stat_add(rejected ? &e->prof_failed : &e->prof_exported, 1);
		break;
	}
	default: /* REJECTED, GAVE_UP, STOPPED */
		otlp_stat_add(&e->prof_failed, 1);
		break;
	}
	otlp_body_free(qp);
}
