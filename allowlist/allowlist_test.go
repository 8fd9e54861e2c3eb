package allowlist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/refusallog"
	"github.com/smileguard/smileguard/signer"
)

// newRequest returns a request from remoteAddr with header lines given as
// name, value pairs.
func newRequest(remoteAddr string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/callback", strings.NewReader("{}"))
	r.RemoteAddr = remoteAddr
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// echoDecision is a next handler that writes the Decision it finds.
var echoDecision = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	d, ok := FromContext(r.Context())
	if !ok {
		http.Error(w, "no decision in context", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "%s %s", d.ClientIP, d.Set)
})

// loopback trusts and allows the addresses an httptest.Server client uses.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func TestHandlerEndToEnd(t *testing.T) {
	var logs bytes.Buffer
	a, err := New(Config{
		Allow:          []Set{SmileIDProduction, SmileIDSandbox},
		TrustedProxies: loopback,
		Header:         "X-Forwarded-For",
		Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler(echoDecision))
	defer srv.Close()

	tests := []struct {
		name       string
		header     http.Header
		wantStatus int
		wantBody   string
	}{
		{"Smile ID behind the trusted proxy is admitted", http.Header{"X-Forwarded-For": {"6.6.6.6, 52.213.46.74"}}, http.StatusOK, "52.213.46.74 production"},
		{"sandbox is admitted with its set name", http.Header{"X-Forwarded-For": {"99.81.237.141"}}, http.StatusOK, "99.81.237.141 sandbox"},
		{"attacker behind the trusted proxy is refused", http.Header{"X-Forwarded-For": {"52.213.46.74, 6.6.6.6"}}, http.StatusForbidden, "allowlist: forbidden\n"},
		{"underscore variant is not the configured header", http.Header{"X_Forwarded_For": {"52.213.46.74"}}, http.StatusForbidden, "allowlist: forbidden\n"},
		{"no header from the trusted proxy is refused", nil, http.StatusForbidden, "allowlist: forbidden\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
			require.NoError(t, err)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantBody, string(body))
			if tt.wantStatus == http.StatusForbidden {
				assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
				assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			}
		})
	}
	// The refusals without a client IP are counted under the proxy's
	// address: the first is logged, the second is sampled away.
	assert.Equal(t, 2, strings.Count(logs.String(), `"level":"WARN"`),
		"one Warn record per refusing address and minute, none for admitted requests:\n%s", logs.String())
	assert.Contains(t, logs.String(), `"client_ip":"6.6.6.6"`)
}

func TestHandlerDoesNotCallNextOnDenial(t *testing.T) {
	a, err := New(Config{Allow: []Set{SmileIDProduction}})
	require.NoError(t, err)
	called := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	w := httptest.NewRecorder()
	a.Handler(next).ServeHTTP(w, newRequest("6.6.6.6:1"))
	assert.False(t, called)
	assert.Equal(t, http.StatusForbidden, w.Code)
}

func TestCustomDeniedLearnsTheReason(t *testing.T) {
	denied := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := Reason(r)
		_, inContext := FromContext(r.Context())
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "%v %v %v", errors.Is(err, ErrDenied), err, inContext)
	})
	a, err := New(Config{
		Allow:          []Set{SmileIDProduction},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Header:         "X-Forwarded-For",
		Denied:         denied,
	})
	require.NoError(t, err)
	h := a.Handler(echoDecision)

	for _, tt := range []struct {
		r    *http.Request
		want error
	}{
		{newRequest("6.6.6.6:1"), ErrNotAllowed},
		{newRequest("10.0.0.7:1", "X-Forwarded-For", "unknown"), ErrBadHeader},
		{newRequest("10.0.0.7:1"), ErrNoHeader},
		{newRequest("@"), ErrBadPeer},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tt.r)
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, fmt.Sprintf("true %v false", tt.want), w.Body.String())
	}
	assert.NoError(t, Reason(newRequest("52.213.46.74:1")), "no reason outside a denial")
}

func TestDenialIsLoggedWithPeerHeaderAndReason(t *testing.T) {
	var logs bytes.Buffer
	a, err := New(Config{
		Allow:          []Set{SmileIDProduction},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Header:         "X-Forwarded-For",
		Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	require.NoError(t, err)
	long := strings.Repeat("1.1.1.1, ", 1<<17) + "6.6.6.6"
	h := a.Handler(echoDecision)
	h.ServeHTTP(httptest.NewRecorder(), newRequest("10.0.0.7:1", "X-Forwarded-For", "52.213.46.74, 6.6.6.6"))
	h.ServeHTTP(httptest.NewRecorder(), newRequest("10.0.0.7:2", "X-Forwarded-For", long, "X-Forwarded-For", "10.0.0.1"))
	h.ServeHTTP(httptest.NewRecorder(), newRequest("10.0.0.7:3", "X-Forwarded-For", "52.213.46.74"))

	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		records = append(records, rec)
	}
	require.Len(t, records, 2, "the admitted request is not logged")
	assert.Equal(t, map[string]any{
		"time": records[0]["time"], "level": "WARN", "msg": "allowlist: request denied",
		"peer": "10.0.0.7:1", "header": "52.213.46.74, 6.6.6.6",
		"reason": ErrNotAllowed.Error(), "client_ip": "6.6.6.6",
	}, records[0])
	assert.Equal(t, ErrTooManyHops.Error(), records[1]["reason"])
	assert.Equal(t, long[:refusallog.MaxLoggedBytes]+"...", records[1]["header"], "the header is truncated")
	assert.NotContains(t, records[1], "client_ip")
}

func TestDenialsFromOneAddressAreSampled(t *testing.T) {
	var logs bytes.Buffer
	a, err := New(Config{Allow: []Set{SmileIDProduction}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	require.NoError(t, err)
	h := a.Handler(echoDecision)
	for i := 0; i < 1000; i++ {
		h.ServeHTTP(httptest.NewRecorder(), newRequest("203.0.113.9:1"))
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "\n"), "one record for a flood from one address within a minute")
	assert.Contains(t, logs.String(), `"client_ip":"203.0.113.9"`, "the record names the refused address")
}

func TestZeroAllowlistDeniesUntilUpdated(t *testing.T) {
	var a Allowlist
	_, err := a.Check(newRequest("52.213.46.74:1"))
	assert.ErrorIs(t, err, ErrDenied)
	w := httptest.NewRecorder()
	a.Handler(echoDecision).ServeHTTP(w, newRequest("52.213.46.74:1"))
	assert.Equal(t, http.StatusForbidden, w.Code)

	require.NoError(t, a.Update(Config{Allow: []Set{SmileIDProduction}}))
	d, err := a.Check(newRequest("52.213.46.74:1"))
	require.NoError(t, err)
	assert.Equal(t, "production", d.Set)
}

func TestUpdateRejectsBadConfigAndKeepsTheOld(t *testing.T) {
	a, err := New(Config{Allow: []Set{SmileIDProduction}})
	require.NoError(t, err)
	err = a.Update(Config{})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = a.Check(newRequest("52.213.46.74:1"))
	assert.NoError(t, err, "the old configuration still applies")

	require.NoError(t, a.Update(Config{Allow: []Set{SmileIDSandbox}}))
	_, err = a.Check(newRequest("52.213.46.74:1"))
	assert.ErrorIs(t, err, ErrNotAllowed, "the new configuration applies")
}

func TestRequestInFlightKeepsItsConfiguration(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slowDenied := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "old")
	})
	a, err := New(Config{Allow: []Set{SmileIDSandbox}, Denied: slowDenied})
	require.NoError(t, err)

	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Handler(echoDecision).ServeHTTP(w, newRequest("52.213.46.74:1"))
	}()
	<-entered
	require.NoError(t, a.Update(Config{Allow: []Set{SmileIDProduction}}))
	close(release)
	<-done
	assert.Equal(t, "old", w.Body.String())

	w = httptest.NewRecorder()
	a.Handler(echoDecision).ServeHTTP(w, newRequest("52.213.46.74:1"))
	assert.Equal(t, "52.213.46.74 production", w.Body.String(), "the next request sees the new configuration")
}

// TestUpdateWhileServing swaps two configurations that read different
// headers and allow different sets while requests run; run it with -race.
// Every request carries both headers, so each configuration admits it, and
// only a torn mix of the two would refuse it.
func TestUpdateWhileServing(t *testing.T) {
	lbs := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	configs := []Config{
		{Allow: []Set{SmileIDProduction}, TrustedProxies: lbs, Header: "X-Forwarded-For"},
		{Allow: []Set{SmileIDSandbox}, TrustedProxies: lbs, Header: "X-Real-IP"},
	}
	a, err := New(configs[0])
	require.NoError(t, err)
	h := a.Handler(echoDecision)

	var stop atomic.Bool
	var updates sync.WaitGroup
	updates.Add(1)
	go func() {
		defer updates.Done()
		for i := 0; !stop.Load(); i++ {
			if err := a.Update(configs[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	var workers sync.WaitGroup
	var seen [2]atomic.Int64
	for range 8 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for range 500 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, newRequest("10.0.0.7:1", "X-Forwarded-For", "52.213.46.74", "X-Real-IP", "99.81.237.141"))
				switch body := w.Body.String(); body {
				case "52.213.46.74 production":
					seen[0].Add(1)
				case "99.81.237.141 sandbox":
					seen[1].Add(1)
				default:
					t.Errorf("torn configuration: %d %q", w.Code, body)
					return
				}
			}
		}()
	}
	workers.Wait()
	stop.Store(true)
	updates.Wait()
	assert.Equal(t, int64(8*500), seen[0].Load()+seen[1].Load())
}

func TestFromContext(t *testing.T) {
	_, ok := FromContext(newRequest("").Context())
	assert.False(t, ok, "no decision in a plain request")

	a, err := New(Config{Allow: []Set{SmileIDProduction}})
	require.NoError(t, err)
	var got Decision
	a.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, ok = FromContext(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), newRequest("52.213.46.74:443"))
	assert.True(t, ok)
	assert.Equal(t, Decision{ClientIP: netip.MustParseAddr("52.213.46.74"), Set: "production", Environment: signer.Production}, got)

	// A Decision placed under any key code outside this module can make
	// is not one.
	type decisionKey struct{}
	forged := context.WithValue(context.Background(), decisionKey{}, Decision{Set: "production"})
	_, ok = FromContext(forged)
	assert.False(t, ok, "a forged decision is believed")
}
