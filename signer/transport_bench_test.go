package signer

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchBase is a base RoundTripper that does no work: it drains the body
// and answers with the same response, whose body is rewound. Benchmarks run
// it alone as the baseline, so the difference is Transport's cost.
type benchBase struct {
	resp *http.Response
	body *rewindBody
	data []byte
	buf  []byte // drains request bodies
}

func newBenchBase(response string) *benchBase {
	b := &benchBase{body: &rewindBody{}, data: []byte(response), buf: make([]byte, 4096)}
	b.resp = &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: b.body, ContentLength: int64(len(response))}
	return b
}

func (b *benchBase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/v3/token" { // once per benchmark: the token is kept
		return (&stubTransport{}).RoundTrip(req)
	}
	if req.Body != nil {
		for {
			if _, err := req.Body.Read(b.buf); err != nil {
				break
			}
		}
		req.Body.Close()
	}
	b.body.Reset(b.data)
	return b.resp, nil
}

// rewindBody is a body that can be reset without allocating.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// v1Body1KB is a 1 KB /v1/id_verification body.
var v1Body1KB = func() []byte {
	b := []byte(`{"partner_params":{"job_id":"job-000000001","user_id":"user-000000001","job_type":5},` +
		`"country":"NG","id_type":"BVN","id_number":"00000000000","first_name":"Ada","last_name":"Lovelace",` +
		`"dob":"1815-12-10","phone_number":"+2340000000000","callback_url":"https://example.com/smile/callback","notes":"`)
	b = append(b, strings.Repeat("x", 1024-len(b)-2)...)
	return append(b, `"}`...)
}()

// benchRequest returns a request whose body (if any) is rewound before each
// use.
func benchRequest(b testing.TB, path string, body []byte) (*http.Request, func()) {
	req, err := http.NewRequest(http.MethodPost, "https://testapi.smileidentity.com"+path, nil)
	require.NoError(b, err)
	req.Header.Set("Accept", "application/json")
	if body == nil {
		return req, func() {}
	}
	rb := &rewindBody{}
	req.ContentLength = int64(len(body))
	return req, func() {
		rb.Reset(body)
		req.Body = rb
	}
}

func runRoundTrips(b *testing.B, rt http.RoundTripper, req *http.Request, rewind func()) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rewind()
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkTransport compares each mode of Transport with its base alone.
func BenchmarkTransport(b *testing.B) {
	ts := FormatTimestamp(transportTime)
	jobStatus := fmt.Sprintf(`{"job_complete":true,"job_success":true,"code":"1012","timestamp":%q,"signature":%q}`,
		ts, Sign(transportKey.APIKey, transportKey.PartnerID, ts))
	cases := []struct {
		name   string
		path   string
		body   []byte
		reply  string
		wrap   bool
		verify bool
	}{
		{"v2/baseline=stub", "/v2/job_status", nil, "{}", false, false},
		{"v2/headers", "/v2/job_status", nil, "{}", true, false},
		{"v1-1KB/baseline=stub", "/v1/id_verification", v1Body1KB, "{}", false, false},
		{"v1-1KB/body", "/v1/id_verification", v1Body1KB, "{}", true, false},
		{"verify/baseline=stub", "/v2/job_status", nil, jobStatus, false, false},
		{"verify/headers+response", "/v2/job_status", nil, jobStatus, true, true},
		{"v3/baseline=stub", "/v3/status/job_01", nil, "{}", false, false},
		{"v3/token-cached", "/v3/status/job_01", nil, "{}", true, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var rt http.RoundTripper = newBenchBase(c.reply)
			if c.wrap {
				rt = &Transport{Base: rt, Key: transportKey, VerifyResponses: c.verify}
			}
			req, rewind := benchRequest(b, c.path, c.body)
			runRoundTrips(b, rt, req, rewind)
		})
	}
}

// TestTransportAllocations keeps each mode within its allocation budget
// over the base alone. v2: the request sent, its header map (the map and
// its first group), the timestamp and signature (one string) and the five
// header values (one array). v3 with its token kept: the request, the map
// and the token's header value.
func TestTransportAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, c := range []struct {
		path   string
		budget float64
	}{
		{"/v2/job_status", 5},
		{"/v3/status/job_01", 4},
	} {
		allocs := func(rt http.RoundTripper) float64 {
			req, _ := benchRequest(t, c.path, nil)
			return testing.AllocsPerRun(200, func() {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			})
		}
		base := allocs(newBenchBase("{}"))
		signed := allocs(&Transport{Base: newBenchBase("{}"), Key: transportKey})
		assert.LessOrEqual(t, signed-base, c.budget, "allocations over the base, %s", c.path)
	}
}
