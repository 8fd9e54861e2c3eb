package signer

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransportVerifiesResponses(t *testing.T) {
	const ts = "2026-11-21T10:00:00.000Z"
	good := Sign(transportKey.APIKey, transportKey.PartnerID, ts)
	forged := Sign("not-the-key", transportKey.PartnerID, ts)
	signed := func(sig string) string {
		return `{"job_complete":true,"timestamp":"` + ts + `","signature":"` + sig + `","result":{"ResultCode":"1012"}}`
	}
	tests := []struct {
		name     string
		body     string
		header   http.Header
		length   int64 // 0: the body's length
		readErr  error
		wantErr  error // nil: the response passes with its exact bytes
		wantText string
	}{
		{"job_status with a good signature", signed(good), nil, 0, nil, nil, ""},
		{"good signature, white space and odd order kept", " {\"signature\" : \"" + good + "\",\n\"timestamp\":\"" + ts + "\"} \n", nil, 0, nil, nil, ""},
		{"good signature, escaped member names", `{"sig\u006eature":"` + good + `","time\u0073tamp":"` + ts + `"}`, nil, 0, nil, nil, ""},
		{"good signature, unknown length", signed(good), nil, -1, nil, nil, ""},
		{"no signature or timestamp: passes", `{"code":"2205","error":"You're not authorized to do that"}`, nil, 0, nil, nil, ""},
		{"nested signature only: passes", `{"result":{"signature":"x","timestamp":"y"}}`, nil, 0, nil, nil, ""},
		{"HTML error page: passes", "<html>502 Bad Gateway</html>", http.Header{"Content-Type": {"text/html"}}, 0, nil, nil, ""},
		{"JSON array: passes", `[{"signature":"x"}]`, nil, 0, nil, nil, ""},
		{"empty body: passes", "", nil, 0, nil, nil, ""},

		{"forged signature", signed(forged), nil, 0, nil, ErrInvalidResponseSignature, "signer: invalid response signature"},
		{"forged, claiming text/plain", signed(forged), http.Header{"Content-Type": {"text/plain"}}, 0, nil, ErrInvalidResponseSignature, ""},
		{"forged, without Content-Type", signed(forged), http.Header{}, 0, nil, ErrInvalidResponseSignature, ""},
		{"signature of another partner", signed(Sign(transportKey.APIKey, "85", ts)), nil, 0, nil, ErrInvalidResponseSignature, ""},
		{"timestamp changed", strings.Replace(signed(good), ts, "2026-11-21T10:00:01.000Z", 1), nil, 0, nil, ErrInvalidResponseSignature, ""},
		{"signature not base64", signed("not base64!"), nil, 0, nil, ErrInvalidResponseSignature, ""},
		{"signature without timestamp", `{"signature":"` + good + `"}`, nil, 0, nil, ErrInvalidResponseSignature, "missing"},
		{"timestamp without signature", `{"timestamp":"` + ts + `"}`, nil, 0, nil, ErrInvalidResponseSignature, "missing"},
		{"signature twice", `{"signature":"` + good + `","timestamp":"` + ts + `","signature":"` + good + `"}`, nil, 0, nil, ErrInvalidResponseSignature, "repeated"},
		{"timestamp twice, once escaped", `{"signature":"` + good + `","timestamp":"` + ts + `","t\u0069mestamp":"` + ts + `"}`, nil, 0, nil, ErrInvalidResponseSignature, "repeated"},
		{"a signature in another case beside the real one", `{"signature":"` + good + `","timestamp":"` + ts + `","Signature":"AAAA"}`, nil, 0, nil, ErrInvalidResponseSignature, "another case"},
		{"a timestamp with a long s", `{"signature":"` + good + `","timestamp":"` + ts + `","time\u017ftamp":"1999"}`, nil, 0, nil, ErrInvalidResponseSignature, "another case"},
		{"signature not a string", `{"signature":null,"timestamp":"` + ts + `"}`, nil, 0, nil, ErrInvalidResponseSignature, "not a string"},
		{"timestamp a number", `{"signature":"` + good + `","timestamp":1763719200}`, nil, 0, nil, ErrInvalidResponseSignature, "not a string"},
		{"valid object then a forged one", signed(good) + signed(forged), nil, 0, nil, ErrInvalidResponseSignature, "not one"},
		{"forged object then junk", signed(forged) + "junk", nil, 0, nil, ErrInvalidResponseSignature, "not one"},
		{"object with no signature then junk", `{"job_success":true}x`, nil, 0, nil, ErrInvalidResponseSignature, "not one"},
		{"compressed body", "\x1f\x8b...", http.Header{"Content-Encoding": {"gzip"}}, 0, nil, ErrInvalidResponseSignature, "Content-Encoding"},
		{"declared over the limit", `{}`, nil, MaxVerifiedResponseBytes + 1, nil, ErrInvalidResponseSignature, "MaxVerifiedResponseBytes"},
		{"streamed over the limit", `{"a":"` + strings.Repeat("x", MaxVerifiedResponseBytes) + `"}`, nil, -1, nil, ErrInvalidResponseSignature, "MaxVerifiedResponseBytes"},
		{"read error", signed(good), nil, -1, errBoom, errBoom, "signer: reading the response body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := newTrackedBody(tt.body)
			body.readErr = tt.readErr
			header := tt.header
			if header == nil {
				header = http.Header{"Content-Type": {"application/json; charset=utf-8"}}
			}
			length := tt.length
			if length == 0 {
				length = int64(len(tt.body))
			}
			stub := &stubTransport{Response: &http.Response{StatusCode: 200, Header: header, Body: body, ContentLength: length}}
			tr := &Transport{Base: stub, Key: transportKey, VerifyResponses: true}
			req, _ := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", `{"job_id":"1"}`)
			resp, err := tr.RoundTrip(req)
			assert.True(t, body.closed.Load(), "the original body is closed either way")
			if tt.wantErr != nil {
				assert.Nil(t, resp)
				require.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), tt.wantText)
				assert.True(t, strings.HasPrefix(err.Error(), "signer: "))
				assert.NotContains(t, err.Error(), `"job_complete"`, "the error does not quote the body")
				assert.NotContains(t, err.Error(), forged)
				return
			}
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.body, string(got), "the caller reads the exact bytes that arrived")
			assert.Equal(t, int64(len(tt.body)), resp.ContentLength)
			assert.NoError(t, resp.Body.Close())
		})
	}
}

func TestTransportVerifiesResponsesOnlyWhereAsked(t *testing.T) {
	forged := `{"timestamp":"2026-11-21T10:00:00.000Z","signature":"` + Sign("not-the-key", "085", "2026-11-21T10:00:00.000Z") + `"}`
	tests := []struct {
		name   string
		verify bool
		method string
		url    string
	}{
		{"VerifyResponses off", false, http.MethodPost, "https://testapi.smileidentity.com/v1/job_status"},
		{"a host that is not signed", true, http.MethodGet, "https://example.com/v1/job_status"},
		{"HEAD has no body to verify", true, http.MethodHead, "https://testapi.smileidentity.com/v2/job_status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := newTrackedBody(forged)
			stub := &stubTransport{Response: &http.Response{StatusCode: 200, Header: http.Header{}, Body: body, ContentLength: 4242}}
			tr := &Transport{Base: stub, Key: transportKey, VerifyResponses: tt.verify}
			body0 := ""
			if tt.method == http.MethodPost {
				body0 = "{}"
			}
			req, _ := newRequest(t, tt.method, tt.url, body0)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			assert.Same(t, body, resp.Body, "the response is passed on as it came")
			assert.Equal(t, int64(4242), resp.ContentLength)
			resp.Body.Close()
		})
	}
}

func TestTransportVerifiesEverySDKTimestampStyle(t *testing.T) {
	for _, v := range loadVectors(t) {
		key := Key{ID: "vector", PartnerID: v.PartnerID, APIKey: v.APIKey, Environment: Sandbox}
		if key.validate() != nil {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			reply := `{"job_success":true,"signature":"` + v.Signature + `","timestamp":"` + v.Timestamp + `"}`
			stub := &stubTransport{Response: &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(reply)), ContentLength: -1}}
			tr := &Transport{Base: stub, Key: key, VerifyResponses: true}
			req, _ := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com/v1/job_status", "{}")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
		})
	}
}

func TestTransportVerifiesJobStatusEndToEnd(t *testing.T) {
	fake := newFakeSmileID(t, transportKey)
	tr := transportFor(t, fake)
	tr.VerifyResponses = true
	client := &http.Client{Transport: tr}
	resp, err := client.Post(fake.URL+"/v1/job_status", "application/json", strings.NewReader(`{"user_id":"u","job_id":"j"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"job_success":true`)

	// An impostor that answers like Smile ID, without the key.
	impostor := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts := FormatTimestamp(replyTime)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"job_complete":true,"job_success":true,"timestamp":"`+ts+`","signature":"`+Sign("guess", "085", ts)+`"}`)
	}))
	defer impostor.Close()
	tr = &Transport{Base: impostor.Client().Transport, Key: transportKey, Hosts: []string{hostOf(t, impostor)}, VerifyResponses: true}
	_, err = (&http.Client{Transport: tr}).Post(impostor.URL+"/v1/job_status", "application/json", strings.NewReader(`{}`))
	assert.ErrorIs(t, err, ErrInvalidResponseSignature)
}

func TestTransportVerifiesHeaderSignedResponses(t *testing.T) {
	const ts = "2026-11-21T10:00:01.000Z"
	good := Sign(transportKey.APIKey, transportKey.PartnerID, ts)
	trimmed := Sign(transportKey.APIKey, "85", ts)
	forged := Sign("not-the-key", transportKey.PartnerID, ts)
	const body = `{"status":"clear","message":"Verified"}`
	tests := []struct {
		name    string
		header  http.Header
		wantErr string // "": the response passes
	}{
		{"good signature", http.Header{"Response-Signature": {good}, "Response-Timestamp": {ts}}, ""},
		{"good signature over the partner id without its zero", http.Header{"Response-Signature": {trimmed}, "Response-Timestamp": {ts}}, ""},
		{"names spelt otherwise", http.Header{"response-signature": {good}, "RESPONSE-TIMESTAMP": {ts}}, ""},
		{"neither header: passes", http.Header{"Content-Type": {"application/json"}}, ""},
		{"forged signature", http.Header{"Response-Signature": {forged}, "Response-Timestamp": {ts}}, "signer: invalid response signature"},
		{"timestamp changed", http.Header{"Response-Signature": {good}, "Response-Timestamp": {"2026-11-21T10:00:02.000Z"}}, "signer: invalid response signature"},
		{"signature not base64", http.Header{"Response-Signature": {"nope"}, "Response-Timestamp": {ts}}, "signer: invalid response signature"},
		{"signature alone", http.Header{"Response-Signature": {good}}, "missing or repeated"},
		{"timestamp alone", http.Header{"Response-Timestamp": {ts}}, "missing or repeated"},
		{"signature twice", http.Header{"Response-Signature": {good, good}, "Response-Timestamp": {ts}}, "missing or repeated"},
		{"signature twice, once spelt otherwise", http.Header{"Response-Signature": {good}, "response-signature": {good}, "Response-Timestamp": {ts}}, "missing or repeated"},
		{"timestamp twice", http.Header{"Response-Signature": {good}, "Response-Timestamp": {ts, ts}}, "missing or repeated"},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodPost, http.MethodHead} {
			t.Run(tt.name+", "+method, func(t *testing.T) {
				rb := newTrackedBody(body)
				stub := &stubTransport{Response: &http.Response{StatusCode: 200, Header: tt.header, Body: rb, ContentLength: int64(len(body))}}
				tr := &Transport{Base: stub, Key: transportKey, VerifyResponses: true}
				req, _ := newRequest(t, method, "https://testapi.smileidentity.com/v2/x", "")
				resp, err := tr.RoundTrip(req)
				if tt.wantErr != "" {
					assert.Nil(t, resp)
					require.ErrorIs(t, err, ErrInvalidResponseSignature)
					assert.Contains(t, err.Error(), tt.wantErr)
					assert.NotContains(t, err.Error(), forged)
					assert.True(t, rb.closed.Load())
					return
				}
				require.NoError(t, err)
				defer resp.Body.Close()
				if method == http.MethodPost {
					got, err := io.ReadAll(resp.Body)
					require.NoError(t, err)
					assert.Equal(t, body, string(got))
				}
			})
		}
	}
}

func TestTransportRefusesReflectedSignatures(t *testing.T) {
	// A server (or proxy) that echoes what it got: the request's own
	// signature and timestamp, which verify, and prove nothing.
	echo := func(inHeaders, inBody bool) roundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			var ts, sig string
			if isV1(r.URL.Path) {
				body, _ := io.ReadAll(r.Body)
				var fields struct{ Signature, Timestamp string }
				_ = json.Unmarshal(body, &fields)
				ts, sig = fields.Timestamp, fields.Signature
			} else {
				ts, sig = r.Header.Get("SmileID-Timestamp"), r.Header.Get("SmileID-Request-Signature")
			}
			resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}
			if inHeaders {
				resp.Header.Set("Response-Signature", sig)
				resp.Header.Set("Response-Timestamp", ts)
			}
			if inBody {
				resp.Body = io.NopCloser(strings.NewReader(`{"signature":"` + sig + `","timestamp":"` + ts + `"}`))
			}
			return resp, nil
		}
	}
	for _, path := range []string{"/v1/job_status", "/v2/job_status"} {
		for _, c := range []struct {
			name              string
			inHeaders, inBody bool
		}{{"in the headers", true, false}, {"in the body", false, true}, {"in both", true, true}} {
			t.Run(path+", "+c.name, func(t *testing.T) {
				tr := &Transport{Base: echo(c.inHeaders, c.inBody), Key: transportKey, VerifyResponses: true, Now: tickingClock()}
				req, _ := newRequest(t, http.MethodPost, "https://testapi.smileidentity.com"+path, `{"job_id":"1"}`)
				_, err := tr.RoundTrip(req)
				require.ErrorIs(t, err, ErrInvalidResponseSignature)
				assert.Contains(t, err.Error(), "the request's own signature and timestamp")
			})
		}
	}
}

func TestTransportVerifiesBothCarriers(t *testing.T) {
	const ts = "2026-11-21T10:00:01.000Z"
	good := Sign(transportKey.APIKey, transportKey.PartnerID, ts)
	forged := Sign("not-the-key", transportKey.PartnerID, ts)
	signedBody := func(sig string) string { return `{"signature":"` + sig + `","timestamp":"` + ts + `"}` }
	tests := []struct {
		name       string
		headerSig  string
		body       string
		wantPasses bool
	}{
		{"both good", good, signedBody(good), true},
		{"good headers, forged body", good, signedBody(forged), false},
		{"forged headers, good body", forged, signedBody(good), false},
		{"good headers, body members broken", good, `{"signature":"` + good + `"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubTransport{Response: &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(tt.body)),
				Header: http.Header{"Response-Signature": {tt.headerSig}, "Response-Timestamp": {ts}}}}
			tr := &Transport{Base: stub, Key: transportKey, VerifyResponses: true}
			req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v3/aml/sync", "")
			resp, err := tr.RoundTrip(req)
			if tt.wantPasses {
				require.NoError(t, err)
				resp.Body.Close()
				return
			}
			assert.ErrorIs(t, err, ErrInvalidResponseSignature)
		})
	}
}

func TestTransportVerifiesV3SyncAnswersEndToEnd(t *testing.T) {
	x := newV3Fixture(t, nil)
	x.tr.VerifyResponses = true
	for _, path := range []string{"/v3/enhanced_kyc/sync", "/v3/aml/sync"} {
		status, err := x.call(t, http.MethodPost, path, `{}`)
		require.NoError(t, err, path)
		assert.Equal(t, http.StatusOK, status)
	}

	impostor := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v3/token" {
			io.WriteString(w, `{"token":"`+stubToken+`"}`)
			return
		}
		ts := FormatTimestamp(replyTime)
		w.Header().Set("Response-Timestamp", ts)
		w.Header().Set("Response-Signature", Sign("guess", transportKey.PartnerID, ts))
		io.WriteString(w, `{"status":"clear"}`)
	}))
	defer impostor.Close()
	tr := &Transport{Base: impostor.Client().Transport, Key: transportKey, Hosts: []string{hostOf(t, impostor)}, VerifyResponses: true}
	_, err := (&http.Client{Transport: tr}).Post(impostor.URL+"/v3/aml/sync", "application/json", strings.NewReader(`{}`))
	assert.ErrorIs(t, err, ErrInvalidResponseSignature)
}
