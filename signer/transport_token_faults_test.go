package signer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// The faults of the token cache a review found: each test fails without
// its fix.

// tokenAnswer answers a token request with token n: a JWT that expires in
// 2100, told apart by its signature part.
func tokenAnswer(req *http.Request, n int32) *http.Response {
	body := fmt.Sprintf(`{"token":"%s%d"}`, strings.TrimSuffix(stubToken, "c2ln"), n)
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}
}

func sendV3(t *testing.T, tr *Transport, ctx context.Context) (*http.Response, error) {
	t.Helper()
	req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v3/status/job_01", "")
	resp, err := tr.RoundTrip(req.WithContext(ctx))
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// A Base that panics while fetching a token (a net/http server recovers
// the panic) left the fetch in flight for ever: every later v3 request
// waited for it.
func TestTransportV3SurvivesAPanickingTokenFetch(t *testing.T) {
	var fetches atomic.Int32
	tr := &Transport{Key: transportKey, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == tokenPath {
			if n := fetches.Add(1); n == 1 {
				panic("an instrumenting RoundTripper's bug")
			} else {
				return tokenAnswer(r, n), nil
			}
		}
		return (&stubTransport{}).RoundTrip(r)
	})}
	assert.Panics(t, func() { _, _ = sendV3(t, tr, context.Background()) }, "the panic goes on up")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := sendV3(t, tr, ctx)
	require.NoError(t, err, "the next request fetches anew")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int32(2), fetches.Load())
}

// A token refused on the resend after a 401 stayed cached: the next
// request sent it again, and only its 401 dropped it.
func TestTransportV3DropsATokenRefusedOnTheResend(t *testing.T) {
	var fetches atomic.Int32
	var mu sync.Mutex
	var sent []string
	tr := &Transport{Key: transportKey, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == tokenPath {
			return tokenAnswer(r, fetches.Add(1)), nil
		}
		token := r.Header.Get(tokenHeader)
		mu.Lock()
		sent = append(sent, token[len(token)-1:])
		mu.Unlock()
		if strings.HasSuffix(token, "1") || strings.HasSuffix(token, "2") { // tokens 1 and 2 are refused
			return &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
		}
		return (&stubTransport{}).RoundTrip(r)
	})}
	resp, err := sendV3(t, tr, context.Background())
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the resend's answer")
	resp, err = sendV3(t, tr, context.Background())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"1", "2", "3"}, sent, "token 2, refused on the resend, is not sent again")
}

// A fetching request whose deadline comes before the Limiter's next token
// fails its wait at once, with its context still alive; that error was
// handed to the requests waiting for the fetch, whose contexts could
// afford the wait.
func TestTransportV3LimiterRefusalOfTheFetcherIsNotShared(t *testing.T) {
	limiter := rate.NewLimiter(rate.Every(time.Hour), 1)
	require.True(t, limiter.Allow()) // the next token comes in an hour
	tr := &Transport{Key: transportKey, Base: &stubTransport{}, Limiter: limiter}
	s := tr.load()
	require.NoError(t, s.err)
	cache := s.tokens[0].forScheme("https")
	u, err := url.Parse("https://testapi.smileidentity.com/v3/status/job_01")
	require.NoError(t, err)

	// A fetch in flight, which a request with an hour and more to spare
	// waits for.
	f := &tokenFetch{done: make(chan struct{})}
	cache.mu.Lock()
	cache.fetch = f
	cache.mu.Unlock()
	patient, cancelPatient := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancelPatient()
	waited := make(chan error, 1)
	go func() {
		_, err := cache.get(patient, tr, s, u, "")
		waited <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it wait for f

	// The fetcher has a minute: the Limiter refuses it at once.
	hurried, cancelHurried := context.WithTimeout(context.Background(), time.Minute)
	defer cancelHurried()
	cache.run(hurried, tr, s, u, f)
	require.Error(t, f.err)
	assert.Contains(t, f.err.Error(), "would exceed context deadline")

	// The waiter now waits for the Limiter itself; end that wait.
	time.Sleep(20 * time.Millisecond)
	cancelPatient()
	err = <-waited
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "would exceed context deadline", "the fetcher's refusal reached the waiter")
	assert.True(t, errors.Is(err, context.Canceled), "the waiter's own wait ended: %v", err)
}

// resp.Request was the outgoing copy, whose header held the signature, the
// token or the API key, for any caller logging it to write out.
func TestTransportAnswersCarryTheCallersRequest(t *testing.T) {
	for _, path := range []string{"/v1/job_status", "/v2/verify", "/v3/status/job_01", "/v3/token"} {
		t.Run(path, func(t *testing.T) {
			tr := &Transport{Key: transportKey, Base: &stubTransport{}}
			req, _ := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com"+path, "{}")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Same(t, req, resp.Request)
			assert.False(t, headersContain(resp.Request.Header, transportKey.APIKey))
			assert.Empty(t, resp.Request.Header.Get(tokenHeader))
		})
	}
}

// net/http sends URL.Opaque instead of URL.Path: with Path "/v3/token" and
// Opaque "/v3/upload", the API key went to /v3/upload.
func TestTransportRefusesOpaqueURLs(t *testing.T) {
	stub := &stubTransport{}
	tr := &Transport{Key: transportKey, Base: stub}
	req, body := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com/v3/token", "{}")
	req.URL.Opaque = "/v3/upload"
	_, err := tr.RoundTrip(req)
	require.ErrorIs(t, err, ErrOpaqueURL)
	assert.Empty(t, stub.Sent(), "nothing is sent")
	assert.True(t, body.closed.Load())
}
