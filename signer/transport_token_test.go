package signer

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// testClock is a clock a test moves by hand.
type testClock struct{ nanos atomic.Int64 }

func newTestClock(at time.Time) *testClock {
	c := &testClock{}
	c.nanos.Store(at.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// v3Fixture is a fake Smile ID and a Transport pinned to it, sharing a
// clock.
type v3Fixture struct {
	fake  *fakeSmileID
	clock *testClock
	tr    *Transport
}

func newV3Fixture(t *testing.T, configure func(f *fakeSmileID)) *v3Fixture {
	clock := newTestClock(transportTime)
	fake := newFakeSmileID(t, transportKey)
	fake.clock = clock.Now
	if configure != nil {
		configure(fake)
	}
	tr := &Transport{Base: fake.Client().Transport, Key: transportKey, Hosts: []string{hostOf(t, fake.Server)}, Now: clock.Now}
	return &v3Fixture{fake: fake, clock: clock, tr: tr}
}

// call sends a v3 request through the fixture's Transport and returns its
// status.
func (x *v3Fixture) call(t *testing.T, method, path, body string) (int, error) {
	t.Helper()
	req, _ := newRequest(t, method, x.fake.URL+path, body)
	resp, err := x.tr.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// v3Calls returns the requests to v3 paths other than /v3/token.
func v3Calls(received []sentRequest) []sentRequest {
	var out []sentRequest
	for _, r := range received {
		if strings.HasPrefix(r.URL, "/v3/") && !strings.HasPrefix(r.URL, "/v3/token") {
			out = append(out, r)
		}
	}
	return out
}

func TestTransportV3FetchesOneTokenForManyCalls(t *testing.T) {
	x := newV3Fixture(t, nil)
	for i := 0; i < 5; i++ {
		status, err := x.call(t, http.MethodPost, "/v3/enhanced_kyc/sync", `{"id_number":"00000000000"}`)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status)
		status, err = x.call(t, http.MethodGet, "/v3/status/job_01", "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status)
	}
	assert.Equal(t, 1, x.fake.Fetches())

	received := x.fake.Received()
	require.Len(t, received, 11)
	token := received[0]
	assert.Equal(t, "/v3/token", token.URL)
	assert.Equal(t, http.MethodPost, token.Method)
	assert.Empty(t, token.Body, "no body")
	assert.Equal(t, []string{"85"}, token.Header.Values("SmileID-Partner-ID"), "without its leading zero")
	assert.Equal(t, []string{transportKey.APIKey}, token.Header.Values("SmileID-API-Key"))
	for _, r := range received[1:] {
		assert.Len(t, r.Header.Values("SmileID-Token"), 1, r.URL)
		for name := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "smileid-") {
				assert.Equal(t, "Smileid-Token", name, "no v2 header on %s", r.URL)
			}
		}
		assert.NotContains(t, string(r.Body), "signature", "no v1 body member")
		assert.NotContains(t, string(r.Body), "partner_id")
	}
	assert.Equal(t, `{"id_number":"00000000000"}`, string(received[1].Body), "the body as the caller wrote it")
}

func TestTransportV3RefreshesTheTokenInsideTheMargin(t *testing.T) {
	x := newV3Fixture(t, func(f *fakeSmileID) { f.tokenLifetime = 10 * time.Minute })
	call := func() {
		status, err := x.call(t, http.MethodGet, "/v3/status/job_01", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	call()
	assert.Equal(t, 1, x.fake.Fetches())
	x.clock.Advance(10*time.Minute - 61*time.Second)
	call()
	assert.Equal(t, 1, x.fake.Fetches(), "61 s before exp the token is kept")
	x.clock.Advance(2 * time.Second)
	call()
	assert.Equal(t, 2, x.fake.Fetches(), "59 s before exp a new one is fetched")
	call()
	assert.Equal(t, 2, x.fake.Fetches(), "and kept")
}

func TestTransportV3UsesAShortLivedTokenOnce(t *testing.T) {
	x := newV3Fixture(t, func(f *fakeSmileID) { f.tokenLifetime = 30 * time.Second })
	for i := 0; i < 3; i++ {
		status, err := x.call(t, http.MethodGet, "/v3/status/job_01", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	assert.Equal(t, 3, x.fake.Fetches(), "a token inside the margin already is not kept")
}

func TestTransportV3UsesATokenWithoutReadableExpOnce(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	for name, payload := range map[string]string{
		"not base64":       "!!!",
		"not JSON":         enc([]byte("exp=4102444800")),
		"no exp":           enc([]byte(`{"sub":"085"}`)),
		"exp a string":     enc([]byte(`{"exp":"tomorrow"}`)),
		"exp negative":     enc([]byte(`{"exp":-1}`)),
		"exp far too late": enc([]byte(`{"exp":1e300}`)),
	} {
		t.Run(name, func(t *testing.T) {
			x := newV3Fixture(t, func(f *fakeSmileID) { f.tokenPayload = payload })
			for i := 0; i < 3; i++ {
				status, err := x.call(t, http.MethodGet, "/v3/status/job_01", "")
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, status)
			}
			assert.Equal(t, 3, x.fake.Fetches())
		})
	}
}

func TestJWTExpiry(t *testing.T) {
	enc := func(s string) string { return "h." + base64.RawURLEncoding.EncodeToString([]byte(s)) + ".s" }
	tests := []struct {
		token string
		want  time.Time
		ok    bool
	}{
		{enc(`{"exp":1763719200}`), time.Unix(1763719200, 0), true},
		{enc(`{"exp":1763719200.5,"iat":1}`), time.Unix(1763719200, 5e8), true},
		{"h." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1763719200}`)) + ".s", time.Unix(1763719200, 0), true},
		{enc(`{"exp":0}`), time.Time{}, false},
		{enc(`{"exp":null}`), time.Time{}, false},
		{enc(`{"exp":1763719200}`)[:20], time.Time{}, false},
		{"no dots", time.Time{}, false},
		{"one.dot", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := jwtExpiry(tt.token)
		assert.Equal(t, tt.ok, ok, tt.token)
		assert.True(t, tt.want.Equal(got), "%s: %v", tt.token, got)
	}
}

func TestTransportV3RefreshesOnceAndResendsOnceAfterA401(t *testing.T) {
	tests := []struct {
		name, method, body string
		getBody            bool
		resent             bool
	}{
		{"no body", http.MethodGet, "", false, true},
		{"a body with GetBody", http.MethodPost, `{"job":1}`, true, true},
		{"a body without GetBody is not resent", http.MethodPost, `{"job":1}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newV3Fixture(t, nil)
			_, err := x.call(t, http.MethodGet, "/v3/status/job_01", "")
			require.NoError(t, err)
			x.fake.revoke() // Smile ID no longer takes the cached token

			req, _ := newRequest(t, tt.method, x.fake.URL+"/v3/aml/sync", tt.body)
			if !tt.getBody {
				req.GetBody = nil
			}
			resp, err := x.tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			calls := v3Calls(x.fake.Received())[1:] // the first call's aside
			if !tt.resent {
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				assert.Len(t, calls, 1)
				assert.Equal(t, 1, x.fake.Fetches())
				_, err := x.call(t, http.MethodGet, "/v3/status/job_01", "")
				require.NoError(t, err)
				assert.Equal(t, 2, x.fake.Fetches(), "the refused token was dropped")
				return
			}
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, 2, x.fake.Fetches(), "exactly one refresh")
			require.Len(t, calls, 2, "exactly one resend")
			assert.NotEqual(t, calls[0].Header.Get("SmileID-Token"), calls[1].Header.Get("SmileID-Token"))
			assert.Equal(t, tt.body, string(calls[1].Body), "the body sent again")
		})
	}

	t.Run("a second 401 is the answer", func(t *testing.T) {
		var fetches, calls atomic.Int32
		tr := &Transport{Key: transportKey, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/v3/token" {
				fetches.Add(1)
				return (&stubTransport{}).RoundTrip(r)
			}
			calls.Add(1)
			return &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`))}, nil
		})}
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v3/status/job_01", "")
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, int32(2), fetches.Load())
		assert.Equal(t, int32(2), calls.Load())
	})
}

func TestTransportV3ConcurrentFirstCallsMakeOneFetch(t *testing.T) {
	x := newV3Fixture(t, func(f *fakeSmileID) { f.tokenDelay = 100 * time.Millisecond })
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, err := x.call(t, http.MethodGet, "/v3/status/job_01", "")
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("status %d", status)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 1, x.fake.Fetches())
	assert.Len(t, v3Calls(x.fake.Received()), n)
}

func TestTransportV3WaitersRespectTheirOwnContext(t *testing.T) {
	release := make(chan struct{})
	var fetches atomic.Int32
	tr := &Transport{Key: transportKey, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/v3/token" {
			if fetches.Add(1) == 1 {
				<-release // the first fetch hangs until the test lets it go
			}
			return (&stubTransport{}).RoundTrip(r)
		}
		return (&stubTransport{}).RoundTrip(r)
	})}
	send := func(ctx context.Context) error {
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v3/status/job_01", "")
		resp, err := tr.RoundTrip(req.WithContext(ctx))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	first := make(chan error, 1)
	go func() { first <- send(context.Background()) }()
	for fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := send(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the waiter gives up with its own context")
	assert.Contains(t, err.Error(), "signer: waiting for a Smile ID token")

	close(release)
	require.NoError(t, <-first)
	require.NoError(t, send(context.Background()))
	assert.Equal(t, int32(1), fetches.Load(), "the fetch was shared, not repeated")
}

func TestTransportV3FetchCutShortByItsCallerIsNotShared(t *testing.T) {
	started := make(chan struct{})
	var fetches atomic.Int32
	tr := &Transport{Key: transportKey, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/v3/token" && fetches.Add(1) == 1 {
			close(started)
			<-r.Context().Done() // hangs until its caller gives up
			return nil, r.Context().Err()
		}
		return (&stubTransport{}).RoundTrip(r)
	})}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v3/a", "")
		_, err := tr.RoundTrip(req.WithContext(ctx))
		first <- err
	}()
	<-started
	second := make(chan error, 1)
	go func() {
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v3/b", "")
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		second <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the second wait for the first's fetch
	cancel()
	assert.ErrorIs(t, <-first, context.Canceled)
	assert.NoError(t, <-second, "the waiter fetched for itself")
	assert.Equal(t, int32(2), fetches.Load())
}

func TestTransportV3TokenEndpointErrors(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name    string
		status  int
		answer  string
		wantErr string
		message string
	}{
		{"refused with a message", 401, `{"code":"2205","message":"Invalid partner id or API key"}`,
			`signer: cannot get a Smile ID token: /v3/token answered 401 Unauthorized: "Invalid partner id or API key"`, "Invalid partner id or API key"},
		{"refused without JSON", 502, `<html>Bad Gateway</html>`, "signer: cannot get a Smile ID token: /v3/token answered 502 Bad Gateway", ""},
		{"control characters made spaces", 403, `{"message":"no\u001b[31m\r\nX-Forged: 1\u202e"}`,
			`/v3/token answered 403 Forbidden: "no [31m  X-Forged: 1"`, "no [31m  X-Forged: 1"},
		{"the key repeated back is redacted", 401, `{"message":"unknown key ` + transportKey.APIKey + `"}`, `"unknown key [REDACTED]"`, "unknown key [REDACTED]"},
		{"a long message is cut", 400, `{"message":"` + long + `"}`, `/v3/token answered 400 Bad Request: "` + long[:200] + `…"`, long[:200] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newV3Fixture(t, func(f *fakeSmileID) { f.tokenStatus, f.tokenRefusal = tt.status, tt.answer })
			req, body := newRequest(t, http.MethodPost, x.fake.URL+"/v3/aml/sync", `{}`)
			resp, err := x.tr.RoundTrip(req)
			assert.Nil(t, resp)
			require.ErrorIs(t, err, ErrToken)
			assert.Contains(t, err.Error(), tt.wantErr)
			var tokenErr *TokenError
			require.True(t, errors.As(err, &tokenErr))
			assert.Equal(t, tt.status, tokenErr.StatusCode)
			assert.Equal(t, tt.message, tokenErr.Message)
			assert.NotContains(t, err.Error(), transportKey.APIKey)
			assert.True(t, body.closed.Load())
			assert.Empty(t, v3Calls(x.fake.Received()), "the v3 call was not sent")
		})
	}

	for name, answer := range map[string]string{
		"no token":           `{"access":"x"}`,
		"a token not string": `{"token":42}`,
		"a token with space": `{"token":"a b"}`,
		"a token with CRLF":  `{"token":"a\r\nX-Forged: 1"}`,
		"not JSON":           `token=abc`,
	} {
		t.Run("200, "+name, func(t *testing.T) {
			tr := &Transport{Key: transportKey, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(answer))}, nil
			})}
			req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v3/status/job_01", "")
			_, err := tr.RoundTrip(req)
			require.ErrorIs(t, err, ErrToken)
			assert.Contains(t, err.Error(), "/v3/token answered 200 without a usable token")
		})
	}

	t.Run("a failure is shared with the callers that waited", func(t *testing.T) {
		x := newV3Fixture(t, func(f *fakeSmileID) {
			f.tokenStatus, f.tokenRefusal, f.tokenDelay = 401, `{"message":"no"}`, 300*time.Millisecond
		})
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := x.call(t, http.MethodGet, "/v3/status/job_01", "")
				assert.ErrorIs(t, err, ErrToken)
			}()
		}
		wg.Wait()
		assert.Less(t, len(x.fake.Received()), 4, "the waiters did not each ask again")
	})
}

// TestTransportV3SendsTheKeyOnlyToTheTokenEndpoint runs every kind of v3
// call, a refresh and a redirect against a fake that records everything,
// and a v3 call to another host, and looks for the key everywhere.
func TestTransportV3SendsTheKeyOnlyToTheTokenEndpoint(t *testing.T) {
	other := newFakeSmileID(t, Key{ID: "other", PartnerID: "1", APIKey: "other-key", Environment: Sandbox})
	x := newV3Fixture(t, nil)
	x.tr.VerifyResponses = true
	client := &http.Client{Transport: x.tr, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	for _, c := range []struct{ method, url, body string }{
		{http.MethodPost, x.fake.URL + "/v3/enhanced_kyc/sync", `{"id_type":"NIN"}`},
		{http.MethodGet, x.fake.URL + "/v3/status/job_01", ""},
		{http.MethodPost, x.fake.URL + "/v3/replay/job_01", ""},
		{http.MethodGet, x.fake.URL + "/v3", ""},
		{http.MethodGet, other.URL + "/v3/status/job_01", ""},
		{http.MethodPost, other.URL + "/v3/token", ""},
	} {
		req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		if c.url == x.fake.URL+"/v3/status/job_01" {
			x.fake.revoke() // the next call is refused once, and resent
		}
	}
	require.Equal(t, 2, x.fake.Fetches())
	for _, r := range x.fake.Received() {
		if r.URL == "/v3/token" {
			continue
		}
		assert.False(t, headersContain(r.Header, transportKey.APIKey), r.URL)
		assert.NotContains(t, string(r.Body), transportKey.APIKey, r.URL)
		assert.NotContains(t, r.URL, transportKey.APIKey)
	}
	for _, r := range other.Received() {
		assert.False(t, headersContain(r.Header, transportKey.APIKey), r.URL)
		for name := range r.Header {
			assert.False(t, strings.HasPrefix(strings.ToLower(name), "smileid-"), "another host gets nothing: %s on %s", name, r.URL)
		}
	}
}

func TestTransportV3TokenRequestOfTheCaller(t *testing.T) {
	x := newV3Fixture(t, nil)
	req, _ := newRequest(t, http.MethodPost, x.fake.URL+"/v3/token", "")
	req.Header.Set("SmileID-API-Key", "the caller's guess")
	resp, err := x.tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(answer), `"token":"eyJ`, "the caller gets a token to hand on")
	got := x.fake.Received()[0]
	assert.Equal(t, []string{transportKey.APIKey}, got.Header.Values("SmileID-API-Key"), "the key's, once")
	assert.Empty(t, got.Header.Values("SmileID-Token"))
}

func TestTransportV3Limiter(t *testing.T) {
	send := func(tr *Transport) (*trackedBody, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		req, body := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com/v3/status/job_01", "{}")
		resp, err := tr.RoundTrip(req.WithContext(ctx))
		if err == nil {
			resp.Body.Close()
		}
		return body, err
	}

	// Two tokens an hour: the token request takes one, the call the other.
	stub := &stubTransport{}
	_, err := send(&Transport{Key: transportKey, Base: stub, Limiter: rate.NewLimiter(rate.Every(time.Hour), 2)})
	require.NoError(t, err)
	assert.Len(t, stub.Sent(), 2)

	// One: the token request takes it, and the call cannot wait an hour.
	stub = &stubTransport{}
	body, err := send(&Transport{Key: transportKey, Base: stub, Limiter: rate.NewLimiter(rate.Every(time.Hour), 1)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signer: waiting for the rate limiter")
	require.Len(t, stub.Sent(), 1)
	assert.Equal(t, "https://testapi.smileidentity.com/v3/token", stub.Sent()[0].URL)
	assert.True(t, body.closed.Load())
}
