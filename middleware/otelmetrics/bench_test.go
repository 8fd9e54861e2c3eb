package otelmetrics_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/otelmetrics"
	"github.com/smileguard/smileguard/signer"
)

var (
	acceptedEvent = middleware.Event{
		Outcome: middleware.Accepted, Reason: middleware.ReasonAccepted, Status: 200,
		Environment: signer.Production, KeyID: "production-2026-11", Format: middleware.BodySigned,
		Set: "production", BodyBytes: 1843, Duration: 3 * time.Millisecond,
	}
	refusedEvent = middleware.Event{
		Outcome: middleware.Refused, Reason: middleware.ReasonForbidden, Status: 403, Duration: 2 * time.Microsecond,
	}
)

// noObserver is the baseline's Observer, in a variable so that the call
// is not inlined away.
var noObserver middleware.Observer = func(context.Context, middleware.Event) {}

// BenchmarkObserveNone is the baseline: an Observer that does nothing.
func BenchmarkObserveNone(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		noObserver(ctx, acceptedEvent)
	}
}

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
		{"accepted", acceptedEvent}, // every instrument, the key counter included
		{"refused", refusedEvent},   // the counter and the duration only
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
	observe(ctx, acceptedEvent)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		observe(ctx, acceptedEvent)
	}
}

// BenchmarkObserveParallel has every goroutine record into the same
// streams.
func BenchmarkObserveParallel(b *testing.B) {
	b.ReportAllocs()
	var observe middleware.Observer = newBenchMetrics(b).Observe
	ctx := context.Background()
	observe(ctx, acceptedEvent)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			observe(ctx, acceptedEvent)
		}
	})
}
