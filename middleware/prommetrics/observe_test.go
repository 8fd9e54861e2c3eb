package prommetrics_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/prommetrics"
	"github.com/smileguard/smileguard/signer"
)

func newMetrics(t *testing.T, opts prommetrics.Options) (*prommetrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := prommetrics.New(reg, opts)
	require.NoError(t, err)
	return m, reg
}

func TestValuesOutsideTheFixedSetsAreCountedAsOther(t *testing.T) {
	m, reg := newMetrics(t, prommetrics.Options{})
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
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP smileguard_key_verifications_total Callbacks whose signature verified with each key of the keyring, whatever the guard then decided.
# TYPE smileguard_key_verifications_total counter
smileguard_key_verifications_total{environment="other",key_id="k1"} 3
`), "smileguard_key_verifications_total"))
	assert.Equal(t, 3.0, callbacksValue(t, reg, "other", "other", "other", "other"))
}

// callbacksValue is the value of one series of the callbacks counter, as
// gathered.
func callbacksValue(t *testing.T, reg *prometheus.Registry, outcome, reason, environment, format string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	want := map[string]string{"outcome": outcome, "reason": reason, "environment": environment, "format": format}
	for _, f := range families {
		if f.GetName() != "smileguard_callbacks_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			match := true
			for _, l := range m.GetLabel() {
				match = match && want[l.GetName()] == l.GetValue()
			}
			if match {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %v", want)
	return 0
}

func TestKeyIDsAreBounded(t *testing.T) {
	m, reg := newMetrics(t, prommetrics.Options{})
	const keys = 300
	for i := 0; i < keys; i++ {
		m.Observe(context.Background(), middleware.Event{
			Outcome: middleware.Accepted, Reason: middleware.ReasonAccepted,
			Environment: signer.Production, KeyID: "key-" + strconv.Itoa(i),
		})
	}
	n, err := testutil.GatherAndCount(reg, "smileguard_key_verifications_total")
	require.NoError(t, err)
	assert.Equal(t, 256+1, n, "256 key IDs and other")

	families, err := reg.Gather()
	require.NoError(t, err)
	var total, other float64
	for _, f := range families {
		if f.GetName() != "smileguard_key_verifications_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			total += s.GetCounter().GetValue()
			for _, l := range s.GetLabel() {
				if l.GetName() == "key_id" && l.GetValue() == "other" {
					other = s.GetCounter().GetValue()
				}
			}
		}
	}
	assert.Equal(t, float64(keys), total, "every verification is counted")
	assert.Equal(t, float64(keys-256), other)
}

func TestZeroMetricsCountNothing(t *testing.T) {
	var zero prommetrics.Metrics
	var nilMetrics *prommetrics.Metrics
	e := middleware.Event{Outcome: middleware.Accepted, Reason: middleware.ReasonAccepted, KeyID: "k1", BodyBytes: 1}
	assert.NotPanics(t, func() {
		zero.Observe(context.Background(), e)
		nilMetrics.Observe(context.Background(), e)
	})
	assert.Equal(t, 0, testutil.CollectAndCount(&zero))
}

func TestObserveIsSafeForConcurrentUse(t *testing.T) {
	m, reg := newMetrics(t, prommetrics.Options{})
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
					_, err := reg.Gather() // scrapes run while requests do
					assert.NoError(t, err)
				}
			}
		}(g)
	}
	wg.Wait()
	assert.Equal(t, float64(goroutines*each),
		callbacksValue(t, reg, "refused", "in_flight", "sandbox", "header"))
	n, err := testutil.GatherAndCount(reg, "smileguard_key_verifications_total")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
}
