package middleware

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/signer"
)

// events collects what an Observer is told.
type events struct {
	mu  sync.Mutex
	got []Event
}

func (e *events) observe(_ context.Context, ev Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

func (e *events) last(t *testing.T) Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	require.NotEmpty(t, e.got)
	return e.got[len(e.got)-1]
}

func TestObserverIsToldOfEveryDecision(t *testing.T) {
	var seen events
	auth := testAuthConfig()
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		RateLimit: &RateLimitConfig{Rate: 1, Burst: 3},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
		Auth:      &auth,
		Observe:   seen.observe,
	})
	require.NoError(t, err)
	next := &recorder{}
	h := g.Handler(next)
	from := func(addr string, r *http.Request) *http.Request {
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer "+bearerToken)
		return r
	}
	valid := signedBody(t, productionKey, 0)

	steps := []struct {
		name string
		req  *http.Request
		want Event
	}{
		{"accepted", from("52.213.46.74:1", post(valid, "")),
			Event{Outcome: Accepted, Reason: ReasonAccepted, Status: 200, Environment: signer.Production,
				KeyID: "production-2026", Format: BodySigned, Set: "production", BodyBytes: len(valid)}},
		{"acknowledged", from("52.213.46.74:1", post(valid, "")),
			Event{Outcome: Acknowledged, Reason: ReasonAlreadyHandled, Status: 200, Environment: signer.Production,
				KeyID: "production-2026", Format: BodySigned, Set: "production", BodyBytes: len(valid)}},
		{"forbidden", from("203.0.113.9:1", post(valid, "")),
			Event{Outcome: Refused, Reason: ReasonForbidden, Status: 403}},
		{"replayed with another body", from("52.213.46.74:1", headerSigned(productionKey, 0, "", v3Body, "")),
			Event{Outcome: Refused, Reason: ReasonReplayed, Status: 401, Environment: signer.Production,
				KeyID: "production-2026", Format: HeaderSigned, Set: "production", BodyBytes: len(v3Body)}},
		{"rate limited", from("52.213.46.74:1", post(valid, "")),
			Event{Outcome: Refused, Reason: ReasonRateLimited, Status: 429, Set: "production"}},
	}
	for _, st := range steps {
		w := serve(h, st.req)
		got := seen.last(t)
		assert.Equal(t, st.want.Status, w.Code, st.name)
		assert.Greater(t, got.Duration, time.Duration(0), st.name)
		got.Duration = 0
		assert.Equal(t, st.want, got, st.name)
	}

	r := post(valid, "")
	r.RemoteAddr = "34.240.137.52:1"
	serve(h, r)
	assert.Equal(t, Event{Outcome: Refused, Reason: ReasonCredentials, Status: 401, Set: "production"},
		withoutDuration(seen.last(t)), "no credentials")

	seen.mu.Lock()
	n := len(seen.got)
	seen.mu.Unlock()
	assert.Equal(t, len(steps)+1, n, "one event per request")
}

func withoutDuration(e Event) Event {
	e.Duration = 0
	return e
}

func TestObserverSeesTheStatusAnswered(t *testing.T) {
	var seen events
	next := &recorder{status: http.StatusInternalServerError}
	h := newVerifier(t, CallbackConfig{Observe: seen.observe, Rejected: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound) // hides the endpoint
	})}).Handler(next)

	serve(h, post(signedBody(t, productionKey, 0), ""))
	got := seen.last(t)
	assert.Equal(t, Accepted, got.Outcome)
	assert.Equal(t, 500, got.Status, "the handler's answer: not handled")

	serve(h, post([]byte(`{}`), ""))
	got = seen.last(t)
	assert.Equal(t, Refused, got.Outcome)
	assert.Equal(t, ReasonMalformed, got.Reason)
	assert.Equal(t, http.StatusNotFound, got.Status, "what Rejected answered")
}

func TestObserverIsToldOfAPanic(t *testing.T) {
	var seen events
	h := newVerifier(t, CallbackConfig{Observe: seen.observe}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("handler bug")
	}))
	assert.Panics(t, func() { serve(h, post(signedBody(t, productionKey, 0), "")) })
	got := seen.last(t)
	assert.Equal(t, Accepted, got.Outcome)
	assert.Equal(t, 500, got.Status)
}

// TestEventsHoldNoSecret fills an Event through every path and prints it:
// no API key, signature, body or client address.
func TestEventsHoldNoSecret(t *testing.T) {
	var seen events
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
		Observe:   seen.observe,
	})
	require.NoError(t, err)
	h := g.Handler(&recorder{})
	valid := signedBody(t, productionKey, 0)
	for _, r := range []*http.Request{post(valid, ""), post(valid, ""), headerSigned(productionKey, 0, "", v3Body, ""), post(valid, "")} {
		r.RemoteAddr = "52.213.46.74:1"
		serve(h, r)
	}
	r := post(valid, "")
	r.RemoteAddr = "203.0.113.9:1"
	serve(h, r)
	printed := fmt.Sprintf("%+v", seen.got)
	sig := signer.Sign(productionKey.APIKey, productionKey.PartnerID, signer.FormatTimestamp(testNow))
	for _, secret := range []string{productionKey.APIKey, sig[:12], "ADA LOVELACE", "job_01h", "52.213.46.74", "203.0.113.9"} {
		assert.NotContains(t, printed, secret)
	}
	assert.True(t, strings.Contains(printed, "production-2026"), "the key ID is there: %s", printed)
}
