// SPDX-License-Identifier: Apache-2.0
// The same routes served by five Go routers, one port each, for the router-template tests.
// Usage: routersvc -gin ADDR -chi ADDR -echo ADDR -mux ADDR -httprouter ADDR (each optional;
// ADDR "127.0.0.1:0" picks a free port). Prints "ready PID NAME=HOST:PORT ..." once every
// listener is bound; SIGTERM shuts it down.
//
// Routes, in each router's own spelling (gin, echo, httprouter ":id"; chi, gorilla "{id}"):
//
//	GET  /health                  200 "ok"
//	GET  /users/:id               200 {"id":ID}; 404 when ID is "missing" (a matched route)
//	POST /users                   201
//	GET  /api/v1/items/:id        200, through a group (gin Group, chi Mount, echo Group,
//	                              gorilla Subrouter; httprouter has none: one full route)
//	GET  /counts                  200, the per-router counts below as JSON
//	anything else                 404 or 405 from the router's not-found handlers
//
// Every handler counts its own request under the route template its router reports to it
// (gin c.FullPath(), chi RoutePattern(), echo c.Path(), mux.CurrentRoute(r).GetPathTemplate(),
// httprouter's matched route path), the method and the status it answers; requests no route
// matched count under route "". /counts answers {"ROUTER": {"ROUTE METHOD STATUS": N}}, its
// own request included.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

type counts struct {
	mu sync.Mutex
	by map[string]map[string]int
}

var tally = counts{by: map[string]map[string]int{}}

func (c *counts) add(router, route, method string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.by[router]
	if m == nil {
		m = map[string]int{}
		c.by[router] = m
	}
	m[fmt.Sprintf("%s %s %d", route, method, status)]++
}

// answer counts the request, then writes status and body.
func answer(w http.ResponseWriter, router, route, method string, status int, body string) {
	tally.add(router, route, method, status)
	if route == "/counts" {
		tally.mu.Lock()
		b, _ := json.Marshal(tally.by)
		tally.mu.Unlock()
		body = string(b)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// status answers what each route answers, from its template and the id, if any.
func status(route, method, id string) int {
	switch {
	case method == http.MethodPost:
		return http.StatusCreated
	case id == "missing":
		return http.StatusNotFound
	}
	return http.StatusOK
}

// The routers this build has (one file each: routersvc-legacy, built by Go 1.23, links only
// gorilla/mux and httprouter), by flag name, and the order they start in.
var (
	routers = map[string]func() http.Handler{}
	order   = []string{"gin", "chi", "echo", "mux", "httprouter"}
	// startTelemetry: the `-tags otel` build's OpenTelemetry SDK (otel_on.go); its result
	// flushes and stops it.
	startTelemetry func() func()
)

type server struct {
	name    string
	handler http.Handler
	ln      net.Listener
}

func main() {
	addrs := map[string]*string{}
	for _, name := range order {
		if routers[name] != nil {
			addrs[name] = flag.String(name, "", "listen address of the "+name+" server (none: not started)")
		}
	}
	flag.Parse()
	if startTelemetry != nil {
		defer startTelemetry()()
	}
	var servers []*server
	for _, name := range order {
		if addrs[name] == nil || *addrs[name] == "" {
			continue
		}
		ln, err := net.Listen("tcp", *addrs[name])
		if err != nil {
			fmt.Fprintf(os.Stderr, "routersvc: %v\n", err)
			os.Exit(1)
		}
		servers = append(servers, &server{name, routers[name](), ln})
	}
	if len(servers) == 0 {
		fmt.Fprintln(os.Stderr, "routersvc: name at least one router to serve (see -h)")
		os.Exit(2)
	}
	var ready []string
	for _, s := range servers {
		ready = append(ready, s.name+"="+s.ln.Addr().String())
		go http.Serve(s.ln, s.handler)
	}
	fmt.Printf("ready %d %s\n", os.Getpid(), strings.Join(ready, " "))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
