package flagenv

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// List is a flag of comma-separated values that may also be repeated:
// "--allow-production a,b --allow-production c" is a, b and c. Spaces
// around each value are trimmed; empty values are refused.
type List []string

// String implements flag.Value.
func (l *List) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *List) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return errors.New("empty value in the list")
		}
		*l = append(*l, v)
	}
	return nil
}

// Get implements flag.Getter.
func (l *List) Get() any { return []string(*l) }

// Repeated is a flag that may be repeated, each value taken whole (no
// comma splitting), as -H "Name: a, b" must be.
type Repeated []string

// String implements flag.Value.
func (r *Repeated) String() string { return strings.Join(*r, "; ") }

// Set implements flag.Value.
func (r *Repeated) Set(s string) error {
	*r = append(*r, s)
	return nil
}

// Duration is a time.Duration flag that also reads whole days ("90d"),
// as key ages are counted.
type Duration time.Duration

// String implements flag.Value.
func (d *Duration) String() string {
	v := time.Duration(*d)
	if v != 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return errors.New("not a whole number of days (90d) or a duration (90m, 2h)")
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration such as 300ms, 30s, 5m, 2h or 90d")
	}
	*d = Duration(v)
	return nil
}

// Get implements flag.Getter.
func (d *Duration) Get() any { return time.Duration(*d) }
