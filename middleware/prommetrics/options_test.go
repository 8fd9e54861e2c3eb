package prommetrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/prommetrics"
)

func TestNewRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts prommetrics.Options
		want string
	}{
		{"namespace with a dash", prommetrics.Options{Namespace: "smile-guard"}, "Options.Namespace"},
		{"namespace with a colon", prommetrics.Options{Namespace: "smile:guard"}, "Options.Namespace"},
		{"namespace starting with a digit", prommetrics.Options{Namespace: "1guard"}, "Options.Namespace"},
		{"duration bucket not positive", prommetrics.Options{DurationBuckets: []time.Duration{0, time.Second}}, "Options.DurationBuckets[0]"},
		{"duration buckets not ascending", prommetrics.Options{DurationBuckets: []time.Duration{time.Second, time.Second}}, "Options.DurationBuckets[1]"},
		{"body size bucket negative", prommetrics.Options{BodySizeBuckets: []int{-1}}, "Options.BodySizeBuckets[0]"},
		{"body size buckets descending", prommetrics.Options{BodySizeBuckets: []int{1024, 512}}, "Options.BodySizeBuckets[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m, err := prommetrics.New(reg, tt.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.True(t, strings.HasPrefix(err.Error(), "prommetrics: "+tt.want), err.Error())
			n, err := testutil.GatherAndCount(reg)
			require.NoError(t, err)
			assert.Zero(t, n, "nothing registered")
		})
	}
}

func TestOptionsShapeTheMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := prommetrics.New(reg, prommetrics.Options{
		Namespace:       "payments",
		DurationBuckets: []time.Duration{time.Millisecond, time.Second},
		BodySizeBuckets: []int{1000},
	})
	require.NoError(t, err)
	m.Observe(context.Background(), middleware.Event{
		Outcome: middleware.Refused, Reason: middleware.ReasonStale, Format: middleware.BodySigned,
		BodyBytes: 1500, Duration: 20 * time.Millisecond,
	})
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP payments_callback_body_size_bytes Size of the callback bodies the guard read, by outcome.
# TYPE payments_callback_body_size_bytes histogram
payments_callback_body_size_bytes_bucket{outcome="accepted",le="1000"} 0
payments_callback_body_size_bytes_bucket{outcome="accepted",le="+Inf"} 0
payments_callback_body_size_bytes_sum{outcome="accepted"} 0
payments_callback_body_size_bytes_count{outcome="accepted"} 0
payments_callback_body_size_bytes_bucket{outcome="acknowledged",le="1000"} 0
payments_callback_body_size_bytes_bucket{outcome="acknowledged",le="+Inf"} 0
payments_callback_body_size_bytes_sum{outcome="acknowledged"} 0
payments_callback_body_size_bytes_count{outcome="acknowledged"} 0
payments_callback_body_size_bytes_bucket{outcome="refused",le="1000"} 0
payments_callback_body_size_bytes_bucket{outcome="refused",le="+Inf"} 1
payments_callback_body_size_bytes_sum{outcome="refused"} 1500
payments_callback_body_size_bytes_count{outcome="refused"} 1
# HELP payments_callback_duration_seconds Time from the guard's first look at a request to its answer, the next handler's work included, by outcome.
# TYPE payments_callback_duration_seconds histogram
payments_callback_duration_seconds_bucket{outcome="accepted",le="0.001"} 0
payments_callback_duration_seconds_bucket{outcome="accepted",le="1"} 0
payments_callback_duration_seconds_bucket{outcome="accepted",le="+Inf"} 0
payments_callback_duration_seconds_sum{outcome="accepted"} 0
payments_callback_duration_seconds_count{outcome="accepted"} 0
payments_callback_duration_seconds_bucket{outcome="acknowledged",le="0.001"} 0
payments_callback_duration_seconds_bucket{outcome="acknowledged",le="1"} 0
payments_callback_duration_seconds_bucket{outcome="acknowledged",le="+Inf"} 0
payments_callback_duration_seconds_sum{outcome="acknowledged"} 0
payments_callback_duration_seconds_count{outcome="acknowledged"} 0
payments_callback_duration_seconds_bucket{outcome="refused",le="0.001"} 0
payments_callback_duration_seconds_bucket{outcome="refused",le="1"} 1
payments_callback_duration_seconds_bucket{outcome="refused",le="+Inf"} 1
payments_callback_duration_seconds_sum{outcome="refused"} 0.02
payments_callback_duration_seconds_count{outcome="refused"} 1
`), "payments_callback_body_size_bytes", "payments_callback_duration_seconds"))
	n, err := testutil.GatherAndCount(reg, "payments_callbacks_total")
	require.NoError(t, err)
	assert.Equal(t, 45, n)
}

func TestRegistration(t *testing.T) {
	t.Run("nil is the default registerer", func(t *testing.T) {
		m, err := prommetrics.New(nil, prommetrics.Options{})
		require.NoError(t, err)
		assert.True(t, prometheus.DefaultRegisterer.Unregister(m))
	})

	t.Run("twice in one registry is refused, the first one kept", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		first, err := prommetrics.New(reg, prommetrics.Options{})
		require.NoError(t, err)
		second, err := prommetrics.New(reg, prommetrics.Options{})
		require.Error(t, err)
		assert.Nil(t, second)
		var already prometheus.AlreadyRegisteredError
		assert.True(t, errors.As(err, &already), err.Error())
		assert.True(t, strings.HasPrefix(err.Error(), "prommetrics: "), err.Error())
		assert.True(t, reg.Unregister(first))
	})

	t.Run("two guards told apart by a wrapped registry", func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		kyc, err := prommetrics.New(prometheus.WrapRegistererWith(prometheus.Labels{"endpoint": "kyc"}, reg), prommetrics.Options{})
		require.NoError(t, err)
		aml, err := prommetrics.New(prometheus.WrapRegistererWith(prometheus.Labels{"endpoint": "aml"}, reg), prommetrics.Options{})
		require.NoError(t, err)
		kyc.Observe(context.Background(), middleware.Event{Outcome: middleware.Refused, Reason: middleware.ReasonForbidden, Status: 403})
		aml.Observe(context.Background(), middleware.Event{Outcome: middleware.Refused, Reason: middleware.ReasonForbidden, Status: 403})
		aml.Observe(context.Background(), middleware.Event{Outcome: middleware.Refused, Reason: middleware.ReasonForbidden, Status: 403})

		families, err := reg.Gather()
		require.NoError(t, err)
		got := map[string]float64{}
		for _, f := range families {
			if f.GetName() == "smileguard_callbacks_total" {
				for _, m := range f.GetMetric() {
					if v := m.GetCounter().GetValue(); v != 0 {
						got[series(m)] = v
					}
				}
			}
		}
		assert.Equal(t, map[string]float64{
			"endpoint=aml,environment=,format=,outcome=refused,reason=forbidden": 2,
			"endpoint=kyc,environment=,format=,outcome=refused,reason=forbidden": 1,
		}, got)
	})
}
