package prommetrics_test

import (
	"bufio"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/prommetrics"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// The guard reports each decision to the metrics; promhttp serves them.
// Here a genuine callback, Smile ID's retry of it, and the same callback
// from an address outside Smile ID's.
func Example() {
	keyring, err := signer.NewKeyring(signer.Key{
		ID: "production-2026-11", PartnerID: "1622", APIKey: "your-production-api-key", Environment: signer.Production,
	})
	if err != nil {
		log.Fatal(err)
	}
	registry := prometheus.NewRegistry() // or nil: prometheus.DefaultRegisterer
	metrics, err := prommetrics.New(registry, prommetrics.Options{Keyring: keyring})
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
	mux := http.NewServeMux()
	mux.Handle("POST /smileid/callback", guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // handle the result
	})))
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))

	body, err := signertest.SignCallback(keyring.Keys()[0], []byte(`{"SmileJobID":"0000000001","ResultCode":"1012"}`), time.Now())
	if err != nil {
		log.Fatal(err)
	}
	for _, peer := range []string{"52.213.46.74:443", "52.213.46.74:443", "203.0.113.9:443"} {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = peer
		mux.ServeHTTP(httptest.NewRecorder(), r)
	}

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	scanner := bufio.NewScanner(w.Body)
	for scanner.Scan() {
		line := scanner.Text()
		if (strings.HasPrefix(line, "smileguard_callbacks_total{") || strings.HasPrefix(line, "smileguard_key_verifications_total{")) &&
			!strings.HasSuffix(line, " 0") {
			fmt.Println(line)
		}
	}
	// Output:
	// smileguard_callbacks_total{environment="",format="",outcome="refused",reason="forbidden"} 1
	// smileguard_callbacks_total{environment="production",format="body",outcome="accepted",reason="accepted"} 1
	// smileguard_callbacks_total{environment="production",format="body",outcome="acknowledged",reason="already_handled"} 1
	// smileguard_key_verifications_total{environment="production",key_id="production-2026-11"} 2
}

// Two callback endpoints in one process, each guard's metrics labelled
// with its endpoint.
func ExampleNew_twoGuards() {
	keyring, err := signer.NewKeyring(signer.Key{
		ID: "production-2026-11", PartnerID: "1622", APIKey: "your-production-api-key", Environment: signer.Production,
	})
	if err != nil {
		log.Fatal(err)
	}
	registry := prometheus.NewRegistry()
	mux := http.NewServeMux()
	for _, endpoint := range []string{"kyc", "aml"} {
		metrics, err := prommetrics.New(prometheus.WrapRegistererWith(prometheus.Labels{"endpoint": endpoint}, registry), prommetrics.Options{})
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
		mux.Handle("POST /smileid/"+endpoint, guard.Handler(http.NotFoundHandler()))
	}

	r := httptest.NewRequest(http.MethodPost, "/smileid/aml", strings.NewReader(`{}`))
	r.RemoteAddr = "203.0.113.9:443"
	mux.ServeHTTP(httptest.NewRecorder(), r)

	families, err := registry.Gather()
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() != "smileguard_callbacks_total" || m.GetCounter().GetValue() == 0 {
				continue
			}
			fmt.Print(f.GetName())
			for _, l := range m.GetLabel() {
				if l.GetValue() != "" {
					fmt.Printf(" %s=%s", l.GetName(), l.GetValue())
				}
			}
			fmt.Println(":", m.GetCounter().GetValue())
		}
	}
	// Output:
	// smileguard_callbacks_total endpoint=aml outcome=refused reason=forbidden: 1
}
