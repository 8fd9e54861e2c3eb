package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// reference is the contender every other one is compared with.
const reference = "smileguard"

// A Result is every run of one benchmark.
type Result struct {
	Group     string // the benchmark's name up to its last "/": "BenchmarkClientIP"
	Contender string // the last element: "smileguard", "echo", ...
	NsPerOp   []float64
	BPerOp    []float64
	Allocs    []float64
}

// Runs is the text output of go test -bench: the results in the order they
// first appear, and the environment lines (goos, goarch, cpu).
type Runs struct {
	Results []*Result
	Env     []string
}

// procsSuffix is the "-GOMAXPROCS" go test appends to benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads the text output of go test -bench -benchmem. Lines other
// than results and the goos, goarch and cpu lines are ignored, so the
// output of several packages or a whole log can be given.
func Parse(r io.Reader) (Runs, error) {
	var runs Runs
	byName := map[string]*Result{}
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := scanner.Text()
		for _, key := range []string{"goos:", "goarch:", "cpu:"} {
			if strings.HasPrefix(line, key) && !slices.Contains(runs.Env, line) {
				runs.Env = append(runs.Env, line)
			}
		}
		fields := strings.Fields(line)
		// Name, iterations, then value-unit pairs; a bare name is the
		// line go test -v prints before running a benchmark.
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(fields[0], "")
		res := byName[name]
		if res == nil {
			res = &Result{Group: name, Contender: name}
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				res.Group, res.Contender = name[:i], name[i+1:]
			}
			byName[name] = res
			runs.Results = append(runs.Results, res)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return Runs{}, fmt.Errorf("%s: %q is not a number", name, fields[i])
			}
			switch fields[i+1] {
			case "ns/op":
				res.NsPerOp = append(res.NsPerOp, v)
			case "B/op":
				res.BPerOp = append(res.BPerOp, v)
			case "allocs/op":
				res.Allocs = append(res.Allocs, v)
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return Runs{}, err
	}
	if len(runs.Results) == 0 {
		return Runs{}, errors.New("no benchmark results in the input")
	}
	return runs, nil
}

// Format writes runs as a markdown table, one row per result in input
// order, then a line on how the figures were taken.
//
// The ratio to smileguard is the median over runs of the ratio within a
// run when both have the same number of runs (benchtable's rounds measure
// them in alternation, so a drift of the machine's load cancels out), and
// the ratio of the medians otherwise.
func Format(w io.Writer, runs Runs) error {
	ref := map[string]*Result{}
	for _, r := range runs.Results {
		if r.Contender == reference && len(r.NsPerOp) > 0 {
			ref[r.Group] = r
		}
	}
	var b strings.Builder
	b.WriteString("| benchmark | contender | ns/op | spread | B/op | allocs/op | × smileguard's time |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|\n")
	counts := map[int]bool{}
	for _, r := range runs.Results {
		counts[len(r.NsPerOp)] = true
		ratio := ""
		if base, ok := ref[r.Group]; ok && len(r.NsPerOp) > 0 {
			ratio = formatRatio(ratioTo(r.NsPerOp, base.NsPerOp))
		}
		contender := r.Contender
		if contender == reference {
			contender = "**" + contender + "**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
			strings.TrimPrefix(r.Group, "Benchmark"), contender, formatNs(r.NsPerOp),
			formatSpread(r.NsPerOp), formatCount(r.BPerOp), formatCount(r.Allocs), ratio)
	}
	var n []int
	for c := range counts {
		n = append(n, c)
	}
	slices.Sort(n)
	fmt.Fprintf(&b, "\nMedian of %s runs each (go test -bench -benchmem); spread is (max − min) / median;"+
		" the ratio is the median of the ratios within each run.", joinInts(n))
	if len(runs.Env) > 0 {
		fmt.Fprintf(&b, " %s.", strings.Join(runs.Env, ", "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// ratioTo returns how many times longer ns takes than base: the median of
// the ratios run by run if both have as many runs, else the ratio of the
// medians.
func ratioTo(ns, base []float64) float64 {
	if len(ns) != len(base) {
		return median(ns) / median(base)
	}
	ratios := make([]float64, len(ns))
	for i := range ns {
		ratios[i] = ns[i] / base[i]
	}
	return median(ratios)
}

func median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func formatNs(values []float64) string {
	if len(values) == 0 {
		return ""
	}
	m := median(values)
	switch {
	case m < 10:
		return strconv.FormatFloat(m, 'f', 2, 64)
	case m < 100:
		return strconv.FormatFloat(m, 'f', 1, 64)
	}
	return thousands(int64(math.Round(m)))
}

func formatSpread(values []float64) string {
	if len(values) < 2 {
		return ""
	}
	m := median(values)
	if m == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f%%", (slices.Max(values)-slices.Min(values))/m*100)
}

func formatCount(values []float64) string {
	if len(values) == 0 {
		return ""
	}
	return thousands(int64(math.Round(median(values))))
}

func formatRatio(r float64) string {
	switch {
	case r < 0.1:
		return fmt.Sprintf("%.3f×", r)
	case r < 10:
		return fmt.Sprintf("%.2f×", r)
	}
	return fmt.Sprintf("%.1f×", r)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func joinInts(n []int) string {
	s := make([]string, len(n))
	for i, v := range n {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, " or ")
}
