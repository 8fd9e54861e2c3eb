package metriclabels

import (
	"fmt"
	"time"
)

// DefaultNamespace starts the adapters' metric names.
const DefaultNamespace = "smileguard"

// DefaultDurationBuckets are the duration histogram's bucket bounds: 100 µs
// to 10 s, as a refusal takes microseconds and an accepted callback as long
// as the next handler.
var DefaultDurationBuckets = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// DefaultBodySizeBuckets are the body size histogram's bucket bounds, in
// bytes: 256 B to 2 MiB, the last two being what Smile ID asks receivers to
// accept and the guard's default MaxBodyBytes.
var DefaultBodySizeBuckets = []int{
	256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 1_500_000, 2 << 20,
}

// DurationBuckets validates an Options.DurationBuckets (nil: the default)
// and returns its bounds in seconds. pkg starts the errors ("prommetrics").
func DurationBuckets(pkg string, given []time.Duration) ([]float64, error) {
	if len(given) == 0 {
		given = DefaultDurationBuckets
	}
	out := make([]float64, 0, len(given))
	for i, d := range given {
		switch {
		case d <= 0:
			return nil, fmt.Errorf("%s: Options.DurationBuckets[%d] (%v) is not positive", pkg, i, d)
		case i > 0 && d <= given[i-1]:
			return nil, fmt.Errorf("%s: Options.DurationBuckets[%d] (%v) is not above the bucket before it", pkg, i, d)
		}
		out = append(out, d.Seconds())
	}
	return out, nil
}

// BodySizeBuckets validates an Options.BodySizeBuckets (nil: the default)
// and returns its bounds. pkg starts the errors.
func BodySizeBuckets(pkg string, given []int) ([]float64, error) {
	if len(given) == 0 {
		given = DefaultBodySizeBuckets
	}
	out := make([]float64, 0, len(given))
	for i, n := range given {
		switch {
		case n <= 0:
			return nil, fmt.Errorf("%s: Options.BodySizeBuckets[%d] (%d) is not positive", pkg, i, n)
		case i > 0 && n <= given[i-1]:
			return nil, fmt.Errorf("%s: Options.BodySizeBuckets[%d] (%d) is not above the bucket before it", pkg, i, n)
		}
		out = append(out, float64(n))
	}
	return out, nil
}
