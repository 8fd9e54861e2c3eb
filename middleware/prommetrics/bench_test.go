package prommetrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smileguard/smileguard/internal/metriclabels/metricstest"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/prommetrics"
)

// BenchmarkObserveNone is the baseline: an Observer that does nothing.
func BenchmarkObserveNone(b *testing.B) { metricstest.ObserveNone(b) }

func BenchmarkObserve(b *testing.B) {
	for _, bm := range []struct {
		name  string
		event middleware.Event
	}{
		{"accepted", metricstest.AcceptedEvent}, // every metric, the key counter included
		{"refused", metricstest.RefusedEvent},   // the counter and the duration only
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			m, err := prommetrics.New(prometheus.NewRegistry(), prommetrics.Options{})
			if err != nil {
				b.Fatal(err)
			}
			var observe middleware.Observer = m.Observe
			ctx := context.Background()
			observe(ctx, bm.event) // the key's series, made on first use
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				observe(ctx, bm.event)
			}
		})
	}
}

// BenchmarkObserveParallel has every goroutine count into the same
// series, the worst case for the counters' shared cache lines.
func BenchmarkObserveParallel(b *testing.B) {
	b.ReportAllocs()
	m, err := prommetrics.New(prometheus.NewRegistry(), prommetrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var observe middleware.Observer = m.Observe
	ctx := context.Background()
	observe(ctx, metricstest.AcceptedEvent)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			observe(ctx, metricstest.AcceptedEvent)
		}
	})
}
