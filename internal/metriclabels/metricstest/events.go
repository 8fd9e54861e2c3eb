package metricstest

import (
	"context"
	"testing"
	"time"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// The events the adapters' benchmarks observe.
var (
	// AcceptedEvent touches every metric, the key counter included.
	AcceptedEvent = middleware.Event{
		Outcome: middleware.Accepted, Reason: middleware.ReasonAccepted, Status: 200,
		Environment: signer.Production, KeyID: "production-2026-11", Format: middleware.BodySigned,
		Set: "production", BodyBytes: 1843, Duration: 3 * time.Millisecond,
	}
	// RefusedEvent touches the counter and the duration only.
	RefusedEvent = middleware.Event{
		Outcome: middleware.Refused, Reason: middleware.ReasonForbidden, Status: 403, Duration: 2 * time.Microsecond,
	}
)

// noObserver is the baseline's Observer, in a variable so that the call
// is not inlined away.
var noObserver middleware.Observer = func(context.Context, middleware.Event) {}

// ObserveNone is the adapters' baseline benchmark: an Observer that does
// nothing, observing AcceptedEvent.
func ObserveNone(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		noObserver(ctx, AcceptedEvent)
	}
}

// Observe is the adapters' benchmark of one Observe call, for
// AcceptedEvent (every metric, the key counter included) and RefusedEvent
// (the counter and the duration only), on an Observer newObserver makes
// for each.
func Observe(b *testing.B, newObserver func(*testing.B) middleware.Observer) {
	for _, bm := range []struct {
		name  string
		event middleware.Event
	}{
		{"accepted", AcceptedEvent},
		{"refused", RefusedEvent},
	} {
		b.Run(bm.name, func(b *testing.B) { ObserveLoop(b, newObserver(b), bm.event) })
	}
}

// ObserveLoop observes event once per iteration, after one call outside
// the timer that makes its series (the key's, on first use).
func ObserveLoop(b *testing.B, observe middleware.Observer, event middleware.Event) {
	b.ReportAllocs()
	ctx := context.Background()
	observe(ctx, event)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		observe(ctx, event)
	}
}

// ObserveParallel has every goroutine observe AcceptedEvent into the same
// series, the worst case for shared cache lines.
func ObserveParallel(b *testing.B, observe middleware.Observer) {
	b.ReportAllocs()
	ctx := context.Background()
	observe(ctx, AcceptedEvent)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			observe(ctx, AcceptedEvent)
		}
	})
}
