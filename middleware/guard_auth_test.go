package middleware

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
)

// authGuard returns a guard at testNow for Smile ID's production addresses
// with a frozen rate limit of burst requests per client, and cfg as its
// credential check (nil: none).
func authGuard(t *testing.T, auth *AuthConfig, burst int) *Guard {
	t.Helper()
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		RateLimit: &RateLimitConfig{Rate: 1, Burst: burst, Now: func() time.Time { return testNow }},
		Callback:  CallbackConfig{Keyring: testKeyring(t), MaxBodyBytes: 4096, Now: func() time.Time { return testNow }},
		Auth:      auth,
	})
	require.NoError(t, err)
	return g
}

// answer is what the guard told a client.
type answer struct {
	Status     int
	Allow      string
	RetryAfter string
	Challenges []string
	Body       string
}

func answerOf(w *httptest.ResponseRecorder) answer {
	return answer{w.Code, w.Header().Get("Allow"), w.Header().Get("Retry-After"), w.Header().Values("WWW-Authenticate"), w.Body.String()}
}

// TestGuardAuthChangesNoOtherAnswer runs the guard's answer table twice,
// without a credential check and with one the requests pass, and expects
// the same answers, in order, with the next handler called as often.
func TestGuardAuthChangesNoOtherAnswer(t *testing.T) {
	const smileID, stranger = "52.213.46.74", "203.0.113.9"
	type request struct {
		name, peer, method, contentType string
		body                            []byte
	}
	requests := []struct {
		request
		status int
	}{
		{request{"stranger", stranger, "POST", "application/json", signedBody(t, productionKey, 0)}, 403},
		{request{"GET", smileID, "GET", "", nil}, 405},
		{request{"not JSON", smileID, "POST", "text/plain", signedBody(t, productionKey, 0)}, 415},
		{request{"too large", smileID, "POST", "application/json", []byte(`{"pad":"` + strings.Repeat("x", 5000) + `"}`)}, 413},
		{request{"not an object", smileID, "POST", "application/json", []byte(`[]`)}, 400},
		{request{"no signature", smileID, "POST", "application/json", []byte(`{"timestamp":"2026-11-21T10:00:00.000Z"}`)}, 400},
		{request{"bad timestamp", smileID, "POST", "application/json", []byte(`{"signature":"x","timestamp":"yesterday"}`)}, 400},
		{request{"stale", smileID, "POST", "application/json", signedBody(t, productionKey, -time.Hour)}, 401},
		{request{"unknown key", smileID, "POST", "application/json", signedBody(t, strangerKey, 0)}, 401},
		{request{"sandbox key from production", smileID, "POST", "application/json", signedBody(t, sandboxKey, 0)}, 401},
		{request{"valid", smileID, "POST", "application/json", signedBody(t, productionKey, 0)}, 200},
		{request{"retry", smileID, "POST", "application/json", signedBody(t, productionKey, 0)}, 200},
		{request{"pair with another body", smileID, "POST", "application/json", signedBody(t, productionKey, 0, `{"ResultCode":"0000"}`)}, 401},
		{request{"over the limit", smileID, "POST", "application/json", signedBody(t, productionKey, time.Second)}, 429},
	}
	credentials := []string{basic(basicUser + ":" + basicPassword), "Bearer " + bearerToken, basic(basicUser + ":" + oldPassword)}
	run := func(auth *AuthConfig) ([]answer, int) {
		next := &recorder{}
		h := authGuard(t, auth, 12).Handler(next) // 12: every request from Smile ID but the last
		var answers []answer
		for i, rq := range requests {
			r := httptest.NewRequest(rq.method, "/smileid/callback", bytes.NewReader(rq.body))
			r.RemoteAddr = rq.peer + ":40000"
			if rq.contentType != "" {
				r.Header.Set("Content-Type", rq.contentType)
			}
			if auth != nil {
				r.Header.Set("Authorization", credentials[i%len(credentials)])
			}
			answers = append(answers, answerOf(serve(h, r)))
		}
		return answers, next.count()
	}

	off, calledOff := run(nil)
	cfg := testAuthConfig()
	on, calledOn := run(&cfg)
	for i, rq := range requests {
		assert.Equal(t, rq.status, off[i].Status, rq.name)
		assert.Equal(t, off[i], on[i], rq.name)
	}
	assert.Equal(t, "POST", on[1].Allow)
	assert.Equal(t, "1", on[len(on)-1].RetryAfter)
	assert.Equal(t, 1, calledOff)
	assert.Equal(t, calledOff, calledOn)
}

// countingBody is a request body that counts its reads.
type countingBody struct {
	*bytes.Reader
	reads *int32
}

func (b countingBody) Read(p []byte) (int, error) {
	atomic.AddInt32(b.reads, 1)
	return b.Reader.Read(p)
}

func (countingBody) Close() error { return nil }

// TestGuardAuthOrder checks where the credential check sits: after the
// allowlist, before the rate limit and before the body is read.
func TestGuardAuthOrder(t *testing.T) {
	cfg := testAuthConfig()
	next := &recorder{}
	h := authGuard(t, &cfg, 1).Handler(next)
	send := func(peer, authorization string, body []byte) (int, int32) {
		var reads int32
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
		r.Body = countingBody{bytes.NewReader(body), &reads}
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/json")
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		r.RemoteAddr = peer + ":40000"
		return serve(h, r).Code, reads
	}
	valid := signedBody(t, productionKey, 0)
	good := "Bearer " + bearerToken

	code, reads := send("203.0.113.9", "", valid)
	assert.Equal(t, 403, code, "a stranger is refused by the allowlist before credentials are asked for")
	assert.Zero(t, reads)
	for i := 0; i < 5; i++ {
		code, reads = send("52.213.46.74", "Bearer wrong-token", valid)
		assert.Equal(t, 401, code)
		assert.Zero(t, reads, "no body is read without credentials")
		code, _ = send("52.213.46.74", "Basic !!!!", valid)
		assert.Equal(t, 400, code)
	}
	code, reads = send("52.213.46.74", good, valid)
	assert.Equal(t, 200, code, "refused requests spent none of the client's single token")
	assert.NotZero(t, reads)
	code, _ = send("52.213.46.74", good, signedBody(t, productionKey, time.Second))
	assert.Equal(t, 429, code, "the rate limit applies to authenticated requests")
	assert.Equal(t, 1, next.count())
}

func TestGuardAuthIsOffByDefault(t *testing.T) {
	g := authGuard(t, nil, 10)
	assert.Nil(t, g.Auth())
	next := &recorder{}
	h := g.Handler(next)
	for i, authorization := range []string{"", "Basic !!!!", "Bearer wrong"} {
		r := post(signedBody(t, productionKey, time.Duration(i)*time.Second), "")
		r.RemoteAddr = "52.213.46.74:1"
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		assert.Equal(t, 200, serve(h, r).Code, "any Authorization header is ignored")
	}
	assert.Equal(t, 3, next.count())
}

func TestGuardAuthRefusalsGoThroughTheGuardsLoggerAndRejected(t *testing.T) {
	var logs strings.Builder
	var reasons []error
	cfg := testAuthConfig()
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
		Rejected: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reasons = append(reasons, Reason(r))
			w.WriteHeader(StatusCode(Reason(r)))
		}),
		Auth:   &cfg,
		Logger: jsonLogger(&logs),
	})
	require.NoError(t, err)
	require.NotNil(t, g.Auth())
	r := post(signedBody(t, productionKey, 0), "")
	r.RemoteAddr = "52.213.46.74:1"
	w := serve(g.Handler(&recorder{}), r)
	assert.Equal(t, 401, w.Code)
	assert.Len(t, w.Header().Values("WWW-Authenticate"), 2)
	require.Len(t, reasons, 1)
	assert.ErrorIs(t, reasons[0], ErrMissingCredentials)
	assert.Contains(t, logs.String(), `"msg":"smileguard: callback rejected","reason":"middleware: credentials missing","status":401,"client_ip":"52.213.46.74"`)
}

func TestNewGuardRefusesBadAuth(t *testing.T) {
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  CallbackConfig{Keyring: testKeyring(t)},
		Auth:      &AuthConfig{Bearer: []BearerToken{"has space"}},
	})
	require.Error(t, err)
	assert.Nil(t, g)
	assert.Equal(t, "middleware: AuthConfig.Bearer[0] has a character other than visible ASCII", err.Error())
}

// TestGuardAuthOverTheWire sends what a hostile client can put on the
// wire: repeated and empty Authorization headers.
func TestGuardAuthOverTheWire(t *testing.T) {
	cfg := testAuthConfig()
	next := &recorder{}
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{loopbackSet(t, "production")}},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
		Auth:      &cfg,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(g.Handler(next))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	valid := string(signedBody(t, productionKey, 0))
	length := fmt.Sprintf("Content-Length: %d\r\n", len(valid))

	assert.Equal(t, 400, rawPost(t, addr, length+"Authorization: Bearer "+bearerToken+"\r\nAuthorization: Bearer "+bearerToken+"\r\n", valid, false))
	assert.Equal(t, 400, rawPost(t, addr, length+"Authorization:\r\n", valid, false))
	assert.Equal(t, 400, rawPost(t, addr, length+"Authorization: Bearer   \r\n", valid, false), "trailing spaces are trimmed: no token")
	assert.Equal(t, 401, rawPost(t, addr, length+"authorization: bearer wrong\r\n", valid, false))
	assert.Equal(t, 0, next.count())
	assert.Equal(t, 200, rawPost(t, addr, length+"authorization: bearer "+bearerToken+"  \r\n", valid, false), "header name and scheme in any case")
	assert.Equal(t, 1, next.count())
}
