package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

// stubBase is the RoundTripper under every contender: it drains the
// request body and answers the same empty JSON object, rewound. Alone, it
// is the baseline.
type stubBase struct {
	resp *http.Response
	body *rewindBody
	buf  []byte
}

var emptyObject = []byte("{}")

func newStubBase() *stubBase {
	s := &stubBase{body: &rewindBody{}, buf: make([]byte, 4096)}
	s.resp = &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: s.body, ContentLength: 2}
	return s
}

func (s *stubBase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		for {
			if _, err := req.Body.Read(s.buf); err != nil {
				break
			}
		}
		req.Body.Close()
	}
	s.body.Reset(emptyObject)
	return s.resp, nil
}

// transportNow is the clock of every contender, so that none pays for
// time.Now.
func transportNow() time.Time { return callbackNow }

// handwrittenTransport is what a careful user writes from Smile ID's
// documentation: a RoundTripper that clones the request and stamps the
// signature with crypto/hmac, either in the five v2 headers or, under
// /v1/, in the JSON body, decoded into a map and encoded again.
type handwrittenTransport struct {
	base http.RoundTripper
	key  signer.Key
}

func (t *handwrittenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ts := transportNow().UTC().Format("2006-01-02T15:04:05.000Z")
	mac := hmac.New(sha256.New, []byte(t.key.APIKey))
	mac.Write([]byte(ts))
	mac.Write([]byte(t.key.PartnerID))
	mac.Write([]byte("sid_request"))
	signature := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	out := req.Clone(req.Context())
	if !strings.HasPrefix(req.URL.Path, "/v1/") {
		out.Header.Set("smileid-partner-id", t.key.PartnerID)
		out.Header.Set("smileid-request-signature", signature)
		out.Header.Set("smileid-timestamp", ts)
		out.Header.Set("smileid-source-sdk", "rest_api")
		out.Header.Set("smileid-source-sdk-version", "1.0.0")
		return t.base.RoundTrip(out)
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	fields["partner_id"] = t.key.PartnerID
	fields["signature"] = signature
	fields["timestamp"] = ts
	fields["source_sdk"] = "rest_api"
	fields["source_sdk_version"] = "1.0.0"
	raw, err = json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	out.Body = io.NopCloser(bytes.NewReader(raw))
	out.ContentLength = int64(len(raw))
	return t.base.RoundTrip(out)
}

var transportKey = signer.Key{ID: "sandbox", PartnerID: "085", APIKey: "transport-api-key-0001", Environment: signer.Sandbox}

// v1Body1KB is a 1 KB /v1/id_verification body.
var v1Body1KB = func() []byte {
	b := []byte(`{"partner_params":{"job_id":"job-000000001","user_id":"user-000000001","job_type":5},` +
		`"country":"NG","id_type":"BVN","id_number":"00000000000","first_name":"Ada","last_name":"Lovelace",` +
		`"dob":"1815-12-10","phone_number":"+2340000000000","callback_url":"https://example.com/smile/callback","notes":"`)
	b = append(b, strings.Repeat("x", 1024-len(b)-2)...)
	return append(b, `"}`...)
}()

// transportInputs are the two kinds of request: a v2 call signed in
// headers, and a 1 KB v1 call signed in its body.
var transportInputs = []struct {
	name string
	path string
	body []byte
}{
	{"v2-headers", "/v2/job_status", nil},
	{"v1-1KB-body", "/v1/id_verification", v1Body1KB},
}

var transportContenders = []struct {
	name string
	wrap func(base http.RoundTripper) http.RoundTripper
}{
	{"baseline-stub-alone", func(base http.RoundTripper) http.RoundTripper { return base }},
	{"smileguard", func(base http.RoundTripper) http.RoundTripper {
		return &signer.Transport{Base: base, Key: transportKey, Now: transportNow}
	}},
	{"handwritten-roundtripper", func(base http.RoundTripper) http.RoundTripper {
		return &handwrittenTransport{base: base, key: transportKey}
	}},
}

// transportRequest returns a request whose body, if any, is sent again
// each time rewind is called.
func transportRequest(tb testing.TB, path string, body []byte) (req *http.Request, rewind func()) {
	req, err := http.NewRequest(http.MethodPost, "https://testapi.smileidentity.com"+path, nil)
	require.NoError(tb, err)
	req.Header.Set("Accept", "application/json")
	if body == nil {
		return req, func() {}
	}
	req.Header.Set("Content-Type", "application/json")
	reader := &rewindBody{}
	req.ContentLength = int64(len(body))
	return req, func() {
		reader.Reset(body)
		req.Body = reader
	}
}

// recordingBase is a RoundTripper that keeps what it was sent.
type recordingBase struct {
	header http.Header
	body   []byte
}

func (rb *recordingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	rb.header = req.Header
	if req.Body != nil {
		rb.body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// TestTransportContendersSign makes sure both signers send a request that
// verifies, in the headers or in the body.
func TestTransportContendersSign(t *testing.T) {
	for _, in := range transportInputs {
		for _, c := range transportContenders[1:] {
			t.Run(in.name+"/"+c.name, func(t *testing.T) {
				base := &recordingBase{}
				req, rewind := transportRequest(t, in.path, in.body)
				rewind()
				_, err := c.wrap(base).RoundTrip(req)
				require.NoError(t, err)
				signature, timestamp := base.header.Get("smileid-request-signature"), base.header.Get("smileid-timestamp")
				if in.body != nil {
					var fields struct{ Signature, Timestamp string }
					require.NoError(t, json.Unmarshal(base.body, &fields))
					signature, timestamp = fields.Signature, fields.Timestamp
				}
				assert.True(t, signer.Verify(transportKey.APIKey, transportKey.PartnerID, timestamp, signature))
			})
		}
	}
}

// BenchmarkTransport signs a v2 request (headers) and a 1 KB v1 request
// (body) and passes it to a base that does no work.
func BenchmarkTransport(b *testing.B) {
	for _, in := range transportInputs {
		for _, c := range transportContenders {
			b.Run(in.name+"/"+c.name, func(b *testing.B) {
				rt := c.wrap(newStubBase())
				req, rewind := transportRequest(b, in.path, in.body)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					rewind()
					resp, err := rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
				}
			})
		}
	}
}
