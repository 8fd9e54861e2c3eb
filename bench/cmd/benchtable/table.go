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

// floor is the contender that does the least work any correct one must, in
// the groups that have one: each row of such a group is also compared
// with it, in wall time and in CPU time.
const floor = "floor"

// A Result is every run of one benchmark.
type Result struct {
	Group     string // the benchmark's name up to its last "/": "BenchmarkClientIP"
	Contender string // the last element: "smileguard", "echo", ...
	NsPerOp   []float64
	BPerOp    []float64
	Allocs    []float64
	// CPUNsPerOp is the CPU time of the benchmark goroutine's thread
	// ("cpu-ns/op"), ProcCPUNsPerOp that of the whole process
	// ("proc-cpu-ns/op"), where the benchmark reports them.
	CPUNsPerOp     []float64
	ProcCPUNsPerOp []float64
	// Ratios are the metrics a benchmark reports as a ratio of its own
	// ("guard/floor-cpu": a unit with a "/" that is not per op or per
	// second), by unit.
	Ratios map[string][]float64
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
		line := strings.TrimSpace(scanner.Text()) // go test pads the cpu line
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
			case "cpu-ns/op":
				res.CPUNsPerOp = append(res.CPUNsPerOp, v)
			case "proc-cpu-ns/op":
				res.ProcCPUNsPerOp = append(res.ProcCPUNsPerOp, v)
			default:
				if unit := fields[i+1]; isRatio(unit) {
					if res.Ratios == nil {
						res.Ratios = map[string][]float64{}
					}
					res.Ratios[unit] = append(res.Ratios[unit], v)
				}
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

// isRatio reports whether a metric's unit names a ratio: "a/b", but not a
// figure per op or per second ("ns/op", "MB/s").
func isRatio(unit string) bool {
	return strings.Contains(unit, "/") && !strings.HasSuffix(unit, "/op") && !strings.HasSuffix(unit, "/s")
}

// Format writes runs as a markdown table, one row per result in input
// order, then a line on how the figures were taken. The CPU columns are
// there if some result has CPU times; the floor columns if some group has
// a floor contender. The results that report ratios of their own are in a
// second table, one column per ratio: the median over runs and its
// spread.
//
// The ratio to smileguard, or to the floor, is the median over runs of the
// ratio within a run when both have the same number of runs (benchtable's
// rounds measure them in alternation, so a drift of the machine's load
// cancels out), and the ratio of the medians otherwise.
func Format(w io.Writer, runs Runs) error {
	ref, floors := map[string]*Result{}, map[string]*Result{}
	withCPU := false
	for _, r := range runs.Results {
		if r.Contender == reference && len(r.NsPerOp) > 0 {
			ref[r.Group] = r
		}
		if r.Contender == floor && len(r.NsPerOp) > 0 {
			floors[r.Group] = r
		}
		withCPU = withCPU || len(r.CPUNsPerOp) > 0
	}
	withFloor := len(floors) > 0

	var b, rows strings.Builder
	header := []string{"benchmark", "contender", "ns/op", "spread"}
	align := []string{"---", "---", "--:", "--:"}
	if withCPU {
		header = append(header, "CPU ns/op", "CPU spread")
		align = append(align, "--:", "--:")
	}
	header = append(header, "B/op", "allocs/op", "× smileguard's time")
	align = append(align, "--:", "--:", "--:")
	if withFloor {
		header = append(header, "× floor's time", "× floor's CPU", "× floor's process CPU")
		align = append(align, "--:", "--:", "--:")
	}

	counts := map[int]bool{}
	var withRatios []*Result
	for _, r := range runs.Results {
		counts[len(r.NsPerOp)] = true
		if len(r.Ratios) > 0 {
			withRatios = append(withRatios, r)
			continue
		}
		contender := r.Contender
		if contender == reference {
			contender = "**" + contender + "**"
		}
		row := []string{strings.TrimPrefix(r.Group, "Benchmark"), contender, formatNs(r.NsPerOp), formatSpread(r.NsPerOp)}
		if withCPU {
			row = append(row, formatNs(r.CPUNsPerOp), formatSpread(r.CPUNsPerOp))
		}
		row = append(row, formatCount(r.BPerOp), formatCount(r.Allocs), ratioCell(r.NsPerOp, ref[r.Group], nsPerOp))
		if withFloor {
			base := floors[r.Group]
			row = append(row, ratioCell(r.NsPerOp, base, nsPerOp), ratioCell(r.CPUNsPerOp, base, cpuNsPerOp),
				ratioCell(r.ProcCPUNsPerOp, base, procCPUNsPerOp))
		}
		writeRow(&rows, row)
	}
	if rows.Len() > 0 {
		writeRow(&b, header)
		b.WriteString("|" + strings.Join(align, "|") + "|\n")
		b.WriteString(rows.String())
	}
	if len(withRatios) > 0 {
		if rows.Len() > 0 {
			b.WriteString("\n")
		}
		writeRatios(&b, withRatios)
	}
	var n []int
	for c := range counts {
		n = append(n, c)
	}
	slices.Sort(n)
	fmt.Fprintf(&b, "\nMedian of %s runs each (go test -bench -benchmem); spread is (max − min) / median;"+
		" the ratio is the median of the ratios within each run.", joinInts(n))
	if len(withRatios) > 0 {
		b.WriteString(" The second table's ratios are measured by each benchmark itself, and are the median over runs.")
	}
	if withCPU {
		b.WriteString(" CPU is the benchmark goroutine's thread's (its CPU clock), process CPU every thread's" +
			" (the process's CPU clock: the garbage collector's workers included).")
	}
	if len(runs.Env) > 0 {
		fmt.Fprintf(&b, " %s.", strings.Join(runs.Env, ", "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRatios writes the table of the results that report ratios.
func writeRatios(b *strings.Builder, results []*Result) {
	var units []string
	for _, r := range results {
		for unit := range r.Ratios {
			if !slices.Contains(units, unit) {
				units = append(units, unit)
			}
		}
	}
	slices.Sort(units)
	header, align := []string{"benchmark"}, []string{"---"}
	for _, unit := range units {
		header = append(header, unit, "spread")
		align = append(align, "--:", "--:")
	}
	writeRow(b, header)
	b.WriteString("|" + strings.Join(align, "|") + "|\n")
	for _, r := range results {
		row := []string{strings.TrimPrefix(r.Group+"/"+r.Contender, "Benchmark")}
		if r.Group == r.Contender {
			row[0] = strings.TrimPrefix(r.Group, "Benchmark")
		}
		for _, unit := range units {
			values := r.Ratios[unit]
			if len(values) == 0 {
				row = append(row, "", "")
				continue
			}
			row = append(row, formatRatio(median(values)), formatSpread(values))
		}
		writeRow(b, row)
	}
}

func writeRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n")
}

// The figures a ratio may be taken of.
func nsPerOp(r *Result) []float64        { return r.NsPerOp }
func cpuNsPerOp(r *Result) []float64     { return r.CPUNsPerOp }
func procCPUNsPerOp(r *Result) []float64 { return r.ProcCPUNsPerOp }

// ratioCell is values as a ratio to the same figure of base, or empty if
// either is missing.
func ratioCell(values []float64, base *Result, figure func(*Result) []float64) string {
	if base == nil || len(values) == 0 || len(figure(base)) == 0 {
		return ""
	}
	return formatRatio(ratioTo(values, figure(base)))
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
