package otelmetrics

import (
	"fmt"
	"regexp"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/smileguard/smileguard/internal/metriclabels"
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
		c.namespace = metriclabels.DefaultNamespace
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

	var err error
	if c.durationBuckets, err = metriclabels.DurationBuckets("otelmetrics", o.DurationBuckets); err != nil {
		return config{}, err
	}
	if c.bodySizeBuckets, err = metriclabels.BodySizeBuckets("otelmetrics", o.BodySizeBuckets); err != nil {
		return config{}, err
	}
	return c, nil
}
