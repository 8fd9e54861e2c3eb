package otelmetrics

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/smileguard/smileguard/internal/metriclabels"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// ScopeName is the name of the instrumentation scope (the Meter) the
// instruments belong to: this package's import path.
const ScopeName = "github.com/smileguard/smileguard/middleware/otelmetrics"

// Metrics records the callback guard's decisions with OpenTelemetry
// instruments (see the package documentation for the instruments and
// their attributes). Its Observe method is a [middleware.Observer]: set it
// as GuardConfig.Observe, or as CallbackConfig.Observe for a
// CallbackVerifier alone. One Metrics may serve several guards, which are
// then counted together. It is safe for concurrent use. Only New makes a
// useful one: the zero value records nothing.
type Metrics struct {
	callbacks metric.Int64Counter
	durations metric.Float64Histogram
	bodySizes metric.Int64Histogram
	keys      metric.Int64Counter

	callbackAttributes callbackAttributes
	outcomeAttributes  outcomeAttributes
	keyAttributes      keyAttributes
}

// New makes the instruments with a Meter of mp named [ScopeName]. A nil
// mp is otel.GetMeterProvider(), the global one: set it
// (otel.SetMeterProvider) before the guard serves, as measurements made
// through the global provider before it is set are dropped.
func New(mp metric.MeterProvider, opts Options) (*Metrics, error) {
	cfg, err := opts.config()
	if err != nil {
		return nil, err
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	m := &Metrics{
		callbackAttributes: callbackAttributes{base: cfg.attributes},
		outcomeAttributes:  outcomeAttributes{base: cfg.attributes},
		keyAttributes:      keyAttributes{base: cfg.attributes},
	}
	if m.callbacks, err = meter.Int64Counter(cfg.namespace+".callbacks",
		metric.WithUnit("{callback}"),
		metric.WithDescription("Requests the Smile ID callback guard decided on, by outcome, reason, environment and format."),
	); err != nil {
		return nil, fmt.Errorf("otelmetrics: making the callbacks counter: %w", err)
	}
	if m.durations, err = meter.Float64Histogram(cfg.namespace+".callback.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time from the guard's first look at a request to its answer, the next handler's work included, by outcome."),
		metric.WithExplicitBucketBoundaries(cfg.durationBuckets...),
	); err != nil {
		return nil, fmt.Errorf("otelmetrics: making the duration histogram: %w", err)
	}
	if m.bodySizes, err = meter.Int64Histogram(cfg.namespace+".callback.body.size",
		metric.WithUnit("By"),
		metric.WithDescription("Size of the callback bodies the guard read, by outcome."),
		metric.WithExplicitBucketBoundaries(cfg.bodySizeBuckets...),
	); err != nil {
		return nil, fmt.Errorf("otelmetrics: making the body size histogram: %w", err)
	}
	if m.keys, err = meter.Int64Counter(cfg.namespace+".key.verifications",
		metric.WithUnit("{verification}"),
		metric.WithDescription("Callbacks whose signature verified with each key of the keyring, whatever the guard then decided."),
	); err != nil {
		return nil, fmt.Errorf("otelmetrics: making the key verifications counter: %w", err)
	}
	m.start(cfg.keyring)
	return m, nil
}

// start adds zero to the streams of the counters the guard is known to
// produce, so that a dashboard shows 0 rather than nothing (and, with
// Options.Keyring, that a key which signs nothing shows 0), and makes
// their attribute sets. Any other combination gets its stream on first
// use. The histograms have no zero to record.
func (m *Metrics) start(keyring *signer.Keyring) {
	ctx := context.Background()
	environments := []signer.Environment{signer.Production, signer.Sandbox}
	if keyring != nil {
		environments = environments[:0]
		seen := map[signer.Environment]bool{}
		for _, k := range keyring.Keys() {
			m.keys.Add(ctx, 0, m.keyAttributes.get(k.ID, metriclabels.EnvironmentIndex(k.Environment)).add...)
			if !seen[k.Environment] {
				seen[k.Environment] = true
				environments = append(environments, k.Environment)
			}
		}
	}
	for _, s := range metriclabels.ExpectedSeries(environments) {
		a := m.callbackAttributes.get(metriclabels.OutcomeIndex(s.Outcome), metriclabels.ReasonIndex(s.Reason), metriclabels.EnvironmentIndex(s.Environment), metriclabels.FormatIndex(s.Format))
		m.callbacks.Add(ctx, 0, a.add...)
	}
	for _, o := range []middleware.Outcome{middleware.Accepted, middleware.Acknowledged, middleware.Refused} {
		m.outcomeAttributes.get(metriclabels.OutcomeIndex(o))
	}
}
