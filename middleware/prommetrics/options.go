package prommetrics

import (
	"fmt"
	"regexp"
	"time"

	"github.com/smileguard/smileguard/internal/metriclabels"
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
		c.namespace = metriclabels.DefaultNamespace
	}
	if !namespacePattern.MatchString(c.namespace) {
		return config{}, fmt.Errorf("prommetrics: Options.Namespace %q is not a metric name (letters, digits and underscores, not starting with a digit)", o.Namespace)
	}

	var err error
	if c.durationBuckets, err = metriclabels.DurationBuckets("prommetrics", o.DurationBuckets); err != nil {
		return config{}, err
	}
	if c.bodySizeBuckets, err = metriclabels.BodySizeBuckets("prommetrics", o.BodySizeBuckets); err != nil {
		return config{}, err
	}
	return c, nil
}
