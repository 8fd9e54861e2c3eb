package otelmetrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/otelmetrics"
)

func TestNewRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts otelmetrics.Options
		want string
	}{
		{"namespace starting with a digit", otelmetrics.Options{Namespace: "1guard"}, "Options.Namespace"},
		{"namespace with a space", otelmetrics.Options{Namespace: "smile guard"}, "Options.Namespace"},
		{"namespace too long", otelmetrics.Options{Namespace: "s" + strings.Repeat("x", 220)}, "Options.Namespace"},
		{"attribute without a key", otelmetrics.Options{Attributes: []attribute.KeyValue{attribute.String("", "kyc")}}, "Options.Attributes[0]"},
		{"attribute the instruments set", otelmetrics.Options{Attributes: []attribute.KeyValue{attribute.String("endpoint", "kyc"), attribute.String("reason", "x")}}, "Options.Attributes[1]"},
		{"attribute given twice", otelmetrics.Options{Attributes: []attribute.KeyValue{attribute.String("endpoint", "kyc"), attribute.String("endpoint", "aml")}}, "Options.Attributes[1]"},
		{"duration bucket not positive", otelmetrics.Options{DurationBuckets: []time.Duration{-time.Second}}, "Options.DurationBuckets[0]"},
		{"duration buckets not ascending", otelmetrics.Options{DurationBuckets: []time.Duration{time.Second, time.Millisecond}}, "Options.DurationBuckets[1]"},
		{"body size bucket zero", otelmetrics.Options{BodySizeBuckets: []int{0}}, "Options.BodySizeBuckets[0]"},
		{"body size buckets repeated", otelmetrics.Options{BodySizeBuckets: []int{512, 512}}, "Options.BodySizeBuckets[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := otelmetrics.New(noop.NewMeterProvider(), tt.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.True(t, strings.HasPrefix(err.Error(), "otelmetrics: "+tt.want), err.Error())
		})
	}
}

func TestOptionsShapeTheInstruments(t *testing.T) {
	provider, reader := newProvider(t)
	m, err := otelmetrics.New(provider, otelmetrics.Options{
		Namespace:       "payments.smileguard",
		Attributes:      []attribute.KeyValue{attribute.String("endpoint", "kyc")},
		DurationBuckets: []time.Duration{time.Millisecond, time.Second},
		BodySizeBuckets: []int{1000},
	})
	require.NoError(t, err)
	m.Observe(context.Background(), middleware.Event{
		Outcome: middleware.Refused, Reason: middleware.ReasonStale, Format: middleware.BodySigned,
		BodyBytes: 1500, Duration: 20 * time.Millisecond,
	})
	got := collect(t, reader)

	assert.Equal(t, int64(1), sums(t, got["payments.smileguard.callbacks"])["endpoint=kyc,environment=,format=body,outcome=refused,reason=stale"])
	durations := histograms[float64](t, got["payments.smileguard.callback.duration"])
	assert.Equal(t, histogramPoint{count: 1, sum: 0.02, buckets: []uint64{0, 1, 0}}, durations["endpoint=kyc,outcome=refused"])
	sizes := histograms[int64](t, got["payments.smileguard.callback.body.size"])
	assert.Equal(t, histogramPoint{count: 1, sum: 1500, buckets: []uint64{0, 1}}, sizes["endpoint=kyc,outcome=refused"])
	assert.Len(t, got, 3, "no key verified, so no key stream")
}

func TestNilIsTheGlobalMeterProvider(t *testing.T) {
	provider, reader := newProvider(t)
	global := otel.GetMeterProvider()
	otel.SetMeterProvider(provider)
	t.Cleanup(func() { otel.SetMeterProvider(global) })

	m, err := otelmetrics.New(nil, otelmetrics.Options{})
	require.NoError(t, err)
	m.Observe(context.Background(), middleware.Event{Outcome: middleware.Refused, Reason: middleware.ReasonForbidden, Status: 403})
	assert.Equal(t, int64(1), sums(t, collect(t, reader)["smileguard.callbacks"])["environment=,format=,outcome=refused,reason=forbidden"])
}
