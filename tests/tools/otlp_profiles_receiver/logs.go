// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/hex"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	collectorlogs "go.opentelemetry.io/proto/slim/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

type logOut struct {
	Signal         string         `json:"signal"`
	Resource       map[string]any `json:"resource"`
	Scope          string         `json:"scope"`
	Time           uint64         `json:"time_unix_nano"`
	Observed       uint64         `json:"observed_time_unix_nano"`
	SeverityNumber int32          `json:"severity_number"`
	SeverityText   string         `json:"severity_text"`
	Body           any            `json:"body"`
	Attrs          map[string]any `json:"attributes"`
	Dropped        uint32         `json:"dropped_attributes_count"`
	Flags          uint32         `json:"flags"`
	TraceID        string         `json:"trace_id"` // "" when the record has none
	SpanID         string         `json:"span_id"`
	Errors         []string       `json:"errors"`
}

// POST /v1/logs: decoded with the official messages (strict; unknown fields reported) and
// with the Collector's pdata decoder, whose records are written out one JSON line each.
func handleLogs(body []byte, req map[string]any) error {
	var official collectorlogs.ExportLogsServiceRequest
	if err := proto.Unmarshal(body, &official); err != nil {
		req["error"] = "decode with the official messages: " + err.Error()
		return err
	}
	var errs []string
	unknownFields(official.ProtoReflect(), "ExportLogsServiceRequest", &errs)
	er := plogotlp.NewExportRequest()
	if err := er.UnmarshalProto(body); err != nil {
		req["error"] = "decode: " + err.Error()
		return err
	}
	ld := er.Logs()
	req["log_records"] = ld.LogRecordCount()
	emit(req)
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				lr := sl.LogRecords().At(k)
				o := logOut{Signal: "log", Resource: rl.Resource().Attributes().AsRaw(), Scope: sl.Scope().Name(),
					Time: uint64(lr.Timestamp()), Observed: uint64(lr.ObservedTimestamp()),
					SeverityNumber: int32(lr.SeverityNumber()), SeverityText: lr.SeverityText(),
					Body: lr.Body().AsRaw(), Attrs: lr.Attributes().AsRaw(),
					Dropped: lr.DroppedAttributesCount(), Flags: uint32(lr.Flags()), Errors: errs}
				if tid := lr.TraceID(); !tid.IsEmpty() {
					o.TraceID = hex.EncodeToString(tid[:])
				}
				if sid := lr.SpanID(); !sid.IsEmpty() {
					o.SpanID = hex.EncodeToString(sid[:])
				}
				emit(o)
			}
		}
	}
	return nil
}
