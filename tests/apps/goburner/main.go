// SPDX-License-Identifier: Apache-2.0
// Go CPU burner with known shares of work: burnA 50 %, burnB 30 %, burnC 20 % of each round.
// With -leaf the work is in one small leaf function, work, called by alpha, beta and gamma
// (60/30/10 %): Go sets up no frame for such a leaf, as for most small functions.
// With -inline the work is in small functions the compiler inlines into worker (go build
// -gcflags=-m: "inlining call to"): inlA 60 %, inlB 30 % (half of it in inlC, inlined into
// inlB), inlD 10 %; Go's own profile shows them as frames of their own.
// -cpuprofile FILE writes the program's own runtime/pprof CPU profile of its run (ground truth).
// Usage: goburner [-t SECONDS] [-j GOROUTINES] [-leaf | -inline] [-cpuprofile FILE]. Prints "ready PID"
// once running.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/pprof"
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

// work is a leaf without a frame: no calls, nothing on its stack.
//
//go:noinline
func work(iters uint64) uint64 {
	x := sink
	for i := uint64(0); i < iters; i++ {
		x = x*6364136223846793005 + i
	}
	return x
}

//go:noinline
func alpha(iters uint64) { sink = work(iters) }

//go:noinline
func beta(iters uint64) { sink = work(iters) }

//go:noinline
func gamma(iters uint64) { sink = work(iters) }

// Inlined: small, no go:noinline. Each multiplier differs so that no two loops are merged.
func inlA(x, n uint64) uint64 {
	for i := uint64(0); i < n; i++ {
		x = x*6364136223846793005 + i
	}
	return x
}

func inlB(x, n uint64) uint64 {
	for i := uint64(0); i < n; i++ {
		x = x*3202034522624059733 + i
	}
	return inlC(x, n)
}

func inlC(x, n uint64) uint64 {
	for i := uint64(0); i < n; i++ {
		x = x*2862933555777941757 + i
	}
	return x
}

func inlD(x, n uint64) uint64 {
	for i := uint64(0); i < n; i++ {
		x = x*7046029254386353087 + i
	}
	return x
}

var inline = flag.Bool("inline", false, "burn in functions inlined into the worker: inlA, inlB, inlC (inlined into inlB), inlD (6:1.5:1.5:1)")

var leaf = flag.Bool("leaf", false, "burn in the leaf work, called by alpha, beta and gamma (6:3:1)")

func worker(deadline time.Time) {
	// A random round length keeps rounds from falling into lockstep with the sampling
	// period (which would bias the shares); each round still splits 50/30/20.
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for deadline.IsZero() || time.Now().Before(deadline) {
		unit := uint64(10000 + rng.Intn(20000))
		if *inline {
			x := inlA(sink, 6*unit)
			x = inlB(x, 3*unit/2)
			sink = inlD(x, unit)
			continue
		}
		if *leaf {
			alpha(6 * unit)
			beta(3 * unit)
			gamma(unit)
			continue
		}
		burnA(5 * unit)
		burnB(3 * unit)
		burnC(2 * unit)
	}
}

func main() {
	secs := flag.Float64("t", 0, "exit after SECONDS")
	jobs := flag.Int("j", 1, "worker goroutines")
	cpuprofile := flag.String("cpuprofile", "", "write the program's own CPU profile of its run to FILE")
	flag.Parse()
	if *cpuprofile != "" {
		// 1000 Hz rather than pprof's 100: more samples, a truth with less sampling error.
		// StartCPUProfile then keeps this rate (and says so on stderr).
		runtime.SetCPUProfileRate(1000)
		f, err := os.Create(*cpuprofile)
		if err != nil || pprof.StartCPUProfile(f) != nil {
			fmt.Fprintln(os.Stderr, "goburner: cannot profile to", *cpuprofile)
			os.Exit(1)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
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
