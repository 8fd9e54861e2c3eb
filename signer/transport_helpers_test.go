package signer

import (
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// transportKey is the key most transport tests sign with. Its APIKey is
// looked for in everything a test can see.
var transportKey = Key{ID: "sandbox-t", PartnerID: "085", APIKey: "tr4nsport-API-key-do-not-leak", Environment: Sandbox}

// transportTime is the fixed clock of the transport tests.
var transportTime = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// tickingClock returns a Now that starts at transportTime and moves one
// millisecond per call, so that every signature it stamps differs.
func tickingClock() func() time.Time {
	var calls atomic.Int64
	return func() time.Time {
		return transportTime.Add(time.Duration(calls.Add(1)-1) * time.Millisecond)
	}
}

// sentRequest is what a base RoundTripper or a server received.
type sentRequest struct {
	Method           string
	URL              string
	Host             string
	Header           http.Header
	Body             []byte
	ContentLength    int64
	TransferEncoding []string
	GetBody          []byte // what GetBody returned, if set
}

// stubTransport is a base RoundTripper that records the requests it gets
// and answers each with a copy of Response (200 and an empty JSON object if
// nil), without any network.
type stubTransport struct {
	Response *http.Response
	Err      error

	mu   sync.Mutex
	sent []sentRequest
}

func (s *stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := sentRequest{Method: req.Method, URL: req.URL.String(), Host: req.Host, Header: req.Header.Clone(),
		ContentLength: req.ContentLength, TransferEncoding: req.TransferEncoding}
	if req.Body != nil {
		r.Body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			r.GetBody, _ = io.ReadAll(rc)
		}
	}
	s.mu.Lock()
	s.sent = append(s.sent, r)
	s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader("{}")), ContentLength: 2, Request: req}
	if s.Response != nil {
		copied := *s.Response
		copied.Header = s.Response.Header.Clone()
		copied.Request = req
		resp = &copied
	}
	return resp, nil
}

func (s *stubTransport) Sent() []sentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentRequest(nil), s.sent...)
}

// trackedBody is a request or response body that records whether it was
// closed, and can fail after its content.
type trackedBody struct {
	r       io.Reader
	readErr error
	closed  atomic.Bool
}

func newTrackedBody(s string) *trackedBody { return &trackedBody{r: strings.NewReader(s)} }

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.readErr != nil {
		err = b.readErr
	}
	return n, err
}

func (b *trackedBody) Close() error {
	b.closed.Store(true)
	return nil
}

// newRequest returns a request with a tracked body (none if body is "").
func newRequest(t testing.TB, method, rawURL, body string) (*http.Request, *trackedBody) {
	t.Helper()
	var tb *trackedBody
	var rd io.Reader
	if body != "" {
		tb = newTrackedBody(body)
		rd = tb
	}
	req, err := http.NewRequest(method, rawURL, rd)
	require.NoError(t, err)
	if body != "" {
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	}
	return req, tb
}

// members decodes a JSON object into its members' raw values, as
// encoding/json sees them.
func members(t testing.TB, body []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m), "body %q", body)
	return m
}

// jsonString decodes a raw JSON string.
func jsonString(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(raw, &s), "value %s", raw)
	return s
}

// fakeSmileID is an httptest TLS server that plays Smile ID's v1 and v2
// endpoints: it checks every request's signature with Verify, records what
// arrived, and answers 200 with a signed job_status-like body, or 401 with
// Smile ID's error when the signature does not verify.
type fakeSmileID struct {
	*httptest.Server
	key Key

	mu       sync.Mutex
	received []sentRequest
}

func newFakeSmileID(t testing.TB, key Key) *fakeSmileID {
	return newFakeSmileIDWith(t, key, nil)
}

// newFakeSmileIDWith is newFakeSmileID with the fake's handler wrapped by
// wrap, to add redirects and such in front of it.
func newFakeSmileIDWith(t testing.TB, key Key, wrap func(http.Handler) http.Handler) *fakeSmileID {
	f := &fakeSmileID{key: key}
	var h http.Handler = http.HandlerFunc(f.serve)
	if wrap != nil {
		h = wrap(h)
	}
	f.Server = newTLSServer(h)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSmileID) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.received = append(f.received, sentRequest{Method: r.Method, URL: r.URL.String(), Host: r.Host,
		Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding})
	f.mu.Unlock()

	var partnerID, timestamp, signature string
	if isV1(r.URL.Path) {
		var fields struct {
			PartnerID     *string `json:"partner_id"`
			SmileClientID *string `json:"smile_client_id"`
			Timestamp     string  `json:"timestamp"`
			Signature     string  `json:"signature"`
		}
		if err := json.Unmarshal(body, &fields); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if fields.PartnerID != nil {
			partnerID = *fields.PartnerID
		} else if fields.SmileClientID != nil {
			partnerID = *fields.SmileClientID
		}
		timestamp, signature = fields.Timestamp, fields.Signature
	} else {
		partnerID = r.Header.Get("SmileID-Partner-ID")
		timestamp = r.Header.Get("SmileID-Timestamp")
		signature = r.Header.Get("SmileID-Request-Signature")
	}
	w.Header().Set("Content-Type", "application/json")
	if !Verify(f.key.APIKey, partnerID, timestamp, signature) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"code":"2205","error":"You're not authorized to do that"}`)
		return
	}
	reply := `{"job_complete":true,"job_success":true,"code":"1012","timestamp":"` + FormatTimestamp(transportTime) +
		`","signature":"` + Sign(f.key.APIKey, f.key.PartnerID, FormatTimestamp(transportTime)) + `"}`
	io.WriteString(w, reply)
}

func (f *fakeSmileID) Received() []sentRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentRequest(nil), f.received...)
}

// newTLSServer is httptest.NewTLSServer without the log lines of
// handshakes that a closing server cuts short.
func newTLSServer(h http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	return s
}

// hostOf returns the host:port of a test server.
func hostOf(t testing.TB, s *httptest.Server) string {
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	return u.Host
}

// transportFor returns a Transport that signs for f with f's key.
func transportFor(t testing.TB, f *fakeSmileID) *Transport {
	return &Transport{Base: f.Client().Transport, Key: f.key, Hosts: []string{hostOf(t, f.Server)}, Now: tickingClock()}
}

// snapshot is everything of a request the caller can see.
type snapshot struct {
	Method, URL, Host string
	Header            http.Header
	ContentLength     int64
	Body              []byte
	TransferEncoding  []string
}

func snapshotOf(t testing.TB, req *http.Request) snapshot {
	s := snapshot{Method: req.Method, URL: req.URL.String(), Host: req.Host, Header: req.Header.Clone(),
		ContentLength: req.ContentLength, TransferEncoding: append([]string(nil), req.TransferEncoding...)}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		require.NoError(t, err)
		s.Body, err = io.ReadAll(rc)
		require.NoError(t, err)
	}
	return s
}

// errorText returns err's text, or "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// headersContain reports whether any header name or value contains secret.
func headersContain(h http.Header, secret string) bool {
	for name, values := range h {
		if strings.Contains(name, secret) {
			return true
		}
		for _, v := range values {
			if strings.Contains(v, secret) {
				return true
			}
		}
	}
	return false
}

var errBoom = errors.New("boom")

// roundTripFunc is a base RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
