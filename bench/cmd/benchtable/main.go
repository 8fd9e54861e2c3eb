// Command benchtable runs the side-by-side benchmarks of this module and
// prints them as the markdown table of bench/README.md: for each benchmark
// and contender the median ns/op of every run and its spread, the same of
// the CPU time of the benchmark's thread where it is reported (cpu-ns/op),
// B/op, allocs/op, and the ratio to smileguard; in a group with a "floor"
// contender, also the ratios to the floor in wall time, in the thread's
// CPU time and in the process's (proc-cpu-ns/op).
//
// From the repository root:
//
//	go run ./bench/cmd/benchtable                 # 5 rounds of go test -bench . -benchmem, then the table
//	go run ./bench/cmd/benchtable -count 10 -bench Callback
//	go run ./bench/cmd/benchtable -benchtime 0.5s # shorter runs, passed to go test
//	go run ./bench/cmd/benchtable -in bench.txt   # the table of an earlier run's output ("-": stdin)
//
// Each round is a go test run of every benchmark once (-count=1), rather
// than one run with -count=N, which repeats each benchmark N times in a
// row: on a shared machine whose load drifts, rounds measure the
// contenders in alternation, so that the drift touches them alike and
// the ratios hold. The output of go test goes to stderr as it comes, so a
// long run shows progress and leaves the raw figures in a log; the table
// goes to stdout.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// benchPackage is the package whose benchmarks are run: the side-by-side
// ones. Named by import path, it resolves from anywhere in the workspace.
const benchPackage = "github.com/smileguard/smileguard/bench"

func main() {
	count := flag.Int("count", 5, "rounds: go test runs of every benchmark")
	bench := flag.String("bench", ".", "benchmarks to run (go test -bench)")
	benchtime := flag.String("benchtime", "", "time or iterations of each benchmark in each round (go test -benchtime; default 1s)")
	in := flag.String("in", "", `read go test output from this file ("-": stdin) instead of running go test`)
	flag.Parse()

	output, err := benchOutput(*in, *bench, *benchtime, *count)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	results, err := Parse(bytes.NewReader(output))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if err := Format(os.Stdout, results); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// benchOutput returns the text output of go test -bench: read from in, or
// from running the benchmarks of benchPackage in count rounds.
func benchOutput(in, bench, benchtime string, count int) ([]byte, error) {
	switch in {
	case "-":
		return io.ReadAll(os.Stdin)
	case "":
	default:
		return os.ReadFile(in)
	}
	var out bytes.Buffer
	for round := 1; round <= count; round++ {
		fmt.Fprintf(os.Stderr, "benchtable: round %d of %d\n", round, count)
		args := []string{"test", "-run=^$", "-bench=" + bench, "-benchmem", "-count=1"}
		if benchtime != "" {
			args = append(args, "-benchtime="+benchtime)
		}
		cmd := exec.Command("go", append(args, benchPackage)...)
		cmd.Stdout = io.MultiWriter(&out, os.Stderr)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go test: %w", err)
		}
	}
	return out.Bytes(), nil
}
