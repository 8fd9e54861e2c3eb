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

// newBenchMetrics records into the SDK, with a reader that is never
// collected: the cost of the measurement alone.
func newBenchMetrics(b *testing.B) *otelmetrics.Metrics {
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	m, err := otelmetrics.New(provider, otelmetrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkObserve(b *testing.B) {
	for _, bm := range []struct {
		name  string
		event middleware.Event
	}{
		{"accepted", metricstest.AcceptedEvent}, // every instrument, the key counter included
		{"refused", metricstest.RefusedEvent},   // the counter and the duration only
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			var observe middleware.Observer = newBenchMetrics(b).Observe
			ctx := context.Background()
			observe(ctx, bm.event) // the key's stream, made on first use
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				observe(ctx, bm.event)
			}
		})
	}
}

// BenchmarkObserveNoopProvider is the package's own share of Observe:
// the same calls into instruments that do nothing.
func BenchmarkObserveNoopProvider(b *testing.B) {
	b.ReportAllocs()
	m, err := otelmetrics.New(noop.NewMeterProvider(), otelmetrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var observe middleware.Observer = m.Observe
	ctx := context.Background()
	observe(ctx, metricstest.AcceptedEvent)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		observe(ctx, metricstest.AcceptedEvent)
	}
}

// BenchmarkObserveParallel has every goroutine record into the same
// streams.
func BenchmarkObserveParallel(b *testing.B) {
	b.ReportAllocs()
	var observe middleware.Observer = newBenchMetrics(b).Observe
	ctx := context.Background()
	observe(ctx, metricstest.AcceptedEvent)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			observe(ctx, metricstest.AcceptedEvent)
		}
	})
}
