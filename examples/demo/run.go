package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// result is what happened in one scenario.
type result struct {
	scenario
	status  int
	reason  string // the answer's text: why the guard refused, or what the handler said
	err     error
	handled bool
	refused int64 // requests of the row the guard refused
}

func (r result) ok() bool {
	return r.err == nil && r.status == r.wantStatus && r.handled == r.wantHandled
}

// run plays every scenario against a fresh demo on this machine's loopback
// interface, prints the table to out, and reports whether every row
// behaved as expected. An error means the demo could not be played at all.
func run(ctx context.Context, out io.Writer) (bool, error) {
	layout, err := pickLoopback()
	if err != nil {
		return false, err
	}
	return runOn(ctx, out, layout)
}

// runOn is run on a given loopback layout.
func runOn(ctx context.Context, out io.Writer, layout loopback) (bool, error) {
	began := time.Now()
	d, err := start(layout)
	if err != nil {
		return false, err
	}
	defer d.close()
	return d.play(ctx, out, began), nil
}

// play plays every scenario, prints the table and reports whether every
// row behaved as expected.
func (d *demo) play(ctx context.Context, out io.Writer, began time.Time) bool {
	fmt.Fprintf(out, "smileguard demo: Smile ID and attackers post callbacks to a guarded receiver.\n\n%s\n\n", d.describe())
	var results []result
	for _, sc := range scenarios(d) {
		handled, refused := d.handled.Load(), d.refused.Load()
		status, reason, err := sc.play(ctx, d)
		d.settle(ctx)
		results = append(results, result{scenario: sc, status: status, reason: reason, err: err,
			handled: d.handled.Load() > handled, refused: d.refused.Load() - refused})
	}
	return report(out, results, d, d.leaks(), time.Since(began))
}

// report prints the table and the summary, and reports whether everything
// behaved as expected.
func report(out io.Writer, results []result, d *demo, leaks []string, took time.Duration) bool {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tEXPECTED\tACTUAL\tREACHED HANDLER\tRESULT\tTHE GUARD'S ANSWER")
	good := 0
	var refused, refusedRows int64
	for _, r := range results {
		refused += r.refused
		if r.refused > 0 {
			refusedRows++
		}
		actual, verdict := fmt.Sprint(r.status), "ok"
		if r.err != nil {
			actual = "error"
		}
		if r.ok() {
			good++
		} else {
			verdict = "MISMATCH: " + r.mismatch()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.name, r.wantStatus, actual, yesNo(r.handled), verdict, r.reason)
	}
	tw.Flush()

	fmt.Fprintln(out)
	fmt.Fprintf(out, "%d of %d scenarios behaved as expected (%s).\n", good, len(results), took.Round(time.Millisecond))
	records := strings.Count(d.logs.String(), `"msg":"allowlist: request denied"`) +
		strings.Count(d.logs.String(), `"msg":"smileguard: callback rejected"`)
	// The flood is the last row; every other refused row is one request.
	var flood int64
	if n := len(results); n > 0 && results[n-1].refused > 1 {
		flood, refusedRows = results[n-1].refused, refusedRows-1
	}
	fmt.Fprintf(out, "The handler ran %d times. The guard refused %d requests: one in each of %d rows, and %d of the flood.\n",
		d.handled.Load(), refused, refusedRows, flood)
	fmt.Fprintf(out, "It logged %d of those refusals at Warn, the first from each address in each minute (the others are counted)", records)
	if len(leaks) == 0 {
		fmt.Fprintln(out, ",\nnone of them holding an API key, a signature or a callback body.")
	} else {
		fmt.Fprintf(out, "; the log holds %s: MISMATCH.\n", strings.Join(leaks, ", "))
	}
	return good == len(results) && len(leaks) == 0
}

// mismatch says how a row differs from what was expected.
func (r result) mismatch() string {
	var why []string
	if r.err != nil {
		why = append(why, r.err.Error())
	} else if r.status != r.wantStatus {
		why = append(why, fmt.Sprintf("want %d", r.wantStatus))
	}
	if r.handled != r.wantHandled {
		why = append(why, "want reached handler "+yesNo(r.wantHandled))
	}
	return strings.Join(why, "; ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// leaks names the secrets found in the guard's log: the API keys, any
// signature the demo made, personal data from the callback body.
func (d *demo) leaks() []string {
	log := d.logs.String()
	var found []string
	if strings.Contains(log, d.production.APIKey) || strings.Contains(log, d.sandbox.APIKey) {
		found = append(found, "an API key")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, sig := range d.signatures {
		if strings.Contains(log, sig[:16]) {
			found = append(found, "a signature")
			break
		}
	}
	if strings.Contains(log, "Ada Lovelace") {
		found = append(found, "a callback body")
	}
	return found
}
