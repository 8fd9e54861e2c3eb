package signer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestTransportSignsForSmileIDEndpoints(t *testing.T) {
	tests := []struct {
		name, method, path, body string
	}{
		{"v1 job_status signs the body", http.MethodPost, "/v1/job_status", `{"user_id":"u1","job_id":"j1"}`},
		{"v1 id_verification signs the body", http.MethodPost, "/v1/id_verification", `{"country":"NG","id_type":"BVN","id_number":"00000000000"}`},
		{"v1 upload keeps smile_client_id", http.MethodPost, "/v1/upload", `{"smile_client_id":"085","file_name":"selfie.zip"}`},
		{"v2 signs the headers", http.MethodPost, "/v2/verify-async", `{"partner_params":{"job_id":"j1"}}`},
		{"v2 GET without body", http.MethodGet, "/v2/jobs/j1", ""},
		{"root path is header mode", http.MethodGet, "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSmileID(t, transportKey)
			client := &http.Client{Transport: transportFor(t, fake)}
			req, _ := newRequest(t, tt.method, fake.URL+tt.path, tt.body)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "the fake verified the signature")

			got := fake.Received()
			require.Len(t, got, 1)
			if isV1(tt.path) {
				m := members(t, got[0].Body)
				assert.Equal(t, int64(len(got[0].Body)), got[0].ContentLength)
				assert.Equal(t, "2026-11-21T10:00:00.000Z", jsonString(t, m["timestamp"]))
				assert.Equal(t, "smileguard-go", jsonString(t, m["source_sdk"]))
				assert.Equal(t, moduleVersion(), jsonString(t, m["source_sdk_version"]))
				assert.Empty(t, got[0].Header.Get("Smileid-Request-Signature"))
			} else {
				assert.Equal(t, tt.body, string(got[0].Body), "v2 bodies are not touched")
				assert.Equal(t, "085", got[0].Header.Get("SmileID-Partner-ID"))
				assert.Equal(t, "2026-11-21T10:00:00.000Z", got[0].Header.Get("SmileID-Timestamp"))
				assert.Equal(t, "smileguard-go", got[0].Header.Get("SmileID-Source-SDK"))
				assert.Equal(t, moduleVersion(), got[0].Header.Get("SmileID-Source-SDK-Version"))
			}
		})
	}
}

func TestTransportMatchesSignatureVectors(t *testing.T) {
	used := 0
	for _, v := range loadVectors(t) {
		at, err := ParseTimestamp(v.Timestamp)
		key := Key{ID: "vector", PartnerID: v.PartnerID, APIKey: v.APIKey, Environment: Production}
		if err != nil || FormatTimestamp(at) != v.Timestamp || key.validate() != nil {
			continue // Transport sends only the documented style, and only valid keys
		}
		used++
		t.Run(v.Name, func(t *testing.T) {
			fake := newFakeSmileID(t, key)
			tr := transportFor(t, fake)
			tr.Now = func() time.Time { return at }
			client := &http.Client{Transport: tr}
			for _, path := range []string{"/v1/job_status", "/v2/job_status"} {
				resp, err := client.Post(fake.URL+path, "application/json", strings.NewReader(`{"job_id":"1"}`))
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, path)
			}
			got := fake.Received()
			require.Len(t, got, 2)
			assert.Equal(t, v.Signature, jsonString(t, members(t, got[0].Body)["signature"]))
			assert.Equal(t, v.Signature, got[1].Header.Get("SmileID-Request-Signature"))
		})
	}
	assert.GreaterOrEqual(t, used, 4, "vectors in the style Transport sends")
}

func TestTransportDoesNotModifyTheRequest(t *testing.T) {
	tests := []struct {
		name, method, url, body string
	}{
		{"v1 body", http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `{"signature":"old","job_id":"1"}`},
		{"v2 headers", http.MethodPost, "https://testapi.smileidentity.com/v2/verify", `{"a":1}`},
		{"v3 token", http.MethodPost, "https://testapi.smileidentity.com/v3/enhanced_kyc/sync", `{"a":1}`},
		{"v3 token request", http.MethodPost, "https://testapi.smileidentity.com/v3/token", ""},
		{"another host", http.MethodPost, "https://example.com/v1/job_status", `{"a":1}`},
		{"refused: not https", http.MethodPost, "http://testapi.smileidentity.com/v1/job_status", `{"a":1}`},
		{"refused: not an object", http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `[1]`},
		{"refused: the other environment", http.MethodPost, "https://api.smileidentity.com/v2/verify", `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent *http.Request
			stub := &stubTransport{}
			tr := &Transport{Key: transportKey, Now: tickingClock(), Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Path != "/v3/token" || tt.url == "https://testapi.smileidentity.com/v3/token" {
					sent = r
				}
				return stub.RoundTrip(r)
			})}
			req, _ := newRequest(t, tt.method, tt.url, tt.body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Caller", "kept")
			req.Header["SmileID-Partner-ID"] = []string{"caller's own"}
			req.Header["SmileID-Token"] = []string{"caller's own"}
			before := snapshotOf(t, req)
			headerMap := reflect.ValueOf(req.Header).Pointer()
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			assert.Equal(t, before, snapshotOf(t, req))
			assert.Equal(t, headerMap, reflect.ValueOf(req.Header).Pointer(), "the caller's header map stays")
			if sent != nil && sent.URL.Host == req.URL.Host && !strings.Contains(tt.url, "example.com") {
				assert.NotSame(t, req, sent, "a copy is sent")
				assert.NotEqual(t, headerMap, reflect.ValueOf(sent.Header).Pointer(), "with a header map of its own")
				assert.Equal(t, req.Context(), sent.Context())
			}
		})
	}
}

func TestTransportClosesTheRequestBodyOnEveryPath(t *testing.T) {
	tests := []struct {
		name    string
		tr      Transport
		url     string
		body    string
		readErr error
		wantErr error
	}{
		{"invalid key", Transport{Key: Key{Environment: Sandbox}}, "https://testapi.smileidentity.com/v2/x", "{}", nil, ErrInvalidTransport},
		{"invalid Hosts entry", Transport{Key: transportKey, Hosts: []string{"https://x"}}, "https://example.com/", "{}", nil, ErrInvalidTransport},
		{"plain http", Transport{Key: transportKey}, "http://testapi.smileidentity.com/v2/x", "{}", nil, ErrInsecureRequest},
		{"v1 body not an object", Transport{Key: transportKey}, "https://testapi.smileidentity.com/v1/x", "[]", nil, ErrNotJSONObject},
		{"v1 body read error", Transport{Key: transportKey}, "https://testapi.smileidentity.com/v1/x", "{", errBoom, errBoom},
		{"limiter refuses v1", Transport{Key: transportKey, Limiter: rate.NewLimiter(0, 0)}, "https://testapi.smileidentity.com/v1/x", "{}", nil, nil},
		{"limiter refuses v2", Transport{Key: transportKey, Limiter: rate.NewLimiter(0, 0)}, "https://testapi.smileidentity.com/v2/x", "{}", nil, nil},
		{"limiter refuses v3", Transport{Key: transportKey, Limiter: rate.NewLimiter(0, 0)}, "https://testapi.smileidentity.com/v3/x", "{}", nil, nil},
		{"the other environment's host", Transport{Key: transportKey}, "https://api.smileidentity.com/v2/x", "{}", nil, ErrWrongEnvironment},
		{"a Smile ID host left out of Hosts", Transport{Key: transportKey, Hosts: []string{"smile.test"}}, "https://testapi.smileidentity.com/v2/x", "{}", nil, ErrWrongEnvironment},
		{"v3 with a partner id that is not a number", Transport{Key: Key{PartnerID: "partner", APIKey: "k", Environment: Sandbox}}, "https://testapi.smileidentity.com/v3/x", "{}", nil, ErrToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubTransport{}
			tr := tt.tr
			tr.Base = stub
			req, body := newRequest(t, http.MethodPost, tt.url, tt.body)
			body.readErr = tt.readErr
			resp, err := tr.RoundTrip(req)
			require.Error(t, err)
			assert.Nil(t, resp)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "signer: "), err.Error())
			assert.True(t, body.closed.Load(), "body closed")
			assert.Empty(t, stub.Sent(), "nothing sent, not even for a token")
		})
	}
}

// TestTransportNeverLeaksTheAPIKey runs requests down every path and looks
// for the API key in every header sent, every body sent elsewhere and every
// error returned.
func TestTransportNeverLeaksTheAPIKey(t *testing.T) {
	key := transportKey
	forged := `{"timestamp":"2026-11-21T10:00:00.000Z","signature":"` + Sign("wrong", key.PartnerID, "2026-11-21T10:00:00.000Z") + `"}`
	cases := []struct {
		tr     Transport
		method string
		url    string
		body   string
	}{
		{Transport{Key: key}, http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `{"job_id":"1"}`},
		{Transport{Key: key}, http.MethodPost, "https://testapi.smileidentity.com/v2/job_status", `{"job_id":"1"}`},
		{Transport{Key: key}, http.MethodPost, "https://example.com/v1/job_status", `{"job_id":"1"}`},
		{Transport{Key: key}, http.MethodPost, "http://testapi.smileidentity.com/v1/job_status", `{}`},
		{Transport{Key: key}, http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `nope`},
		{Transport{Key: key, Hosts: []string{key.APIKey + "/"}}, http.MethodGet, "https://testapi.smileidentity.com/", ""},
		{Transport{Key: Key{APIKey: key.APIKey, Environment: Sandbox}}, http.MethodGet, "https://testapi.smileidentity.com/", ""},
		{Transport{Key: Key{APIKey: key.APIKey, PartnerID: "1"}}, http.MethodGet, "https://testapi.smileidentity.com/", ""},
		{Transport{Key: key, VerifyResponses: true}, http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `{}`},
		{Transport{Key: key, Limiter: rate.NewLimiter(0, 0)}, http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `{}`},
		{Transport{Key: key}, http.MethodGet, "https://api.smileidentity.com/v3/x", ""},
		{Transport{Key: key}, http.MethodGet, "https://example.com/v3/token", ""},
		{Transport{Key: key, VerifyResponses: true}, http.MethodPost, "https://testapi.smileidentity.com/v3/aml/sync", `{}`},
	}
	for i, c := range cases {
		stub := &stubTransport{Response: &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(forged))}}
		tr := c.tr
		tr.Base = stub
		req, _ := newRequest(t, c.method, c.url, c.body)
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		assert.NotContains(t, errorText(err), key.APIKey, "case %d", i)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), key.APIKey, "case %d", i)
		for _, sent := range stub.Sent() {
			if sent.URL == "https://testapi.smileidentity.com/v3/token" {
				continue // where the key goes
			}
			assert.False(t, headersContain(sent.Header, key.APIKey), "case %d", i)
			assert.NotContains(t, string(sent.Body), key.APIKey, "case %d", i)
			assert.NotContains(t, sent.URL, key.APIKey, "case %d", i)
		}
	}
}

func TestTransportSetsV2Headers(t *testing.T) {
	const ts = "2026-11-21T10:00:00.000Z"
	sig := Sign(transportKey.APIKey, transportKey.PartnerID, ts)
	tests := []struct {
		name   string
		tr     Transport
		header http.Header
		want   http.Header
	}{
		{"defaults", Transport{}, http.Header{"Accept": {"application/json"}}, http.Header{
			"Accept": {"application/json"}, "Smileid-Partner-Id": {"085"}, "Smileid-Request-Signature": {sig},
			"Smileid-Timestamp": {ts}, "Smileid-Source-Sdk": {"smileguard-go"}, "Smileid-Source-Sdk-Version": {moduleVersion()}}},
		{"caller's SDK name and version", Transport{SourceSDK: "acme-kyc", SourceSDKVersion: "3.1.4"}, http.Header{}, http.Header{
			"Smileid-Partner-Id": {"085"}, "Smileid-Request-Signature": {sig},
			"Smileid-Timestamp": {ts}, "Smileid-Source-Sdk": {"acme-kyc"}, "Smileid-Source-Sdk-Version": {"3.1.4"}}},
		{"caller's copies replaced, however spelled", Transport{}, http.Header{
			"Smileid-Request-Signature": {"forged", "twice"}, "SmileID-Timestamp": {"old"}, "smileid-partner-id": {"1"},
			"SmileID-Token": {"v3 only"}, "smileid-api-key": {"never"}, "Smileid-Other": {"kept"}}, http.Header{
			"Smileid-Other": {"kept"}, "Smileid-Partner-Id": {"085"}, "Smileid-Request-Signature": {sig},
			"Smileid-Timestamp": {ts}, "Smileid-Source-Sdk": {"smileguard-go"}, "Smileid-Source-Sdk-Version": {moduleVersion()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubTransport{}
			tr := tt.tr
			tr.Base, tr.Key, tr.Now = stub, transportKey, tickingClock()
			req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/jobs/1", "")
			req.Header = tt.header
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, stub.Sent()[0].Header)
		})
	}

	t.Run("a request without a header map", func(t *testing.T) {
		stub := &stubTransport{}
		tr := &Transport{Base: stub, Key: transportKey}
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/jobs/1", "")
		req.Header = nil
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Len(t, stub.Sent()[0].Header, len(smileIDHeaders))
		assert.Nil(t, req.Header)
	})
}

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
