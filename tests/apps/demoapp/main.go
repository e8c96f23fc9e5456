// SPDX-License-Identifier: Apache-2.0
// Demo workload for `make demo`: a small "service" whose workers hash, encode, compress and
// sort data — real standard-library stacks for the flame graph. Usage: demoapp [-t SECONDS].
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"time"
)

type order struct {
	ID    int       `json:"id"`
	Items []string  `json:"items"`
	Price []float64 `json:"price"`
}

func makeOrders(rng *rand.Rand, n int) []order {
	orders := make([]order, n)
	for i := range orders {
		orders[i] = order{ID: rng.Int(), Items: []string{"apple", "pear", "plum"}, Price: []float64{rng.Float64(), rng.Float64()}}
	}
	return orders
}

func encodeOrders(orders []order) []byte {
	b, _ := json.Marshal(orders)
	return b
}

func compress(b []byte) int {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Len()
}

func checksum(b []byte) [32]byte {
	sum := sha256.Sum256(b)
	for i := 0; i < 20; i++ {
		sum = sha256.Sum256(append(sum[:], b[:1024]...))
	}
	return sum
}

func rank(orders []order) {
	sort.Slice(orders, func(i, j int) bool { return orders[i].Price[0] < orders[j].Price[0] })
}

func handleBatch(rng *rand.Rand) {
	orders := makeOrders(rng, 500)
	rank(orders)
	b := encodeOrders(orders)
	checksum(b)
	compress(b)
}

func main() {
	secs := flag.Float64("t", 0, "exit after SECONDS")
	flag.Parse()
	fmt.Printf("ready %d\n", os.Getpid())
	deadline := time.Now().Add(time.Duration(*secs * float64(time.Second)))
	for w := 0; w < 2; w++ {
		go func(seed int64) {
			rng := rand.New(rand.NewSource(seed))
			for {
				handleBatch(rng)
				time.Sleep(time.Millisecond)
			}
		}(int64(w))
	}
	for *secs == 0 || time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
}
