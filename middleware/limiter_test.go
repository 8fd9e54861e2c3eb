package middleware

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
)

// stubLimiter answers what it is told and remembers whom it was asked about.
type stubLimiter struct {
	ok    bool
	wait  time.Duration
	err   error
	asked []netip.Addr
}

func (s *stubLimiter) Take(_ context.Context, client netip.Addr) (bool, time.Duration, error) {
	s.asked = append(s.asked, client)
	return s.ok, s.wait, s.err
}

func TestLimitHandler(t *testing.T) {
	tests := []struct {
		name       string
		limiter    stubLimiter
		status     int
		retryAfter string
		logged     string
	}{
		{"admitted", stubLimiter{ok: true}, 200, "", ""},
		{"over the limit", stubLimiter{wait: 1500 * time.Millisecond}, 429, "2", ""},
		{"limiter down fails closed", stubLimiter{ok: true, err: errors.New("dial tcp 127.0.0.1:6379: connection refused")}, 503, "", "rate limiter unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			next := &recorder{}
			h := LimitHandler(&tt.limiter, jsonLogger(&logs), next)
			r := post(nil, "")
			r.RemoteAddr = "52.213.46.74:1234"
			w := serve(h, r)
			assert.Equal(t, tt.status, w.Code)
			assert.Equal(t, tt.status == 200, next.count() == 1)
			assert.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			assert.Equal(t, []netip.Addr{netip.MustParseAddr("52.213.46.74")}, tt.limiter.asked)
			if tt.logged != "" {
				assert.Contains(t, logs.String(), tt.logged)
				assert.Contains(t, logs.String(), `"level":"ERROR"`)
				assert.NotContains(t, w.Body.String(), "6379", "the limiter's own error stays in the log")
			}
		})
	}
}

func TestGuardWithASharedLimiter(t *testing.T) {
	shared := &stubLimiter{wait: time.Second}
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Limiter:   shared,
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
	})
	require.NoError(t, err)
	r := post(signedBody(t, productionKey, 0), "")
	r.RemoteAddr = "52.213.46.74:1"
	assert.Equal(t, http.StatusTooManyRequests, serve(g.Handler(&recorder{}), r).Code)

	_, err = NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Limiter:   shared,
		RateLimit: &RateLimitConfig{Rate: 1, Burst: 1},
		Callback:  CallbackConfig{Keyring: testKeyring(t)},
	})
	require.ErrorContains(t, err, "both set")
}
