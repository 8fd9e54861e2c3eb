package otelmetrics_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/smileguard/smileguard/internal/metriclabels/metricstest"
	"github.com/smileguard/smileguard/middleware/otelmetrics"
)

// newProvider is an SDK MeterProvider whose reader the test collects.
func newProvider(t *testing.T) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { assert.NoError(t, provider.Shutdown(context.Background())) })
	return provider, reader
}

// collect returns the package's instruments by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	got := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, otelmetrics.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			got[m.Name] = m
		}
	}
	return got
}

// stream names a stream by its attributes, sorted.
func stream(set attribute.Set) string {
	var pairs []string
	for _, kv := range set.ToSlice() {
		pairs = append(pairs, string(kv.Key)+"="+kv.Value.AsString())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func sums(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T", m.Name, m.Data)
	assert.True(t, sum.IsMonotonic, m.Name)
	assert.Equal(t, metricdata.CumulativeTemporality, sum.Temporality, m.Name)
	got := map[string]int64{}
	for _, dp := range sum.DataPoints {
		got[stream(dp.Attributes)] = dp.Value
	}
	return got
}

func nonZero(values map[string]int64) map[string]int64 {
	got := map[string]int64{}
	for k, v := range values {
		if v != 0 {
			got[k] = v
		}
	}
	return got
}

type histogramPoint struct {
	count   uint64
	sum     float64
	buckets []uint64
}

func histograms[N int64 | float64](t *testing.T, m metricdata.Metrics) map[string]histogramPoint {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[N])
	require.True(t, ok, "%s is a %T", m.Name, m.Data)
	got := map[string]histogramPoint{}
	for _, dp := range h.DataPoints {
		got[stream(dp.Attributes)] = histogramPoint{dp.Count, float64(dp.Sum), dp.BucketCounts}
	}
	return got
}

func TestCollectAfterRealCallbacks(t *testing.T) {
	keyring := metricstest.Keyring(t)
	provider, reader := newProvider(t)
	metrics, err := otelmetrics.New(provider, otelmetrics.Options{Keyring: keyring})
	require.NoError(t, err)
	h := metricstest.Guard(t, keyring, metrics.Observe)

	startStreams := len(sums(t, collect(t, reader)["smileguard.callbacks"]))

	bodyBytes, secrets := metricstest.Send(t, h)

	got := collect(t, reader)

	t.Run("callbacks by outcome, reason, environment and format", func(t *testing.T) {
		m := got["smileguard.callbacks"]
		assert.Equal(t, "{callback}", m.Unit)
		values := sums(t, m)
		assert.Equal(t, map[string]int64{
			"environment=production,format=body,outcome=accepted,reason=accepted":            2,
			"environment=production,format=header,outcome=accepted,reason=accepted":          1,
			"environment=production,format=body,outcome=acknowledged,reason=already_handled": 1,
			"environment=production,format=body,outcome=refused,reason=replayed":             1,
			"environment=,format=body,outcome=refused,reason=stale":                          1,
			"environment=,format=body,outcome=refused,reason=invalid_signature":              1,
			"environment=,format=,outcome=refused,reason=forbidden":                          1,
			"environment=,format=,outcome=refused,reason=method_not_allowed":                 1,
		}, nonZero(values))
		assert.Len(t, values, startStreams, "every stream the guard produced had been made at zero")
	})

	t.Run("verifications by key, the old one included", func(t *testing.T) {
		metricdatatest.AssertEqual(t, metricdata.Metrics{
			Name:        "smileguard.key.verifications",
			Description: "Callbacks whose signature verified with each key of the keyring, whatever the guard then decided.",
			Unit:        "{verification}",
			Data: metricdata.Sum[int64]{
				Temporality: metricdata.CumulativeTemporality,
				IsMonotonic: true,
				DataPoints: []metricdata.DataPoint[int64]{
					{Attributes: attribute.NewSet(attribute.String("key.id", "production-2026-05"), attribute.String("environment", "production")), Value: 1},
					{Attributes: attribute.NewSet(attribute.String("key.id", "production-2026-11"), attribute.String("environment", "production")), Value: 4},
				},
			},
		}, got["smileguard.key.verifications"], metricdatatest.IgnoreTimestamp())
	})

	t.Run("durations by outcome, in seconds", func(t *testing.T) {
		m := got["smileguard.callback.duration"]
		assert.Equal(t, "s", m.Unit)
		points := histograms[float64](t, m)
		counts := map[string]uint64{}
		for k, p := range points {
			counts[k] = p.count
			assert.Greater(t, p.sum, 0.0, k)
			assert.Less(t, p.sum, 10.0, k, "seconds, not nanoseconds")
		}
		assert.Equal(t, map[string]uint64{"outcome=accepted": 3, "outcome=acknowledged": 1, "outcome=refused": 5}, counts)
		h := m.Data.(metricdata.Histogram[float64])
		assert.Equal(t, []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
			h.DataPoints[0].Bounds, "the advised buckets")
	})

	t.Run("body sizes by outcome, bodies read only", func(t *testing.T) {
		m := got["smileguard.callback.body.size"]
		assert.Equal(t, "By", m.Unit)
		points := histograms[int64](t, m)
		counts, byteSums := map[string]uint64{}, map[string]float64{}
		for k, p := range points {
			counts[k], byteSums[k] = p.count, p.sum
			assert.Equal(t, p.count, p.buckets[0], "every body under 256 bytes")
		}
		assert.Equal(t, map[string]uint64{"outcome=accepted": 3, "outcome=acknowledged": 1, "outcome=refused": 3}, counts,
			"the stranger's and the GET's bodies were never read")
		assert.Equal(t, bodyBytes, byteSums)
	})

	t.Run("no attribute carries an address, a secret, a signature or a body", func(t *testing.T) {
		dump := fmt.Sprintf("%+v", got)
		for _, s := range secrets {
			assert.NotContains(t, dump, s)
		}
		for name, m := range got {
			var sets []attribute.Set
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					sets = append(sets, dp.Attributes)
				}
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					sets = append(sets, dp.Attributes)
				}
			case metricdata.Histogram[int64]:
				for _, dp := range data.DataPoints {
					sets = append(sets, dp.Attributes)
				}
			default:
				t.Fatalf("%s is a %T", name, m.Data)
			}
			for _, set := range sets {
				for _, kv := range set.ToSlice() {
					assert.Contains(t, []attribute.Key{"outcome", "reason", "environment", "format", "key.id"}, kv.Key, name)
					for _, s := range secrets {
						assert.NotContains(t, kv.Value.AsString(), s, name)
					}
				}
			}
		}
	})
}

func TestStreamsStartAtZero(t *testing.T) {
	tests := []struct {
		name     string
		opts     otelmetrics.Options
		keys     map[string]int64
		nStreams int
	}{
		{"with the keyring, each key's stream is there before it signs", otelmetrics.Options{Keyring: metricstest.Keyring(t)},
			map[string]int64{"environment=production,key.id=production-2026-05": 0, "environment=production,key.id=production-2026-11": 0}, 33},
		{"without it, none, and verified streams for both environments", otelmetrics.Options{}, nil, 45},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			provider, reader := newProvider(t)
			_, err := otelmetrics.New(provider, tt.opts)
			require.NoError(t, err)
			got := collect(t, reader)
			if tt.keys == nil {
				assert.NotContains(t, got, "smileguard.key.verifications")
			} else {
				assert.Equal(t, tt.keys, sums(t, got["smileguard.key.verifications"]))
			}
			assert.Len(t, sums(t, got["smileguard.callbacks"]), tt.nStreams)
			assert.NotContains(t, got, "smileguard.callback.duration", "a histogram has no zero to record")
		})
	}
}
