// SPDX-License-Identifier: Apache-2.0
// A service shaped like many small ones: SQLite in memory, one connection, QueryRow, no
// transactions, so the linker drops the driver methods nothing calls (driver.Conn's Begin).
// GET /q?id=N answers the name of row N; GET /count answers how many queries it has made.
// Usage: sqlmin [-addr ADDR]. Prints "ready PID ADDR".
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlmin:", err)
		os.Exit(1)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"); err != nil {
		fmt.Fprintln(os.Stderr, "sqlmin:", err)
		os.Exit(1)
	}
	db.Exec("INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob')")
	var queries atomic.Int64
	http.HandleFunc("/q", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		var name string
		queries.Add(1)
		if err := db.QueryRow("SELECT name FROM users WHERE id = ?", id).Scan(&name); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		fmt.Fprintln(w, name)
	})
	http.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, queries.Load())
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlmin:", err)
		os.Exit(1)
	}
	fmt.Printf("ready %d %s\n", os.Getpid(), ln.Addr())
	os.Stdout.Sync()
	http.Serve(ln, nil)
}
