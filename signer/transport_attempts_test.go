package signer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestTransportSignsEveryAttemptAfresh(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, path := range []string{"/v1/job_status", "/v2/job_status"} {
			t.Run(fmt.Sprintf("%d to the same host, %s", code, path), func(t *testing.T) {
				fake := newFakeSmileIDWith(t, transportKey, func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.URL.Query().Get("moved") == "" {
							http.Redirect(w, r, r.URL.Path+"?moved=1", code)
						}
						next.ServeHTTP(w, r)
					})
				})
				client := &http.Client{Transport: transportFor(t, fake)}
				resp, err := client.Post(fake.URL+path, "application/json", strings.NewReader(`{"job_id":"1"}`))
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode, "the fake verified both attempts")

				got := fake.Received()
				require.Len(t, got, 2)
				stamp := func(r sentRequest) string {
					if isV1(path) {
						return jsonString(t, members(t, r.Body)["timestamp"])
					}
					return r.Header.Get("SmileID-Timestamp")
				}
				assert.Equal(t, "2026-11-21T10:00:00.000Z", stamp(got[0]))
				assert.Equal(t, "2026-11-21T10:00:00.001Z", stamp(got[1]), "the redirected attempt has its own timestamp")
			})
		}
	}

	t.Run("a retry through the same Transport", func(t *testing.T) {
		stub := &stubTransport{}
		tr := &Transport{Base: stub, Key: transportKey, Now: tickingClock()}
		for i := 0; i < 2; i++ {
			req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/jobs/1", "")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
		}
		sent := stub.Sent()
		require.Len(t, sent, 2)
		assert.NotEqual(t, sent[0].Header.Get("SmileID-Request-Signature"), sent[1].Header.Get("SmileID-Request-Signature"))
	})
}

func TestTransportDoesNotSignARedirectToAnotherHost(t *testing.T) {
	for _, path := range []string{"/v1/job_status", "/v2/job_status"} {
		t.Run(path, func(t *testing.T) {
			var mu sync.Mutex
			var elsewhere []sentRequest
			other := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				elsewhere = append(elsewhere, sentRequest{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: body})
				mu.Unlock()
				io.WriteString(w, "{}")
			}))
			defer other.Close()
			fake := newFakeSmileIDWith(t, transportKey, func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
				})
			})
			tr := transportFor(t, fake)
			tr.VerifyResponses = true
			client := &http.Client{Transport: tr}
			const body = `{"job_id":"1"}`
			resp, err := client.Post(fake.URL+path, "application/json", strings.NewReader(body))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, elsewhere, 1)
			got := elsewhere[0]
			assert.Equal(t, body, string(got.Body), "the caller's body, unsigned")
			for name := range got.Header {
				assert.False(t, strings.HasPrefix(strings.ToLower(name), "smileid-"), name)
			}
			assert.False(t, headersContain(got.Header, transportKey.APIKey))
			assert.NotContains(t, string(got.Body), transportKey.APIKey)
		})
	}
}

func TestTransportConcurrentRequests(t *testing.T) {
	fake := newFakeSmileID(t, transportKey)
	tr := transportFor(t, fake)
	tr.VerifyResponses = true
	client := &http.Client{Transport: tr}
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := "/v2/job_status"
			if i%2 == 0 {
				path = "/v1/job_status"
			}
			resp, err := client.Post(fake.URL+path, "application/json", strings.NewReader(fmt.Sprintf(`{"job_id":"%d"}`, i)))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if _, err := io.ReadAll(resp.Body); err != nil {
				errs <- err
				return
			}
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("request %d: status %d", i, resp.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stamps := map[string]bool{}
	for _, r := range fake.Received() {
		if isV1(r.URL) {
			stamps[jsonString(t, members(t, r.Body)["timestamp"])] = true
		} else {
			stamps[r.Header.Get("SmileID-Timestamp")] = true
		}
	}
	assert.Len(t, stamps, n, "every request has its own timestamp")
}

func TestTransportLimiter(t *testing.T) {
	t.Run("a cancelled context returns at once and sends nothing", func(t *testing.T) {
		stub := &stubTransport{}
		limiter := rate.NewLimiter(rate.Every(time.Hour), 1)
		limiter.Allow() // spend the only token: the next Wait would block for an hour
		tr := &Transport{Base: stub, Key: transportKey, Limiter: limiter}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, body := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com/v2/x", "{}")
		start := time.Now()
		_, err := tr.RoundTrip(req.WithContext(ctx))
		assert.ErrorIs(t, err, context.Canceled)
		// Not a speed target: only far below the hour Wait would block
		// for, with room for a machine under load.
		assert.Less(t, time.Since(start), 30*time.Second)
		assert.Empty(t, stub.Sent())
		assert.True(t, body.closed.Load())
	})

	t.Run("only signed requests wait", func(t *testing.T) {
		stub := &stubTransport{}
		tr := &Transport{Base: stub, Key: transportKey, Limiter: rate.NewLimiter(0, 0)} // refuses every Wait
		req, _ := newRequest(t, http.MethodGet, "https://example.com/", "")
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		req, _ = newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
		_, err = tr.RoundTrip(req)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "signer: waiting for the rate limiter")
		assert.Len(t, stub.Sent(), 1)
	})

	t.Run("the timestamp is taken after the wait", func(t *testing.T) {
		stub := &stubTransport{}
		start := time.Now()
		limiter := rate.NewLimiter(rate.Every(300*time.Millisecond), 1)
		limiter.Allow() // the next token comes 300 ms after this
		tr := &Transport{Base: stub, Key: transportKey, Limiter: limiter}
		req, _ := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com/v1/x", "{}")
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		sent := stub.Sent()
		require.Len(t, sent, 1)
		stamped, err := ParseTimestamp(jsonString(t, members(t, sent[0].Body)["timestamp"]))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, stamped.Sub(start), 290*time.Millisecond) // the stamp drops sub-milliseconds
	})
}
