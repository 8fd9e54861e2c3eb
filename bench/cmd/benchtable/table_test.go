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
--- FAIL: BenchmarkBroken
PASS
ok  	github.com/smileguard/smileguard/bench	8.157s
cpu: AMD EPYC
`
	runs, err := Parse(strings.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, []string{"goos: linux", "cpu: AMD EPYC"}, runs.Env, "environment lines, once each")
	require.Len(t, runs.Results, 4, "one result per benchmark, runs merged, in input order")
	assert.Equal(t, Result{Group: "BenchmarkClientIP", Contender: "smileguard",
		NsPerOp: []float64{120.5, 110.5}, BPerOp: []float64{0, 0}, Allocs: []float64{0, 0}}, *runs.Results[0])
	assert.Equal(t, "echo", runs.Results[1].Contender)
	assert.Equal(t, "BenchmarkCallback/1.5MB", runs.Results[2].Group, "the GOMAXPROCS suffix goes, inner dashes stay")
	assert.Equal(t, "v1-body", runs.Results[2].Contender)
	assert.Equal(t, Result{Group: "BenchmarkNoBenchmem", Contender: "BenchmarkNoBenchmem", NsPerOp: []float64{50}}, *runs.Results[3])

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
