package prommetrics

import (
	"context"

	"github.com/smileguard/smileguard/internal/metriclabels"
	"github.com/smileguard/smileguard/middleware"
)

// Observe counts one decision of the guard. It has the signature of a
// [middleware.Observer], so that a guard is wired with Observe: m.Observe.
// It allocates nothing once a series exists, and takes no lock. Values
// outside a label's fixed set are counted as "other". A nil or zero
// Metrics counts nothing.
func (m *Metrics) Observe(_ context.Context, e middleware.Event) {
	if m == nil || m.callbacks.vec == nil {
		return
	}
	outcome := metriclabels.OutcomeIndex(e.Outcome)
	environment := metriclabels.EnvironmentIndex(e.Environment)
	m.callbacks.counter(outcome, metriclabels.ReasonIndex(e.Reason), environment, metriclabels.FormatIndex(e.Format)).Inc()
	m.durations.observer(outcome).Observe(e.Duration.Seconds())
	if e.BodyBytes > 0 {
		m.bodySizes.observer(outcome).Observe(float64(e.BodyBytes))
	}
	if e.KeyID != "" {
		m.keys.counter(e.KeyID, environment).Inc()
	}
}
