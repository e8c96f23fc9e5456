// SPDX-License-Identifier: Apache-2.0
/* Log records through the OTLP exporter: a batch is encoded (and compressed) in the caller's
 * thread, queued (OTLP_LOGS_QUEUE batches at most: the oldest goes, its records counted), and
 * sent by the export thread to <endpoint>/v1/logs with the same retries, backoff, Retry-After
 * and stop deadline as spans, metrics and profiles. */
#include "export/otlp.h"
#include "export/otlp_internal.h"

#include "otlp/logs_service.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse LogsResponse;

int otlp_enqueue_logs(struct otlp_exporter *e, const struct resource *const *res,
		      const struct log_record *const *recs, size_t n)
{
	if (!e || !res || !recs || !n)
		return -EINVAL;
	otlp_stat_add(&e->logs_enqueued, n);
	struct otlp_body *ql = calloc(1, sizeof(*ql));
	uint8_t *raw;
	size_t len;
	if (!ql || otlp_encode_logs(&e->cfg, res, recs, n, &raw, &len) ||
	    otlp_maybe_gzip(e, raw, len, &ql->body, &ql->len)) {
		free(ql);
		otlp_stat_add(&e->logs_dropped, n);
		return -ENOMEM;
	}
	ql->items = n;
	return otlp_fifo_push(e, &e->logs, ql, &e->logs_dropped);
}

void otlp_export_logs(struct otlp_exporter *e, struct otlp_body *ql)
{
	struct http_result resp;
	char what[64];
	snprintf(what, sizeof(what), "%zu log records", ql->items);
	switch (otlp_send_with_retry(e, e->cfg.logs_url, ql->body, ql->len, e->cfg.export_timeout_ms, what,
				     &resp)) {
	case SENT: {
		LogsResponse *r =
			resp.len
				? opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
					  NULL, resp.len, resp.body)
				: NULL;
		uint64_t rejected = 0;
		if (r && r->partial_success)
			rejected = otlp_partial_rejected(e, W_LOGS, r->partial_success->rejected_log_records,
							 ql->items, "log records",
							 r->partial_success->error_message);
		if (r)
			opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
				r, NULL);
		free(resp.body);
		otlp_stat_add(&e->logs_exported, ql->items - rejected);
		otlp_stat_add(&e->logs_failed, rejected);
		break;
	}
	default: /* REJECTED, GAVE_UP, STOPPED */
		otlp_stat_add(&e->logs_failed, ql->items);
		break;
	}
	otlp_body_free(ql);
}
