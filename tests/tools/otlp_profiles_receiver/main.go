// SPDX-License-Identifier: Apache-2.0

// A test OTLP/HTTP receiver for profiles: decodes POST /v1development/profiles twice — with
// the official generated messages (go.opentelemetry.io/proto/slim/otlp/.../v1development and
// google.golang.org/protobuf, strict: invalid UTF-8 fails, and any field the official .proto
// does not define is reported) and with the OpenTelemetry Collector's own decoder
// (go.opentelemetry.io/collector/pdata/pprofile) — checks the dictionary's rules, resolves
// every sample through the dictionary, and appends one JSON line per Profile to --out.
// POST /v1/logs is decoded the same two ways (logs.go), one JSON line per log record. Other
// OTLP paths (traces, metrics) are answered 200 and counted.
//
//	otlp_profiles_receiver --out FILE [--port PORT] [--status CODE] [--delay-ms MS]
//
// Listens on 127.0.0.1:PORT (0: any free port); the first stdout line is "listening PORT".
// Lines: {"signal":"request",...} per request, {"signal":"profile",...} per Profile,
// {"signal":"log",...} per log record.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	collectorpb "go.opentelemetry.io/proto/slim/otlp/collector/profiles/v1development"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"go.opentelemetry.io/collector/pdata/pprofile"
	"go.opentelemetry.io/collector/pdata/pprofile/pprofileotlp"
)

type sampleOut struct {
	Stack      []string       `json:"stack"` // function names, leaf first, inline lines expanded
	Lines      [][]int64      `json:"lines"` // per location: its line numbers
	Values     []int64        `json:"values"`
	Timestamps []uint64       `json:"timestamps"`
	Attrs      map[string]any `json:"attrs"`
	LinkIndex  int32          `json:"link_index"`
	TraceID    string         `json:"trace_id,omitempty"` // the link's, hex (link_index > 0)
	SpanID     string         `json:"span_id,omitempty"`
}

type mappingOut struct {
	File  string         `json:"file"`
	Attrs map[string]any `json:"attrs"`
}

type profileOut struct {
	Signal       string         `json:"signal"`
	Resource     map[string]any `json:"resource"`
	Scope        string         `json:"scope"`
	SampleType   string         `json:"sample_type"`
	PeriodType   string         `json:"period_type"`
	Period       int64          `json:"period"`
	TimeUnixNano uint64         `json:"time_unix_nano"`
	DurationNano uint64         `json:"duration_nano"`
	Samples      []sampleOut    `json:"samples"`
	Mappings     []mappingOut   `json:"mappings"` // those the samples use
	DictErrors   []string       `json:"dict_errors"`
}

var (
	out     *os.File
	outLock sync.Mutex
	status  = flag.Int("status", 200, "answer every request with this HTTP status")
	delayMs = flag.Int("delay-ms", 0, "wait this long before answering")
)

func emit(v any) {
	b, _ := json.Marshal(v)
	outLock.Lock()
	defer outLock.Unlock()
	out.Write(append(b, '\n'))
	out.Sync()
}

func attrMap(d pprofile.ProfilesDictionary, idx pcommon.Int32Slice, errs *[]string) map[string]any {
	m := map[string]any{}
	for _, i := range idx.AsRaw() {
		if i <= 0 || int(i) >= d.AttributeTable().Len() {
			*errs = append(*errs, fmt.Sprintf("attribute index %d out of range", i))
			continue
		}
		kv := d.AttributeTable().At(int(i))
		m[str(d, kv.KeyStrindex(), errs)] = kv.Value().AsRaw()
	}
	return m
}

func str(d pprofile.ProfilesDictionary, i int32, errs *[]string) string {
	if i < 0 || int(i) >= d.StringTable().Len() {
		*errs = append(*errs, fmt.Sprintf("string index %d out of range", i))
		return ""
	}
	return d.StringTable().At(int(i))
}

func valueType(d pprofile.ProfilesDictionary, vt pprofile.ValueType, errs *[]string) string {
	return str(d, vt.TypeStrindex(), errs) + "/" + str(d, vt.UnitStrindex(), errs)
}

// The rules every dictionary obeys: entry 0 of each table is the zero value.
func checkDictionary(d pprofile.ProfilesDictionary) []string {
	var errs []string
	if d.StringTable().Len() == 0 || d.StringTable().At(0) != "" {
		errs = append(errs, "string_table[0] is not \"\"")
	}
	if d.MappingTable().Len() == 0 || d.MappingTable().At(0).FilenameStrindex() != 0 ||
		d.MappingTable().At(0).MemoryLimit() != 0 {
		errs = append(errs, "mapping_table[0] is not empty")
	}
	if d.LocationTable().Len() == 0 || d.LocationTable().At(0).Lines().Len() != 0 {
		errs = append(errs, "location_table[0] is not empty")
	}
	if d.FunctionTable().Len() == 0 || d.FunctionTable().At(0).NameStrindex() != 0 {
		errs = append(errs, "function_table[0] is not empty")
	}
	if d.StackTable().Len() == 0 || d.StackTable().At(0).LocationIndices().Len() != 0 {
		errs = append(errs, "stack_table[0] is not empty")
	}
	if d.LinkTable().Len() == 0 {
		errs = append(errs, "link_table[0] is missing")
	}
	if d.AttributeTable().Len() == 0 || d.AttributeTable().At(0).KeyStrindex() != 0 {
		errs = append(errs, "attribute_table[0] is not empty")
	}
	seen := map[string]bool{}
	for i := 0; i < d.StringTable().Len(); i++ {
		s := d.StringTable().At(i)
		if seen[s] {
			errs = append(errs, fmt.Sprintf("string %q twice in string_table", s))
		}
		seen[s] = true
	}
	return errs
}

func resolve(d pprofile.ProfilesDictionary, p pprofile.Profile, res pcommon.Resource, scope string, dictErrs []string) profileOut {
	errs := append([]string(nil), dictErrs...)
	po := profileOut{Signal: "profile", Resource: res.Attributes().AsRaw(), Scope: scope,
		SampleType: valueType(d, p.SampleType(), &errs), PeriodType: valueType(d, p.PeriodType(), &errs),
		Period: p.Period(), TimeUnixNano: uint64(p.Time()), DurationNano: p.DurationNano()}
	usedMaps := map[int32]bool{}
	for i := 0; i < p.Samples().Len(); i++ {
		s := p.Samples().At(i)
		so := sampleOut{Values: s.Values().AsRaw(), Timestamps: s.TimestampsUnixNano().AsRaw(),
			LinkIndex: s.LinkIndex(), Stack: []string{}, Lines: [][]int64{}}
		so.Attrs = attrMap(d, s.AttributeIndices(), &errs)
		if li := s.LinkIndex(); li < 0 || int(li) >= d.LinkTable().Len() {
			errs = append(errs, fmt.Sprintf("link index %d out of range", li))
		} else if li > 0 {
			l := d.LinkTable().At(int(li))
			so.TraceID, so.SpanID = l.TraceID().String(), l.SpanID().String()
		}
		si := s.StackIndex()
		if si <= 0 || int(si) >= d.StackTable().Len() {
			errs = append(errs, fmt.Sprintf("stack index %d out of range", si))
		} else {
			for _, li := range d.StackTable().At(int(si)).LocationIndices().AsRaw() {
				if li <= 0 || int(li) >= d.LocationTable().Len() {
					errs = append(errs, fmt.Sprintf("location index %d out of range", li))
					continue
				}
				loc := d.LocationTable().At(int(li))
				mi := loc.MappingIndex()
				if mi < 0 || int(mi) >= d.MappingTable().Len() {
					errs = append(errs, fmt.Sprintf("mapping index %d out of range", mi))
				} else if mi > 0 {
					usedMaps[mi] = true
				}
				var lines []int64
				for k := 0; k < loc.Lines().Len(); k++ {
					ln := loc.Lines().At(k)
					fi := ln.FunctionIndex()
					if fi <= 0 || int(fi) >= d.FunctionTable().Len() {
						errs = append(errs, fmt.Sprintf("function index %d out of range", fi))
						continue
					}
					so.Stack = append(so.Stack, str(d, d.FunctionTable().At(int(fi)).NameStrindex(), &errs))
					lines = append(lines, ln.Line())
				}
				so.Lines = append(so.Lines, lines)
			}
		}
		po.Samples = append(po.Samples, so)
	}
	for mi := range usedMaps {
		m := d.MappingTable().At(int(mi))
		po.Mappings = append(po.Mappings, mappingOut{File: str(d, m.FilenameStrindex(), &errs),
			Attrs: attrMap(d, m.AttributeIndices(), &errs)})
	}
	po.DictErrors = errs
	return po
}

// Fields the official definitions do not know: a field number glimpse got wrong.
func unknownFields(m protoreflect.Message, path string, errs *[]string) {
	if len(m.GetUnknown()) > 0 {
		*errs = append(*errs, "unknown field in "+path)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			return true
		}
		name := path + "." + string(fd.Name())
		if fd.IsList() {
			for i := 0; i < v.List().Len(); i++ {
				unknownFields(v.List().Get(i).Message(), name, errs)
			}
		} else {
			unknownFields(v.Message(), name, errs)
		}
		return true
	})
}

func handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req := map[string]any{"signal": "request", "path": r.URL.Path, "bytes": len(body),
		"encoding": r.Header.Get("Content-Encoding"), "content_type": r.Header.Get("Content-Type")}
	if err == nil && r.Header.Get("Content-Encoding") == "gzip" {
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, err = io.ReadAll(zr)
		}
	}
	if *delayMs > 0 {
		time.Sleep(time.Duration(*delayMs) * time.Millisecond)
	}
	if err != nil {
		req["error"] = err.Error()
		emit(req)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/v1development/profiles" {
		er := pprofileotlp.NewExportRequest()
		if err := er.UnmarshalProto(body); err != nil {
			req["error"] = "decode: " + err.Error()
			emit(req)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var official collectorpb.ExportProfilesServiceRequest
		if err := proto.Unmarshal(body, &official); err != nil {
			req["error"] = "decode with the official messages: " + err.Error()
			emit(req)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pd := er.Profiles()
		d := pd.Dictionary()
		dictErrs := checkDictionary(d)
		unknownFields(official.ProtoReflect(), "ExportProfilesServiceRequest", &dictErrs)
		req["profiles"] = pd.ProfileCount()
		emit(req)
		for i := 0; i < pd.ResourceProfiles().Len(); i++ {
			rp := pd.ResourceProfiles().At(i)
			for j := 0; j < rp.ScopeProfiles().Len(); j++ {
				sp := rp.ScopeProfiles().At(j)
				for k := 0; k < sp.Profiles().Len(); k++ {
					emit(resolve(d, sp.Profiles().At(k), rp.Resource(), sp.Scope().Name(), dictErrs))
				}
			}
		}
	} else if r.URL.Path == "/v1/logs" {
		if err := handleLogs(body, req); err != nil {
			emit(req)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	} else {
		emit(req)
	}
	if *status != 200 {
		http.Error(w, "injected", *status)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func main() {
	outPath := flag.String("out", "", "JSON lines file")
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: any)")
	flag.Parse()
	if *outPath == "" {
		fmt.Fprintln(os.Stderr, "otlp_profiles_receiver: --out FILE is required")
		os.Exit(2)
	}
	var err error
	if out, err = os.OpenFile(*outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	http.Serve(ln, http.HandlerFunc(handle))
}
