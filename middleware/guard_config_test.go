package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/signer"
)

func TestNewGuardRefusesAnEnvironmentWithoutAUsableKey(t *testing.T) {
	productionOnly, err := signer.NewKeyring(productionKey)
	require.NoError(t, err)
	retiredOnly, err := signer.NewKeyring(retiredKey, futureKey)
	require.NoError(t, err)
	office, err := allowlist.ParseSet("office", "198.51.100.0/24")
	require.NoError(t, err)
	tests := []struct {
		name    string
		ring    *signer.Keyring
		sets    []allowlist.Set
		wantErr string
	}{
		{"production key, production set", productionOnly, []allowlist.Set{allowlist.SmileIDProduction}, ""},
		{"production key, sandbox set too", productionOnly, []allowlist.Set{allowlist.SmileIDProduction, allowlist.SmileIDSandbox},
			`middleware: GuardConfig.Allowlist.Allow[1] ("sandbox") admits sandbox callbacks, but the keyring has no sandbox key usable now: every one of them would be refused`},
		{"only keys outside their windows", retiredOnly, []allowlist.Set{allowlist.SmileIDProduction},
			`middleware: GuardConfig.Allowlist.Allow[0] ("production") admits production callbacks, but the keyring has no production key usable now: every one of them would be refused`},
		{"a set that binds no environment needs any usable key", retiredOnly, []allowlist.Set{office},
			`middleware: GuardConfig.Allowlist.Allow[0] ("office") admits any callbacks, but the keyring has no any key usable now: every one of them would be refused`},
		{"a set that binds no environment, a usable key", productionOnly, []allowlist.Set{office}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGuard(GuardConfig{
				Allowlist: allowlist.Config{Allow: tt.sets},
				Callback:  CallbackConfig{Keyring: tt.ring, Now: func() time.Time { return testNow }},
			})
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			assert.Nil(t, g)
			assert.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestUpdateAllowlistKeepsTheGuardsRules(t *testing.T) {
	var logs strings.Builder
	productionOnly, err := signer.NewKeyring(productionKey)
	require.NoError(t, err)
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  CallbackConfig{Keyring: productionOnly, Now: func() time.Time { return testNow }},
		Logger:    jsonLogger(&logs),
	})
	require.NoError(t, err)
	h := g.Handler(&recorder{})
	from := func(addr string) *http.Request {
		r := post(signedBody(t, productionKey, time.Duration(len(addr))*time.Millisecond), "")
		r.RemoteAddr = addr
		return r
	}

	moved, err := allowlist.SmileIDProduction.Replace("13.51.0.119", "51.20.27.3")
	require.NoError(t, err)
	require.NoError(t, g.UpdateAllowlist(allowlist.Config{Allow: []allowlist.Set{moved}}))
	assert.Equal(t, 200, serve(h, from("13.51.0.119:443")).Code, "Smile ID's new address")
	assert.Equal(t, 403, serve(h, from("52.213.46.74:443")).Code, "its old one")
	assert.Contains(t, logs.String(), `"msg":"allowlist: request denied"`, "the Guard's logger still logs denials")
	assert.Contains(t, logs.String(), `"client_ip":"52.213.46.74"`, "naming the refused address")

	for _, tt := range []struct {
		cfg     allowlist.Config
		wantErr string
	}{
		{allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDSandbox}}, "admits sandbox callbacks, but the keyring has no sandbox key"},
		{allowlist.Config{Allow: []allowlist.Set{moved}, Logger: slog.Default()}, "allowlist.Config.Logger is set"},
		{allowlist.Config{Allow: []allowlist.Set{moved}, Denied: http.NotFoundHandler()}, "allowlist.Config.Denied is set"},
		{allowlist.Config{Allow: []allowlist.Set{moved}, TrustedProxies: loopbackSet(t, "lb").Prefixes, Header: "X-Forwarded-For"},
			`allowlist.Config.Header "X-Forwarded-For" differs from the Guard's`},
		{allowlist.Config{}, "allowlist: Config.Allow is empty"},
	} {
		err := g.UpdateAllowlist(tt.cfg)
		assert.ErrorContains(t, err, tt.wantErr)
	}
	assert.Equal(t, 200, serve(h, from("51.20.27.3:443")).Code, "a refused update changed nothing")
}

func TestNewGuardRefusesHooksOfItsParts(t *testing.T) {
	ring := testKeyring(t)
	base := func() GuardConfig {
		return GuardConfig{
			Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
			Callback:  CallbackConfig{Keyring: ring},
		}
	}
	auth := testAuthConfig()
	for name, edit := range map[string]func(*GuardConfig){
		"GuardConfig.Allowlist.Denied is set":  func(c *GuardConfig) { c.Allowlist.Denied = http.NotFoundHandler() },
		"GuardConfig.Callback.Rejected is set": func(c *GuardConfig) { c.Callback.Rejected = http.NotFoundHandler() },
		"GuardConfig.Auth.Rejected is set": func(c *GuardConfig) {
			a := auth
			a.Rejected = http.NotFoundHandler()
			c.Auth = &a
		},
		"GuardConfig.Allowlist.Logger is set": func(c *GuardConfig) { c.Allowlist.Logger = slog.Default() },
		"GuardConfig.Auth.Logger is set": func(c *GuardConfig) {
			a := auth
			a.Logger = slog.Default()
			c.Auth = &a
		},
		"GuardConfig.Callback.Observe is set": func(c *GuardConfig) { c.Callback.Observe = (&events{}).observe },
	} {
		cfg := base()
		edit(&cfg)
		_, err := NewGuard(cfg)
		assert.ErrorContains(t, err, name)
	}
}

// TestRejectedAnswersEveryRefusalOfTheGuard checks the one refusal hook:
// allowlist denials included, with the reason and its status.
func TestRejectedAnswersEveryRefusalOfTheGuard(t *testing.T) {
	var reasons []error
	auth := testAuthConfig()
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		RateLimit: &RateLimitConfig{Rate: 1, Burst: 1},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
		Auth:      &auth,
		Rejected: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reasons = append(reasons, Reason(r))
			http.NotFound(w, r) // hides the endpoint from whoever probes it
		}),
	})
	require.NoError(t, err)
	h := g.Handler(&recorder{})
	send := func(addr, authorization string, body []byte) int {
		r := post(body, "")
		r.RemoteAddr = addr
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		return serve(h, r).Code
	}
	bearer := "Bearer " + bearerToken
	assert.Equal(t, 404, send("203.0.113.9:1", bearer, signedBody(t, productionKey, 0)))
	assert.Equal(t, 404, send("52.213.46.74:1", "", signedBody(t, productionKey, 0)))
	assert.Equal(t, 404, send("52.213.46.74:1", bearer, []byte(`{}`)))
	assert.Equal(t, 404, send("52.213.46.74:1", bearer, []byte(`{}`)))
	require.Len(t, reasons, 4)
	for i, want := range []struct {
		err    error
		status int
	}{{allowlist.ErrNotAllowed, 403}, {ErrMissingCredentials, 401}, {ErrMalformedCallback, 400}, {ErrRateLimited, 429}} {
		assert.True(t, errors.Is(reasons[i], want.err), "reason %d: %v", i, reasons[i])
		assert.Equal(t, want.status, StatusCode(reasons[i]), "reason %d", i)
	}
	assert.True(t, errors.Is(reasons[0], allowlist.ErrDenied))
}

func TestZeroValuesRefuse(t *testing.T) {
	for name, h := range map[string]http.Handler{
		"CallbackVerifier": (&CallbackVerifier{}).Handler(&recorder{}),
		"Guard":            (&Guard{}).Handler(&recorder{}),
		"RateLimiter":      (&RateLimiter{}).Handler(&recorder{}),
	} {
		r := post(signedBody(t, productionKey, 0), "")
		r.RemoteAddr = "52.213.46.74:1"
		var w *httptest.ResponseRecorder
		require.NotPanics(t, func() { w = serve(h, r) }, name)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, name)
	}
	_, err := (&CallbackVerifier{}).Verify(signedBody(t, productionKey, 0))
	assert.ErrorIs(t, err, ErrNotConfigured)
	_, ok := (&RateLimiter{}).Allow(netipAddr("52.213.46.74"))
	assert.False(t, ok, "the zero RateLimiter admits nothing")
}

func TestMaxBodyBytesIsBounded(t *testing.T) {
	ring := testKeyring(t)
	for _, n := range []int64{MaxBodyBytesLimit + 1, math.MaxInt64} {
		_, err := NewCallbackVerifier(CallbackConfig{Keyring: ring, MaxBodyBytes: n})
		assert.EqualError(t, err, fmt.Sprintf("middleware: CallbackConfig.MaxBodyBytes %d is over MaxBodyBytesLimit (%d)", n, MaxBodyBytesLimit))
	}
	v := newVerifier(t, CallbackConfig{MaxBodyBytes: MaxBodyBytesLimit})
	assert.Equal(t, 200, serve(v.Handler(&recorder{}), post(signedBody(t, productionKey, 0), "")).Code,
		"the largest limit works: nothing overflows")
}

func TestAFloodOfRefusalsWritesABoundedLog(t *testing.T) {
	var logs strings.Builder
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		RateLimit: &RateLimitConfig{Rate: 1, Burst: 1},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
		Logger:    jsonLogger(&logs),
	})
	require.NoError(t, err)
	h := g.Handler(&recorder{})
	for i := 0; i < 5000; i++ {
		r := post([]byte(`{"FullName":"`+strings.Repeat("A", 500)+`"}`), "")
		r.RemoteAddr = "203.0.113.9:1" // an attacker on the internet: 403
		r.Header.Set("X-Forwarded-For", strings.Repeat("6.6.6.6, ", 100))
		serve(h, r)
		r = post([]byte(`{}`), "")
		r.RemoteAddr = "52.213.46.74:1" // Smile ID's address: 400, then 429
		serve(h, r)
	}
	refusals := strings.Count(logs.String(), `"msg":"allowlist: request denied"`) +
		strings.Count(logs.String(), `"msg":"smileguard: callback rejected"`)
	assert.Equal(t, 2, refusals, "the first refusal of each address, the rest counted:\n%s", logs.String())
	assert.Less(t, logs.Len(), 2000)
}

func netipAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
