package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
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

// floorTransport is the least any transport signing v2 requests can do,
// written as tight as it goes: a shallow copy of the request and a new
// header map (so that the caller's request is not modified, as a
// RoundTripper must not), the HMAC from a precomputed state, the
// timestamp formatted by hand, and the five headers in one backing array.
// It is not safe for concurrent use, which no real transport can say; it
// is the floor the Transport's overhead is measured from.
type floorTransport struct {
	base http.RoundTripper
	key  signer.Key
	mac  hash.Hash
	msg  []byte
	sum  []byte
}

func newFloorTransport(base http.RoundTripper, key signer.Key) *floorTransport {
	return &floorTransport{base: base, key: key, mac: hmac.New(sha256.New, []byte(key.APIKey)),
		msg: make([]byte, 0, 64), sum: make([]byte, 0, sha256.Size)}
}

func (t *floorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var buf [24 + 44]byte
	stamp := appendTimestamp(buf[:0], transportNow())
	t.msg = append(append(append(t.msg[:0], stamp...), t.key.PartnerID...), "sid_request"...)
	t.mac.Reset()
	t.mac.Write(t.msg)
	t.sum = t.mac.Sum(t.sum[:0])
	base64.StdEncoding.Encode(buf[24:], t.sum)
	both := string(buf[:])

	out := new(http.Request)
	*out = *req
	out.Header = make(http.Header, len(req.Header)+5)
	for name, values := range req.Header {
		out.Header[name] = values
	}
	values := []string{t.key.PartnerID, both[24:], both[:24], "rest_api", "1.0.0"}
	out.Header["Smileid-Partner-Id"] = values[0:1:1]
	out.Header["Smileid-Request-Signature"] = values[1:2:2]
	out.Header["Smileid-Timestamp"] = values[2:3:3]
	out.Header["Smileid-Source-Sdk"] = values[3:4:4]
	out.Header["Smileid-Source-Sdk-Version"] = values[4:5:5]
	return t.base.RoundTrip(out)
}

// appendTimestamp appends t as "2006-01-02T15:04:05.000Z" (UTC, years
// 0000 to 9999) without time's layout interpreter.
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	for _, f := range [...]struct {
		n, width int
		sep      byte
	}{
		{year, 4, '-'}, {int(month), 2, '-'}, {day, 2, 'T'}, {hour, 2, ':'}, {minute, 2, ':'}, {second, 2, '.'},
		{t.Nanosecond() / int(time.Millisecond), 3, 'Z'},
	} {
		for i, div := 0, pow10(f.width-1); i < f.width; i, div = i+1, div/10 {
			dst = append(dst, byte('0'+f.n/div%10))
		}
		dst = append(dst, f.sep)
	}
	return dst
}

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
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

// transportContenders are run on every input; headersOnly ones on v2
// only.
var transportContenders = []struct {
	name        string
	headersOnly bool
	wrap        func(base http.RoundTripper) http.RoundTripper
}{
	{"baseline-stub-alone", false, func(base http.RoundTripper) http.RoundTripper { return base }},
	{"smileguard", false, func(base http.RoundTripper) http.RoundTripper {
		return &signer.Transport{Base: base, Key: transportKey, Now: transportNow}
	}},
	{"handwritten-roundtripper", false, func(base http.RoundTripper) http.RoundTripper {
		return &handwrittenTransport{base: base, key: transportKey}
	}},
	{"floor", true, func(base http.RoundTripper) http.RoundTripper {
		return newFloorTransport(base, transportKey)
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
			if c.headersOnly && in.body != nil {
				continue
			}
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
				assert.Equal(t, signer.FormatTimestamp(transportNow()), timestamp)
			})
		}
	}
}

// BenchmarkTransport signs a v2 request (headers) and a 1 KB v1 request
// (body) and passes it to a base that does no work. On v2, "floor" is the
// least a signing transport can do; smileguard's ratio to it is its
// overhead.
func BenchmarkTransport(b *testing.B) {
	for _, in := range transportInputs {
		for _, c := range transportContenders {
			if c.headersOnly && in.body != nil {
				continue
			}
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
