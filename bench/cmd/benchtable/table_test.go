package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.md from testdata/sample.txt")

// TestFormatSample turns a captured run into the table checked in beside
// it: the format is the README's, so a change shows up in review.
func TestFormatSample(t *testing.T) {
	in, err := os.Open("testdata/sample.txt")
	require.NoError(t, err)
	defer in.Close()
	runs, err := Parse(in)
	require.NoError(t, err)
	var got bytes.Buffer
	require.NoError(t, Format(&got, runs))
	if *update {
		require.NoError(t, os.WriteFile("testdata/sample.md", got.Bytes(), 0o644))
	}
	want, err := os.ReadFile("testdata/sample.md")
	require.NoError(t, err)
	assert.Equal(t, string(want), got.String())
}

func TestParse(t *testing.T) {
	out := `goos: linux
cpu: AMD EPYC
BenchmarkClientIP/smileguard
BenchmarkClientIP/smileguard-2   	 100	 120.5 ns/op	 0 B/op	 0 allocs/op
BenchmarkClientIP/echo-2         	 100	 600 ns/op	 160 B/op	 3 allocs/op
BenchmarkClientIP/smileguard-2   	 100	 110.5 ns/op	 0 B/op	 0 allocs/op
BenchmarkCallback/1.5MB/v1-body-2	 10	 2000 ns/op	 700.00 MB/s	 8 B/op	 1 allocs/op
BenchmarkNoBenchmem-8            	 10	 50 ns/op
BenchmarkCallback/2KB/floor-2    	 100	 4000 ns/op	 512.00 MB/s	 3500 cpu-ns/op	 3900 proc-cpu-ns/op	 96 B/op	 2 allocs/op
BenchmarkGuardOverFloor/2KB-2    	 100	 9000 ns/op	 1.25 guard/floor-cpu	 4000 floor-ns/op	 1.30 guard/floor-wall	 9 B/op	 1 allocs/op
--- FAIL: BenchmarkBroken
PASS
ok  	github.com/smileguard/smileguard/bench	8.157s
cpu: AMD EPYC   
`
	runs, err := Parse(strings.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, []string{"goos: linux", "cpu: AMD EPYC"}, runs.Env, "environment lines, once each, trimmed")
	require.Len(t, runs.Results, 6, "one result per benchmark, runs merged, in input order")
	assert.Equal(t, Result{Group: "BenchmarkClientIP", Contender: "smileguard",
		NsPerOp: []float64{120.5, 110.5}, BPerOp: []float64{0, 0}, Allocs: []float64{0, 0}}, *runs.Results[0])
	assert.Equal(t, "echo", runs.Results[1].Contender)
	assert.Equal(t, "BenchmarkCallback/1.5MB", runs.Results[2].Group, "the GOMAXPROCS suffix goes, inner dashes stay")
	assert.Equal(t, "v1-body", runs.Results[2].Contender)
	assert.Equal(t, Result{Group: "BenchmarkNoBenchmem", Contender: "BenchmarkNoBenchmem", NsPerOp: []float64{50}}, *runs.Results[3])
	assert.Equal(t, Result{Group: "BenchmarkCallback/2KB", Contender: "floor", NsPerOp: []float64{4000}, BPerOp: []float64{96},
		Allocs: []float64{2}, CPUNsPerOp: []float64{3500}, ProcCPUNsPerOp: []float64{3900}}, *runs.Results[4], "CPU times")
	assert.Equal(t, map[string][]float64{"guard/floor-cpu": {1.25}, "guard/floor-wall": {1.30}}, runs.Results[5].Ratios,
		"ratios, and no other unknown unit")

	_, err = Parse(strings.NewReader("PASS\n"))
	assert.Error(t, err, "no results")
	_, err = Parse(strings.NewReader("BenchmarkX-2 10 fast ns/op\n"))
	assert.Error(t, err, "a value that is not a number")
}

func TestFormat(t *testing.T) {
	runs := Runs{Results: []*Result{
		{Group: "BenchmarkClientIP", Contender: "baseline", NsPerOp: []float64{5}, BPerOp: []float64{0}, Allocs: []float64{0}},
		{Group: "BenchmarkClientIP", Contender: "smileguard", NsPerOp: []float64{100, 120, 110, 90}, BPerOp: []float64{0}, Allocs: []float64{0}},
		{Group: "BenchmarkClientIP", Contender: "echo", NsPerOp: []float64{1234567}, BPerOp: []float64{2048}, Allocs: []float64{3}},
		// Run by run: 2, 2.5, 9 and 1 times smileguard's time; the median
		// of those is 2.25, the ratio of the medians (155/105) 1.48.
		{Group: "BenchmarkClientIP", Contender: "gin", NsPerOp: []float64{200, 300, 990, 90}},
		{Group: "BenchmarkOther", Contender: "alone", NsPerOp: []float64{7.125}},
	}}
	var b bytes.Buffer
	require.NoError(t, Format(&b, runs))
	assert.Equal(t, `| benchmark | contender | ns/op | spread | B/op | allocs/op | × smileguard's time |
|---|---|--:|--:|--:|--:|--:|
| ClientIP | baseline | 5.00 |  | 0 | 0 | 0.048× |
| ClientIP | **smileguard** | 105 | 29% | 0 | 0 | 1.00× |
| ClientIP | echo | 1,234,567 |  | 2,048 | 3 | 11757.8× |
| ClientIP | gin | 250 | 360% |  |  | 2.25× |
| Other | alone | 7.12 |  |  |  |  |

Median of 1 or 4 runs each (go test -bench -benchmem); spread is (max − min) / median; the ratio is the median of the ratios within each run.
`, b.String())
}

// TestFormatFloor checks the columns of CPU time and of the ratios to a
// floor: there for the groups with a floor, empty for the others, each
// ratio the median of the per-run ratios of its own figure.
func TestFormatFloor(t *testing.T) {
	runs := Runs{Results: []*Result{
		{Group: "BenchmarkCallback/2KB", Contender: "baseline", NsPerOp: []float64{10, 10, 10}, CPUNsPerOp: []float64{8, 8, 8}},
		{Group: "BenchmarkCallback/2KB", Contender: "floor", NsPerOp: []float64{100, 200, 100},
			CPUNsPerOp: []float64{80, 80, 90}, ProcCPUNsPerOp: []float64{100, 100, 100}},
		// Wall 1.5, 2 and 3 times the floor's run by run, so 2; CPU 1.25,
		// 1.25, 1.33, so 1.25; process CPU 1.5 each time.
		{Group: "BenchmarkCallback/2KB", Contender: "smileguard", NsPerOp: []float64{150, 400, 300},
			CPUNsPerOp: []float64{100, 100, 120}, ProcCPUNsPerOp: []float64{150, 150, 150}},
		{Group: "BenchmarkClientIP", Contender: "smileguard", NsPerOp: []float64{100, 100, 100}},
	}}
	var b bytes.Buffer
	require.NoError(t, Format(&b, runs))
	assert.Equal(t, `| benchmark | contender | ns/op | spread | CPU ns/op | CPU spread | B/op | allocs/op | × smileguard's time | × floor's time | × floor's CPU | × floor's process CPU |
|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|
| Callback/2KB | baseline | 10.0 | 0% | 8.00 | 0% |  |  | 0.033× | 0.10× | 0.10× |  |
| Callback/2KB | floor | 100 | 100% | 80.0 | 12% |  |  | 0.50× | 1.00× | 1.00× | 1.00× |
| Callback/2KB | **smileguard** | 300 | 83% | 100 | 20% |  |  | 1.00× | 2.00× | 1.25× | 1.50× |
| ClientIP | **smileguard** | 100 | 0% |  |  |  |  | 1.00× |  |  |  |

Median of 3 runs each (go test -bench -benchmem); spread is (max − min) / median; the ratio is the median of the ratios within each run. CPU is the benchmark goroutine's thread's (its CPU clock), process CPU every thread's (the process's CPU clock: the garbage collector's workers included).
`, b.String())
}

// TestFormatRatios checks the second table: the results that report
// ratios of their own, out of the first, one column and spread per ratio.
func TestFormatRatios(t *testing.T) {
	runs := Runs{Results: []*Result{
		{Group: "BenchmarkClientIP", Contender: "smileguard", NsPerOp: []float64{100, 100, 100}},
		{Group: "BenchmarkGuardOverFloor", Contender: "2KB", NsPerOp: []float64{9000, 9000, 9000},
			Ratios: map[string][]float64{"guard/floor-wall": {1.2, 1.5, 1.3}, "guard/floor-cpu": {1.25, 1.25, 1.30}}},
		{Group: "BenchmarkGuardOverFloor", Contender: "1.5MB", NsPerOp: []float64{9000, 9000, 9000},
			Ratios: map[string][]float64{"guard/floor-wall": {1.1, 1.1, 1.1}}},
	}}
	var b bytes.Buffer
	require.NoError(t, Format(&b, runs))
	assert.Equal(t, `| benchmark | contender | ns/op | spread | B/op | allocs/op | × smileguard's time |
|---|---|--:|--:|--:|--:|--:|
| ClientIP | **smileguard** | 100 | 0% |  |  | 1.00× |

| benchmark | guard/floor-cpu | spread | guard/floor-wall | spread |
|---|--:|--:|--:|--:|
| GuardOverFloor/2KB | 1.25× | 4% | 1.30× | 23% |
| GuardOverFloor/1.5MB |  |  | 1.10× | 0% |

Median of 3 runs each (go test -bench -benchmem); spread is (max − min) / median; the ratio is the median of the ratios within each run. The second table's ratios are measured by each benchmark itself, and are the median over runs.
`, b.String())
}

// TestFormatRatiosAlone checks that a run of ratio benchmarks alone has no
// empty first table.
func TestFormatRatiosAlone(t *testing.T) {
	runs := Runs{Results: []*Result{{Group: "BenchmarkGuardOverFloor", Contender: "2KB", NsPerOp: []float64{9000},
		Ratios: map[string][]float64{"guard/floor-cpu": {1.25}}}}}
	var b bytes.Buffer
	require.NoError(t, Format(&b, runs))
	assert.True(t, strings.HasPrefix(b.String(), "| benchmark | guard/floor-cpu | spread |\n"), b.String())
}
