package middleware_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

func ExampleNewGuard() {
	keyring, err := signer.NewKeyring(signer.Key{
		ID: "production-2026-11", PartnerID: "1622", APIKey: "your-production-api-key", Environment: signer.Production,
	})
	if err != nil {
		log.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{
			Allow:          []allowlist.Set{allowlist.SmileIDProduction},
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, // your load balancer
			Header:         "X-Forwarded-For",
		},
		RateLimit: &middleware.RateLimitConfig{Rate: 50, Burst: 100},
		Callback:  middleware.CallbackConfig{Keyring: keyring},
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/smileid/callback", guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, _ := middleware.CallbackFromContext(r.Context())
		fmt.Println("handling a callback signed with", cb.KeyID)
	})))

	// Smile ID, through the load balancer.
	body, _ := signertest.SignCallback(keyring.Keys()[0], []byte(`{"SmileJobID":"0000000001","ResultCode":"1012"}`), time.Now())
	send := func(peer, xff string) int {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", xff)
		r.RemoteAddr = peer
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(send("10.0.0.7:51000", "52.213.46.74"))
	fmt.Println(send("10.0.0.7:51000", "52.213.46.74"))   // a retry: acknowledged, not handled again
	fmt.Println(send("203.0.113.9:4000", "52.213.46.74")) // spoofed header from outside: refused
	// Output:
	// handling a callback signed with production-2026-11
	// 200
	// 200
	// 403
}

func ExampleCallbackFromContext() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		cb, ok := middleware.CallbackFromContext(r.Context())
		if !ok {
			http.Error(w, "not behind the guard", http.StatusInternalServerError)
			return
		}
		fmt.Println(cb.KeyID, cb.Environment, cb.Timestamp.Format(time.RFC3339))
	}

	key := signer.Key{ID: "sandbox-1", PartnerID: "1622", APIKey: "your-sandbox-api-key", Environment: signer.Sandbox}
	keyring, _ := signer.NewKeyring(key)
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	verifier, err := middleware.NewCallbackVerifier(middleware.CallbackConfig{
		Keyring: keyring,
		Now:     func() time.Time { return at.Add(3 * time.Second) },
	})
	if err != nil {
		log.Fatal(err)
	}
	body, _ := signertest.SignCallback(key, []byte(`{"ResultCode":"1012"}`), at)
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	verifier.Handler(http.HandlerFunc(handler)).ServeHTTP(httptest.NewRecorder(), r)
	// Output: sandbox-1 sandbox 2026-11-21T10:00:00Z
}

func ExampleRateLimiter_Handler() {
	limiter, err := middleware.NewRateLimiter(middleware.RateLimitConfig{Rate: 1, Burst: 2})
	if err != nil {
		log.Fatal(err)
	}
	h := limiter.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for i := 0; i < 3; i++ {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
		r.RemoteAddr = "52.213.46.74:40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%d Retry-After=%q\n", w.Code, w.Header().Get("Retry-After"))
	}
	// Output:
	// 200 Retry-After=""
	// 200 Retry-After=""
	// 429 Retry-After="1"
}

// A v3 webhook carries its signature in two headers; the guard admits it
// like a body-signed callback, and the handler learns which carrier came.
func ExampleGuard_headerSigned() {
	key := signer.Key{ID: "production-2026-11", PartnerID: "0042", APIKey: "your-production-api-key", Environment: signer.Production}
	keyring, err := signer.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: keyring},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, _ := middleware.CallbackFromContext(r.Context())
		fmt.Println("handling a", cb.Format, "signed callback from", cb.KeyID)
	}))

	// Smile ID's v3 webhook: a snake_case body, the signature in headers,
	// here over the partner id without its leading zeros, as v3 sends it.
	ts := signer.FormatTimestamp(time.Now())
	body := `{"job_id":"job_01jd8m3xq4y5z6a7b8c9d0e1f2","status":"clear","message":"Verified"}`
	send := func(body string) int {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(middleware.SignatureHeader, signer.Sign(key.APIKey, "42", ts))
		r.Header.Set(middleware.TimestampHeader, ts)
		r.RemoteAddr = "52.213.46.74:443"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(send(body))
	fmt.Println(send(`{"status":"block"}`)) // the same headers with another body
	// Output:
	// handling a header signed callback from production-2026-11
	// 200
	// 401
}

// An Observer sees every decision of the guard: the place for metrics.
func ExampleObserver() {
	keyring, err := signer.NewKeyring(signer.Key{ID: "production-2026-11", PartnerID: "1622",
		APIKey: "your-production-api-key", Environment: signer.Production})
	if err != nil {
		log.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: keyring},
		Observe: func(_ context.Context, e middleware.Event) {
			fmt.Println(e.Outcome, e.Reason, e.Status)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := guard.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = "203.0.113.9:4000" // not Smile ID
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output: refused forbidden 403
}
