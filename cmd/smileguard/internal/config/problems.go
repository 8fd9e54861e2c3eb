// Package config turns the flags the smileguard commands share (the key
// source, the allowed sets, the callback verifier's options) into the
// core's configuration, validated once, with errors that name the flag
// (and the environment variable when the value came from one) and never a
// secret.
package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUsage is wrapped by every configuration error: the command exits
// with status 2.
var ErrUsage = errors.New("bad configuration")

// Problems collects every configuration problem, so that one error lists
// them all and a user fixes them in one go.
type Problems []string

// Add records a problem.
func (p *Problems) Add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// Err returns nil without problems, else one error listing them, one a
// line, wrapping ErrUsage.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &usageError{problems: p}
}

type usageError struct{ problems []string }

func (e *usageError) Error() string {
	if len(e.problems) == 1 {
		return e.problems[0]
	}
	return strings.Join(e.problems, "\n")
}

func (e *usageError) Unwrap() error { return ErrUsage }
