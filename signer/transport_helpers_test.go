package signer

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
// and answers each with a copy of Response, without any network. A nil
// Response means 200 with an empty JSON object. /v3/token is always
// answered with stubToken.
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
	answer := "{}"
	if req.URL.Path == "/v3/token" {
		answer = `{"token":"` + stubToken + `"}`
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(answer)), ContentLength: int64(len(answer)), Request: req}
	if s.Response != nil && req.URL.Path != "/v3/token" {
		copied := *s.Response
		copied.Header = s.Response.Header.Clone()
		copied.Request = req
		resp = &copied
	}
	return resp, nil
}

// stubToken is the token stubTransport hands out: a JWT that expires in
// the year 2100.
var stubToken = "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":4102444800}`)) + ".c2ln"

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

// replyTime is when the fake signs its answers: never a time a test
// clock stamps a request with, so that an answer is not a reflection.
var replyTime = transportTime.Add(time.Hour)

// fakeSmileID is an httptest TLS server that plays Smile ID's v1, v2 and
// v3 endpoints. It records what arrived, checks every v1 and v2 request's
// signature with Verify and answers 200 with a signed job_status-like
// body, or 401 with Smile ID's error when the signature does not verify.
// On v3 it hands out tokens from POST /v3/token (to the key's
// credentials only) and answers the other v3 paths 200 for a token it
// issued and has not revoked, 401 otherwise; /v3/enhanced_kyc/sync and
// /v3/aml/sync sign their answers in the Response-* headers.
type fakeSmileID struct {
	*httptest.Server
	key Key

	mu       sync.Mutex
	received []sentRequest
	fetches  int             // POST /v3/token answered with a token
	valid    map[string]bool // tokens issued and not revoked

	// What /v3/token does; set before the first request.
	clock         func() time.Time // nil: transportTime
	tokenLifetime time.Duration    // 0: 10 minutes
	tokenPayload  string           // not "": the JWT payload, as is (base64url)
	tokenStatus   int              // not 0: refuse with this status...
	tokenRefusal  string           // ...and this body
	tokenDelay    time.Duration    // how long a token takes to come
}

func newFakeSmileID(t testing.TB, key Key) *fakeSmileID {
	return newFakeSmileIDWith(t, key, nil)
}

// newFakeSmileIDWith is newFakeSmileID with the fake's handler wrapped by
// wrap, to add redirects and such in front of it.
func newFakeSmileIDWith(t testing.TB, key Key, wrap func(http.Handler) http.Handler) *fakeSmileID {
	f := &fakeSmileID{key: key, valid: map[string]bool{}}
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
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/v3/token":
		f.serveToken(w, r, body)
		return
	case isV3(r.URL.Path):
		f.serveV3(w, r)
		return
	}

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
	if !Verify(f.key.APIKey, partnerID, timestamp, signature) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"code":"2205","error":"You're not authorized to do that"}`)
		return
	}
	ts := FormatTimestamp(replyTime)
	io.WriteString(w, `{"job_complete":true,"job_success":true,"code":"1012","timestamp":"`+ts+
		`","signature":"`+Sign(f.key.APIKey, f.key.PartnerID, ts)+`"}`)
}

func (f *fakeSmileID) serveToken(w http.ResponseWriter, r *http.Request, body []byte) {
	f.mu.Lock()
	delay, status, refusal := f.tokenDelay, f.tokenStatus, f.tokenRefusal
	f.mu.Unlock()
	time.Sleep(delay)
	if status != 0 {
		w.WriteHeader(status)
		io.WriteString(w, refusal)
		return
	}
	if r.Method != http.MethodPost || len(body) != 0 ||
		r.Header.Get("SmileID-Partner-ID") != TrimPartnerID(f.key.PartnerID) || r.Header.Get("SmileID-API-Key") != f.key.APIKey {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"Invalid partner id or API key"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	payload := f.tokenPayload
	if payload == "" {
		lifetime := f.tokenLifetime
		if lifetime == 0 {
			lifetime = 10 * time.Minute
		}
		payload = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"sub":"085","exp":%d,"n":%d}`,
			f.now().Add(lifetime).Unix(), f.fetches))
	}
	token := fmt.Sprintf("eyJhbGciOiJIUzI1NiJ9.%s.c2lnbmF0dXJl%d", payload, f.fetches)
	f.valid[token] = true
	fmt.Fprintf(w, `{"token":%q}`, token)
}

func (f *fakeSmileID) serveV3(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ok := f.valid[r.Header.Get("SmileID-Token")] && len(r.Header.Values("SmileID-Token")) == 1
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"Unauthorized"}`)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/sync") {
		ts := FormatTimestamp(replyTime)
		w.Header().Set("Response-Timestamp", ts)
		w.Header().Set("Response-Signature", Sign(f.key.APIKey, f.key.PartnerID, ts))
	}
	io.WriteString(w, `{"status":"clear","message":"Verified"}`)
}

func (f *fakeSmileID) now() time.Time {
	if f.clock != nil {
		return f.clock()
	}
	return transportTime
}

// revoke makes every token issued so far answer 401.
func (f *fakeSmileID) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.valid)
}

// Fetches returns how many tokens the fake has handed out.
func (f *fakeSmileID) Fetches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches
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
