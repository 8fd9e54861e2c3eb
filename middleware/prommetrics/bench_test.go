package prommetrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smileguard/smileguard/internal/metriclabels/metricstest"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/prommetrics"
)

// BenchmarkObserveNone is the baseline: an Observer that does nothing.
func BenchmarkObserveNone(b *testing.B) { metricstest.ObserveNone(b) }

// newBenchObserver counts into a registry of its own.
func newBenchObserver(b *testing.B) middleware.Observer {
	m, err := prommetrics.New(prometheus.NewRegistry(), prommetrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m.Observe
}

func BenchmarkObserve(b *testing.B) { metricstest.Observe(b, newBenchObserver) }

// BenchmarkObserveParallel has every goroutine count into the same
// series, the worst case for the counters' shared cache lines.
func BenchmarkObserveParallel(b *testing.B) { metricstest.ObserveParallel(b, newBenchObserver(b)) }
