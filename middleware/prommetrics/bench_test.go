package prommetrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/prommetrics"
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

func BenchmarkObserve(b *testing.B) {
	for _, bm := range []struct {
		name  string
		event middleware.Event
	}{
		{"accepted", acceptedEvent}, // every metric, the key counter included
		{"refused", refusedEvent},   // the counter and the duration only
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
	observe(ctx, acceptedEvent)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			observe(ctx, acceptedEvent)
		}
	})
}
