// SPDX-License-Identifier: Apache-2.0
// Database test service for the socket path beside the uprobes: net/http with pgx/v5 native
// (pgx.Conn and pgxpool, no database/sql) and go-redis/v9.
// Usage: godb -pg DSN -redis HOST:PORT [-addr HOST:PORT] [-hold]. Prints "ready PID HOST:PORT" once
// listening, after the schema is in place, each pool holds its one warm connection and every
// statement below was run once on it (so the statements pgx caches per connection are
// prepared before any test request: the rounds on the wire are the ones listed); SIGTERM
// shuts it down. With -hold it prints "connected PID" once its connections are open and waits
// for a line on stdin before setup, so that a tracer attached meanwhile sees the statements
// prepared.
//
// PostgreSQL schema (created if missing): items(id INTEGER PRIMARY KEY, name TEXT, n INTEGER)
// with rows (1, 'apple', 0), (2, 'pear', 0).
//
// Routes; each makes exactly the database round trips listed (pgx's default mode: statements
// prepared once per connection, then bound and executed in one round; the simple protocol
// where it says so), on the request's goroutine unless it says otherwise:
//
//	/pg/conn    pgx.Conn:  SELECT name FROM items WHERE id = $1              (1 round)
//	/pg/simple  pgx.Conn:  SELECT count(*) FROM items, simple protocol      (1 round)
//	/pg/pool    pgxpool:   SELECT name FROM items WHERE id = $1
//	                       UPDATE items SET n = n + 1 WHERE id = $1         (2 rounds)
//	/pg/batch   pgxpool:   a batch of SELECT n FROM items WHERE id = $1 ×2 and
//	                       UPDATE items SET n = n + 1 WHERE id = $1, sent as one round
//	/pg/fail    pgxpool:   SELECT * FROM missing_items (42P01), simple      -> 500
//	/pg/spawn   pgxpool:   SELECT name FROM items WHERE id = $1, in a goroutine the handler
//	                       starts and waits for                             (1 round)
//	/redis/kv   SET glimpse:k <secret value>, GET glimpse:k, INCR glimpse:n (3 round trips)
//	/redis/pipe a pipeline: SET glimpse:p <secret value>, GET glimpse:p, INCR glimpse:n
//	                                                                        (1 write, 3 replies)
//	/redis/fail INCR glimpse:k (holds a non-number: ERR)                    -> 500
//
// Every value written to Redis contains the marker "glimpse-secret-value": it must never
// appear in anything glimpse exports.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

const secret = "glimpse-secret-value"

var (
	conn   *pgx.Conn
	connMu sync.Mutex // a pgx.Conn serves one caller at a time
	pool   *pgxpool.Pool
	rdb    *redis.Client
)

// What the `-tags otel` build (otel_on.go) sets: the OpenTelemetry SDK (startTelemetry's
// result stops it) and the instrumentations of pgx, go-redis and net/http.
var (
	startTelemetry    func() func()
	instrumentPgx     = func(*pgx.ConnConfig) {}
	instrumentRedis   = func(*redis.Client) {}
	instrumentHandler = func(h http.Handler) http.Handler { return h }
)

const (
	selectName  = "SELECT name FROM items WHERE id = $1"
	selectCount = "SELECT count(*) FROM items"
	selectN     = "SELECT n FROM items WHERE id = $1"
	update      = "UPDATE items SET n = n + 1 WHERE id = $1"
)

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func pgConn(w http.ResponseWriter, r *http.Request) {
	connMu.Lock()
	defer connMu.Unlock()
	var name string
	if err := conn.QueryRow(r.Context(), selectName, 1).Scan(&name); err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, name)
}

func pgSimple(w http.ResponseWriter, r *http.Request) {
	connMu.Lock()
	defer connMu.Unlock()
	var n int
	if err := conn.QueryRow(r.Context(), selectCount, pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, n)
}

func pgPool(w http.ResponseWriter, r *http.Request) {
	var name string
	if err := pool.QueryRow(r.Context(), selectName, 2).Scan(&name); err != nil {
		fail(w, err)
		return
	}
	if _, err := pool.Exec(r.Context(), update, 2); err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, name)
}

func pgBatch(w http.ResponseWriter, r *http.Request) {
	b := &pgx.Batch{}
	b.Queue(selectN, 1)
	b.Queue(update, 1)
	b.Queue(selectN, 1)
	if err := pool.SendBatch(r.Context(), b).Close(); err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, "ok")
}

func pgFail(w http.ResponseWriter, r *http.Request) {
	_, err := pool.Exec(r.Context(), "SELECT * FROM missing_items", pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		fmt.Fprint(w, "unexpected success")
		return
	}
	fail(w, err)
}

func pgSpawn(w http.ResponseWriter, r *http.Request) {
	done := make(chan error)
	var name string
	go func() { done <- pool.QueryRow(r.Context(), selectName, 1).Scan(&name) }()
	if err := <-done; err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, name)
}

func redisKV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := rdb.Set(ctx, "glimpse:k", secret, 0).Err(); err != nil {
		fail(w, err)
		return
	}
	v, err := rdb.Get(ctx, "glimpse:k").Result()
	if err != nil {
		fail(w, err)
		return
	}
	if err := rdb.Incr(ctx, "glimpse:n").Err(); err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, len(v))
}

func redisPipe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "glimpse:p", secret, 0)
		p.Get(ctx, "glimpse:p")
		p.Incr(ctx, "glimpse:n")
		return nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, "ok")
}

func redisFail(w http.ResponseWriter, r *http.Request) {
	if err := rdb.Incr(r.Context(), "glimpse:k").Err(); err != nil {
		fail(w, err)
		return
	}
	fmt.Fprint(w, "unexpected success")
}

// setup creates the schema and warms every connection: each cached statement is prepared on
// it now, not in a test request.
func setup(ctx context.Context) error {
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)",
		"INSERT INTO items VALUES (1, 'apple', 0), (2, 'pear', 0) ON CONFLICT (id) DO NOTHING",
	} {
		if _, err := conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			return err
		}
	}
	for _, q := range []string{selectName, selectN, update} {
		if _, err := conn.Exec(ctx, q, 1); err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, q, 1); err != nil {
			return err
		}
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	// go-redis dials a connection for the first pipeline: done here, not in a test request.
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Ping(ctx)
		return nil
	})
	return err
}

func main() {
	pgDSN := flag.String("pg", "", "PostgreSQL DSN")
	redisAddr := flag.String("redis", "", "Redis host:port")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	hold := flag.Bool("hold", false, "after connecting, print \"connected PID\" and wait for a line on stdin before setup")
	flag.Parse()
	if startTelemetry != nil {
		defer startTelemetry()()
	}
	ctx := context.Background()
	connCfg, err := pgx.ParseConfig(*pgDSN)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgx:", err)
		os.Exit(1)
	}
	instrumentPgx(connCfg)
	if conn, err = pgx.ConnectConfig(ctx, connCfg); err != nil {
		fmt.Fprintln(os.Stderr, "pgx.Connect:", err)
		os.Exit(1)
	}
	cfg, err := pgxpool.ParseConfig(*pgDSN)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgxpool:", err)
		os.Exit(1)
	}
	// One connection, never pinged before use: the wire carries exactly the rounds listed.
	cfg.MaxConns, cfg.MinConns = 1, 1
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	instrumentPgx(cfg.ConnConfig)
	if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "pgxpool:", err)
		os.Exit(1)
	}
	// RESP2 without CLIENT SETINFO: a new connection sends no command of its own, so which
	// request happens to dial one does not change the commands it makes.
	rdb = redis.NewClient(&redis.Options{Addr: *redisAddr, PoolSize: 1, ConnMaxIdleTime: -1,
		Protocol: 2, DisableIdentity: true, ContextTimeoutEnabled: true})
	instrumentRedis(rdb)
	if *hold {
		// Connected; the statements are prepared only when the test says (after it attached).
		fmt.Printf("connected %d\n", os.Getpid())
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	if err := setup(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/pg/conn", pgConn)
	mux.HandleFunc("/pg/simple", pgSimple)
	mux.HandleFunc("/pg/pool", pgPool)
	mux.HandleFunc("/pg/batch", pgBatch)
	mux.HandleFunc("/pg/fail", pgFail)
	mux.HandleFunc("/pg/spawn", pgSpawn)
	mux.HandleFunc("/redis/kv", redisKV)
	mux.HandleFunc("/redis/pipe", redisPipe)
	mux.HandleFunc("/redis/fail", redisFail)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: instrumentHandler(mux), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("ready %d %s\n", os.Getpid(), ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
