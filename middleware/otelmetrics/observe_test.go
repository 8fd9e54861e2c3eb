package otelmetrics_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/otelmetrics"
	"github.com/smileguard/smileguard/signer"
)

func TestValuesOutsideTheFixedSetsAreRecordedAsOther(t *testing.T) {
	provider, reader := newProvider(t)
	m, err := otelmetrics.New(provider, otelmetrics.Options{})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		m.Observe(context.Background(), middleware.Event{
			Outcome:     middleware.Outcome("exploded-" + strconv.Itoa(i)),
			Reason:      middleware.ReasonCode("cosmic_ray_" + strconv.Itoa(i)),
			Environment: signer.Environment("staging-" + strconv.Itoa(i)),
			Format:      middleware.CallbackFormat("pigeon-" + strconv.Itoa(i)),
			KeyID:       "k1",
			BodyBytes:   10,
		})
	}
	got := collect(t, reader)
	assert.Equal(t, map[string]int64{"environment=other,key.id=k1": 3}, sums(t, got["smileguard.key.verifications"]))
	assert.Equal(t, int64(3), sums(t, got["smileguard.callbacks"])["environment=other,format=other,outcome=other,reason=other"])
	assert.Equal(t, uint64(3), histograms[int64](t, got["smileguard.callback.body.size"])["outcome=other"].count)
}

func TestKeyIDsAreBounded(t *testing.T) {
	provider, reader := newProvider(t)
	m, err := otelmetrics.New(provider, otelmetrics.Options{})
	require.NoError(t, err)
	const keys = 300
	for i := 0; i < keys; i++ {
		m.Observe(context.Background(), middleware.Event{
			Outcome: middleware.Accepted, Reason: middleware.ReasonAccepted,
			Environment: signer.Production, KeyID: "key-" + strconv.Itoa(i),
		})
	}
	values := sums(t, collect(t, reader)["smileguard.key.verifications"])
	assert.Len(t, values, 256+1, "256 key IDs and other")
	var total int64
	for _, v := range values {
		total += v
	}
	assert.Equal(t, int64(keys), total, "every verification is counted")
	assert.Equal(t, int64(keys-256), values["environment=production,key.id=other"])
}

func TestZeroMetricsRecordNothing(t *testing.T) {
	var zero otelmetrics.Metrics
	var nilMetrics *otelmetrics.Metrics
	e := middleware.Event{Outcome: middleware.Accepted, Reason: middleware.ReasonAccepted, KeyID: "k1", BodyBytes: 1}
	assert.NotPanics(t, func() {
		zero.Observe(context.Background(), e)
		nilMetrics.Observe(context.Background(), e)
	})
}

func TestObserveIsSafeForConcurrentUse(t *testing.T) {
	provider, reader := newProvider(t)
	m, err := otelmetrics.New(provider, otelmetrics.Options{})
	require.NoError(t, err)
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				m.Observe(context.Background(), middleware.Event{
					Outcome: middleware.Refused, Reason: middleware.ReasonInFlight, Status: 409,
					Environment: signer.Sandbox, Format: middleware.HeaderSigned,
					KeyID: "key-" + strconv.Itoa(g%3), Duration: time.Millisecond,
				})
				if i%100 == 0 {
					collect(t, reader) // collections run while requests do
				}
			}
		}(g)
	}
	wg.Wait()
	got := collect(t, reader)
	assert.Equal(t, int64(goroutines*each), sums(t, got["smileguard.callbacks"])["environment=sandbox,format=header,outcome=refused,reason=in_flight"])
	assert.Len(t, sums(t, got["smileguard.key.verifications"]), 3)
}
