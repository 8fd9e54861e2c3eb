// Package callbacktest holds what the framework examples' tests share: a
// Guard behind trusted load balancers (with no rate limit: the scenarios do
// not test one), and the scenarios every adapter must pass, so that gin,
// echo and chi are held to the same behaviour.
package callbacktest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// Path is the callback route of the tests.
const Path = "/smileid/callback"

// The peers and clients of the scenarios.
const (
	ProxyPeer      = "10.0.0.7:40000"    // a load balancer of ours
	StrangerPeer   = "203.0.113.9:40000" // anybody on the internet
	SmileIDAddress = "52.213.46.74"      // one of Smile ID's production addresses
)

// Key is the production key the scenarios' callbacks are signed with.
var Key = signer.Key{ID: "production", PartnerID: "085", APIKey: "callbacktest-production-key", Environment: signer.Production}

// NewGuard returns a Guard admitting Smile ID's production addresses
// behind load balancers in 10.0.0.0/8 that write X-Forwarded-For.
func NewGuard(t testing.TB) *middleware.Guard {
	t.Helper()
	keyring, err := signer.NewKeyring(Key)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{
			Allow:          []allowlist.Set{allowlist.SmileIDProduction},
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			Header:         "X-Forwarded-For",
		},
		Callback: middleware.CallbackConfig{Keyring: keyring},
	})
	if err != nil {
		t.Fatal(err)
	}
	return guard
}

// lastSigned is the latest timestamp Sign used, guarded by signMu.
var (
	signMu     sync.Mutex
	lastSigned time.Time
)

// Sign returns body signed with key now, each call at another millisecond:
// the signature covers only the timestamp and the partner id, so two bodies
// signed in the same millisecond share their (signature, timestamp) pair,
// and the guard takes the second for a replay.
func Sign(t testing.TB, key signer.Key, body string) []byte {
	t.Helper()
	signMu.Lock()
	at := time.Now().Truncate(time.Millisecond)
	if !at.After(lastSigned) {
		at = lastSigned.Add(time.Millisecond)
	}
	lastSigned = at
	signMu.Unlock()
	out, err := signertest.SignCallback(key, []byte(body), at)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Request returns a JSON POST of body to Path from peer, with an
// X-Forwarded-For of xff.
func Request(body []byte, peer, xff string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Forwarded-For", xff)
	r.RemoteAddr = peer
	return r
}

// A Scenario is one request and what the guarded route must do with it.
type Scenario struct {
	Name        string
	Request     *http.Request
	WantStatus  int
	WantReached bool   // the framework handler runs
	WantBody    []byte // what the handler reads, if it runs
}

// Scenarios returns requests to send, in order, to a route guarded by a
// fresh NewGuard whose handler answers 200.
func Scenarios(t testing.TB) []Scenario {
	genuine := Sign(t, Key, `{"SmileJobID":"0000004711","ResultCode":"1012","PartnerParams":{"job_id":"job-42"}}`)
	forged := Sign(t, signer.Key{PartnerID: Key.PartnerID, APIKey: "guessed", Environment: signer.Production}, `{"ResultCode":"1012"}`)
	tampered := bytes.Replace(genuine, []byte(`"1012"`), []byte(`"1013"`), 1)
	return []Scenario{
		{"genuine callback through our proxy reaches the handler with its exact body",
			Request(genuine, ProxyPeer, SmileIDAddress), http.StatusOK, true, genuine},
		{"Smile ID's retry is acknowledged, not handled again",
			Request(genuine, ProxyPeer, SmileIDAddress), http.StatusOK, false, nil},
		{"spoofed X-Forwarded-For from an untrusted peer is refused",
			Request(Sign(t, Key, `{"ResultCode":"1012"}`), StrangerPeer, SmileIDAddress), http.StatusForbidden, false, nil},
		{"an address that is not Smile ID's is refused",
			Request(Sign(t, Key, `{"ResultCode":"1012"}`), ProxyPeer, "198.51.100.4"), http.StatusForbidden, false, nil},
		{"forged signature is refused",
			Request(forged, ProxyPeer, SmileIDAddress), http.StatusUnauthorized, false, nil},
		{"the handled pair with another body is refused",
			Request(tampered, ProxyPeer, SmileIDAddress), http.StatusUnauthorized, false, nil},
	}
}

// CheckRouter sends the requests every example router must answer alike
// to h, a router built around NewGuard's guard: a genuine callback through
// the proxy, the same spoofed from a stranger, callback fields of the
// wrong type (the receiver refuses them, so that Smile ID retries), and the
// health check, which stands outside the guard.
func CheckRouter(t *testing.T, h http.Handler) {
	t.Helper()
	callback := Sign(t, Key, `{"SmileJobID":"0000004711","ResultCode":"1012"}`)
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"genuine callback", Request(callback, ProxyPeer, SmileIDAddress), http.StatusOK},
		{"spoofed callback", Request(callback, StrangerPeer, SmileIDAddress), http.StatusForbidden},
		{"callback fields of the wrong type", Request(Sign(t, Key, `{"ResultCode":1012}`), ProxyPeer, SmileIDAddress), http.StatusBadRequest},
		{"health check, outside the guard", httptest.NewRequest(http.MethodGet, "/healthz", nil), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.req)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d (body %q)", w.Code, tt.want, w.Body.String())
			}
		})
	}
}
