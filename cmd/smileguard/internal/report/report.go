// Package report is the output of smileguard's checking commands (verify,
// keys check): one line per check, in order, each with its name, a mark
// saying how it went, and what was found.
package report

import (
	"fmt"
	"io"
	"strings"
)

// A Mark says how a check went.
type Mark string

// The marks.
const (
	OK   Mark = "ok"
	Fail Mark = "FAIL"
	Warn Mark = "warn"
	Info Mark = "-"
)

// A Line is one check: its name, how it went, and what was found.
type Line struct {
	Check string
	Mark  Mark
	Text  string
}

// A Report is the lines of one run and its verdict.
type Report struct {
	Lines []Line
	OK    bool // the verdict: admitted, or no problem found
}

// Add appends a line.
func (r *Report) Add(check string, mark Mark, format string, args ...any) {
	r.Lines = append(r.Lines, Line{Check: check, Mark: mark, Text: fmt.Sprintf(format, args...)})
}

// Appendf adds to the text of the last line.
func (r *Report) Appendf(format string, args ...any) {
	r.Lines[len(r.Lines)-1].Text += fmt.Sprintf(format, args...)
}

// Count returns the number of lines marked m.
func (r *Report) Count(m Mark) int {
	n := 0
	for _, l := range r.Lines {
		if l.Mark == m {
			n++
		}
	}
	return n
}

// WriteTo writes the report, one line per check, aligned.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	width := 0
	for _, l := range r.Lines {
		width = max(width, len(l.Check))
	}
	var b strings.Builder
	for _, l := range r.Lines {
		fmt.Fprintf(&b, "%-*s  %-4s  %s\n", width, l.Check, l.Mark, l.Text)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
