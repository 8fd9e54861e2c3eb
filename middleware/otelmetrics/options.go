package otelmetrics

import (
	"fmt"
	"regexp"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/smileguard/smileguard/signer"
)

// Options configures the instruments. The zero value is the default:
// instruments named smileguard.*, with buckets for a callback guard.
type Options struct {
	// Namespace starts every instrument's name: "<Namespace>.callbacks"
	// and so on. It must be an instrument name: a letter, then letters,
	// digits, '_', '.' or '-'. "": "smileguard".
	Namespace string

	// Attributes are added to every measurement, to tell several guards
	// apart in one process: attribute.String("endpoint", "kyc"). Their
	// keys must differ from the instruments' own attributes (outcome,
	// reason, environment, format, key.id).
	Attributes []attribute.KeyValue

	// DurationBuckets are the upper bounds of the duration histogram's
	// buckets, ascending, given to the SDK as advice (a View still
	// overrides them). nil: 100 µs to 10 s (0.1, 0.25, 0.5, 1, 2.5, 5, 10,
	// 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s): a refusal takes
	// microseconds, an accepted callback as long as the next handler. The
	// SDK's own default, made for milliseconds, would put every callback
	// in its first bucket.
	DurationBuckets []time.Duration

	// BodySizeBuckets are the upper bounds of the body size histogram's
	// buckets, in bytes, ascending, as advice. nil: 256 B to 2 MiB (256,
	// 1 Ki, 4 Ki, 16 Ki, 64 Ki, 256 Ki, 1 Mi, 1.5 MB, 2 Mi), the last two
	// being what Smile ID asks receivers to accept and the guard's default
	// MaxBodyBytes.
	BodySizeBuckets []int

	// Keyring, if not nil, is the guard's keyring: each of its keys gets
	// its key verifications stream at zero from the start, so that a key
	// that signs nothing shows 0 rather than nothing, and the streams of
	// verified callbacks are made at zero for its keys' environments only
	// (else for both). Keys added later by Keyring.Replace get their
	// stream on their first verification.
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

// namespacePattern is the instrument name syntax of the OpenTelemetry
// specification, leaving room for the longest suffix.
var namespacePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\-]{0,200}$`)

// ownKeys are the attribute keys the instruments set themselves.
var ownKeys = map[attribute.Key]bool{
	outcomeKey: true, reasonKey: true, environmentKey: true, formatKey: true, keyIDKey: true,
}

// config is Options validated, with the defaults filled in.
type config struct {
	namespace       string
	attributes      []attribute.KeyValue
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
		return config{}, fmt.Errorf("otelmetrics: Options.Namespace %q is not an instrument name (a letter, then letters, digits, '_', '.' or '-')", o.Namespace)
	}

	seen := map[attribute.Key]bool{}
	for i, kv := range o.Attributes {
		switch {
		case !kv.Valid():
			return config{}, fmt.Errorf("otelmetrics: Options.Attributes[%d] (%q) is not a valid attribute", i, kv.Key)
		case ownKeys[kv.Key]:
			return config{}, fmt.Errorf("otelmetrics: Options.Attributes[%d] (%q) is an attribute the instruments set themselves", i, kv.Key)
		case seen[kv.Key]:
			return config{}, fmt.Errorf("otelmetrics: Options.Attributes[%d] (%q) is given twice", i, kv.Key)
		}
		seen[kv.Key] = true
	}
	c.attributes = append([]attribute.KeyValue(nil), o.Attributes...)

	durations := o.DurationBuckets
	if len(durations) == 0 {
		durations = defaultDurationBuckets
	}
	for i, d := range durations {
		switch {
		case d <= 0:
			return config{}, fmt.Errorf("otelmetrics: Options.DurationBuckets[%d] (%v) is not positive", i, d)
		case i > 0 && d <= durations[i-1]:
			return config{}, fmt.Errorf("otelmetrics: Options.DurationBuckets[%d] (%v) is not above the bucket before it", i, d)
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
			return config{}, fmt.Errorf("otelmetrics: Options.BodySizeBuckets[%d] (%d) is not positive", i, n)
		case i > 0 && n <= sizes[i-1]:
			return config{}, fmt.Errorf("otelmetrics: Options.BodySizeBuckets[%d] (%d) is not above the bucket before it", i, n)
		}
		c.bodySizeBuckets = append(c.bodySizeBuckets, float64(n))
	}
	return c, nil
}
