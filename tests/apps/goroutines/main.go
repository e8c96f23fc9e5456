// SPDX-License-Identifier: Apache-2.0
// Test service for glimpse's Go runtime metrics (goroutine count, heap in use, GC count):
// it makes those numbers move on request and reports the runtime's own view of them.
// Usage: goroutines [-addr HOST:PORT]. Prints "ready PID HOST:PORT" once listening.
//
// Routes (GET):
//
//	/spawn?n=N     starts N goroutines that park on a channel; returns once all have started
//	/release       releases every parked goroutine and returns once all have exited
//	/churn?n=K     keeps K goroutines busy creating short-lived goroutines (n=0 stops them)
//	/stats         {"goroutines": runtime.NumGoroutine(), "http_goroutines": N,
//	               "parked": N, "heap_inuse": MemStats.HeapInuse, "num_gc": MemStats.NumGC}
//	/gc            runs runtime.GC()
//	/alloc?mb=N    allocates N MiB more, touches every page and keeps it
//	/free          drops everything /alloc kept
//
// http_goroutines is how many goroutines serve HTTP connections at that moment (including the
// one answering /stats): with no request in flight the count is goroutines - http_goroutines.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
)

var (
	mu      sync.Mutex
	release = make(chan struct{})
	parked  sync.WaitGroup
	nparked int

	churnStop chan struct{}
	churners  sync.WaitGroup

	kept [][]byte

	statsMu  sync.Mutex
	stackBuf = make([]byte, 1<<20)
)

func number(r *http.Request, name string, max int) (int, bool) {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	return n, err == nil && n >= 0 && n <= max
}

func spawn(w http.ResponseWriter, r *http.Request) {
	n, ok := number(r, "n", 1000000)
	if !ok {
		http.Error(w, "n must be an integer in 0..1000000", http.StatusBadRequest)
		return
	}
	mu.Lock()
	defer mu.Unlock()
	var started sync.WaitGroup
	started.Add(n)
	parked.Add(n)
	ch := release
	for i := 0; i < n; i++ {
		go func() {
			defer parked.Done()
			started.Done()
			<-ch
		}()
	}
	started.Wait()
	nparked += n
	fmt.Fprintf(w, "%d\n", nparked)
}

func releaseAll(w http.ResponseWriter, r *http.Request) {
	mu.Lock()
	defer mu.Unlock()
	close(release)
	parked.Wait()
	release = make(chan struct{})
	nparked = 0
	fmt.Fprintln(w, "0")
}

func churn(w http.ResponseWriter, r *http.Request) {
	k, ok := number(r, "n", 1000)
	if !ok {
		http.Error(w, "n must be an integer in 0..1000", http.StatusBadRequest)
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if churnStop != nil {
		close(churnStop)
		churners.Wait()
		churnStop = nil
	}
	if k > 0 {
		stop := make(chan struct{})
		churnStop = stop
		churners.Add(k)
		for i := 0; i < k; i++ {
			go func() {
				defer churners.Done()
				done := make(chan struct{})
				for {
					select {
					case <-stop:
						return
					default:
					}
					go func() { done <- struct{}{} }()
					<-done
				}
			}()
		}
	}
	fmt.Fprintf(w, "%d\n", k)
}

// httpGoroutines counts the goroutines serving connections: each connection has one running
// (*conn).serve, and one in (*connReader).backgroundRead while a handler runs; net/http
// creates no others here (no client).
// The buffer is kept so that /stats itself barely moves the heap it reports.
func httpGoroutines() int {
	statsMu.Lock()
	defer statsMu.Unlock()
	var n int
	for {
		n = runtime.Stack(stackBuf, true)
		if n < len(stackBuf) {
			break
		}
		stackBuf = make([]byte, 2*len(stackBuf))
	}
	count := 0
	for _, g := range bytes.Split(stackBuf[:n], []byte("\n\n")) {
		// "created by": also matches goroutines that have not started yet, whose stack
		// shows only a wrapper (e.g. startBackgroundRead.gowrap2 in Go 1.23).
		if bytes.Contains(g, []byte("created by net/http.")) {
			count++
		}
	}
	return count
}

func stats(w http.ResponseWriter, r *http.Request) {
	httpGs := httpGoroutines()
	n := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mu.Lock()
	p := nparked
	mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]uint64{
		"goroutines":      uint64(n),
		"http_goroutines": uint64(httpGs),
		"parked":          uint64(p),
		"heap_inuse":      ms.HeapInuse,
		"num_gc":          uint64(ms.NumGC),
	})
}

func gc(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
	fmt.Fprintln(w, "ok")
}

func alloc(w http.ResponseWriter, r *http.Request) {
	mb, ok := number(r, "mb", 4096)
	if !ok {
		http.Error(w, "mb must be an integer in 0..4096", http.StatusBadRequest)
		return
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		kept = append(kept, b)
	}
	fmt.Fprintf(w, "%d\n", len(kept))
}

func free(w http.ResponseWriter, r *http.Request) {
	mu.Lock()
	defer mu.Unlock()
	kept = nil
	fmt.Fprintln(w, "0")
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/spawn", spawn)
	mux.HandleFunc("/release", releaseAll)
	mux.HandleFunc("/churn", churn)
	mux.HandleFunc("/stats", stats)
	mux.HandleFunc("/gc", gc)
	mux.HandleFunc("/alloc", alloc)
	mux.HandleFunc("/free", free)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goroutines:", err)
		os.Exit(1)
	}
	fmt.Printf("ready %d %s\n", os.Getpid(), ln.Addr())
	os.Stdout.Sync()
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "goroutines:", err)
		os.Exit(1)
	}
}
