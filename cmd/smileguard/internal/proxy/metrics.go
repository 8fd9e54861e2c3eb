package proxy

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/prommetrics"
	"github.com/smileguard/smileguard/signer"
)

// metrics is the proxy's Prometheus registry: the Guard's decisions
// (middleware/prommetrics: smileguard_callbacks_total and the rest), the
// proxy's own counters (smileguard_proxy_*), and the Go runtime's and the
// process's collectors.
type metrics struct {
	registry         *prometheus.Registry
	observe          middleware.Observer
	upstreamFailures *prometheus.CounterVec
	reloads          *prometheus.CounterVec
}

// newMetrics registers every collector. usableKeys reports, at each
// scrape, how many keys of an environment are usable.
func newMetrics(keyring *signer.Keyring, usableKeys func(signer.Environment) int) (*metrics, error) {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		upstreamFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smileguard_proxy_upstream_failures_total",
			Help: "Admitted callbacks the upstream could not take: 502 (unreachable or broken answer) or 504 (timed out). Each was released for Smile ID's retry.",
		}, []string{"status"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smileguard_proxy_key_reloads_total",
			Help: "Key reloads on SIGHUP, by result (ok, error: the previous keys stayed in force).",
		}, []string{"result"}),
	}
	keys := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "smileguard_proxy_usable_keys",
		Help: "API keys usable now, by environment.",
	}, []string{"environment"})
	collectorsToRegister := []prometheus.Collector{
		m.upstreamFailures, m.reloads,
		usableKeysCollector{gauge: keys, usable: usableKeys},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	for _, c := range collectorsToRegister {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	guard, err := prommetrics.New(reg, prommetrics.Options{Keyring: keyring})
	if err != nil {
		return nil, err
	}
	m.observe = guard.Observe
	for _, s := range []int{http.StatusBadGateway, http.StatusGatewayTimeout} {
		m.upstreamFailures.WithLabelValues(strconv.Itoa(s))
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	return m, nil
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func (m *metrics) upstreamFailed(status int) {
	m.upstreamFailures.WithLabelValues(strconv.Itoa(status)).Inc()
}

func (m *metrics) reloaded(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("error").Inc()
	}
}

// usableKeysCollector fills its gauge at each scrape: keys expire while
// the process runs.
type usableKeysCollector struct {
	gauge  *prometheus.GaugeVec
	usable func(signer.Environment) int
}

func (c usableKeysCollector) Describe(ch chan<- *prometheus.Desc) { c.gauge.Describe(ch) }

func (c usableKeysCollector) Collect(ch chan<- prometheus.Metric) {
	for _, env := range []signer.Environment{signer.Production, signer.Sandbox} {
		c.gauge.WithLabelValues(string(env)).Set(float64(c.usable(env)))
	}
	c.gauge.Collect(ch)
}

// now is time.Now; the readiness check and the gauge judge keys by it.
var now = time.Now
