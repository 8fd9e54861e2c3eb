package otelmetrics_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/otelmetrics"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// The guard reports each decision to the instruments. Here a genuine
// callback, Smile ID's retry of it, and the same callback from an address
// outside Smile ID's; a ManualReader stands in for the exporter.
func Example() {
	keyring, err := signer.NewKeyring(signer.Key{
		ID: "production-2026-11", PartnerID: "1622", APIKey: "your-production-api-key", Environment: signer.Production,
	})
	if err != nil {
		log.Fatal(err)
	}
	reader := sdkmetric.NewManualReader() // in production: sdkmetric.NewPeriodicReader(exporter)
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	metrics, err := otelmetrics.New(provider, otelmetrics.Options{Keyring: keyring})
	if err != nil {
		log.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: keyring},
		Observe:   metrics.Observe,
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // handle the result
	}))

	body, err := signertest.SignCallback(keyring.Keys()[0], []byte(`{"SmileJobID":"0000000001","ResultCode":"1012"}`), time.Now())
	if err != nil {
		log.Fatal(err)
	}
	for _, peer := range []string{"52.213.46.74:443", "52.213.46.74:443", "203.0.113.9:443"} {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = peer
		handler.ServeHTTP(httptest.NewRecorder(), r)
	}

	var collected metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &collected); err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, scope := range collected.ScopeMetrics {
		for _, m := range scope.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				if dp.Value == 0 {
					continue
				}
				var attrs []string
				for _, kv := range dp.Attributes.ToSlice() {
					attrs = append(attrs, fmt.Sprintf("%s=%q", kv.Key, kv.Value.AsString()))
				}
				lines = append(lines, fmt.Sprintf("%s{%s} %d", m.Name, strings.Join(attrs, ","), dp.Value))
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// smileguard.callbacks{environment="",format="",outcome="refused",reason="forbidden"} 1
	// smileguard.callbacks{environment="production",format="body",outcome="accepted",reason="accepted"} 1
	// smileguard.callbacks{environment="production",format="body",outcome="acknowledged",reason="already_handled"} 1
	// smileguard.key.verifications{environment="production",key.id="production-2026-11"} 2
}
