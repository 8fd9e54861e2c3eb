package prommetrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smileguard/smileguard/internal/metriclabels"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// Metrics counts the callback guard's decisions in Prometheus metrics (see
// the package documentation for the metrics and their labels). Its Observe
// method is a [middleware.Observer]: set it as GuardConfig.Observe, or as
// CallbackConfig.Observe for a CallbackVerifier alone. One Metrics may
// serve several guards, which are then counted together. It is safe for
// concurrent use, and a [prometheus.Collector]. Only New makes a useful
// one: the zero value counts nothing.
type Metrics struct {
	callbacks callbackCounters
	durations outcomeHistograms
	bodySizes outcomeHistograms
	keys      keyCounters
}

// New makes the metrics and registers them with reg, all of them or none.
// A nil reg is [prometheus.DefaultRegisterer], the registry
// promhttp.Handler serves. Registering a second Metrics with the same
// Namespace in one registry fails with an error wrapping
// [prometheus.AlreadyRegisteredError]; share one Metrics between guards,
// or wrap the registry with labels that tell them apart
// ([prometheus.WrapRegistererWith]).
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	cfg, err := opts.config()
	if err != nil {
		return nil, err
	}
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	m := &Metrics{
		callbacks: callbackCounters{vec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: cfg.namespace,
			Name:      "callbacks_total",
			Help:      "Requests the Smile ID callback guard decided on, by outcome, reason, environment and format.",
		}, []string{"outcome", "reason", "environment", "format"})},
		durations: outcomeHistograms{vec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: cfg.namespace,
			Name:      "callback_duration_seconds",
			Help:      "Time from the guard's first look at a request to its answer, the next handler's work included, by outcome.",
			Buckets:   cfg.durationBuckets,
		}, []string{"outcome"})},
		bodySizes: outcomeHistograms{vec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: cfg.namespace,
			Name:      "callback_body_size_bytes",
			Help:      "Size of the callback bodies the guard read, by outcome.",
			Buckets:   cfg.bodySizeBuckets,
		}, []string{"outcome"})},
		keys: keyCounters{vec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: cfg.namespace,
			Name:      "key_verifications_total",
			Help:      "Callbacks whose signature verified with each key of the keyring, whatever the guard then decided.",
		}, []string{"key_id", "environment"})},
	}
	m.start(cfg.keyring)
	if err := reg.Register(m); err != nil {
		return nil, fmt.Errorf("prommetrics: registering the metrics: %w", err)
	}
	return m, nil
}

// start makes, at zero, the series the guard is known to produce, so that
// the first of each is counted by increase() and rate() (a series that
// appears already at 1 loses that first count) and so that a dashboard
// shows 0 rather than nothing. Any other combination of labels gets its
// series on first use.
func (m *Metrics) start(keyring *signer.Keyring) {
	environments := []signer.Environment{signer.Production, signer.Sandbox}
	if keyring != nil {
		environments = environments[:0]
		seen := map[signer.Environment]bool{}
		for _, k := range keyring.Keys() {
			m.keys.counter(k.ID, metriclabels.EnvironmentIndex(k.Environment))
			if !seen[k.Environment] {
				seen[k.Environment] = true
				environments = append(environments, k.Environment)
			}
		}
	}
	for _, s := range metriclabels.ExpectedSeries(environments) {
		m.callbacks.counter(metriclabels.OutcomeIndex(s.Outcome), metriclabels.ReasonIndex(s.Reason), metriclabels.EnvironmentIndex(s.Environment), metriclabels.FormatIndex(s.Format))
	}
	for _, o := range []middleware.Outcome{middleware.Accepted, middleware.Acknowledged, middleware.Refused} {
		m.durations.observer(metriclabels.OutcomeIndex(o))
		m.bodySizes.observer(metriclabels.OutcomeIndex(o))
	}
}

// Describe implements [prometheus.Collector].
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements [prometheus.Collector].
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	if m == nil || m.callbacks.vec == nil {
		return nil
	}
	return []prometheus.Collector{m.callbacks.vec, m.durations.vec, m.bodySizes.vec, m.keys.vec}
}
