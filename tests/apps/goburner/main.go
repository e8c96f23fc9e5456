// SPDX-License-Identifier: Apache-2.0
// Go CPU burner with known shares of work: burnA 50 %, burnB 30 %, burnC 20 % of each round.
// Usage: goburner [-t SECONDS] [-j GOROUTINES]. Prints "ready PID" once running.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"time"
)

var sink uint64

//go:noinline
func burnA(iters uint64) { sink = spin(sink, iters) }

//go:noinline
func burnB(iters uint64) { sink = spin(sink, iters) }

//go:noinline
func burnC(iters uint64) { sink = spin(sink, iters) }

// spin is inlined into each caller so that flat time lands in burnA/B/C themselves.
func spin(x, iters uint64) uint64 {
	for i := uint64(0); i < iters; i++ {
		x = x*6364136223846793005 + i
	}
	return x
}

func worker(deadline time.Time) {
	// A random round length keeps rounds from falling into lockstep with the sampling
	// period (which would bias the shares); each round still splits 50/30/20.
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for deadline.IsZero() || time.Now().Before(deadline) {
		unit := uint64(10000 + rng.Intn(20000))
		burnA(5 * unit)
		burnB(3 * unit)
		burnC(2 * unit)
	}
}

func main() {
	secs := flag.Float64("t", 0, "exit after SECONDS")
	jobs := flag.Int("j", 1, "worker goroutines")
	flag.Parse()
	var deadline time.Time
	if *secs > 0 {
		deadline = time.Now().Add(time.Duration(*secs * float64(time.Second)))
	}
	runtime.GOMAXPROCS(*jobs)
	fmt.Printf("ready %d\n", os.Getpid())
	done := make(chan struct{})
	for i := 0; i < *jobs; i++ {
		go func() { worker(deadline); done <- struct{}{} }()
	}
	for i := 0; i < *jobs; i++ {
		<-done
	}
}
