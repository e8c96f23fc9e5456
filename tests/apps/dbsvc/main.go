// SPDX-License-Identifier: Apache-2.0
// Database test service for the tracer: net/http + database/sql with two drivers linked into
// one binary, lib/pq (pure Go) and mattn/go-sqlite3 (cgo, system libsqlite3).
// Usage: dbsvc -db DSN [-addr HOST:PORT] [-peer URL] [-t SECONDS] [-max-open N], where DSN is
// sqlite:PATH (driver "sqlite3"; the file is created if missing) or postgres://... (driver
// "postgres"). Prints "ready PID HOST:PORT" (the bound address) once listening and after the
// schema and seed rows are in place; SIGTERM shuts it down.
//
// On start (before "ready", outside any HTTP request) it creates, if missing,
//
//	users(id INTEGER PRIMARY KEY, name TEXT)                      rows 1 alice, 2 bob, 3 carol
//	orders(id INTEGER PRIMARY KEY, user_id INTEGER, total INTEGER) 3 rows, only if empty
//
// in one transaction (PostgreSQL: serialized by an advisory lock; SQLite: BEGIN IMMEDIATE), so
// several instances may share one database. On PostgreSQL orders.id is an INTEGER identity
// column, since INTEGER PRIMARY KEY does not auto-number there as it does in SQLite.
//
// Routes (any method). Each makes exactly the database/sql calls listed, always without
// placeholders: the SQL literals are on purpose, the tracer must sanitize them.
//
//	/one     1 call:  QueryContext    SELECT name FROM users WHERE id = 1
//	                  (rows iterated and closed)                  -> 200 "alice"
//	/many    3 calls: QueryContext    SELECT id, name FROM users WHERE name = 'alice'
//	                  ExecContext     INSERT INTO orders (user_id, total) VALUES (1, 42)
//	                  QueryRowContext SELECT COUNT(*) FROM orders -> 200 "COUNT"
//	/spawn   1 call, in a new goroutine that the handler waits for (channel):
//	                  QueryContext    SELECT name FROM users WHERE id = 2
//	                                                              -> 200 "bob"
//	/fail    1 call:  QueryContext    SELECT * FROM missing_table (fails) -> 500
//	/call    0 calls: GET <peer>/one through a shared keep-alive client, forwarding the
//	                  incoming traceparent/tracestate headers unchanged; responds with the
//	                  peer's status and body (502 if the call failed or no -peer)
//
// All calls use the request's context. The pool is limited to -max-open open connections (4).
//
// The pool itself, for its metrics (glimpse reads them from the sql.DB in memory):
//
//	/pool/hold?n=N  N goroutines each take a connection of their own (db.Conn), run
//	                QueryRowContext SELECT 1 on it, and keep it until /pool/release; responds
//	                once all N have theirs -> 200 "N"
//	/pool/wait?n=N  N goroutines each run QueryContext SELECT name FROM users WHERE id = 3 on
//	                the pool (waiting for a connection while the pool is exhausted); responds
//	                at once -> 200 "N"
//	/pool/release   the holders give their connections back and the route waits until every
//	                waiter has finished -> 200 "released H, finished all"
//	/debug/dbstats  db.Stats() as JSON, read under one call, with "Waiting": the goroutines of
//	                /pool/wait started and not finished (the service's own count)
package main

import (
	"context"
	"database/sql"
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

	_ "github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"
)

var (
	db         *sql.DB
	driverName string // "sqlite3" or "postgres"
	peer       string
	client     = &http.Client{
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

// open maps the -db DSN to a driver and its data source name.
func open(dsn string) (*sql.DB, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, "", errors.New("sqlite: needs a path")
		}
		// IMMEDIATE transactions take the write lock up front, so concurrent starts on one
		// file wait for each other (busy timeout: the driver's default 5 s) instead of failing.
		if !strings.Contains(path, "_txlock=") {
			if strings.Contains(path, "?") {
				path += "&_txlock=immediate"
			} else {
				path += "?_txlock=immediate"
			}
		}
		d, err := sql.Open("sqlite3", path)
		return d, "sqlite3", err
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d, err := sql.Open("postgres", dsn)
		return d, "postgres", err
	}
	return nil, "", fmt.Errorf("unsupported -db %q: want sqlite:PATH or postgres://...", dsn)
}

// setup creates and seeds the tables, idempotently and safely against concurrent instances.
func setup(ctx context.Context, driver string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	orderID := "id INTEGER PRIMARY KEY"
	if driver == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(74230001)"); err != nil {
			return err
		}
		orderID = "id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)",
		"CREATE TABLE IF NOT EXISTS orders (" + orderID + ", user_id INTEGER, total INTEGER)",
		"INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob'), (3, 'carol') ON CONFLICT (id) DO NOTHING",
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		// No explicit ids: the PostgreSQL identity sequence must stay in step with the rows.
		s := "INSERT INTO orders (user_id, total) VALUES (1, 10), (1, 25), (2, 7)"
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return tx.Commit()
}

// names runs a query returning one text column in its last position and collects it.
func names(ctx context.Context, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	dest := make([]interface{}, len(cols))
	for i := range dest {
		dest[i] = new(sql.NullString)
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, dest[len(dest)-1].(*sql.NullString).String)
	}
	return out, rows.Err()
}

func dbError(w http.ResponseWriter, err error) {
	http.Error(w, "db: "+err.Error(), http.StatusInternalServerError)
}

func one(w http.ResponseWriter, r *http.Request) {
	n, err := names(r.Context(), "SELECT name FROM users WHERE id = 1")
	if err != nil {
		dbError(w, err)
		return
	}
	io.WriteString(w, strings.Join(n, ","))
}

func many(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if _, err := names(ctx, "SELECT id, name FROM users WHERE name = 'alice'"); err != nil {
		dbError(w, err)
		return
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO orders (user_id, total) VALUES (1, 42)"); err != nil {
		dbError(w, err)
		return
	}
	var count int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&count); err != nil {
		dbError(w, err)
		return
	}
	fmt.Fprint(w, count)
}

func spawn(w http.ResponseWriter, r *http.Request) {
	type result struct {
		names []string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		n, err := names(r.Context(), "SELECT name FROM users WHERE id = 2")
		done <- result{n, err}
	}()
	res := <-done
	if res.err != nil {
		dbError(w, res.err)
		return
	}
	io.WriteString(w, strings.Join(res.names, ","))
}

// placeholder is the driver's spelling of the n-th statement argument.
func placeholder(n int) string {
	if driverName == "postgres" {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// stmt runs prepared statements: a query (QueryRow) and an exec, each through a *sql.Stmt.
func stmt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	query, err := db.PrepareContext(ctx, "SELECT name FROM users WHERE id = "+placeholder(1))
	if err != nil {
		dbError(w, err)
		return
	}
	defer query.Close()
	insert, err := db.PrepareContext(ctx, "INSERT INTO orders (user_id, total) VALUES ("+placeholder(1)+", "+
		placeholder(2)+")")
	if err != nil {
		dbError(w, err)
		return
	}
	defer insert.Close()
	var name string
	if err := query.QueryRowContext(ctx, 2).Scan(&name); err != nil {
		dbError(w, err)
		return
	}
	if _, err := insert.ExecContext(ctx, 2, 7); err != nil {
		dbError(w, err)
		return
	}
	io.WriteString(w, name)
}

func fail(w http.ResponseWriter, r *http.Request) {
	_, err := names(r.Context(), "SELECT * FROM missing_table")
	if err == nil {
		err = errors.New("query on missing_table succeeded")
	}
	dbError(w, err)
}

func call(w http.ResponseWriter, r *http.Request) {
	if peer == "" {
		http.Error(w, "no -peer given", http.StatusBadGateway)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, peer+"/one", nil)
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

// The pool routes' state: the connections held, the waiters in flight.
var (
	poolMu   sync.Mutex
	held     []*sql.Conn
	waiters  sync.WaitGroup
	inFlight int64 // waiters started and not finished, under poolMu
)

func count(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 1 || n > 64 {
		return 0, fmt.Errorf("n must be 1..64")
	}
	return n, nil
}

func poolHold(w http.ResponseWriter, r *http.Request) {
	n, err := count(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i := 0; i < n; i++ {
		// Background: the connection outlives this request.
		c, err := db.Conn(context.Background())
		if err != nil {
			dbError(w, err)
			return
		}
		var one int
		if err := c.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
			c.Close()
			dbError(w, err)
			return
		}
		poolMu.Lock()
		held = append(held, c)
		poolMu.Unlock()
	}
	fmt.Fprint(w, n)
}

func poolWait(w http.ResponseWriter, r *http.Request) {
	n, err := count(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i := 0; i < n; i++ {
		waiters.Add(1)
		poolMu.Lock()
		inFlight++
		poolMu.Unlock()
		go func() {
			defer waiters.Done()
			if _, err := names(context.Background(), "SELECT name FROM users WHERE id = 3"); err != nil {
				fmt.Fprintln(os.Stderr, "dbsvc: waiter:", err)
			}
			poolMu.Lock()
			inFlight--
			poolMu.Unlock()
		}()
	}
	fmt.Fprint(w, n)
}

func poolRelease(w http.ResponseWriter, r *http.Request) {
	poolMu.Lock()
	conns := held
	held = nil
	poolMu.Unlock()
	for _, c := range conns {
		c.Close() // back to the pool, which hands it to a waiter
	}
	waiters.Wait()
	fmt.Fprintf(w, "released %d, finished all", len(conns))
}

func dbStats(w http.ResponseWriter, r *http.Request) {
	st := db.Stats()
	poolMu.Lock()
	waiting := inFlight
	poolMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]int64{
		"MaxOpenConnections": int64(st.MaxOpenConnections),
		"OpenConnections":    int64(st.OpenConnections),
		"InUse":              int64(st.InUse),
		"Idle":               int64(st.Idle),
		"WaitCount":          st.WaitCount,
		"WaitDurationNs":     int64(st.WaitDuration),
		"MaxIdleClosed":      st.MaxIdleClosed,
		"MaxIdleTimeClosed":  st.MaxIdleTimeClosed,
		"MaxLifetimeClosed":  st.MaxLifetimeClosed,
		"Waiting":            waiting,
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dsn := flag.String("db", "", "sqlite:PATH or postgres://... URL")
	flag.StringVar(&peer, "peer", "", "base URL of the peer server for /call")
	secs := flag.Float64("t", 0, "exit after SECONDS (0: run until killed)")
	maxOpen := flag.Int("max-open", 4, "the pool's limit on open connections (SetMaxOpenConns)")
	flag.Parse()
	peer = strings.TrimRight(peer, "/")

	var err error
	db, driverName, err = open(*dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbsvc:", err)
		os.Exit(2)
	}
	db.SetMaxOpenConns(*maxOpen)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = setup(ctx, driverName)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbsvc: setup:", err)
		os.Exit(1)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/one", one)
	mux.HandleFunc("/many", many)
	mux.HandleFunc("/spawn", spawn)
	mux.HandleFunc("/fail", fail)
	mux.HandleFunc("/stmt", stmt)
	mux.HandleFunc("/call", call)
	mux.HandleFunc("/pool/hold", poolHold)
	mux.HandleFunc("/pool/wait", poolWait)
	mux.HandleFunc("/pool/release", poolRelease)
	mux.HandleFunc("/debug/dbstats", dbStats)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbsvc:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("ready %d %s\n", os.Getpid(), ln.Addr())
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
		fmt.Fprintln(os.Stderr, "dbsvc:", err)
		os.Exit(1)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
	db.Close()
}
