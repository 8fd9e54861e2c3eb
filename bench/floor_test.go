package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// floorGuard is the floor of the callback benchmarks: the least work any
// correct guard of a Smile ID callback endpoint must do, written as
// tightly as we could, so that middleware.Guard is measured against what
// cannot be avoided rather than against what users write by hand. In
// order, for a callback it admits:
//
//  1. the peer's address, parsed, is one of Smile ID's production
//     addresses (403 if not); the method is POST (405) and the body JSON
//     (415);
//  2. the body is read into a pooled buffer, at most 2 MiB (413), exactly
//     its declared length (400);
//  3. one forward pass judges it one well-formed JSON object and finds its
//     top-level "signature" and "timestamp", once each, strings, and no
//     other member of either name but for case (400);
//  4. the timestamp is read by its fixed layout, as Smile ID writes it
//     (signer.ParseTimestamp reads any other), and must be within 5
//     minutes of the clock (401);
//  5. one HMAC-SHA256 from the key's precomputed pads;
//  6. its canonical base64 compared with the signature in constant time
//     (401);
//  7. the SHA-256 of the body;
//  8. one map insert with first-in first-out expiry binds the pair to the
//     body's hash (401 for another body, 409 in flight, 200 without the
//     handler once handled, 503 when full);
//  9. the handler gets a copy of the request with the body put back, and
//     a status recorder, so that a delivery it does not answer 2xx is
//     released for Smile ID's retry.
//
// It has one key, no configuration, no logging, no key rotation, no v3
// header-signed callbacks, no rate limit and no callback details in the
// handler's context: none of that is needed to refuse what must be
// refused. TestFloorRefuses shows it is a guard and not a stub.
type floorGuard struct {
	allowed   []netip.Prefix
	macs      sync.Pool // of *floorMAC
	now       func() time.Time
	tolerance time.Duration
	ttl       time.Duration
	replay    *fifoReplay
}

// floorMAC is an HMAC under the floor's key whose pads were hashed once,
// and room for its result, pooled together so that neither allocates.
type floorMAC struct {
	hash.Hash
	suffix  []byte // partner id and "sid_request", after the timestamp
	sum     [sha256.Size]byte
	encoded [44]byte
}

// floorRequest is the per-request state the floor pools: the body's
// buffer and reader, the request the handler gets, its status recorder.
type floorRequest struct {
	buf      []byte
	body     floorBody
	request  http.Request
	recorder floorRecorder
}

var floorRequests = sync.Pool{New: func() any { return new(floorRequest) }}

// Limits of the floor: the middleware's defaults.
const (
	floorMaxBody    = middleware.DefaultMaxBodyBytes
	floorTolerance  = middleware.DefaultTolerance
	floorMaxEntries = middleware.DefaultMaxReplayEntries
	floorPrealloc   = 64 << 10 // believed of a declared length before the bytes come
)

// newFloor returns the floor for key, on clock now.
func newFloor(key signer.Key, now func() time.Time) *floorGuard {
	f := &floorGuard{
		allowed:   allowlist.SmileIDProduction.Prefixes,
		now:       now,
		tolerance: floorTolerance,
		ttl:       2*floorTolerance + time.Second, // as long as a pair can be fresh, and a margin
		replay:    newFIFOReplay(floorMaxEntries),
	}
	apiKey, suffix := []byte(key.APIKey), []byte(key.PartnerID+"sid_request")
	f.macs.New = func() any {
		m := &floorMAC{Hash: hmac.New(sha256.New, apiKey), suffix: suffix}
		m.Reset() // keeps the hashed pads, restored on each Reset after
		return m
	}
	return f
}

// Handler returns next behind the floor.
func (f *floorGuard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, next) })
}

func (f *floorGuard) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !f.isAllowed(peer.Addr().Unmap().WithZone("")) {
		floorRefuse(w, http.StatusForbidden, "forbidden")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		floorRefuse(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if !floorIsJSON(r.Header) {
		floorRefuse(w, http.StatusUnsupportedMediaType, "not JSON")
		return
	}
	if r.ContentLength > floorMaxBody {
		floorRefuse(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	p := floorRequests.Get().(*floorRequest)
	body, status := p.read(r)
	if status != 0 {
		floorRefuse(w, status, "body not read")
		floorRequests.Put(p)
		return
	}
	now := f.now().UnixNano()
	id, status := f.verify(body, now)
	if status != 0 {
		floorRefuse(w, status, "not a genuine callback")
		floorRequests.Put(p)
		return
	}
	bodyHash := sha256.Sum256(body)
	seq, state := f.replay.begin(&id, &bodyHash, now, now+int64(f.ttl))
	if state != replayNew {
		switch state {
		case replayHandled:
			floorRefuse(w, http.StatusOK, "already handled")
		case replayInFlight:
			floorRefuse(w, http.StatusConflict, "in flight")
		case replayConflict:
			floorRefuse(w, http.StatusUnauthorized, "replayed")
		default:
			floorRefuse(w, http.StatusServiceUnavailable, "replay store full")
		}
		floorRequests.Put(p)
		return
	}

	p.request = *r // the caller's request is not ours to change
	p.body.Reset(body)
	p.request.Body = &p.body
	p.request.ContentLength = int64(len(body))
	p.request.TransferEncoding = nil
	p.recorder = floorRecorder{ResponseWriter: w}
	handled := false
	defer func() { f.replay.finish(seq, &id, handled) }() // a panic releases it
	next.ServeHTTP(&p.recorder, &p.request)
	handled = p.recorder.code == 0 || p.recorder.code >= 200 && p.recorder.code < 300
	*p = floorRequest{buf: p.buf[:0]}
	floorRequests.Put(p)
}

func (f *floorGuard) isAllowed(addr netip.Addr) bool {
	for _, p := range f.allowed {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// verify checks body's members and returns the MAC its signature decodes
// to, the delivery's name; or the status of its refusal. now is the clock
// in unix nanoseconds.
func (f *floorGuard) verify(body []byte, now int64) (id [sha256.Size]byte, status int) {
	signature, timestamp, err := floorScan(body)
	if err != nil {
		return id, http.StatusBadRequest
	}
	at, ok := parseFixedTimestamp(timestamp)
	if !ok {
		t, err := signer.ParseTimestamp(string(timestamp))
		if err != nil {
			return id, http.StatusBadRequest
		}
		at = t.UnixNano()
	}
	if at < now-int64(f.tolerance) || at > now+int64(f.tolerance) {
		return id, http.StatusUnauthorized
	}
	m := f.macs.Get().(*floorMAC)
	m.Reset()
	m.Write(timestamp)
	m.Write(m.suffix)
	m.Sum(m.sum[:0])
	base64.StdEncoding.Encode(m.encoded[:], m.sum[:])
	ok = subtle.ConstantTimeCompare(m.encoded[:], signature) == 1
	id = m.sum
	f.macs.Put(m)
	if !ok {
		return id, http.StatusUnauthorized
	}
	return id, 0
}

// read reads r's body into p's buffer: at most floorMaxBody bytes,
// exactly the declared length if there is one. A declared length is
// believed up to floorPrealloc bytes before they come, wholly once they
// have; the buffer keeps its size in the pool.
func (p *floorRequest) read(r *http.Request) ([]byte, int) {
	buf := p.buf[:0]
	if r.Body == nil || r.Body == http.NoBody {
		if r.ContentLength > 0 {
			return nil, http.StatusBadRequest
		}
		return buf, 0
	}
	if want := int(r.ContentLength) + 1; r.ContentLength >= 0 && cap(buf) < want {
		buf = slices.Grow(buf, min(want, floorPrealloc))
	}
	for {
		switch {
		case len(buf) < cap(buf):
		case r.ContentLength >= 0 && int64(cap(buf)) <= r.ContentLength:
			buf = slices.Grow(buf, int(r.ContentLength)+1-len(buf)) // the bytes are coming
		default:
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):min(cap(buf), floorMaxBody+1)])
		buf = buf[:len(buf)+n]
		p.buf = buf
		switch {
		case len(buf) > floorMaxBody:
			return nil, http.StatusRequestEntityTooLarge
		case err == io.EOF:
			if r.ContentLength >= 0 && int64(len(buf)) != r.ContentLength {
				return nil, http.StatusBadRequest
			}
			return buf, 0
		case err != nil:
			return nil, http.StatusBadRequest
		}
	}
}

// parseFixedTimestamp reads "2006-01-02T15:04:05.000Z", the layout Smile
// ID signs with, as unix nanoseconds; ok is false for anything else.
func parseFixedTimestamp(s []byte) (nanos int64, ok bool) {
	if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return 0, false
	}
	var v [7]int64 // year, month, day, hour, minute, second, millisecond
	for k, field := range [...][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 23}} {
		for _, c := range s[field[0]:field[1]] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v[k] = v[k]*10 + int64(c-'0')
		}
	}
	year, month, day := v[0], v[1], v[2]
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return 0, false
	}
	// Days since 1970-01-01 of a proleptic Gregorian date (Howard
	// Hinnant's days_from_civil).
	if month <= 2 {
		year--
	}
	era := year / 400
	yearOfEra := year - era*400
	monthFromMarch := (month + 9) % 12
	dayOfYear := (153*monthFromMarch+2)/5 + day - 1
	dayOfEra := yearOfEra*365 + yearOfEra/4 - yearOfEra/100 + dayOfYear
	days := era*146097 + dayOfEra - 719468
	seconds := ((days*24+v[3])*60+v[4])*60 + v[5]
	return seconds*int64(time.Second) + v[6]*int64(time.Millisecond), true
}

func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// floorIsJSON reports whether h declares exactly one Content-Type, and it
// is application/json, parameters allowed.
func floorIsJSON(h http.Header) bool {
	values := h["Content-Type"]
	if len(values) != 1 {
		return false
	}
	mediaType, _, _ := strings.Cut(values[0], ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "application/json")
}

// floorRefuse answers a refusal with a short fixed text.
func floorRefuse(w http.ResponseWriter, status int, reason string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reason+"\n")
}

// floorBody is the body the handler reads: the bytes that arrived.
type floorBody struct{ bytes.Reader }

func (*floorBody) Close() error { return nil }

// floorRecorder remembers the status the handler answers with.
type floorRecorder struct {
	http.ResponseWriter
	code int
}

func (s *floorRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 { // a 1xx is not the final status
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *floorRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (s *floorRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
