// SPDX-License-Identifier: Apache-2.0
// HTTP test service for the tracer: fixed routes with known statuses and latencies, plus an
// outgoing call to a peer instance. Usage: httpsvc [-addr HOST:PORT] [-peer URL] [-t SECONDS];
// httpsvc -drive URL -n N [-drive-h2c] GETs URL N times (a load for scripts/bench-proto.sh).
// Prints "ready PID HOST:PORT" (the bound address) once listening; SIGTERM shuts it down.
// -bare serves the ServeMux itself as the Server's Handler, without the /strip/ wrapper below;
// -default registers the routes on http.DefaultServeMux and leaves the Handler nil; -extra N
// registers N more routes /x0 ... /x{N-1} (200 "ok"), which past a few put a ServeMux node's
// children in a Go map.
//
// Routes (any method):
//
//	/fast                  200 "ok"
//	/sleep?ms=N            sleeps N ms, then 200 "ok" (400 if N is not a number in 0..600000)
//	/status/{code}         responds with that status (200..599; 400 otherwise)
//	/users/{id}            200 {"id":"ID","name":"user-ID"} (application/json)
//	/nowrite               writes nothing: Go sends 200 with an empty body
//	/call[?path=/P]        GET <peer>/fast (or <peer>/P) through a shared keep-alive client,
//	                       responds with the peer's status and body (502 if the call failed);
//	                       forwards the incoming traceparent/tracestate headers unchanged
//	/echo-traceparent      200 with the incoming traceparent header as the body
//	/deepcall?depth=N      N frames deep on a new goroutine, GET <peer>/fast; the peer's status
//	/burn/hash?ms=N        burns N ms of CPU in burnHash, /burn/sort?ms=N in burnSort
//	                       (each on the request's own goroutine), then 200 with a checksum
//
// /users/{id} and /status/{code} are ServeMux patterns on Go >= 1.22 (routes_go122.go) and
// hand-parsed prefix routes on older Go (routes_legacy.go); both answer identically.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	peer   string
	client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil, // never go through $http_proxy to reach the peer
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
	}
)

func fast(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "ok")
}

func sleep(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > 600000 {
		http.Error(w, "ms must be an integer in 0..600000", http.StatusBadRequest)
		return
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done(): // client went away
		return
	}
	io.WriteString(w, "ok")
}

// status answers /status/{code}; code is the raw path value.
func status(w http.ResponseWriter, r *http.Request, code string) {
	c, err := strconv.Atoi(code)
	if err != nil || c < 200 || c > 599 {
		http.Error(w, "status code must be in 200..599", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(c)
	if c != http.StatusNoContent && c != http.StatusNotModified && r.Method != http.MethodHead {
		fmt.Fprintf(w, "%d %s\n", c, http.StatusText(c))
	}
}

// user answers /users/{id}; id is the (unescaped) path value.
func user(w http.ResponseWriter, r *http.Request, id string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"id\":%s,\"name\":%s}\n", strconv.Quote(id), strconv.Quote("user-"+id))
}

func nowrite(w http.ResponseWriter, r *http.Request) {}

// burnMillis reads ?ms=N (0..10000) or answers 400.
func burnMillis(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > 10000 {
		http.Error(w, "ms must be an integer in 0..10000", http.StatusBadRequest)
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// burnHash mixes integers (FNV-style) until d has passed.
//
//go:noinline
func burnHash(d time.Duration) uint64 {
	h := uint64(14695981039346656037)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 20000; i++ {
			h ^= uint64(i)
			h *= 1099511628211
		}
	}
	return h
}

// burnSort insertion-sorts a reversed slice again and again until d has passed.
//
//go:noinline
func burnSort(d time.Duration) uint64 {
	var a [256]int
	n := uint64(0)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range a {
			a[i] = len(a) - i
		}
		for i := 1; i < len(a); i++ {
			for j := i; j > 0 && a[j] < a[j-1]; j-- {
				a[j], a[j-1] = a[j-1], a[j]
			}
		}
		n += uint64(a[0])
	}
	return n
}

func burn(fn func(time.Duration) uint64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d, ok := burnMillis(w, r); ok {
			fmt.Fprintf(w, "%d", fn(d))
		}
	}
}

func echoTraceparent(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.Header.Get("traceparent"))
}

func call(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("path")
	if path == "" {
		path = "/fast"
	}
	if !strings.HasPrefix(path, "/") {
		http.Error(w, "path must start with /", http.StatusBadRequest)
		return
	}
	if peer == "" {
		http.Error(w, "no -peer given", http.StatusBadGateway)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, peer+path, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"traceparent", "tracestate"} {
		if v, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			req.Header[http.CanonicalHeaderKey(h)] = v
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		http.Error(w, "peer: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	io.Copy(io.Discard, resp.Body) // drain, so the connection goes back to the pool
}

// stripPrefix serves /strip/X as X by rewriting the request's path in place, as Caddy's
// handle_path and httprouter's redirects do: the request must still be recorded as it arrived.
func stripPrefix(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/strip/") {
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/strip")
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.StringVar(&peer, "peer", "", "base URL of the peer server for /call")
	secs := flag.Float64("t", 0, "exit after SECONDS (0: run until killed)")
	useTLS := flag.Bool("tls", false, "serve HTTPS with a self-signed certificate (HTTP/2 offered by ALPN)")
	h2c := flag.Bool("h2c", false, "also serve cleartext HTTP/2 (Go 1.24+)")
	xh2c := flag.Bool("xnet-h2c", false, "serve cleartext HTTP/2 through golang.org/x/net/http2/h2c (the httpsvc-xnet builds), counting requests (GET /counts)")
	xtls := flag.Bool("xnet-tls", false, "with -tls, serve HTTPS HTTP/2 through golang.org/x/net/http2 (http2.ConfigureServer; the httpsvc-xnet builds)")
	also := flag.String("also", "", "serve on a second listener at ADDR too (printed as \"also ADDR\")")
	driveURL := flag.String("drive", "", "GET this URL -n times one after another (-drive-h2c: over h2c), then exit")
	driveN := flag.Int("n", 1, "requests for -drive")
	driveH2C := flag.Bool("drive-h2c", false, "-drive over cleartext HTTP/2 (prior knowledge)")
	bare := flag.Bool("bare", false, "the ServeMux is the Server's Handler (no /strip/ wrapper)")
	useDefault := flag.Bool("default", false, "routes on http.DefaultServeMux, the Server's Handler nil")
	extra := flag.Int("extra", 0, "register N more routes /x0 ... /x{N-1}")
	flag.Parse()
	peer = strings.TrimRight(peer, "/")
	if *driveURL != "" {
		drive(*driveURL, *driveN, *driveH2C)
		return
	}
	stopTelemetry := startTelemetry()
	defer stopTelemetry()
	instrumentClient(client)

	mux := http.NewServeMux()
	if *useDefault {
		mux = http.DefaultServeMux
	}
	mux.HandleFunc("/fast", fast)
	mux.HandleFunc("/sleep", sleep)
	mux.HandleFunc("/nowrite", nowrite)
	mux.HandleFunc("/call", call)
	mux.HandleFunc("/deepcall", deepCall)
	mux.HandleFunc("/echo-traceparent", echoTraceparent)
	mux.HandleFunc("/burn/hash", burn(burnHash))
	mux.HandleFunc("/burn/sort", burn(burnSort))
	registerPathRoutes(mux)
	for i := 0; i < *extra; i++ {
		mux.HandleFunc(fmt.Sprintf("/x%d", i), fast)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpsvc:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: instrument(stripPrefix(mux)), ReadHeaderTimeout: 10 * time.Second}
	if *bare {
		srv.Handler = mux
	}
	if *useDefault {
		srv.Handler = nil
	}
	if *xh2c {
		if srv.Handler = xnetH2C(srv.Handler); srv.Handler == nil {
			fmt.Fprintln(os.Stderr, "httpsvc: -xnet-h2c needs an httpsvc-xnet build (-tags xnet)")
			os.Exit(2)
		}
	}
	if *h2c && !enableH2C(srv) {
		fmt.Fprintln(os.Stderr, "httpsvc: -h2c needs Go 1.24 or later")
		os.Exit(2)
	}
	served := make(chan error, 1)
	if *useTLS {
		cert, err := selfSigned()
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpsvc:", err)
			os.Exit(1)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		if *xtls && !xnetTLS(srv) {
			fmt.Fprintln(os.Stderr, "httpsvc: -xnet-tls needs an httpsvc-xnet build (-tags xnet)")
			os.Exit(2)
		}
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	fmt.Printf("ready %d %s\n", os.Getpid(), ln.Addr())
	if *also != "" {
		ln2, err := net.Listen("tcp", *also)
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpsvc:", err)
			os.Exit(1)
		}
		if *useTLS {
			go func() { served <- srv.ServeTLS(ln2, "", "") }()
		} else {
			go func() { served <- srv.Serve(ln2) }()
		}
		fmt.Printf("also %s\n", ln2.Addr())
	}
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	var timeout <-chan time.Time
	if *secs > 0 {
		timeout = time.After(time.Duration(*secs * float64(time.Second)))
	}
	select {
	case <-sig:
	case <-timeout:
	case err := <-served:
		fmt.Fprintln(os.Stderr, "httpsvc:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
}
