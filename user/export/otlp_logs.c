// SPDX-License-Identifier: Apache-2.0
/* Log records through the OTLP exporter: a batch is encoded (and compressed) in the caller's
 * thread, queued (OTLP_LOGS_QUEUE batches at most: the oldest goes, its records counted), and
 * sent by the export thread to <endpoint>/v1/logs with the same retries, backoff, Retry-After
 * and stop deadline as spans, metrics and profiles. */
#include "export/otlp.h"
#include "export/otlp_internal.h"

#include "otlp/logs_service.pb-c.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse LogsResponse;

struct otlp_qlogs {
	size_t nrecords, len;
	uint8_t *body; /* as sent: gzip'd when configured */
};

static void qlogs_free(struct otlp_qlogs *ql)
{
	free(ql->body);
	free(ql);
}

int otlp_enqueue_logs(struct otlp_exporter *e, const struct resource *const *res,
		      const struct log_record *const *recs, size_t n)
{
	if (!e || !res || !recs || !n)
		return -EINVAL;
	otlp_stat_add(&e->logs_enqueued, n);
	struct otlp_qlogs *ql = calloc(1, sizeof(*ql));
	uint8_t *raw;
	size_t len;
	if (!ql || otlp_encode_logs(&e->cfg, res, recs, n, &raw, &len) ||
	    otlp_maybe_gzip(e, raw, len, &ql->body, &ql->len)) {
		free(ql);
		otlp_stat_add(&e->logs_dropped, n);
		return -ENOMEM;
	}
	ql->nrecords = n;
	struct otlp_qlogs *old = NULL;
	int err = 0;
	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		err = -ESHUTDOWN;
		old = ql;
	} else {
		if (e->nlogs == OTLP_LOGS_QUEUE) {
			old = e->logs[0];
			memmove(e->logs, e->logs + 1, (--e->nlogs) * sizeof(*e->logs));
		}
		e->logs[e->nlogs++] = ql;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	if (old) {
		otlp_stat_add(&e->logs_dropped, old->nrecords);
		qlogs_free(old);
	}
	return err;
}

void otlp_logs_report_drops(struct otlp_exporter *e)
{
	uint64_t d = otlp_load(&e->logs_dropped);
	if (d != e->logs_dropped_reported) {
		otlp_warn_limited(e, W_LOGS + W_DROPPED,
				  "OTLP logs queue full (%d batches): %llu log records dropped so far; the "
				  "receiver is slower than the service logs or unreachable",
				  OTLP_LOGS_QUEUE, (unsigned long long)d);
		e->logs_dropped_reported = d;
	}
}

struct otlp_qlogs *otlp_logs_pop(struct otlp_exporter *e)
{
	if (!e->nlogs)
		return NULL;
	struct otlp_qlogs *ql = e->logs[0];
	memmove(e->logs, e->logs + 1, (--e->nlogs) * sizeof(*e->logs));
	return ql;
}

void otlp_export_logs(struct otlp_exporter *e, struct otlp_qlogs *ql)
{
	struct http_result resp;
	char what[64];
	snprintf(what, sizeof(what), "%zu log records", ql->nrecords);
	switch (otlp_send_with_retry(e, e->cfg.logs_url, ql->body, ql->len, e->cfg.export_timeout_ms, what,
				     &resp)) {
	case SENT: {
		LogsResponse *r =
			resp.len
				? opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
					  NULL, resp.len, resp.body)
				: NULL;
		uint64_t rejected = 0;
		if (r && r->partial_success && r->partial_success->rejected_log_records > 0) {
			rejected = (uint64_t)r->partial_success->rejected_log_records;
			if (rejected > ql->nrecords)
				rejected = ql->nrecords;
			otlp_warn_limited(e, W_LOGS + W_PARTIAL, "OTLP receiver rejected %llu of %s: %.200s",
					  (unsigned long long)rejected, what,
					  r->partial_success->error_message);
		}
		if (r)
			opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
				r, NULL);
		free(resp.body);
		otlp_stat_add(&e->logs_exported, ql->nrecords - rejected);
		otlp_stat_add(&e->logs_failed, rejected);
		break;
	}
	case STOPPED:
		pthread_mutex_lock(&e->lock);
		e->stop_rc = -ETIMEDOUT;
		pthread_mutex_unlock(&e->lock);
		/* fall through */
	default:
		otlp_stat_add(&e->logs_failed, ql->nrecords);
		break;
	}
	qlogs_free(ql);
}

void otlp_logs_drop_queued(struct otlp_exporter *e)
{
	struct otlp_qlogs *ql;
	pthread_mutex_lock(&e->lock);
	while ((ql = otlp_logs_pop(e))) {
		otlp_stat_add(&e->logs_dropped, ql->nrecords);
		qlogs_free(ql);
	}
	pthread_mutex_unlock(&e->lock);
}
