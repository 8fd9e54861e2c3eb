package otelmetrics

import (
	"context"

	"github.com/smileguard/smileguard/internal/metriclabels"
	"github.com/smileguard/smileguard/middleware"
)

// Observe records one decision of the guard. It has the signature of a
// [middleware.Observer], so that a guard is wired with Observe: m.Observe.
// ctx is the request's, handed to the instruments (an SDK may take an
// exemplar from its span). Observe makes no attribute set once a
// combination has been seen, and takes no lock of its own. Values outside
// an attribute's fixed set are recorded as "other". A nil or zero Metrics
// records nothing.
func (m *Metrics) Observe(ctx context.Context, e middleware.Event) {
	if m == nil || m.callbacks == nil {
		return
	}
	outcome := metriclabels.OutcomeIndex(e.Outcome)
	environment := metriclabels.EnvironmentIndex(e.Environment)
	m.callbacks.Add(ctx, 1, m.callbackAttributes.get(outcome, metriclabels.ReasonIndex(e.Reason), environment, metriclabels.FormatIndex(e.Format)).add...)
	byOutcome := m.outcomeAttributes.get(outcome)
	m.durations.Record(ctx, e.Duration.Seconds(), byOutcome.record...)
	if e.BodyBytes > 0 {
		m.bodySizes.Record(ctx, int64(e.BodyBytes), byOutcome.record...)
	}
	if e.KeyID != "" {
		m.keys.Add(ctx, 1, m.keyAttributes.get(e.KeyID, environment).add...)
	}
}
