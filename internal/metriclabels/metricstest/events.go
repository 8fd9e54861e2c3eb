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
