package prommetrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/metriclabels/metricstest"
	"github.com/smileguard/smileguard/middleware/prommetrics"
)

// scrape fetches url and parses the text exposition.
func scrape(t *testing.T, url string) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	text, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(text)))
	require.NoError(t, err)
	return string(text), families
}

// series names a series by its labels' values, in the labels' order.
func series(m *dto.Metric) string {
	pairs := m.GetLabel()
	values := make([]string, len(pairs))
	for i, p := range pairs {
		values[i] = p.GetName() + "=" + p.GetValue()
	}
	sort.Strings(values)
	return strings.Join(values, ",")
}

func counters(f *dto.MetricFamily) map[string]float64 {
	got := map[string]float64{}
	for _, m := range f.GetMetric() {
		got[series(m)] = m.GetCounter().GetValue()
	}
	return got
}

func nonZero(values map[string]float64) map[string]float64 {
	got := map[string]float64{}
	for k, v := range values {
		if v != 0 {
			got[k] = v
		}
	}
	return got
}

func histogramCounts(f *dto.MetricFamily) (counts map[string]uint64, sums map[string]float64) {
	counts, sums = map[string]uint64{}, map[string]float64{}
	for _, m := range f.GetMetric() {
		counts[series(m)] = m.GetHistogram().GetSampleCount()
		sums[series(m)] = m.GetHistogram().GetSampleSum()
	}
	return counts, sums
}

func TestScrapeAfterRealCallbacks(t *testing.T) {
	keyring := metricstest.Keyring(t)
	reg := prometheus.NewRegistry()
	metrics, err := prommetrics.New(reg, prommetrics.Options{Keyring: keyring})
	require.NoError(t, err)
	h := metricstest.Guard(t, keyring, metrics.Observe)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	_, before := scrape(t, srv.URL)
	startSeries := len(before["smileguard_callbacks_total"].GetMetric())

	bodyBytes, secrets := metricstest.Send(t, h)

	text, families := scrape(t, srv.URL)

	t.Run("callbacks by outcome, reason, environment and format", func(t *testing.T) {
		got := counters(families["smileguard_callbacks_total"])
		assert.Equal(t, map[string]float64{
			"environment=production,format=body,outcome=accepted,reason=accepted":            2,
			"environment=production,format=header,outcome=accepted,reason=accepted":          1,
			"environment=production,format=body,outcome=acknowledged,reason=already_handled": 1,
			"environment=production,format=body,outcome=refused,reason=replayed":             1,
			"environment=,format=body,outcome=refused,reason=stale":                          1,
			"environment=,format=body,outcome=refused,reason=invalid_signature":              1,
			"environment=,format=,outcome=refused,reason=forbidden":                          1,
			"environment=,format=,outcome=refused,reason=method_not_allowed":                 1,
		}, nonZero(got))
		assert.Len(t, got, startSeries, "every series the guard produced had been made at zero")
		assert.Contains(t, got, "environment=,format=header,outcome=refused,reason=stale", "made at zero")
		assert.NotContains(t, got, "environment=sandbox,format=body,outcome=accepted,reason=accepted",
			"the keyring has no sandbox key")
	})

	t.Run("verifications by key, the old one included", func(t *testing.T) {
		err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(`
# HELP smileguard_key_verifications_total Callbacks whose signature verified with each key of the keyring, whatever the guard then decided.
# TYPE smileguard_key_verifications_total counter
smileguard_key_verifications_total{environment="production",key_id="production-2026-05"} 1
smileguard_key_verifications_total{environment="production",key_id="production-2026-11"} 4
`), "smileguard_key_verifications_total")
		assert.NoError(t, err)
	})

	t.Run("durations by outcome", func(t *testing.T) {
		counts, sums := histogramCounts(families["smileguard_callback_duration_seconds"])
		assert.Equal(t, map[string]uint64{"outcome=accepted": 3, "outcome=acknowledged": 1, "outcome=refused": 5}, counts)
		for outcome, sum := range sums {
			assert.Greater(t, sum, 0.0, outcome)
		}
	})

	t.Run("body sizes by outcome, bodies read only", func(t *testing.T) {
		counts, sums := histogramCounts(families["smileguard_callback_body_size_bytes"])
		assert.Equal(t, map[string]uint64{"outcome=accepted": 3, "outcome=acknowledged": 1, "outcome=refused": 3}, counts,
			"the stranger's and the GET's bodies were never read")
		assert.Equal(t, bodyBytes, sums)
	})

	t.Run("no label carries an address, a secret, a signature or a body", func(t *testing.T) {
		for _, s := range secrets {
			assert.NotContains(t, text, s)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					assert.Contains(t, []string{"outcome", "reason", "environment", "format", "key_id"}, l.GetName())
				}
			}
		}
	})
}

func TestKeysSeriesStartAtZero(t *testing.T) {
	tests := []struct {
		name    string
		opts    prommetrics.Options
		want    string
		nSeries int
	}{
		{"with the keyring, each key's series is there before it signs", prommetrics.Options{Keyring: metricstest.Keyring(t)}, `
# HELP smileguard_key_verifications_total Callbacks whose signature verified with each key of the keyring, whatever the guard then decided.
# TYPE smileguard_key_verifications_total counter
smileguard_key_verifications_total{environment="production",key_id="production-2026-05"} 0
smileguard_key_verifications_total{environment="production",key_id="production-2026-11"} 0
`, 33},
		{"without it, none, and verified series for both environments", prommetrics.Options{}, "", 45},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			_, err := prommetrics.New(reg, tt.opts)
			require.NoError(t, err)
			assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(tt.want), "smileguard_key_verifications_total"))
			n, err := testutil.GatherAndCount(reg, "smileguard_callbacks_total")
			require.NoError(t, err)
			assert.Equal(t, tt.nSeries, n)
		})
	}
}
