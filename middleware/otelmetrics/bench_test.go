package otelmetrics_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/smileguard/smileguard/internal/metriclabels/metricstest"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/otelmetrics"
)

// BenchmarkObserveNone is the baseline: an Observer that does nothing.
func BenchmarkObserveNone(b *testing.B) { metricstest.ObserveNone(b) }

// newBenchObserver records into the SDK, with a reader that is never
// collected: the cost of the measurement alone.
func newBenchObserver(b *testing.B) middleware.Observer {
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	m, err := otelmetrics.New(provider, otelmetrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m.Observe
}

func BenchmarkObserve(b *testing.B) { metricstest.Observe(b, newBenchObserver) }

// BenchmarkObserveNoopProvider is the package's own share of Observe:
// the same calls into instruments that do nothing.
func BenchmarkObserveNoopProvider(b *testing.B) {
	m, err := otelmetrics.New(noop.NewMeterProvider(), otelmetrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	metricstest.ObserveLoop(b, m.Observe, metricstest.AcceptedEvent)
}

// BenchmarkObserveParallel has every goroutine record into the same
// streams.
func BenchmarkObserveParallel(b *testing.B) { metricstest.ObserveParallel(b, newBenchObserver(b)) }
