// SPDX-License-Identifier: Apache-2.0
// gRPC test service for the tracer (google.golang.org/grpc from the module proxy). The service
// glimpse.test.Echo is registered by hand (grpc.ServiceDesc) with a JSON codec, so no generated
// code is needed; the calls are real gRPC over HTTP/2.
//
// Serve:  grpcsvc [-addr HOST:PORT] [-peer HOST:PORT] [-http URL]
//
//	prints "ready PID HOST:PORT" once listening; SIGTERM or SIGINT shuts it down.
//
// Methods (unary unless said):
//
//	Echo     returns the request's text
//	Stream   server-streaming: sends Count messages
//	Fail     sleeps SleepMs, then returns status Code (a gRPC code number; 0 is OK)
//	Call     as a client, calls the peer's Echo, Stream (Count 3) and Fail (NOT_FOUND) once
//	         each; returns OK, or the first error
//	CallHTTP GETs the -http URL (net/http's client): OK on a 200, UNAVAILABLE otherwise
//	Counts   what this process served and called so far (Counts calls not included), as
//	         {"served": {"Method CODE": n}, "called": {"Method CODE": n}}
//
// Go >= 1.24 builds it as a module against grpc-go 1.85 (dial_modern.go); Debian's Go 1.23
// builds the same code in GOPATH mode against Debian's grpc-go 1.33 (dial_legacy.go).
//
// Drive:  grpcsvc -drive HOST:PORT -plan "Echo:5,Stream:3,Fail/5:4,Fail/13@50:2,Call:2"
//
//	runs each step's calls (Fail/CODE[@SLEEPMS]) and prints the codes it got, in JSON
//	("Method CODE": n), then exits. -counts HOST:PORT prints that server's Counts reply.
//	-traceparent TP sends that traceparent in the calls' metadata.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const service = "glimpse.test.Echo"

// Message is every request and reply.
type Message struct {
	Text    string           `json:"text,omitempty"`
	Count   int              `json:"count,omitempty"`
	Code    int              `json:"code,omitempty"`
	SleepMs int              `json:"sleep_ms,omitempty"`
	Served  map[string]int64 `json:"served,omitempty"`
	Called  map[string]int64 `json:"called,omitempty"`
}

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

// tally counts calls by "Method CODE".
type tally struct {
	mu sync.Mutex
	m  map[string]int64
}

func (t *tally) add(method string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]int64{}
	}
	t.m[method+" "+status.Code(err).String()]++
}

func (t *tally) snapshot() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int64{}
	for k, v := range t.m {
		out[k] = v
	}
	return out
}

var (
	served, called tally
	peer           *grpc.ClientConn
	httpURL        string
	httpClient     = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
)

func shortName(full string) string { return full[strings.LastIndex(full, "/")+1:] }

// The service's own accounting of what it served: the status each handler's error carries.
func countUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if m := shortName(info.FullMethod); m != "Counts" {
		served.add(m, err)
	}
	return resp, err
}

func countStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	err := h(srv, ss)
	served.add(shortName(info.FullMethod), err)
	return err
}

func unary(name string, fn func(context.Context, *Message) (*Message, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(Message)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) { return fn(ctx, req.(*Message)) }
			if ic == nil {
				return call(ctx, in)
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + service + "/" + name}, call)
		},
	}
}

func echo(_ context.Context, in *Message) (*Message, error) { return &Message{Text: in.Text}, nil }

func fail(_ context.Context, in *Message) (*Message, error) {
	time.Sleep(time.Duration(in.SleepMs) * time.Millisecond)
	if in.Code == 0 {
		return &Message{}, nil
	}
	return nil, status.Errorf(codes.Code(in.Code), "failing as asked")
}

func stream(srv any, ss grpc.ServerStream) error {
	in := new(Message)
	if err := ss.RecvMsg(in); err != nil {
		return err
	}
	for i := 0; i < in.Count; i++ {
		if err := ss.SendMsg(&Message{Text: strconv.Itoa(i)}); err != nil {
			return err
		}
	}
	return nil
}

func invoke(ctx context.Context, conn *grpc.ClientConn, method string, in *Message) error {
	err := conn.Invoke(ctx, "/"+service+"/"+method, in, new(Message))
	called.add(method, err)
	return err
}

// readStream calls Stream and reads it to its end; the stream's status is the call's.
func readStream(ctx context.Context, conn *grpc.ClientConn, count int) error {
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Stream", ServerStreams: true},
		"/"+service+"/Stream")
	if err == nil {
		err = s.SendMsg(&Message{Count: count})
	}
	if err == nil {
		err = s.CloseSend()
	}
	for err == nil {
		err = s.RecvMsg(new(Message))
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	called.add("Stream", err)
	return err
}

func callPeer(ctx context.Context, _ *Message) (*Message, error) {
	if peer == nil {
		return nil, status.Error(codes.FailedPrecondition, "no -peer")
	}
	err := invoke(ctx, peer, "Echo", &Message{Text: "hi"})
	if e := readStream(ctx, peer, 3); err == nil {
		err = e
	}
	if e := invoke(ctx, peer, "Fail", &Message{Code: int(codes.NotFound)}); status.Code(e) != codes.NotFound && err == nil {
		err = e
	}
	return &Message{}, err
}

func callHTTP(ctx context.Context, _ *Message) (*Message, error) {
	req, err := http.NewRequest("GET", httpURL, nil)
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, "no -http")
	}
	resp, err := httpClient.Do(req.WithContext(ctx))
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, status.Errorf(codes.Unavailable, "status %d", resp.StatusCode)
	}
	return &Message{}, nil
}

func counts(context.Context, *Message) (*Message, error) {
	return &Message{Served: served.snapshot(), Called: called.snapshot()}, nil
}

var desc = grpc.ServiceDesc{
	ServiceName: service,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		unary("Echo", echo), unary("Fail", fail), unary("Call", callPeer), unary("CallHTTP", callHTTP),
		unary("Counts", counts),
	},
	Streams: []grpc.StreamDesc{{StreamName: "Stream", Handler: stream, ServerStreams: true}},
}

// What the `-tags otel` build (otel_on.go) sets: the OpenTelemetry SDK (startTelemetry's result
// stops it) and otelgrpc's stats handlers for the server and the peer client.
var (
	startTelemetry func() func()
	serverOptions  []grpc.ServerOption
	peerOptions    []grpc.DialOption
)

func dial(addr string, extra ...grpc.DialOption) *grpc.ClientConn {
	conn, err := connect(addr, append(extra, grpc.WithDefaultCallOptions(grpc.CallContentSubtype("json")))...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return conn
}

func printJSON(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// drive runs a plan of calls against addr, one after another; authority, when set, is the
// :authority its calls send instead of addr.
func drive(addr, plan, traceparent, authority string) {
	var opts []grpc.DialOption
	if authority != "" {
		opts = append(opts, grpc.WithAuthority(authority))
	}
	conn := dial(addr, opts...)
	ctx := context.Background()
	if traceparent != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", traceparent)
	}
	for _, step := range strings.Split(plan, ",") {
		what, n, _ := strings.Cut(step, ":")
		times, err := strconv.Atoi(n)
		method, arg, _ := strings.Cut(what, "/")
		codeStr, sleepStr, _ := strings.Cut(arg, "@")
		code, _ := strconv.Atoi(codeStr)
		sleep, _ := strconv.Atoi(sleepStr)
		if err != nil || times < 0 {
			fmt.Fprintln(os.Stderr, "bad plan step", step)
			os.Exit(2)
		}
		for i := 0; i < times; i++ {
			if method == "Stream" {
				readStream(ctx, conn, 5)
			} else {
				invoke(ctx, conn, method, &Message{Text: "x", Code: code, SleepMs: sleep})
			}
		}
	}
	printJSON(called.snapshot())
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	peerAddr := flag.String("peer", "", "the instance Call calls")
	driveAddr := flag.String("drive", "", "run -plan against this server and exit")
	plan := flag.String("plan", "", "calls for -drive")
	countsAddr := flag.String("counts", "", "print this server's Counts and exit")
	traceparent := flag.String("traceparent", "", "traceparent metadata for -drive's calls")
	authority := flag.String("authority", "", "the :authority of -drive's calls (default: the address)")
	flag.StringVar(&httpURL, "http", "", "the URL CallHTTP gets")
	flag.Parse()
	encoding.RegisterCodec(jsonCodec{})
	if *driveAddr != "" {
		drive(*driveAddr, *plan, *traceparent, *authority)
		return
	}
	if *countsAddr != "" {
		out := new(Message)
		if err := dial(*countsAddr).Invoke(context.Background(), "/"+service+"/Counts", &Message{}, out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		printJSON(out)
		return
	}
	if startTelemetry != nil {
		defer startTelemetry()()
	}
	if *peerAddr != "" {
		peer = dial(*peerAddr, peerOptions...)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer(append(serverOptions, grpc.UnaryInterceptor(countUnary),
		grpc.StreamInterceptor(countStream))...)
	srv.RegisterService(&desc, nil)
	fmt.Printf("ready %d %s\n", os.Getpid(), ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; srv.Stop() }()
	srv.Serve(ln)
}
