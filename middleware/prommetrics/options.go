package prommetrics

import (
	"fmt"
	"regexp"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// Options configures the metrics. The zero value is the default: metrics
// named smileguard_*, with buckets for a callback guard.
type Options struct {
	// Namespace starts every metric's name: "<Namespace>_callbacks_total"
	// and so on. It must be a valid metric name without colons. "":
	// "smileguard". To tell several guards apart in one registry, keep the
	// namespace and wrap the registry instead:
	// prometheus.WrapRegistererWith(prometheus.Labels{"endpoint": "kyc"}, reg).
	Namespace string

	// DurationBuckets are the upper bounds of the duration histogram's
	// buckets, ascending. nil: 100 µs to 10 s (0.1, 0.25, 0.5, 1, 2.5, 5,
	// 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s): a refusal takes
	// microseconds, an accepted callback as long as the next handler.
	DurationBuckets []time.Duration

	// BodySizeBuckets are the upper bounds of the body size histogram's
	// buckets, in bytes, ascending. nil: 256 B to 2 MiB (256, 1 Ki, 4 Ki,
	// 16 Ki, 64 Ki, 256 Ki, 1 Mi, 1.5 MB, 2 Mi), the last two being what
	// Smile ID asks receivers to accept and the guard's default
	// MaxBodyBytes.
	BodySizeBuckets []int

	// Keyring, if not nil, is the guard's keyring: each of its keys gets
	// its key_verifications_total series at zero from the start, so that
	// a key that signs nothing shows 0 rather than no series at all, and
	// the series of verified callbacks are made at zero for its keys'
	// environments only (else for both). Keys added later by
	// Keyring.Replace get their series on their first verification.
	Keyring *signer.Keyring
}

var defaultDurationBuckets = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

var defaultBodySizeBuckets = []int{
	256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 1_500_000, 2 << 20,
}

const defaultNamespace = "smileguard"

// namespacePattern is a metric name without colons, which are kept for
// recording rules.
var namespacePattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// config is Options validated, with the defaults filled in.
type config struct {
	namespace       string
	durationBuckets []float64 // seconds
	bodySizeBuckets []float64 // bytes
	keyring         *signer.Keyring
}

func (o Options) config() (config, error) {
	c := config{namespace: o.Namespace, keyring: o.Keyring}
	if c.namespace == "" {
		c.namespace = defaultNamespace
	}
	if !namespacePattern.MatchString(c.namespace) {
		return config{}, fmt.Errorf("prommetrics: Options.Namespace %q is not a metric name (letters, digits and underscores, not starting with a digit)", o.Namespace)
	}

	durations := o.DurationBuckets
	if len(durations) == 0 {
		durations = defaultDurationBuckets
	}
	for i, d := range durations {
		switch {
		case d <= 0:
			return config{}, fmt.Errorf("prommetrics: Options.DurationBuckets[%d] (%v) is not positive", i, d)
		case i > 0 && d <= durations[i-1]:
			return config{}, fmt.Errorf("prommetrics: Options.DurationBuckets[%d] (%v) is not above the bucket before it", i, d)
		}
		c.durationBuckets = append(c.durationBuckets, d.Seconds())
	}

	sizes := o.BodySizeBuckets
	if len(sizes) == 0 {
		sizes = defaultBodySizeBuckets
	}
	for i, n := range sizes {
		switch {
		case n <= 0:
			return config{}, fmt.Errorf("prommetrics: Options.BodySizeBuckets[%d] (%d) is not positive", i, n)
		case i > 0 && n <= sizes[i-1]:
			return config{}, fmt.Errorf("prommetrics: Options.BodySizeBuckets[%d] (%d) is not above the bucket before it", i, n)
		}
		c.bodySizeBuckets = append(c.bodySizeBuckets, float64(n))
	}
	return c, nil
}
