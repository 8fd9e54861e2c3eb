// Package explain tells, check by check, why the smileguard Guard would
// admit or refuse a captured callback, and whether an outbound request's
// signature is one Smile ID can accept. The verdict on a callback is the
// Guard's own: the callback is run through a Guard configured as the
// proxy would be. The lines before it are this package's reading of the
// same input, one per check in the Guard's order, saying what it found.
//
// No line holds an API key; a signature is shown by its first characters.
package explain

import (
	"fmt"
	"time"

	"github.com/smileguard/smileguard/cmd/smileguard/internal/report"
)

// Report is the output of an explanation.
type Report = report.Report

// The marks of its lines.
const (
	OK   = report.OK
	Fail = report.Fail
	Warn = report.Warn
	Info = report.Info
)

// short shows the first characters of a signature, never all of it.
func short(signature string) string {
	const shown = 8
	if len(signature) <= shown {
		return fmt.Sprintf("%q", signature)
	}
	return fmt.Sprintf("%q", signature[:shown]+"…")
}

// describeSkew says how far t is from at, in words.
func describeSkew(t, at time.Time) string {
	d := t.Sub(at)
	switch {
	case d == 0:
		return "exactly now"
	case d < 0:
		return fmt.Sprintf("%v in the past", (-d).Round(time.Millisecond))
	}
	return fmt.Sprintf("%v in the future", d.Round(time.Millisecond))
}

// hoursOff reports whether a skew is close to a whole number of hours, the
// mark of a local time sent as if it were UTC.
func hoursOff(d time.Duration) (int, bool) {
	if d < 0 {
		d = -d
	}
	h := d.Round(time.Hour)
	if h < time.Hour || h > 14*time.Hour {
		return 0, false
	}
	diff := d - h
	if diff < 0 {
		diff = -diff
	}
	return int(h / time.Hour), diff < 10*time.Minute
}
