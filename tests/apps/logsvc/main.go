// SPDX-License-Identifier: Apache-2.0

// logsvc: a service that logs, for glimpse's logs-correlated-with-traces tests. Its output is
// deterministic (the clock in its log lines is a counter, nothing else varies), so a test can
// compare it byte for byte with and without glimpse, and it keeps its own count of every line
// it wrote (GET /counts), inside handlers and outside them.
//
//	logsvc -portfile FILE
//
// Routes (each logs a known number of lines, all before it answers):
//
//	/hello?n=K  K log/slog JSON lines (stdout) at INFO, WARN, ERROR, DEBUG in turn, with fields
//	            and a group; then one plain line on stderr from the log package ("WARN ...",
//	            with a byte that is not UTF-8)
//	/spawn      one slog line from a goroutine the handler starts (and waits for)
//	/kick       the background worker (started at startup, serving no request) logs 2 lines;
//	            the handler waits for them and logs nothing itself
//	/big        one slog line of about 6000 bytes
//	/counts     {"inside":N,"outside":M}: lines written so far (not logged itself)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	inside, outside atomic.Int64
	clock           atomic.Int64
	base            = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
)

// A clock that only counts: every line's time is base + n ms, the same in every run.
func replace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Time(slog.TimeKey, base.Add(time.Duration(clock.Add(1))*time.Millisecond))
	}
	return a
}

func main() {
	portfile := flag.String("portfile", "", "write the listening port here")
	flag.Parse()
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: replace}))
	plain := log.New(os.Stderr, "", 0)

	kick := make(chan chan struct{})
	go func() { // serves no request: its lines carry no trace
		for done := range kick {
			for i := 0; i < 2; i++ {
				logger.Info("background tick", "tick", i)
				outside.Add(1)
			}
			close(done)
		}
	}()

	var mu sync.Mutex // one request at a time: the clock stays deterministic
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		id := r.Header.Get("X-Request-Id")
		levels := []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelDebug}
		for i := 0; i < n; i++ {
			logger.Log(context.Background(), levels[i%len(levels)], "handling hello",
				"request_id", id, "i", i, "ratio", 0.25, "ok", true,
				slog.Group("req", "method", r.Method, "path", "/hello"))
			inside.Add(1)
		}
		plain.Printf("WARN hello done request_id=%s \xff", id)
		inside.Add(1)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/spawn", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			logger.Info("spawned work", "request_id", r.Header.Get("X-Request-Id"))
			inside.Add(1)
		}()
		wg.Wait()
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/kick", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		done := make(chan struct{})
		kick <- done
		<-done
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		logger.Info("big "+strings.Repeat("x", 6000), "request_id", r.Header.Get("X-Request-Id"))
		inside.Add(1)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/counts", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(map[string]int64{"inside": inside.Load(), "outside": outside.Load()})
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	logger.Info("starting") // before any attach: never seen by glimpse
	outside.Add(1)
	if *portfile != "" {
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		if err := os.WriteFile(*portfile+".tmp", []byte(port), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(*portfile+".tmp", *portfile); err != nil {
			log.Fatal(err)
		}
	}
	log.Fatal(http.Serve(ln, mux))
}
