package middleware

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
)

// loopbackSet is a set of the loopback addresses, bound to the built-in
// set's environment if name is "production" or "sandbox".
func loopbackSet(t *testing.T, name string) allowlist.Set {
	s, err := allowlist.ParseSet(name, "127.0.0.1", "::1")
	require.NoError(t, err)
	switch name {
	case allowlist.SmileIDProduction.Name:
		s.Environment = allowlist.SmileIDProduction.Environment
	case allowlist.SmileIDSandbox.Name:
		s.Environment = allowlist.SmileIDSandbox.Environment
	}
	return s
}

// newServer serves h on loopback until the test ends.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestNewGuardValidatesEverything(t *testing.T) {
	ring := testKeyring(t)
	good := GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  CallbackConfig{Keyring: ring},
	}
	_, err := NewGuard(good)
	require.NoError(t, err)

	tests := []struct {
		name   string
		mutate func(*GuardConfig)
		want   string
	}{
		{"allowlist allowing nothing", func(c *GuardConfig) { c.Allowlist.Allow = nil }, "allowlist: "},
		{"bad rate", func(c *GuardConfig) { c.RateLimit = &RateLimitConfig{Rate: 0, Burst: 1} }, "RateLimitConfig.Rate"},
		{"no keyring", func(c *GuardConfig) { c.Callback.Keyring = nil }, "CallbackConfig.Keyring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			g, err := NewGuard(cfg)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestGuardOrder checks that each layer answers before the next: the
// allowlist before the rate limit, the rate limit before the verifier.
func TestGuardOrder(t *testing.T) {
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		RateLimit: &RateLimitConfig{Rate: 1, Burst: 2},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
	})
	require.NoError(t, err)
	next := &recorder{}
	h := g.Handler(next)
	from := func(peer string, r *http.Request) *http.Request {
		r.RemoteAddr = peer + ":40000"
		return r
	}
	valid := signedBody(t, productionKey, 0)
	assert.Equal(t, 403, serve(h, from("203.0.113.9", post(valid, ""))).Code, "a stranger is refused first")
	for i := 0; i < 5; i++ {
		assert.Equal(t, 403, serve(h, from("203.0.113.9", post(valid, ""))).Code, "strangers never spend Smile ID's tokens")
	}
	assert.Equal(t, 405, serve(h, from("52.213.46.74", httptest.NewRequest(http.MethodGet, "/", nil))).Code)
	assert.Equal(t, 200, serve(h, from("52.213.46.74", post(valid, ""))).Code)
	w := serve(h, from("52.213.46.74", httptest.NewRequest(http.MethodGet, "/", nil)))
	assert.Equal(t, 429, w.Code, "over the limit is answered before the method is looked at")
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, 401, serve(h, from("34.240.137.52", post(signedBody(t, sandboxKey, 0), ""))).Code,
		"a sandbox key from a production address is refused")
	assert.Equal(t, 1, next.count())
}

func TestGuardSharesItsLogger(t *testing.T) {
	var logs strings.Builder
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
		Logger:    jsonLogger(&logs),
	})
	require.NoError(t, err)
	h := g.Handler(&recorder{})
	r := post(signedBody(t, productionKey, 0), "")
	r.RemoteAddr = "203.0.113.9:1"
	serve(h, r)
	r = post(signedBody(t, productionKey, 0), "")
	r.RemoteAddr = "52.213.46.74:1"
	serve(h, r)
	assert.Contains(t, logs.String(), `"level":"WARN"`, "the allowlist logs its denial")
	assert.Contains(t, logs.String(), "smileguard: callback accepted")
	assert.Contains(t, logs.String(), `"client_ip":"52.213.46.74"`)
	assert.NotNil(t, g.Verifier())

	// UpdateAllowlist changes what the guard consults.
	require.NoError(t, g.UpdateAllowlist(allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDSandbox}}))
	r = post(signedBody(t, productionKey, 0), "")
	r.RemoteAddr = "52.213.46.74:1"
	assert.Equal(t, 403, serve(h, r).Code, "a production address, after an update to sandbox only")
}

// failingLimiter is a shared rate limit that cannot be reached.
type failingLimiter struct{}

func (failingLimiter) Take(context.Context, netip.Addr) (bool, time.Duration, error) {
	return false, 0, errors.New("connection refused")
}

func TestGuardAnswersRateLimitRefusalsThroughRejected(t *testing.T) {
	var reasons []error
	rejected := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reasons = append(reasons, Reason(r))
		w.WriteHeader(http.StatusNotFound) // hides the endpoint
	})
	guard := func(rate *RateLimitConfig, limiter ClientLimiter) http.Handler {
		g, err := NewGuard(GuardConfig{
			Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
			RateLimit: rate,
			Limiter:   limiter,
			Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
			Rejected:  rejected,
		})
		require.NoError(t, err)
		return g.Handler(&recorder{})
	}
	from := func(r *http.Request) *http.Request { r.RemoteAddr = "52.213.46.74:1"; return r }

	h := guard(&RateLimitConfig{Rate: 1, Burst: 1}, nil)
	assert.Equal(t, 200, serve(h, from(post(signedBody(t, productionKey, 0), ""))).Code)
	w := serve(h, from(post(signedBody(t, productionKey, 0), "")))
	assert.Equal(t, http.StatusNotFound, w.Code, "over the limit")
	assert.Equal(t, "1", w.Header().Get("Retry-After"), "set before Rejected runs")

	h = guard(nil, failingLimiter{})
	assert.Equal(t, http.StatusNotFound, serve(h, from(post(signedBody(t, productionKey, 0), ""))).Code, "limiter down")

	require.Len(t, reasons, 2)
	assert.ErrorIs(t, reasons[0], ErrRateLimited)
	assert.ErrorIs(t, reasons[1], ErrLimiterUnavailable)
}

func TestRefusalsLogABoundedMethod(t *testing.T) {
	var logs strings.Builder
	h := newVerifier(t, CallbackConfig{Logger: jsonLogger(&logs)}).Handler(&recorder{})
	r := post(signedBody(t, productionKey, 0), "")
	r.Method = strings.Repeat("X", 100_000)
	assert.Equal(t, http.StatusMethodNotAllowed, serve(h, r).Code)
	assert.Contains(t, logs.String(), `"method":"`+strings.Repeat("X", maxLoggedMethod)+`..."`)
	assert.Less(t, logs.Len(), 1000)
}

// rawPost writes a request by hand, as a hostile or broken client would, and
// returns the status line's code.
func rawPost(t *testing.T, addr, headers, body string, closeWrite bool) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(conn, "POST /smileid/callback HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n"+headers+"\r\n"+body)
	require.NoError(t, err)
	if closeWrite {
		require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestGuardOverTheWire runs the guard in a real server on loopback and
// talks to it over TCP, lying lengths and chunked bodies included.
func TestGuardOverTheWire(t *testing.T) {
	next := &recorder{}
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{loopbackSet(t, "production")}},
		Callback:  CallbackConfig{Keyring: testKeyring(t), MaxBodyBytes: 4096, Now: func() time.Time { return testNow }},
	})
	require.NoError(t, err)
	srv := httptest.NewServer(g.Handler(next))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	valid := string(signedBody(t, productionKey, 0))
	chunked := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(s), s) }

	assert.Equal(t, 200, rawPost(t, addr, fmt.Sprintf("Content-Length: %d\r\n", len(valid)), valid, false))
	assert.Equal(t, 1, next.count())
	assert.Equal(t, valid, string(next.bodies[0]))

	other := string(signedBody(t, productionKey, time.Second))
	assert.Equal(t, 400, rawPost(t, addr, fmt.Sprintf("Content-Length: %d\r\n", len(other)+20), other, true), "length too large: the body ends early")
	assert.Equal(t, 200, rawPost(t, addr, "Transfer-Encoding: chunked\r\n", chunked(other), false), "chunked without length")
	assert.Equal(t, other, string(next.bodies[1]))
	big := `{"pad":"` + strings.Repeat("x", 5000) + `"}`
	assert.Equal(t, 413, rawPost(t, addr, "Transfer-Encoding: chunked\r\n", chunked(big), false), "chunked over the limit")
	assert.Equal(t, 413, rawPost(t, addr, "Content-Length: 5000\r\n", "", true), "declared over the limit")

	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(valid))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "the retry is acknowledged")
	assert.Equal(t, 2, next.count())
}
