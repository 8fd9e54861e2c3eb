package signer

import (
	"fmt"
	"io"
	"net/http"
	"strings"
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
		{"another host", http.MethodPost, "https://example.com/v1/job_status", `{"a":1}`},
		{"refused: not https", http.MethodPost, "http://testapi.smileidentity.com/v1/job_status", `{"a":1}`},
		{"refused: not an object", http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &Transport{Base: &stubTransport{}, Key: transportKey, Now: tickingClock()}
			req, _ := newRequest(t, tt.method, tt.url, tt.body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Caller", "kept")
			req.Header["SmileID-Partner-ID"] = []string{"caller's own"}
			before := snapshotOf(t, req)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			assert.Equal(t, before, snapshotOf(t, req))
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
			assert.Empty(t, stub.Sent(), "nothing sent")
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
			"Smileid-Other": {"kept"}}, http.Header{
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
